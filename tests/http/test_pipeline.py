"""HttpPipeline: refresh once on 401, pause on 429, bounded retries, no blind write retries."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from email.utils import formatdate

import anyio
import httpx
import pytest
from tests.http._server import FakePeer

from nswoo._clock import SystemClock
from nswoo._http import (
    Attempt,
    BasicAuth,
    BearerAuth,
    HttpPipeline,
    RetryPolicy,
    TokenGrant,
    backoff,
    error_context,
    parse_retry_after,
    server_error,
    unauthorized_error,
)
from nswoo._settings import Secret
from nswoo.errors import (
    ApiError,
    AuthenticationError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ServiceUnavailable,
)
from nswoo.limits import LimiterLoad, LimiterStats, Permit
from nswoo.limits._local import LocalLimiter, UnlimitedLimiter
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio

URL = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/salesOrder/1"


def translate(response: httpx.Response, attempt: Attempt) -> ApiError:
    """A minimal translator: status → class, with the pipeline's shared 401 and 5xx rules."""
    ctx = error_context(response, "netsuite", attempt)
    status = response.status_code
    if status == 401:
        return unauthorized_error(
            "Invalid login attempt.", attempt=attempt, **{**ctx, "code": "INVALID_LOGIN"}
        )
    if status == 429:
        return RateLimited(**ctx)
    if status == 404:
        return NotFound(**ctx)
    if status >= 500:
        return server_error("", attempt=attempt, **ctx)
    return ApiError("refused", **ctx)


class CountingTokens:
    """A TokenSource minting tok-1, tok-2, ... and counting calls."""

    def __init__(self, clock: FakeClock, expires_in: float = 3600.0) -> None:
        self.clock = clock
        self.calls = 0
        self.expires_in = expires_in

    async def fetch_token(self) -> TokenGrant:
        self.calls += 1
        await self.clock.sleep(0.01)  # the token endpoint takes time: callers pile up
        return TokenGrant(Secret(f"tok-{self.calls}"), self.expires_in)


def make_pipeline(
    peer: FakePeer,
    clock: FakeClock,
    *,
    auth=None,
    limiter=None,
    policy: RetryPolicy | None = None,
) -> HttpPipeline:
    return HttpPipeline(
        system="netsuite",
        http=httpx.AsyncClient(transport=peer.transport()),
        limiter=limiter or UnlimitedLimiter(),
        auth=auth or BearerAuth(CountingTokens(clock), clock=clock),
        translate=translate,
        policy=policy,
        clock=clock,
        random=lambda: 1.0,
    )


async def test_fifty_concurrent_401s_cause_exactly_one_refresh() -> None:
    """50 requests hit a 401 at once: one token refresh, all 50 succeed."""
    clock = FakeClock()
    tokens = CountingTokens(clock)
    valid = {"Bearer tok-1"}

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        await clock.sleep(0.001)
        if request.headers["authorization"] in valid:
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json={"status": 401})

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(peer, clock, auth=BearerAuth(tokens, clock=clock))
    await pipeline.send(httpx.Request("GET", URL))  # warm: tok-1 cached
    assert tokens.calls == 1
    clock.advance(5)
    valid = {"Bearer tok-2"}  # tok-1 dies early (revoked, clock skew)
    results: list[int] = []

    async def call() -> None:
        response = await pipeline.send(httpx.Request("GET", URL))
        results.append(response.status_code)

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(call)
    assert results == [200] * 50
    assert tokens.calls == 2


async def test_401_on_a_fresh_token_is_a_hard_error_without_a_loop() -> None:
    """A 401 right after a refresh raises AuthenticationError after exactly one refresh."""
    clock = FakeClock()
    tokens = CountingTokens(clock)

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(401, json={"status": 401})

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(peer, clock, auth=BearerAuth(tokens, clock=clock))
    with pytest.raises(AuthenticationError) as info:
        await pipeline.send(httpx.Request("GET", URL))
    assert tokens.calls == 1
    assert len(peer.sent_at) == 1
    assert "fresh" in str(info.value)


async def test_401_on_an_old_token_refreshes_once_then_fails_hard() -> None:
    """An old token's 401 refreshes once; the fresh token's 401 is final."""
    clock = FakeClock()
    tokens = CountingTokens(clock)
    calls = 0

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200 if calls == 1 else 401)

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(peer, clock, auth=BearerAuth(tokens, clock=clock))
    await pipeline.send(httpx.Request("GET", URL))
    clock.advance(10)
    with pytest.raises(AuthenticationError):
        await pipeline.send(httpx.Request("GET", URL))
    assert tokens.calls == 2
    assert len(peer.sent_at) == 3


async def test_token_is_refreshed_before_its_stated_expiry() -> None:
    """A token near its stated expiry is replaced before use (proactive refresh)."""
    clock = FakeClock()
    tokens = CountingTokens(clock, expires_in=100)

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(200)

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(peer, clock, auth=BearerAuth(tokens, clock=clock))
    await pipeline.send(httpx.Request("GET", URL))
    clock.advance(60)  # margin is min(60, 100/2) = 50 s: past the refresh point
    await pipeline.send(httpx.Request("GET", URL))
    assert tokens.calls == 2
    assert peer.auth_headers == ["Bearer tok-1", "Bearer tok-2"]


async def test_failed_refresh_is_shared_by_waiting_callers() -> None:
    """When the token endpoint refuses, waiting callers share the error, not N requests."""
    clock = FakeClock()

    class Refusing:
        calls = 0

        async def fetch_token(self) -> TokenGrant:
            self.calls += 1
            await clock.sleep(0.01)
            raise AuthenticationError("invalid_client", system="netsuite", status=401)

    source = Refusing()
    auth = BearerAuth(source, clock=clock)
    errors: list[BaseException] = []

    async def call() -> None:
        try:
            await auth.authorize(httpx.Request("GET", URL))
        except AuthenticationError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(call)
    assert len(errors) == 10
    assert source.calls == 1


async def test_retry_after_pauses_every_caller() -> None:
    """Retry-After: 2 on a 429: no request is sent by any caller during the 2 s."""
    clock = FakeClock()
    first = True

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        nonlocal first
        await clock.sleep(0.01)
        if first:
            first = False
            return httpx.Response(429, headers={"Retry-After": "2"})
        return httpx.Response(200)

    peer = FakePeer(clock, answer)
    limiter = LocalLimiter(5, clock=clock)
    pipeline = make_pipeline(peer, clock, limiter=limiter)
    await pipeline.send(httpx.Request("GET", URL))  # token + first 429 + retry
    assert peer.statuses == [429, 200]
    t429 = peer.sent_at[0] + 0.01
    assert peer.sent_at[1] >= t429 + 2.0

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(pipeline.send, httpx.Request("GET", URL))
    assert not [t for t in peer.sent_at if t429 < t < t429 + 2.0]
    assert limiter.stats().rate_limited == 1


async def test_retry_after_as_http_date_is_honoured() -> None:
    """Retry-After given as an HTTP date pauses until that moment."""
    clock = FakeClock()
    when = clock.time() + 3
    responses = [
        httpx.Response(503, headers={"Retry-After": formatdate(when, usegmt=True)}),
        httpx.Response(200),
    ]

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return responses.pop(0)

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(peer, clock, limiter=LocalLimiter(2, clock=clock))
    await pipeline.send(httpx.Request("GET", URL))
    assert peer.sent_at[1] - peer.sent_at[0] >= 2.99


async def test_429_without_retry_after_backs_off_exponentially() -> None:
    """Without Retry-After, pauses follow the full-jitter ceiling 0.5, 1, 2, ..."""
    clock = FakeClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(429 if len(peer.sent_at) <= 3 else 200)

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(peer, clock, limiter=LocalLimiter(5, clock=clock))
    await pipeline.send(httpx.Request("GET", URL))
    gaps = [b - a for a, b in zip(peer.sent_at, peer.sent_at[1:], strict=False)]
    assert gaps == pytest.approx([0.5, 1.0, 2.0])


async def test_retry_budget_exhausted_raises_a_retryable_typed_error() -> None:
    """When attempts run out, the last error is raised, typed and retryable."""
    clock = FakeClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(503)

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(
        peer, clock, limiter=LocalLimiter(2, clock=clock), policy=RetryPolicy(attempts=4)
    )
    with pytest.raises(ServiceUnavailable) as info:
        await pipeline.send(httpx.Request("GET", URL))
    assert info.value.retryable is True
    assert info.value.attempts == 4
    assert len(peer.sent_at) == 4


async def test_total_time_bounds_the_retries() -> None:
    """A Retry-After past the time budget is raised at once, still retryable."""
    clock = FakeClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "600"})

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(
        peer, clock, limiter=LocalLimiter(2, clock=clock), policy=RetryPolicy(total_seconds=60)
    )
    with pytest.raises(RateLimited) as info:
        await pipeline.send(httpx.Request("GET", URL))
    assert info.value.retry_after == 600
    assert info.value.retryable
    assert len(peer.sent_at) == 1
    assert "retry after 600s" in str(info.value)


async def test_post_that_times_out_is_outcome_unknown_and_sent_once() -> None:
    """A POST without an answer raises OutcomeUnknown and is never re-sent."""
    clock = FakeClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(peer, clock)
    with pytest.raises(OutcomeUnknown) as info:
        await pipeline.send(httpx.Request("POST", URL, json={"a": 1}))
    assert info.value.retryable is False
    assert len(peer.sent_at) == 1
    assert "may or may not have happened" in str(info.value)


async def test_get_that_times_out_is_retried() -> None:
    """An idempotent GET without an answer is sent again."""
    clock = FakeClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        if len(peer.sent_at) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200)

    peer = FakePeer(clock, answer)
    response = await make_pipeline(peer, clock).send(httpx.Request("GET", URL))
    assert response.status_code == 200
    assert len(peer.sent_at) == 2


async def test_connect_error_is_retried_even_for_post() -> None:
    """A POST that never connected is safe to send again."""
    clock = FakeClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        if len(peer.sent_at) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(204)

    peer = FakePeer(clock, answer)
    response = await make_pipeline(peer, clock).send(httpx.Request("POST", URL))
    assert response.status_code == 204
    assert len(peer.sent_at) == 2


async def test_post_with_a_500_is_outcome_unknown() -> None:
    """A 500 to a non-idempotent write is not retried: it may have committed."""
    clock = FakeClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(500)

    peer = FakePeer(clock, answer)
    with pytest.raises(OutcomeUnknown):
        await make_pipeline(peer, clock).send(httpx.Request("POST", URL))
    assert len(peer.sent_at) == 1


async def test_not_found_is_not_retried() -> None:
    """A 404 is raised at once as NotFound."""
    clock = FakeClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(404)

    peer = FakePeer(clock, answer)
    with pytest.raises(NotFound):
        await make_pipeline(peer, clock).send(httpx.Request("GET", URL))
    assert len(peer.sent_at) == 1


async def test_cap_above_the_real_limit_converges_below_it() -> None:
    """Cap 8 against a server allowing 3: after a short burst 429s stay under 10%."""
    # Real time: overlapping requests are what this test is about.
    clock = SystemClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        if peer.in_flight > 3:
            return httpx.Response(429)
        await anyio.sleep(0.003)
        return httpx.Response(200)

    peer = FakePeer(clock, answer)
    limiter = LocalLimiter(8, clock=clock)
    pipeline = HttpPipeline(
        system="netsuite",
        http=httpx.AsyncClient(transport=peer.transport()),
        limiter=limiter,
        auth=BasicAuth(Secret("u"), Secret("p")),
        translate=translate,
        policy=RetryPolicy(attempts=20, initial=0.05, maximum=0.2),
        clock=clock,
        random=lambda: 1.0,
    )
    done = 0

    async def worker() -> None:
        nonlocal done
        for _ in range(25):
            response = await pipeline.send(httpx.Request("GET", URL))
            assert response.status_code == 200
            done += 1

    async with anyio.create_task_group() as tg:
        for _ in range(16):
            tg.start_soon(worker)
    assert done == 400
    burst = 40
    later = peer.statuses[burst:]
    share = later.count(429) / len(later)
    assert share < 0.10, share
    assert peer.statuses.count(429) >= 1
    assert limiter.stats().min_cap_seen <= 3


async def test_basic_auth_401_is_final_and_secret_free() -> None:
    """A Basic-auth 401 is not retried and its message holds no credential."""
    clock = FakeClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(401)

    peer = FakePeer(clock, answer)
    auth = BasicAuth(Secret("ck_live_abc"), Secret("cs_live_xyz"))
    pipeline = make_pipeline(peer, clock, auth=auth)
    with pytest.raises(AuthenticationError) as info:
        await pipeline.send(httpx.Request("GET", URL))
    assert len(peer.sent_at) == 1
    for text in (str(info.value), repr(info.value), repr(auth)):
        assert "ck_live_abc" not in text
        assert "cs_live_xyz" not in text


async def test_logs_never_contain_the_token(caplog: pytest.LogCaptureFixture) -> None:
    """Retry and refresh log lines carry no token."""
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    tokens = CountingTokens(clock)
    answers = [200, 401, 429, 200]

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(answers.pop(0))

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(
        peer, clock, auth=BearerAuth(tokens, clock=clock), limiter=LocalLimiter(2, clock=clock)
    )
    await pipeline.send(httpx.Request("GET", URL))
    clock.advance(1)
    await pipeline.send(httpx.Request("GET", URL))
    assert caplog.records
    assert all("tok-" not in r.getMessage() for r in caplog.records)


def test_parse_retry_after_forms() -> None:
    """Seconds, HTTP dates, junk and negatives parse as documented."""
    assert parse_retry_after("2", now_epoch=0) == 2.0
    assert parse_retry_after("1.5", now_epoch=0) == 1.5
    assert parse_retry_after(None, now_epoch=0) is None
    assert parse_retry_after("soon", now_epoch=0) is None
    assert parse_retry_after("-3", now_epoch=0) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now_epoch=1445412470) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now_epoch=1445412490) == 0.0


def test_backoff_schedule_is_full_jitter_with_a_ceiling() -> None:
    """Backoff doubles its ceiling up to the maximum and scales by the jitter draw."""
    policy = RetryPolicy(initial=0.5, maximum=4)
    assert [backoff(n, policy=policy, retry_after=None, rand=1.0) for n in range(1, 7)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        4.0,
        4.0,
    ]
    assert backoff(3, policy=policy, retry_after=None, rand=0.25) == 0.5
    assert backoff(3, policy=policy, retry_after=7.0, rand=0.25) == 7.0


async def test_two_hundred_requests_through_a_cap_of_five_never_exceed_five_at_the_server() -> None:
    """200 concurrent sends through a limiter of 5: the server never sees more than 5."""
    clock = SystemClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        await anyio.sleep(0.002)
        return httpx.Response(200)

    peer = FakePeer(clock, answer)
    pipeline = HttpPipeline(
        system="woocommerce",
        http=httpx.AsyncClient(transport=peer.transport()),
        limiter=LocalLimiter(5),
        auth=BasicAuth(Secret("u"), Secret("p")),
        translate=translate,
        clock=clock,
    )
    async with anyio.create_task_group() as tg:
        for _ in range(200):
            tg.start_soon(pipeline.send, httpx.Request("GET", URL))
    assert len(peer.statuses) == 200
    assert peer.max_in_flight == 5


async def test_the_error_raised_is_the_one_the_translator_built_unchanged() -> None:
    """The pipeline raises the translator's error as built: attempts and Retry-After are
    handed to the translator, never set on the error afterwards."""
    clock = FakeClock()
    built: list[tuple[ApiError, str, dict[str, object]]] = []

    def recording(response: httpx.Response, attempt: Attempt) -> ApiError:
        error = translate(response, attempt)
        built.append((error, str(error), dict(vars(error))))
        return error

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "1"})

    peer = FakePeer(clock, answer)
    pipeline = HttpPipeline(
        system="netsuite",
        http=httpx.AsyncClient(transport=peer.transport()),
        limiter=LocalLimiter(2, clock=clock),
        auth=BasicAuth(Secret("u"), Secret("p")),
        translate=recording,
        policy=RetryPolicy(attempts=3),
        clock=clock,
    )
    with pytest.raises(ServiceUnavailable) as info:
        await pipeline.send(httpx.Request("GET", URL))
    error, text, fields = built[-1]
    assert info.value is error
    assert (str(info.value), vars(info.value)) == (text, fields)
    assert (info.value.attempts, info.value.retry_after) == (3, 1.0)
    assert [e.attempts for e, _, _ in built] == [1, 2, 3]


async def test_a_refused_login_is_built_with_its_hint_not_given_one_later() -> None:
    """A 401's AuthenticationError carries its hint from the start (built once)."""
    clock = FakeClock()
    built: list[tuple[ApiError, str]] = []

    def recording(response: httpx.Response, attempt: Attempt) -> ApiError:
        error = translate(response, attempt)
        built.append((error, str(error)))
        return error

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(401)

    peer = FakePeer(clock, answer)
    pipeline = HttpPipeline(
        system="woocommerce",
        http=httpx.AsyncClient(transport=peer.transport()),
        limiter=LocalLimiter(2, clock=clock),
        auth=BasicAuth(Secret("u"), Secret("p")),
        translate=recording,
        clock=clock,
    )
    with pytest.raises(AuthenticationError) as info:
        await pipeline.send(httpx.Request("GET", URL))
    ((error, text),) = built
    assert info.value is error
    assert str(info.value) == text
    assert "cannot be refreshed" in text


async def test_a_transport_failure_says_how_many_times_it_was_sent() -> None:
    """A GET that never got an answer reports every attempt, not just the first."""
    clock = FakeClock()

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    peer = FakePeer(clock, answer)
    pipeline = make_pipeline(peer, clock, policy=RetryPolicy(attempts=4))
    with pytest.raises(ServiceUnavailable) as info:
        await pipeline.send(httpx.Request("GET", URL))
    assert len(peer.sent_at) == 4
    assert info.value.attempts == 4


class _AsyncOnly:
    """A limiter whose synchronous `stats()` is off limits: decisions must be awaited."""

    def __init__(self, inner: LocalLimiter) -> None:
        self.inner = inner

    def acquire(self) -> AbstractAsyncContextManager[Permit]:
        return self.inner.acquire()

    async def load(self) -> LimiterLoad:
        return await self.inner.load()

    def stats(self) -> LimiterStats:
        raise AssertionError("the pipeline read stats() to decide something")


async def test_the_pipeline_decides_on_the_awaited_load_never_on_stats() -> None:
    """Pauses and budgets are read through `await limiter.load()` (a shared limiter's state
    is behind the network), never through the synchronous `stats()`."""
    clock = FakeClock()
    answers = [429, 200]

    async def answer(request: httpx.Request, peer: FakePeer) -> httpx.Response:
        return httpx.Response(answers.pop(0), headers={"Retry-After": "2"})

    peer = FakePeer(clock, answer)
    limiter = _AsyncOnly(LocalLimiter(2, clock=clock))
    pipeline = make_pipeline(peer, clock, limiter=limiter)
    response = await pipeline.send(httpx.Request("GET", URL))
    assert response.status_code == 200
    assert peer.sent_at[1] - peer.sent_at[0] == pytest.approx(2.0)
