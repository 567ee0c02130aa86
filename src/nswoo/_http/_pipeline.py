"""The HTTP pipeline shared by the NetSuite and WooCommerce clients.

`limiter slot → auth → httpx → classify → recover (refresh on 401 | back off on 429/5xx)`.

- **401**: the credential that failed is invalidated (compare-and-swap: only if it is still
  the current one), one refresh runs for all concurrent callers (single flight on an
  `anyio.Lock`), and the request is retried once. A 401 on a token fetched for the attempt
  itself, or on the retry, is a hard `AuthenticationError`: the credentials are wrong,
  never a refresh loop. One exception, for NetSuite (`load_401_retries`): such a 401 that
  comes back while the limiter shows the account at its concurrency limit is read as a
  rate limit in disguise (NetSuite is reported to answer "Invalid login attempt" instead of
  429 then: reference netsuite.md §1d, peers.md item 4, julbrs/netsuite-api-client#26),
  so it pauses every caller, lowers the cap and is retried a bounded number of times with
  the same credential; only a 401 that persists at low concurrency is a hard error.
- **429 / 503**: `Retry-After` (seconds or HTTP date) pauses the whole limiter, so no caller
  sends during the pause; without it, exponential backoff with full jitter.
- **Transport errors and other 5xx**: retried only for idempotent requests (GET, PUT upsert,
  or marked idempotent). A non-idempotent write that got no answer raises `OutcomeUnknown`
  instead, so the caller can look before writing again.
- Every retry loop is bounded by attempts and total time. The decision (`should_retry`,
  `backoff`) is pure; sleeping and randomness are injected.
- **Errors are built once**, by the system's translator, from the response and the
  pipeline's facts about the attempt (`Attempt`: its number, idempotency, the clock for
  `Retry-After`, how a 401 was read); the pipeline never changes an error afterwards.

Facts: NetSuite concurrency and 429 (reference netsuite.md §5; whether NetSuite sends
`Retry-After` is unconfirmed, so both paths exist); token lifetimes (§1b, §1c).
"""

from __future__ import annotations

import base64
import email.utils
import logging
import random as _random
from collections.abc import Callable
from typing import Literal, Protocol, Unpack

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
from ..limits._port import Limiter, LimiterLoad, Permit

__all__ = [
    "Attempt",
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
    "server_error",
    "should_retry",
    "unauthorized_error",
]

_log = logging.getLogger("nswoo.http")

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_PAUSING_STATUSES = frozenset({429, 503})
_REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id")
_SYSTEM_NAMES = {"netsuite": "NetSuite", "woocommerce": "WooCommerce"}
# How long after a reported rate limit the account still counts as "at its limit" when a
# 401 comes back with other requests in flight. NetSuite's disguised 401s are reported to
# arrive after ~60 s (reference netsuite.md §1d), so a minute.
LOAD_WINDOW = 60.0


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


Unauthorized = Literal["fresh", "static", "load", "load-persisted"]
"""How the pipeline read a 401 (see `Attempt.unauthorized`)."""


@attrs.frozen
class Attempt:
    """What the pipeline knows about the attempt whose answer a translator reads.

    Facts, not decisions about the error's class: the translator still reads the body.
    The defaults describe a lone first attempt of an idempotent request (a translator
    called outside the pipeline).

    Attributes:
        number: how many times the request has been sent, this time included.
        idempotent: whether sending it again is harmless; a 5xx other than 503 to a request
            that is not is `OutcomeUnknown` (it may have committed).
        now_epoch: the pipeline clock's wall time, to read a `Retry-After` date against
            (None: the system clock).
        unauthorized: for a 401, how the pipeline read it:
            `"fresh"`: refused with a credential obtained for this request (or refreshed
            after a 401): the credentials are wrong;
            `"static"`: refused with a credential that cannot be refreshed (Basic, TBA);
            `"load"`: it came back while the account was at its concurrency limit: read as
            a rate limit, every caller pauses and the request is retried;
            `"load-persisted"`: read so `load_401s` times and still refused at the limit:
            given up for now (retryable later).
        load_401s: how many 401s of this request were read as a rate limit so far.
        load: what the limiter showed when the 401 came back.
    """

    number: int = 1
    idempotent: bool = True
    now_epoch: float | None = None
    unauthorized: Unauthorized | None = None
    load_401s: int = 0
    load: LimiterLoad | None = None


Translate = Callable[[httpx.Response, Attempt], ApiError]
"""A system's error translator: a non-2xx response and the attempt's facts → the most
specific `ApiError`, built once (the pipeline raises it as it is)."""


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


def error_context(
    response: httpx.Response, system: System, attempt: Attempt | None = None
) -> ApiContext:
    """The `ApiError` keyword arguments a response (and the pipeline's attempt) provide.

    `status`, `request_id` (when the service sent one), the request's `method` and `path`
    (never the query string, which may carry filters the user considers private),
    `retry_after` parsed from the `Retry-After` header (against `attempt.now_epoch` when
    given), and `attempts` (`attempt.number`, else 1).
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
    now_epoch = attempt.now_epoch if attempt is not None else None
    return ApiContext(
        system=system,
        status=response.status_code,
        request_id=request_id,
        method=method,
        path=path,
        retry_after=parse_retry_after(
            response.headers.get("retry-after"),
            now_epoch=_wall_clock() if now_epoch is None else now_epoch,
        ),
        attempts=attempt.number if attempt is not None else 1,
    )


def _wall_clock() -> float:
    return SystemClock().time()


def server_error(
    detail: str, *, attempt: Attempt, **context: Unpack[ApiContext]
) -> ServiceUnavailable | OutcomeUnknown:
    """The error for a 5xx answer (or an error page standing in for one).

    `ServiceUnavailable` (retryable), except a 5xx other than 503 to a request that is not
    idempotent: that may have committed part or all of it, so `OutcomeUnknown`.
    """
    status = context.get("status")
    if status is not None and status >= 500 and status != 503 and not attempt.idempotent:
        unknown: ApiContext = {**context, "retryable": None}  # never retried blindly
        return OutcomeUnknown(detail or f"HTTP {status}", **unknown)
    return ServiceUnavailable(detail, **context)


def unauthorized_error(
    detail: str, *, attempt: Attempt, hint: str | None = None, **context: Unpack[ApiContext]
) -> AuthenticationError | RateLimited:
    """The error for a 401, from how the pipeline read it (`Attempt.unauthorized`).

    A 401 read as a rate limit (`"load"`, `"load-persisted"`) is a retryable `RateLimited`
    keeping the service's code and detail, with a hint saying why; any other is an
    `AuthenticationError` with `hint` (the translator's, e.g. per auth scheme) or a hint
    from the reading (refused when fresh, or not refreshable).
    """
    name = _SYSTEM_NAMES.get(context["system"], context["system"])
    load = attempt.load
    at = f" ({load.in_flight} requests in flight, cap {load.cap})" if load is not None else ""
    if attempt.unauthorized in ("load", "load-persisted"):
        if attempt.unauthorized == "load":
            why = (
                f"Answered 401 while the account was at its concurrency limit{at}: {name} is "
                "reported to refuse logins instead of answering 429 then, so every caller "
                "pauses and the request is sent again with the same credentials"
            )
        else:
            why = (
                f"Answered 401 {attempt.load_401s} times while the account stayed at its "
                f"concurrency limit{at}: given up for now; the same request may succeed "
                "later. A 401 that persists at low concurrency is an authentication error"
            )
        load_context: ApiContext = {**context, "retryable": True}
        return RateLimited(detail, hint=why, **load_context)
    if hint is None:
        if attempt.unauthorized == "static":
            hint = "The credentials were refused and cannot be refreshed"
        else:
            hint = (
                "The credentials were refused even when fresh: check the account id and "
                "environment, the role, and that the token or mapping was not revoked (a "
                "sandbox refresh clears them)"
            )
    if attempt.load_401s:
        hint = (
            f"{hint} (refused {attempt.load_401s} times at the concurrency limit first, "
            "then again at low concurrency)"
        )
    return AuthenticationError(detail, hint=hint, **context)


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


@attrs.define
class _Send:
    """What one `send` remembers across its attempts."""

    idempotent: bool
    started: float
    attempt: int = 0
    kept: int | None = None
    """The generation of the credential kept after a 401 read as load: not refreshed again."""
    static: bool = False
    """The credential cannot be refreshed (Basic, TBA): its 401s are the credentials'."""
    load_401s: int = 0
    paused: bool = False
    """The last attempt paused the limiter: waiting for a slot is the whole wait."""


@attrs.frozen
class _Reading:
    """The answer an attempt ends with, and how a 401 among it was read."""

    response: httpx.Response
    unauthorized: Unauthorized | None = None
    load: LimiterLoad | None = None


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
        translate: the system's error translator for non-2xx responses; the error it builds
            is raised as it is.
        policy: attempts and total-time bounds.
        clock: time source for pauses, backoff and deadlines.
        random: jitter source in [0, 1); inject a constant to test exact schedules.
        load_401_retries: how many times one request's 401 may be read as a rate limit in
            disguise (only when a refresh cannot help and the limiter shows the account at
            its concurrency limit: `LimiterLoad.saturated`). 0, the default, never reads a
            401 so; the NetSuite client passes 3.
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
        load_401_retries: int = 0,
    ) -> None:
        if load_401_retries < 0:
            raise ValueError(f"load_401_retries must be at least 0, got {load_401_retries}")
        self.system: System = system
        self.http = http
        self.limiter = limiter
        self.auth = auth
        self.translate = translate
        self.policy = policy or RetryPolicy()
        self.clock = clock or SystemClock()
        self.load_401_retries = load_401_retries
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
            AuthenticationError: credentials refused (after at most one refresh), or still
                refused at low concurrency.
            RateLimited: still rate limited when the retry budget ran out (retryable); also
                a 401 read as a rate limit that persisted at the concurrency limit.
            ServiceUnavailable: 5xx or transport failures past the budget (retryable).
            OutcomeUnknown: a non-idempotent request got no usable answer.
            ApiError: any other refusal, as the system's translator classified it.
        """
        if idempotent is None:
            idempotent = request.method.upper() in _IDEMPOTENT_METHODS
        send = _Send(idempotent=idempotent, started=self.clock.now())
        retrying = AsyncRetrying(
            stop=_Stop(self.policy, self.clock, send.started),
            wait=lambda state: self._wait(state, send),
            retry=retry_if_exception(should_retry),
            sleep=self.clock.sleep,
            reraise=True,
        )
        try:
            async for attempt_state in retrying:
                with attempt_state:
                    return await self._attempt(request, send)
        except _GiveUp as give_up:
            raise give_up.error from None
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    async def _check_pause(self, request: httpx.Request, send: _Send) -> None:
        """Raise at once when the limiter is paused past this send's time budget.

        Waiting out someone else's `Retry-After` inside `acquire()` would break the budget
        (`RetryPolicy.total_seconds`); the caller gets a retryable `RateLimited` saying how
        long the pause still lasts instead.
        """
        load = await self.limiter.load()
        if load.paused_for <= 0:
            return
        remaining = self.policy.total_seconds - (self.clock.now() - send.started)
        if load.paused_for > remaining:
            raise _GiveUp(
                RateLimited(
                    "every caller is paused past this request's time budget",
                    system=self.system,
                    retry_after=load.paused_for,
                    method=request.method,
                    path=request.url.path,
                    attempts=send.attempt - 1,
                )
            )

    def _wait(self, state: RetryCallState, send: _Send) -> float:
        if send.paused:
            # The limiter is already paused for every caller; waiting for a slot is the wait.
            return 0.0
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        retry_after = exc.retry_after if isinstance(exc, ApiError) else None
        return backoff(
            state.attempt_number, policy=self.policy, retry_after=retry_after, rand=self._random()
        )

    async def _attempt(self, request: httpx.Request, send: _Send) -> httpx.Response:
        send.attempt += 1
        send.paused = False
        await self._check_pause(request, send)
        async with self.limiter.acquire() as permit:
            credential = await self._authorize(request, permit, send)
            reading = await self._exchange(request, permit, credential, send)
            response = reading.response
            if response.status_code < 400:
                await permit.succeeded()
                return response
            attempt = Attempt(
                number=send.attempt,
                idempotent=send.idempotent,
                now_epoch=self.clock.time(),
                unauthorized=reading.unauthorized,
                load_401s=send.load_401s,
                load=reading.load,
            )
            error = self.translate(response, attempt)
            persisted = reading.unauthorized == "load-persisted"
            if response.status_code in _PAUSING_STATUSES or reading.unauthorized == "load":
                await self._pause(request, permit, send, error, give_up=False)
            elif persisted:
                await self._pause(request, permit, send, error, give_up=True)
            else:
                await permit.succeeded()
            raise error

    async def _authorize(self, request: httpx.Request, permit: Permit, send: _Send) -> Credential:
        try:
            return await self.auth.authorize(request)
        except ApiError as exc:
            if exc.status in _PAUSING_STATUSES and exc.retryable:
                # The token endpoint is the same account's: its 429/503 pauses every
                # caller too (and the retry wait relies on that pause).
                send.paused = True
                await permit.rate_limited(
                    backoff(
                        send.attempt,
                        policy=self.policy,
                        retry_after=exc.retry_after,
                        rand=self._random(),
                    )
                )
            raise

    async def _exchange(
        self, request: httpx.Request, permit: Permit, credential: Credential, send: _Send
    ) -> _Reading:
        """Send once; on a 401, recover where a refresh can and say how the 401 reads."""
        response = await self._transmit(request, send)
        if response.status_code != 401:
            return _Reading(response)
        if not (credential.fresh or credential.generation == send.kept):
            # A cached credential: drop it (only if still current) and refresh once, also at
            # the concurrency limit: a token that died (expired early, revoked) looks the
            # same there, and reading its 401s as load would cut the cap for nothing.
            if await self.auth.invalidate(credential):
                _log.info(
                    "%s %s %s: 401, refreshing credentials once",
                    self.system,
                    request.method,
                    request.url.path,
                )
                credential = await self.auth.authorize(request)
                response = await self._transmit(request, send)
                if response.status_code != 401:
                    return _Reading(response)
            else:
                send.static = True
        # Refused with a credential a refresh cannot improve: wrong credentials, unless the
        # account is at its concurrency limit (NetSuite's 401 in disguise, see module doc),
        # judged by the load this request was refused under (such 401s come late).
        load = await permit.load()
        if self.load_401_retries and load.saturated(recent=LOAD_WINDOW):
            send.load_401s += 1
            # The credential is kept: a new token would only add a request to the overload.
            send.kept = credential.generation
            over = send.load_401s > self.load_401_retries
            return _Reading(response, "load-persisted" if over else "load", load)
        # Whatever happens next, the credential that failed is not used again.
        await self.auth.invalidate(credential)
        return _Reading(response, "static" if send.static else "fresh", load)

    async def _pause(
        self, request: httpx.Request, permit: Permit, send: _Send, error: ApiError, *, give_up: bool
    ) -> None:
        """Pause every caller after a 429/503 (or a 401 read as one).

        Raises `_GiveUp(error)` when told to (a 401 read as a rate limit too often) or when the
        service's `Retry-After` ends past this send's time budget.
        """
        delay = backoff(
            send.attempt, policy=self.policy, retry_after=error.retry_after, rand=self._random()
        )
        remaining = self.policy.total_seconds - (self.clock.now() - send.started)
        send.paused = True
        await permit.rate_limited(delay)
        if give_up or (error.retry_after is not None and error.retry_after > remaining):
            # Waiting it out would break the time budget: say so now, still retryable,
            # with the service's own figure attached.
            raise _GiveUp(error)
        if error.retryable:
            _log.warning(
                "%s %s %s: HTTP %s, pausing every caller for %.2fs (attempt %d)",
                self.system,
                request.method,
                request.url.path,
                error.status,
                delay,
                send.attempt,
            )

    async def _transmit(self, request: httpx.Request, send: _Send) -> httpx.Response:
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
                attempts=send.attempt,
            ) from exc
        except httpx.TransportError as exc:
            error_type = ServiceUnavailable if send.idempotent else OutcomeUnknown
            raise error_type(
                f"no answer ({type(exc).__name__})",
                system=self.system,
                method=request.method,
                path=request.url.path,
                attempts=send.attempt,
            ) from exc
        return response
