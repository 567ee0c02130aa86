"""HTTP pipeline edge cases: token-endpoint back-off, shared refresh, time budgets."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from itertools import pairwise

import anyio
import httpx
import pytest

from nswoo._http import (
    Attempt,
    BearerAuth,
    HttpPipeline,
    RetryPolicy,
    TokenGrant,
    error_context,
    server_error,
    unauthorized_error,
)
from nswoo._settings import OAuth2Credentials, Secret
from nswoo.errors import ApiError, AuthenticationError, RateLimited
from nswoo.limits._local import LocalLimiter
from nswoo.netsuite._auth import RefreshTokenSource
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
URL = f"{BASE}/services/rest/record/v1/salesOrder/1"
TOKEN_URL = f"{BASE}/services/rest/auth/oauth2/v1/token"


def translate(response: httpx.Response, attempt: Attempt) -> ApiError:
    ctx = error_context(response, "netsuite", attempt)
    if response.status_code == 401:
        return unauthorized_error("Invalid login attempt.", attempt=attempt, **ctx)
    if response.status_code == 429:
        return RateLimited(**ctx)
    if response.status_code >= 500:
        return server_error("", attempt=attempt, **ctx)
    return ApiError("refused", **ctx)


class Tokens:
    """A TokenSource minting tok-1, tok-2, ..."""

    def __init__(self) -> None:
        self.calls = 0

    async def fetch_token(self) -> TokenGrant:
        self.calls += 1
        return TokenGrant(Secret(f"tok-{self.calls}"), 3600.0)


def pipeline_for(
    handler: Callable[[httpx.Request], httpx.Response],
    clock: FakeClock,
    auth: BearerAuth,
    *,
    policy: RetryPolicy | None = None,
) -> HttpPipeline:
    return HttpPipeline(
        system="netsuite",
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        limiter=LocalLimiter(5, clock=clock),
        auth=auth,
        translate=translate,
        policy=policy,
        clock=clock,
        random=lambda: 1.0,
    )


async def test_token_endpoint_429_is_backed_off_not_hammered() -> None:
    """A 429 from the token endpoint is waited out (its Retry-After) before asking again."""
    clock = FakeClock()
    token_requests: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            token_requests.append(clock.now())
            if len(token_requests) <= 2:
                return httpx.Response(429, headers={"Retry-After": "10"}, json={})
            return httpx.Response(200, json={"access_token": "at", "expires_in": 3600})
        return httpx.Response(200, json={"ok": True})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    source = RefreshTokenSource(
        OAuth2Credentials("client", Secret("secret"), Secret("refresh")),
        token_url=TOKEN_URL,
        http=http,
    )
    pipeline = HttpPipeline(
        system="netsuite",
        http=http,
        limiter=LocalLimiter(5, clock=clock),
        auth=BearerAuth(source, clock=clock),
        translate=translate,
        clock=clock,
        random=lambda: 1.0,
    )
    response = await pipeline.send(httpx.Request("GET", URL))
    assert response.status_code == 200
    assert len(token_requests) == 3
    gaps = [b - a for a, b in pairwise(token_requests)]
    # Today all three token requests go out at the same instant: the pipeline's wait for a
    # 429 is 0 (it assumes the limiter was paused), but a token-endpoint 429 pauses nothing.
    assert all(gap >= 10 for gap in gaps), f"token requests at {token_requests}"


async def test_a_cancelled_refresh_does_not_cancel_the_callers_waiting_for_it() -> None:
    """One caller cancelled mid-refresh must not hand its cancellation to the other waiters."""
    clock = FakeClock()
    release = anyio.Event()

    class SlowThenFine:
        calls = 0

        async def fetch_token(self) -> TokenGrant:
            self.calls += 1
            if self.calls == 1:
                await release.wait()  # the first refresh hangs until its caller is cancelled
            return TokenGrant(Secret(f"tok-{self.calls}"), 3600.0)

    auth = BearerAuth(SlowThenFine(), clock=clock)
    outcome: list[object] = []

    async def patient() -> None:
        try:
            request = httpx.Request("GET", URL)
            await auth.authorize(request)
            outcome.append(request.headers["authorization"])
        except BaseException as exc:  # recording what leaked, then re-raising
            outcome.append(type(exc).__name__)
            raise

    impatient_scope = anyio.CancelScope()

    async def impatient() -> None:
        with impatient_scope:
            await auth.authorize(httpx.Request("GET", URL))

    async with anyio.create_task_group() as tg:
        tg.start_soon(impatient)
        tg.start_soon(patient)
        await anyio.wait_all_tasks_blocked()  # impatient is refreshing, patient waits for it
        impatient_scope.cancel()
    assert outcome == ["Bearer tok-2"]


async def test_a_long_pause_does_not_stretch_a_send_past_its_time_budget() -> None:
    """A later send never takes longer than `RetryPolicy.total_seconds`, pause included."""
    clock = FakeClock()
    hits = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal hits
        hits += 1
        if hits == 1:
            return httpx.Response(429, headers={"Retry-After": "3600"})
        return httpx.Response(200, json={"ok": True})

    policy = RetryPolicy(attempts=6, total_seconds=120.0)
    pipeline = pipeline_for(handler, clock, BearerAuth(Tokens(), clock=clock), policy=policy)
    with pytest.raises(RateLimited):
        await pipeline.send(httpx.Request("GET", URL))  # gives up at once: 3600 > 120
    started = clock.now()
    with contextlib.suppress(RateLimited):  # refusing at once is fine too
        await pipeline.send(httpx.Request("GET", URL))
    elapsed = clock.now() - started
    # Today the second send sits in the limiter for the whole hour-long pause.
    assert elapsed <= policy.total_seconds, f"send took {elapsed:.0f}s"


async def test_a_token_refused_when_fresh_is_not_sent_again() -> None:
    """A 401 invalidates the token that failed, also when it was fresh (DESIGN behaviour 1)."""
    clock = FakeClock()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        header = request.headers["authorization"]
        seen.append(header)
        if header == "Bearer tok-1":  # tok-1 is dead on arrival
            return httpx.Response(401, json={"status": 401})
        return httpx.Response(200, json={"ok": True})

    pipeline = pipeline_for(handler, clock, BearerAuth(Tokens(), clock=clock))
    with pytest.raises(AuthenticationError):
        await pipeline.send(httpx.Request("GET", URL))  # fresh token refused: hard error
    await pipeline.send(httpx.Request("GET", URL))
    # Today tok-1 stays cached and the next request sends it again before refreshing.
    assert seen.count("Bearer tok-1") == 1, seen
