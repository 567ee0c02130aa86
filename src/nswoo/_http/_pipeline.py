"""The HTTP pipeline shared by the NetSuite and WooCommerce clients.

`limiter slot → auth → httpx → classify → recover (refresh on 401 | back off on 429/5xx)`.

- **401**: the credential that failed is invalidated (compare-and-swap: only if it is still
  the current one), one refresh runs for all concurrent callers (single flight on an
  `anyio.Lock`), and the request is retried once. A 401 on a token fetched for the attempt
  itself, or on the retry, is a hard `AuthenticationError`: the credentials are wrong,
  never a refresh loop.
- **429 / 503**: `Retry-After` (seconds or HTTP date) pauses the whole limiter, so no caller
  sends during the pause; without it, exponential backoff with full jitter.
- **Transport errors and other 5xx**: retried only for idempotent requests (GET, PUT upsert,
  or marked idempotent). A non-idempotent write that got no answer raises `OutcomeUnknown`
  instead, so the caller can look before writing again.
- Every retry loop is bounded by attempts and total time. The decision (`should_retry`,
  `backoff`) is pure; sleeping and randomness are injected.

Facts: NetSuite concurrency and 429 (reference netsuite.md §5; whether NetSuite sends
`Retry-After` is unconfirmed, so both paths exist); token lifetimes (§1b, §1c).
"""

from __future__ import annotations

import base64
import email.utils
import logging
import random as _random
from collections.abc import Callable
from typing import Protocol

import anyio
import attrs
import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from .._clock import Clock, SystemClock
from .._settings import Secret
from ..errors import (
    ApiContext,
    ApiError,
    AuthenticationError,
    OutcomeUnknown,
    RateLimited,
    ServiceUnavailable,
    System,
)
from ..limits._local import Limiter

__all__ = [
    "BasicAuth",
    "BearerAuth",
    "Credential",
    "HttpPipeline",
    "RequestAuth",
    "RetryPolicy",
    "TokenGrant",
    "TokenSource",
    "Translate",
    "backoff",
    "error_context",
    "parse_retry_after",
    "should_retry",
]

_log = logging.getLogger("nswoo.http")

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_PAUSING_STATUSES = frozenset({429, 503})
_REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id")


@attrs.frozen
class TokenGrant:
    """What a token endpoint answered: the access token and its stated lifetime (seconds)."""

    access_token: Secret = attrs.field(repr=False)
    expires_in: float


class TokenSource(Protocol):
    """Mints a new access token. Raises `AuthenticationError` when the service refuses."""

    async def fetch_token(self) -> TokenGrant: ...


@attrs.frozen
class Credential:
    """Identifies the credential a request was sent with (compared on a 401).

    `generation` increases with every new token; `minted_at` is the clock's `now()` when the
    token was obtained (None for credentials that are not minted, such as Basic or TBA);
    `fresh` is True when this very `authorize` call obtained the token, so a 401 on it means
    the credentials themselves are refused.
    """

    generation: int
    minted_at: float | None = None
    fresh: bool = False


class RequestAuth(Protocol):
    """Adds credentials to a request, and decides what a 401 means."""

    async def authorize(self, request: httpx.Request) -> Credential:
        """Add the auth headers to `request`; return the credential used."""
        ...

    async def invalidate(self, credential: Credential) -> bool:
        """After a 401: drop `credential` if it is still current (compare-and-swap).

        Returns True when a retry with a new credential may succeed (refreshable auth),
        False when the credential cannot change (Basic, TBA): the 401 is final.
        """
        ...


Translate = Callable[[httpx.Response], ApiError]
"""A system's error translator: a non-2xx response → the most specific `ApiError`."""


@attrs.frozen
class RetryPolicy:
    """Bounds on retrying one request, and the backoff shape.

    Attributes:
        attempts: the most times one request is sent (the 401 re-send does not count).
        total_seconds: the most time one `send` may take, waits included; a `Retry-After`
            that would end past it is not waited out: the error is raised at once.
        initial: the first backoff ceiling in seconds (full jitter: uniform in [0, ceiling]).
        maximum: the largest backoff ceiling.
    """

    attempts: int = 6
    total_seconds: float = 120.0
    initial: float = 0.5
    maximum: float = 30.0


# ---------------------------------------------------------------------------------------------
# Pure parts: parsing, decisions, schedules


def parse_retry_after(value: str | None, *, now_epoch: float) -> float | None:
    """`Retry-After` in seconds or as an HTTP date → seconds to wait (None if absent/bad).

    A date in the past gives 0. Negative or non-numeric second counts are ignored.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds else None  # noqa: PLR0124 (NaN)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means it said so
        return max(0.0, when.timestamp() - now_epoch)
    return max(0.0, when.timestamp() - now_epoch)


def should_retry(exc: BaseException) -> bool:
    """Whether the pipeline may send the same request again after `exc`."""
    return isinstance(exc, ApiError) and exc.retryable


def backoff(attempt: int, *, policy: RetryPolicy, retry_after: float | None, rand: float) -> float:
    """Seconds to wait before attempt `attempt + 1`.

    The service's `Retry-After` wins when it sent one; otherwise exponential backoff with
    full jitter (`rand` in [0, 1) times a ceiling doubling from `policy.initial` up to
    `policy.maximum`), as tenacity's `wait_random_exponential` does: uncoordinated clients
    contending for one pool must not retry in lockstep.
    """
    if retry_after is not None:
        return retry_after
    ceiling = min(policy.maximum, policy.initial * 2.0 ** max(0, attempt - 1))
    return float(rand * ceiling)


def error_context(response: httpx.Response, system: System) -> ApiContext:
    """The `ApiError` keyword arguments a response provides.

    `status`, `request_id` (when the service sent one), the request's `method` and `path`
    (never the query string, which may carry filters the user considers private), and
    `retry_after` parsed from the `Retry-After` header.
    """
    request_id = None
    for name in _REQUEST_ID_HEADERS:
        if name in response.headers:
            request_id = response.headers[name]
            break
    method = path = None
    try:
        request = response.request
    except RuntimeError:
        request = None
    if request is not None:
        method = request.method
        path = request.url.path
    return ApiContext(
        system=system,
        status=response.status_code,
        request_id=request_id,
        method=method,
        path=path,
        retry_after=parse_retry_after(response.headers.get("retry-after"), now_epoch=_wall_clock()),
    )


def _wall_clock() -> float:
    return SystemClock().time()


# ---------------------------------------------------------------------------------------------
# Auth


@attrs.frozen
class _Token:
    value: Secret = attrs.field(repr=False)
    generation: int
    minted_at: float
    expires_at: float


class BearerAuth:
    """OAuth 2.0 bearer tokens from a `TokenSource`, refreshed once for all callers.

    The cached token is a hint, not truth: it is used until it is near its stated expiry
    (`refresh_margin` seconds before, proactively) or until a 401 invalidates it. Only the
    token that failed is dropped (a 401 on an old token must not throw away a new one), and
    concurrent callers share one refresh.

    Example:
        >>> auth = BearerAuth(my_token_source, clock=SystemClock())  # doctest: +SKIP

    Args:
        source: mints tokens (NetSuite M2M assertion or refresh-token grant).
        clock: time source for expiry.
        refresh_margin: refresh this many seconds before the stated expiry (at most half
            the token's lifetime).
    """

    def __init__(
        self, source: TokenSource, *, clock: Clock | None = None, refresh_margin: float = 60.0
    ) -> None:
        self._source = source
        self._clock = clock or SystemClock()
        self._margin = refresh_margin
        self._lock = anyio.Lock()
        self._token: _Token | None = None
        self._generation = 0
        self._fetches = 0
        self._last_error: tuple[int, BaseException] | None = None
        self.refreshes = 0
        """How many tokens were minted (for tests, the demo and logs)."""

    def _usable(self) -> _Token | None:
        token = self._token
        if token is not None and self._clock.now() < token.expires_at:
            return token
        return None

    async def _current(self) -> tuple[_Token, bool]:
        """The token to use, and whether this call fetched it."""
        token = self._usable()
        if token is not None:
            return token, False
        seen = self._fetches
        async with self._lock:
            token = self._usable()
            if token is not None:
                return token, False
            if self._last_error is not None and self._last_error[0] > seen:
                # A refresh failed while this caller waited: share its answer rather than
                # sending the token endpoint one doomed request per waiting caller.
                raise self._last_error[1]
            self._fetches += 1
            try:
                grant = await self._source.fetch_token()
            except Exception as exc:
                # Only a refusal is shared with the waiters; a cancellation belongs to the
                # caller that was cancelled, and the next waiter simply fetches again.
                self._last_error = (self._fetches, exc)
                raise
            now = self._clock.now()
            lifetime = max(0.0, grant.expires_in)
            margin = min(self._margin, lifetime / 2)
            self._generation += 1
            self.refreshes += 1
            self._token = _Token(grant.access_token, self._generation, now, now + lifetime - margin)
            return self._token, True

    async def authorize(self, request: httpx.Request) -> Credential:
        """Set `Authorization: Bearer …` from the current (or a fresh) token."""
        token, fetched = await self._current()
        request.headers["Authorization"] = f"Bearer {token.value.reveal()}"
        return Credential(token.generation, token.minted_at, fresh=fetched)

    async def invalidate(self, credential: Credential) -> bool:
        """Drop the token only if it is the one that failed; a refresh may help."""
        current = self._token
        if current is not None and current.generation == credential.generation:
            self._token = None
        return True


class BasicAuth:
    """HTTP Basic auth (WooCommerce consumer key and secret); a 401 is final."""

    def __init__(self, username: Secret, password: Secret) -> None:
        raw = f"{username.reveal()}:{password.reveal()}".encode()
        self._header = Secret("Basic " + base64.b64encode(raw).decode("ascii"))

    def __repr__(self) -> str:
        return "BasicAuth(**********)"

    async def authorize(self, request: httpx.Request) -> Credential:
        """Set the `Authorization: Basic …` header."""
        request.headers["Authorization"] = self._header.reveal()
        return Credential(0)

    async def invalidate(self, credential: Credential) -> bool:
        """Basic credentials cannot be refreshed."""
        return False


# ---------------------------------------------------------------------------------------------
# The pipeline


class _GiveUp(Exception):
    """Carries an error out of the retry loop without retrying it."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(str(error))
        self.error = error


class _Stop:
    """tenacity stop condition on the injected clock: attempts or total time, whichever first."""

    def __init__(self, policy: RetryPolicy, clock: Clock, started: float) -> None:
        self._policy = policy
        self._clock = clock
        self._started = started

    def __call__(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self._policy.attempts:
            return True
        return self._clock.now() - self._started >= self._policy.total_seconds


class HttpPipeline:
    """Sends requests for one system through its limiter, auth and retry policy.

    Example:
        >>> pipeline = HttpPipeline(  # doctest: +SKIP
        ...     system="netsuite", http=httpx.AsyncClient(), limiter=LocalLimiter(5),
        ...     auth=BearerAuth(source), translate=netsuite_translate)
        >>> response = await pipeline.send(httpx.Request("GET", url))  # doctest: +SKIP

    Args:
        system: `"netsuite"` or `"woocommerce"`, carried by every error.
        http: the httpx client (its timeout is one attempt's timeout).
        limiter: shared by every caller of this system.
        auth: adds credentials and decides what a 401 means.
        translate: the system's error translator for non-2xx responses.
        policy: attempts and total-time bounds.
        clock: time source for pauses, backoff and deadlines.
        random: jitter source in [0, 1); inject a constant to test exact schedules.
    """

    def __init__(
        self,
        *,
        system: System,
        http: httpx.AsyncClient,
        limiter: Limiter,
        auth: RequestAuth,
        translate: Translate,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self.system: System = system
        self.http = http
        self.limiter = limiter
        self.auth = auth
        self.translate = translate
        self.policy = policy or RetryPolicy()
        self.clock = clock or SystemClock()
        self._random = random

    async def send(
        self, request: httpx.Request, *, idempotent: bool | None = None
    ) -> httpx.Response:
        """Send `request`; return a response with status < 400 or raise an `ApiError`.

        Args:
            request: a fully built request; it may be sent several times.
            idempotent: whether sending it twice is harmless. Defaults to True for GET,
                HEAD, OPTIONS, PUT and DELETE, False for POST and PATCH.

        Raises:
            AuthenticationError: credentials refused (after at most one refresh).
            RateLimited: still rate limited when the retry budget ran out (retryable).
            ServiceUnavailable: 5xx or transport failures past the budget (retryable).
            OutcomeUnknown: a non-idempotent request got no usable answer.
            ApiError: any other refusal, as the system's translator classified it.
        """
        if idempotent is None:
            idempotent = request.method.upper() in _IDEMPOTENT_METHODS
        started = self.clock.now()
        retrying = AsyncRetrying(
            stop=_Stop(self.policy, self.clock, started),
            wait=self._wait,
            retry=retry_if_exception(should_retry),
            sleep=self.clock.sleep,
            reraise=True,
        )
        attempt = 0
        try:
            async for attempt_state in retrying:
                with attempt_state:
                    attempt += 1
                    return await self._attempt(request, idempotent, started, attempt)
        except _GiveUp as give_up:
            raise give_up.error from None
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    def _check_pause(self, request: httpx.Request, started: float) -> None:
        """Raise at once when the limiter is paused past this send's time budget.

        Waiting out someone else's `Retry-After` inside `acquire()` would break the budget
        (`RetryPolicy.total_seconds`); the caller gets a retryable `RateLimited` saying how
        long the pause still lasts instead.
        """
        paused_until = self.limiter.stats().paused_until
        if paused_until is None:
            return
        wait = paused_until - self.clock.now()
        remaining = self.policy.total_seconds - (self.clock.now() - started)
        if wait > remaining:
            raise _GiveUp(
                RateLimited(
                    "every caller is paused past this request's time budget",
                    system=self.system,
                    retry_after=wait,
                    method=request.method,
                    path=request.url.path,
                )
            )

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, ApiError) and exc.status in _PAUSING_STATUSES:
            # The limiter is already paused for every caller; waiting for a slot is the wait.
            return 0.0
        retry_after = exc.retry_after if isinstance(exc, ApiError) else None
        return backoff(
            state.attempt_number, policy=self.policy, retry_after=retry_after, rand=self._random()
        )

    async def _attempt(
        self, request: httpx.Request, idempotent: bool, started: float, attempt: int
    ) -> httpx.Response:
        self._check_pause(request, started)
        async with self.limiter.acquire() as permit:
            try:
                credential = await self.auth.authorize(request)
            except ApiError as exc:
                if exc.status in _PAUSING_STATUSES and exc.retryable:
                    # The token endpoint is the same account's: its 429/503 pauses every
                    # caller too (and the retry wait relies on that pause).
                    await permit.rate_limited(
                        backoff(
                            attempt,
                            policy=self.policy,
                            retry_after=exc.retry_after,
                            rand=self._random(),
                        )
                    )
                raise
            response = await self._transmit(request, idempotent)
            renewable = False
            if response.status_code == 401:
                # Whatever happens next, the token that failed is not used again.
                refreshable = await self.auth.invalidate(credential)
                # Only a token fetched for this very attempt is known to be fresh: clock
                # readings cannot tell (a coarse or fake clock reads the same for a token
                # cached a moment ago, and a waiting request may be handed one minted while
                # it waited that died early too).
                renewable = credential.fresh
                if refreshable and not credential.fresh:
                    renewable = True
                    _log.info(
                        "%s %s %s: 401, refreshing credentials once",
                        self.system,
                        request.method,
                        request.url.path,
                    )
                    credential = await self.auth.authorize(request)
                    response = await self._transmit(request, idempotent)
                    if response.status_code == 401:
                        await self.auth.invalidate(credential)
            if response.status_code < 400:
                await permit.succeeded()
                return response
            error = self._classify(response, idempotent, attempt, refreshed_or_fresh=renewable)
            if response.status_code in _PAUSING_STATUSES:
                delay = backoff(
                    attempt,
                    policy=self.policy,
                    retry_after=error.retry_after,
                    rand=self._random(),
                )
                remaining = self.policy.total_seconds - (self.clock.now() - started)
                await permit.rate_limited(delay)
                if error.retry_after is not None and error.retry_after > remaining:
                    # Waiting it out would break the time budget: say so now, still
                    # retryable, with the service's own figure attached.
                    raise _GiveUp(error)
                if error.retryable:
                    _log.warning(
                        "%s %s %s: HTTP %s, pausing every caller for %.2fs (attempt %d)",
                        self.system,
                        request.method,
                        request.url.path,
                        response.status_code,
                        delay,
                        attempt,
                    )
            else:
                await permit.succeeded()
            raise error

    async def _transmit(self, request: httpx.Request, idempotent: bool) -> httpx.Response:
        try:
            response = await self.http.send(request)
            await response.aread()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The request never left: safe to try again whatever the method.
            raise ServiceUnavailable(
                f"could not connect ({type(exc).__name__})",
                system=self.system,
                method=request.method,
                path=request.url.path,
            ) from exc
        except httpx.TransportError as exc:
            if idempotent:
                raise ServiceUnavailable(
                    f"no answer ({type(exc).__name__})",
                    system=self.system,
                    method=request.method,
                    path=request.url.path,
                ) from exc
            raise OutcomeUnknown(
                f"no answer ({type(exc).__name__})",
                system=self.system,
                method=request.method,
                path=request.url.path,
            ) from exc
        return response

    def _classify(
        self,
        response: httpx.Response,
        idempotent: bool,
        attempt: int,
        *,
        refreshed_or_fresh: bool = False,
    ) -> ApiError:
        error = self.translate(response)
        status = response.status_code
        retry_after = parse_retry_after(
            response.headers.get("retry-after"), now_epoch=self.clock.time()
        )
        if retry_after is not None:
            error.retry_after = retry_after
        if status == 429 and not isinstance(error, RateLimited):
            # Any 429 is a rate limit whatever the body says (reference netsuite.md §5).
            error = RateLimited(error.detail, **_context_of(error))
        if status == 401:
            if not isinstance(error, AuthenticationError):
                error = AuthenticationError(error.detail, **_context_of(error))
            if error.hint is None:
                error.hint = (
                    "The credentials were refused even when fresh: check the account id "
                    "and environment, the role, and that the token or mapping was not "
                    "revoked (a sandbox refresh clears them)"
                    if refreshed_or_fresh
                    else "The credentials were refused and cannot be refreshed"
                )
        if status >= 500 and status != 503 and not idempotent:
            # A 5xx to a write that is not idempotent may have committed part or all of it.
            return OutcomeUnknown(error.detail or f"HTTP {status}", **_context_of(error))
        error.attempts = attempt
        return error


def _context_of(error: ApiError) -> ApiContext:
    return ApiContext(
        system=error.system,
        status=error.status,
        code=error.code,
        request_id=error.request_id,
        retry_after=error.retry_after,
        method=error.method,
        path=error.path,
    )
