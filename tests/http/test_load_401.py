"""A 401 at the concurrency limit: NetSuite's rate limit in disguise, backed off and bounded.

Community clients report NetSuite answering 401 "Invalid login attempt" instead of 429 when
the account's concurrency is exceeded (reference netsuite.md §1d; peers.md item 4,
julbrs/netsuite-api-client#26). A 401 that a refresh cannot fix, coming back while the
limiter shows the account at its limit, pauses every caller and is retried a bounded number
of times with the same credential; only a 401 that persists at low concurrency is a hard
`AuthenticationError`, and the single-flight refresh of behaviour 1 is unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
import attrs
import httpx
import pytest
import respx

from nswoo._http import Attempt, BasicAuth, BearerAuth, HttpPipeline, RetryPolicy, TokenGrant
from nswoo._settings import NetSuiteSettings, Secret, TbaCredentials
from nswoo.errors import ApiError, AuthenticationError, RateLimited
from nswoo.limits import Limiter, LimiterLoad, LimiterStats, LocalLimiter, Permit
from nswoo.netsuite import NetSuiteClient, TbaAuth, open_netsuite
from nswoo.netsuite._client import LOAD_401_RETRIES
from nswoo.netsuite._faults import translate as netsuite_translate
from nswoo.testing import FakeClock, FaultPlan, build_world

pytestmark = pytest.mark.anyio

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
RECORD = f"{BASE}/services/rest/record/v1/customer/107"
TBA = TbaCredentials(
    consumer_key="ck", consumer_secret=Secret("cs"), token_id="tid", token_secret=Secret("ts")
)
SETTINGS = NetSuiteSettings(
    environment="sandbox", account_id="1234567_SB1", auth=TBA, base_url=BASE
)
# Oracle's literal 401 body (reference netsuite.md §1d).
INVALID_LOGIN = {
    "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [
        {
            "detail": "Invalid login attempt. For more details, see the Login Audit Trail in "
            "the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.",
            "o:errorCode": "INVALID_LOGIN",
        }
    ],
}


def invalid_login() -> httpx.Response:
    return httpx.Response(401, json=INVALID_LOGIN)


def ok() -> httpx.Response:
    return httpx.Response(200, json={"id": "107"})


@attrs.define
class _Permit:
    account: Any

    async def load(self) -> LimiterLoad:
        return await self.account.permit_load()

    async def succeeded(self) -> None:
        return None

    async def rate_limited(self, delay: float) -> None:
        self.account.pauses.append(delay)


@attrs.define
class BusyAccount:
    """A limiter whose load the test sets: `in_flight` requests (the caller's included) of
    `cap`. It records the pauses the pipeline asks for instead of sleeping them."""

    in_flight: int = 5
    cap: int = 5
    pauses: list[float] = attrs.field(factory=list)

    def acquire(self) -> AbstractAsyncContextManager[Permit]:
        return self._acquire()

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[Permit]:
        yield _Permit(self)

    async def load(self) -> LimiterLoad:
        return LimiterLoad(in_flight=self.in_flight, cap=self.cap)

    async def permit_load(self) -> LimiterLoad:
        return await self.load()

    def stats(self) -> LimiterStats:
        return LimiterStats(
            in_flight=self.in_flight,
            max_in_flight=self.in_flight,
            cap=self.cap,
            configured_cap=self.cap,
            rate_limited=len(self.pauses),
            waits=0,
            paused_until=None,
            min_cap_seen=self.cap,
            acquired=0,
        )


def tba_client(http: httpx.AsyncClient, limiter: Limiter) -> NetSuiteClient:
    """The real NetSuite client with TBA (the scheme of the community report)."""
    clock = FakeClock()
    return NetSuiteClient(
        SETTINGS,
        http=http,
        limiter=limiter,
        auth=TbaAuth(TBA, realm=SETTINGS.realm, clock=clock),
        clock=clock,
        random=lambda: 1.0,
    )


class CountingTokens:
    """A TokenSource minting tok-1, tok-2, ... and counting calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def fetch_token(self) -> TokenGrant:
        self.calls += 1
        await anyio.lowlevel.checkpoint()
        return TokenGrant(Secret(f"tok-{self.calls}"), 3600.0)


def bearer_pipeline(
    http: httpx.AsyncClient, limiter: Any, tokens: CountingTokens, *, load_401_retries: int = 3
) -> HttpPipeline:
    """A NetSuite pipeline with OAuth 2.0 bearer tokens and NetSuite's own translator."""
    clock = FakeClock()

    def translate(response: httpx.Response, attempt: Attempt) -> ApiError:
        return netsuite_translate(response, attempt=attempt)

    return HttpPipeline(
        system="netsuite",
        http=http,
        limiter=limiter,
        auth=BearerAuth(tokens, clock=clock),
        translate=translate,
        clock=clock,
        random=lambda: 1.0,
        load_401_retries=load_401_retries,
    )


# ---------------------------------------------------------------------------------------------
# TBA: a credential that cannot be refreshed


async def test_tba_401_at_the_concurrency_limit_is_backed_off_and_retried() -> None:
    """TBA, 5 of 5 in flight: two 401s pause every caller (0.5 s, 1 s), the third try succeeds."""
    limiter = BusyAccount(in_flight=5, cap=5)
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(RECORD).mock(side_effect=[invalid_login(), invalid_login(), ok()])
        record = await tba_client(http, limiter).get("customer", "107")
    assert record == {"id": "107"}
    assert route.call_count == 3
    assert limiter.pauses == [0.5, 1.0]  # full-jitter ceilings with the draw fixed at 1


async def test_tba_401_alone_in_flight_is_a_hard_authentication_error_at_once() -> None:
    """TBA, nothing else in flight: the 401 is the credentials', raised at once, no pause."""
    limiter = BusyAccount(in_flight=1, cap=5)
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(RECORD).mock(side_effect=[invalid_login(), ok()])
        with pytest.raises(AuthenticationError) as info:
            await tba_client(http, limiter).get("customer", "107")
    assert route.call_count == 1
    assert limiter.pauses == []
    assert info.value.code == "INVALID_LOGIN"
    assert info.value.retryable is False


async def test_401_that_persists_at_the_limit_is_given_up_retryable_not_fatal() -> None:
    """Still 401 at the limit after the bounded retries: a retryable RateLimited, so the unit
    of work is kept for later instead of stopping the run as bad credentials would."""
    limiter = BusyAccount(in_flight=5, cap=5)
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(RECORD).mock(return_value=invalid_login())
        with pytest.raises(RateLimited) as info:
            await tba_client(http, limiter).get("customer", "107")
    assert route.call_count == LOAD_401_RETRIES + 1
    assert len(limiter.pauses) == LOAD_401_RETRIES + 1
    error = info.value
    assert (error.status, error.code, error.retryable) == (401, "INVALID_LOGIN", True)
    assert error.attempts == LOAD_401_RETRIES + 1
    assert f"401 {LOAD_401_RETRIES + 1} times" in str(error)
    assert "concurrency limit (5 requests in flight, cap 5)" in str(error)


async def test_401_that_persists_once_the_load_is_down_is_a_hard_authentication_error() -> None:
    """A 401 at the limit is retried; the same 401 with the load down is the credentials'."""
    account = BusyAccount(in_flight=5, cap=5)
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(RECORD).mock(return_value=invalid_login())
        with pytest.raises(AuthenticationError) as info:
            await tba_client(http, _LoadDropsAfterFirstRead(account)).get("customer", "107")
    assert route.call_count == 2
    assert account.pauses == [0.5]
    assert "refused 1 times at the concurrency limit first" in str(info.value)


@attrs.define
class _LoadDropsAfterFirstRead:
    """Wraps a `BusyAccount`: the first 401 is read at the limit, later ones idle."""

    account: BusyAccount
    reads: int = 0

    def acquire(self) -> AbstractAsyncContextManager[Permit]:
        return self._acquire()

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[Permit]:
        yield _Permit(self)

    async def load(self) -> LimiterLoad:
        return LimiterLoad(in_flight=1, cap=5)  # never paused

    async def permit_load(self) -> LimiterLoad:
        self.reads += 1
        return LimiterLoad(in_flight=5 if self.reads == 1 else 1, cap=5)

    def stats(self) -> LimiterStats:
        return self.account.stats()

    @property
    def pauses(self) -> list[float]:
        return self.account.pauses


# ---------------------------------------------------------------------------------------------
# OAuth 2.0 bearer tokens: behaviour 1 first, then the reading at the limit


async def test_cached_token_401_at_the_limit_refreshes_once_then_backs_off() -> None:
    """A cached token's 401 still refreshes once (behaviour 1); the fresh token's 401 at the
    limit is backed off and retried with that same token: two token requests in all."""
    limiter = BusyAccount(in_flight=5, cap=5)
    tokens = CountingTokens()
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(RECORD).mock(side_effect=[ok(), invalid_login(), invalid_login(), ok()])
        pipeline = bearer_pipeline(http, limiter, tokens)
        await pipeline.send(httpx.Request("GET", RECORD))  # tok-1 cached
        response = await pipeline.send(httpx.Request("GET", RECORD))
        sent_with = [call.request.headers["authorization"] for call in route.calls]
    assert response.status_code == 200
    assert tokens.calls == 2
    assert sent_with == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]
    assert limiter.pauses == [0.5]


async def test_401s_at_the_limit_never_mint_a_token_per_retry() -> None:
    """A fresh token refused at the limit is kept through the bounded retries: one token,
    not one per 401 (a new token would only add a request to the overload)."""
    limiter = BusyAccount(in_flight=5, cap=5)
    tokens = CountingTokens()
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(RECORD).mock(return_value=invalid_login())
        pipeline = bearer_pipeline(http, limiter, tokens)
        with pytest.raises(RateLimited):
            await pipeline.send(httpx.Request("GET", RECORD))
        sent_with = [call.request.headers["authorization"] for call in route.calls]
    assert sent_with == ["Bearer tok-1"] * (LOAD_401_RETRIES + 1)
    assert tokens.calls == 1


async def test_a_token_that_dies_between_retries_is_still_refreshed() -> None:
    """Behaviour 1 holds on every attempt: after a 429, a cached token's 401 refreshes it
    (at the limit too: a dead token must not be read as load and cut the cap)."""
    limiter = BusyAccount(in_flight=5, cap=5)
    tokens = CountingTokens()
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(RECORD).mock(
            side_effect=[ok(), invalid_login(), ok(), httpx.Response(429), invalid_login(), ok()]
        )
        pipeline = bearer_pipeline(http, limiter, tokens)
        await pipeline.send(httpx.Request("GET", RECORD))  # tok-1 cached
        await pipeline.send(httpx.Request("GET", RECORD))  # tok-1 died: tok-2
        response = await pipeline.send(httpx.Request("GET", RECORD))  # 429, then tok-2 died
        sent_with = [call.request.headers["authorization"] for call in route.calls]
    assert response.status_code == 200
    assert sent_with[-3:] == ["Bearer tok-2", "Bearer tok-2", "Bearer tok-3"]
    assert tokens.calls == 3
    assert limiter.pauses == [0.5]  # the 429's pause only


async def test_fifty_callers_with_a_revoked_token_at_the_limit_share_one_refresh() -> None:
    """50 callers whose cached token was revoked, at the limit: one refresh, all succeed."""
    limiter = BusyAccount(in_flight=5, cap=5)
    tokens = CountingTokens()

    def answer(request: httpx.Request) -> httpx.Response:
        return ok() if request.headers["authorization"] == "Bearer tok-2" else invalid_login()

    async with respx.mock() as mock, httpx.AsyncClient() as http:
        mock.get(RECORD).mock(side_effect=[ok()])
        pipeline = bearer_pipeline(http, limiter, tokens)
        await pipeline.send(httpx.Request("GET", RECORD))  # tok-1 cached, then revoked
        mock.get(RECORD).mock(side_effect=answer)
        statuses: list[int] = []

        async def call() -> None:
            statuses.append((await pipeline.send(httpx.Request("GET", RECORD))).status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(call)
    assert statuses == [200] * 50
    assert tokens.calls == 2
    assert limiter.pauses == []


async def test_a_system_without_the_rule_keeps_every_401_final() -> None:
    """WooCommerce (Basic auth, `load_401_retries=0`): a 401 at the limit is final at once."""
    limiter = BusyAccount(in_flight=4, cap=4)
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(RECORD).mock(return_value=invalid_login())
        pipeline = HttpPipeline(
            system="netsuite",
            http=http,
            limiter=limiter,
            auth=BasicAuth(Secret("ck"), Secret("cs")),
            translate=lambda response, attempt: netsuite_translate(response, attempt=attempt),
            clock=FakeClock(),
        )
        with pytest.raises(AuthenticationError):
            await pipeline.send(httpx.Request("GET", RECORD))
    assert route.call_count == 1
    assert limiter.pauses == []


def test_a_negative_retry_bound_is_refused() -> None:
    """`load_401_retries` below 0 is a ValueError naming it."""
    with pytest.raises(ValueError, match="load_401_retries"):
        HttpPipeline(
            system="netsuite",
            http=httpx.AsyncClient(),
            limiter=BusyAccount(),
            auth=BasicAuth(Secret("u"), Secret("p")),
            translate=lambda response, attempt: netsuite_translate(response, attempt=attempt),
            load_401_retries=-1,
        )


# ---------------------------------------------------------------------------------------------
# The whole client against an account that disguises its overload


class DisguisedOverload(httpx.AsyncBaseTransport):
    """A fault in front of the NetSuite simulator: over `limit` requests in flight, answer
    401 INVALID_LOGIN (slowly, as reported) instead of 429. The token endpoint passes."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, limit: int, delay: float) -> None:
        self.inner = inner
        self.limit = limit
        self.delay = delay
        self.in_flight = 0
        self.peak = 0
        self.unauthorized = 0
        self.answered = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return await self.inner.handle_async_request(request)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.in_flight > self.limit:
                self.unauthorized += 1
                await anyio.sleep(self.delay)
                return invalid_login()
            self.answered += 1
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


async def test_the_client_survives_an_account_answering_401_over_its_limit() -> None:
    """Cap 8 against an account that answers 401 above 3 in flight: every call succeeds,
    no call is refused as bad credentials, and the cap comes down to the account's limit."""
    world = build_world(
        ns_faults=FaultPlan(seed=7, latency=0.003, jitter=0.002),
        concurrency_limit=100,  # the simulator's own 429s stay out of this test
        ns_concurrency=8,
    )
    transport = DisguisedOverload(world.netsuite.transport(), limit=3, delay=0.005)
    limiter = LocalLimiter(8)
    policy = RetryPolicy(attempts=10, total_seconds=30.0, initial=0.02, maximum=0.2)
    failures: list[ApiError] = []
    done = 0
    async with open_netsuite(
        world.ns_settings, limiter=limiter, policy=policy, transport=transport
    ) as client:

        async def worker() -> None:
            nonlocal done
            for _ in range(10):
                try:
                    await client.get("customer", world.customer_id)
                except ApiError as exc:
                    failures.append(exc)
                else:
                    done += 1

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for _ in range(16):
                    tg.start_soon(worker)
    assert failures == []
    assert done == 160
    assert transport.unauthorized >= 1
    # Refreshes are single flight (behaviour 1): the callers refused together share one.
    assert world.netsuite.stats.tokens_minted < transport.unauthorized
    assert limiter.stats().min_cap_seen <= 3
    # Settled: the later requests are mostly answered, not refused.
    assert transport.unauthorized < 0.25 * (transport.unauthorized + transport.answered)


async def test_the_client_survives_the_simulators_disguised_overload_fault() -> None:
    """The NetSuite simulator's field fault (every request over its limit of 3 answered 401
    INVALID_LOGIN, not 429): a client configured at 8 finishes every call, none refused as
    bad credentials, and its cap comes down to the limit."""
    world = build_world(
        ns_faults=FaultPlan(
            seed=11,
            latency=0.003,
            jitter=0.002,
            concurrency_invalid_login=1.0,
            concurrency_invalid_login_delay=0.005,
        ),
        concurrency_limit=3,
        ns_concurrency=8,
    )
    limiter = LocalLimiter(8)
    policy = RetryPolicy(attempts=10, total_seconds=30.0, initial=0.02, maximum=0.2)
    failures: list[ApiError] = []
    async with world.netsuite_client(limiter=limiter, policy=policy) as client:

        async def worker() -> None:
            for _ in range(10):
                try:
                    await client.get("customer", world.customer_id)
                except ApiError as exc:
                    failures.append(exc)

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for _ in range(16):
                    tg.start_soon(worker)
    stats = world.netsuite.stats
    assert failures == [], [str(f) for f in failures]
    assert stats.by_status[401] >= 1
    assert stats.by_status[429] == 0
    # The cap comes down (to about 4 here, not 3 as against the fault above): a cached
    # token's 401 is refreshed first (behaviour 1) and that resend often gets through, so
    # only part of the 401s reach the limiter as rate limits.
    assert limiter.stats().rate_limited >= 1
    assert limiter.stats().min_cap_seen < 8
