"""The `Limiter` port's contract, run against every backend.

Only the local limiter exists today; a shared backend (Redis) joins by adding its name to
`BACKENDS` and a branch to `make_limiter` (skipping when its server is not reachable). What
is checked here is what the HTTP pipeline relies on, through the port only: the cap on slots,
the pause every caller shares, the cap that drops on a rate limit and climbs back slowly, the
load the pipeline decides on, and slots given back by cancelled holders and waiters.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from nswoo.limits import Limiter, LimiterLoad, LocalLimiter
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio

BACKENDS = ["local"]

MakeLimiter = Callable[..., Limiter]


@pytest.fixture(params=BACKENDS)
def make_limiter(request: pytest.FixtureRequest) -> MakeLimiter:
    """Builds a limiter of the backend under test: `make_limiter(cap, clock=...)`."""

    def make(cap: int, *, clock: FakeClock | None = None, increase_after: int = 20) -> Limiter:
        if request.param == "local":
            return LocalLimiter(cap, clock=clock or FakeClock(), increase_after=increase_after)
        raise AssertionError(f"unknown backend {request.param}")  # pragma: no cover

    return make


async def test_at_most_cap_callers_hold_a_slot(make_limiter: MakeLimiter) -> None:
    """200 concurrent tasks through a cap of 5 never hold more than 5 slots at once."""
    limiter = make_limiter(5)
    holding = 0
    peak = 0

    async def work() -> None:
        nonlocal holding, peak
        async with limiter.acquire() as permit:
            holding += 1
            peak = max(peak, holding)
            await anyio.sleep(0.001)
            holding -= 1
            await permit.succeeded()

    async with anyio.create_task_group() as tg:
        for _ in range(200):
            tg.start_soon(work)
    assert peak == 5
    assert (await limiter.load()).in_flight == 0
    assert limiter.stats().acquired == 200


async def test_load_counts_the_holders_and_never_waits(make_limiter: MakeLimiter) -> None:
    """`load()` answers at once with the slots held (the asker's own included) and the cap,
    also while the limiter is full."""
    limiter = make_limiter(2)
    assert await limiter.load() == LimiterLoad(in_flight=0, cap=2)
    async with limiter.acquire(), limiter.acquire():
        with anyio.fail_after(1):
            load = await limiter.load()
        assert (load.in_flight, load.cap, load.paused_for) == (2, 2, 0.0)
        assert load.saturated(recent=60.0)
    assert (await limiter.load()).in_flight == 0


async def test_a_rate_limit_pauses_every_caller_for_its_delay(make_limiter: MakeLimiter) -> None:
    """After `rate_limited(2.0)`, `load()` shows the pause and no caller gets a slot before
    it ends."""
    clock = FakeClock()
    limiter = make_limiter(4, clock=clock)
    async with limiter.acquire() as permit:
        await permit.rate_limited(2.0)
    load = await limiter.load()
    assert load.paused_for == pytest.approx(2.0)
    assert load.since_rate_limited == pytest.approx(0.0)
    granted: list[float] = []

    async def caller() -> None:
        async with limiter.acquire():
            granted.append(clock.now())

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(caller)
    assert len(granted) == 10
    assert min(granted) >= 2.0
    load = await limiter.load()
    assert load.paused_for == 0.0
    assert load.since_rate_limited is not None
    assert load.since_rate_limited >= 2.0


async def test_no_rate_limit_reported_means_none_since(make_limiter: MakeLimiter) -> None:
    """A limiter that never saw a rate limit says so (`since_rate_limited` is None)."""
    limiter = make_limiter(3)
    async with limiter.acquire() as permit:
        await permit.succeeded()
    assert (await limiter.load()).since_rate_limited is None
    assert limiter.stats().rate_limited == 0


async def test_a_rate_limit_lowers_the_cap_and_full_successes_raise_it_back(
    make_limiter: MakeLimiter,
) -> None:
    """The cap drops on a rate limit and climbs back with successes while full, never above
    the configured cap."""
    limiter = make_limiter(4, increase_after=1)
    async with limiter.acquire() as permit:
        await permit.rate_limited(0.0)
    lowered = (await limiter.load()).cap
    assert lowered < 4

    async def full_round() -> None:
        cap = (await limiter.load()).cap
        release = anyio.Event()

        async def hold() -> None:
            async with limiter.acquire() as permit:
                await release.wait()
                await permit.succeeded()

        async with anyio.create_task_group() as tg:
            for _ in range(cap):
                tg.start_soon(hold)
            await anyio.wait_all_tasks_blocked()
            release.set()

    for _ in range(60):
        await full_round()
    assert (await limiter.load()).cap == 4
    assert limiter.stats().configured_cap == 4
    assert limiter.stats().min_cap_seen == lowered


async def test_a_cancelled_holder_gives_its_slot_back(make_limiter: MakeLimiter) -> None:
    """A task cancelled while holding a slot releases it."""
    limiter = make_limiter(1)
    with anyio.move_on_after(0.01):
        async with limiter.acquire():
            await anyio.sleep(1)
    assert (await limiter.load()).in_flight == 0
    with anyio.fail_after(1):
        async with limiter.acquire():
            pass


async def test_a_cancelled_waiter_takes_no_slot(make_limiter: MakeLimiter) -> None:
    """A caller cancelled while waiting for a slot leaves the count as it was."""
    limiter = make_limiter(1)
    async with limiter.acquire():
        with anyio.move_on_after(0.01):
            async with limiter.acquire():
                pytest.fail("got a slot past the cap")  # pragma: no cover
        assert (await limiter.load()).in_flight == 1
    assert (await limiter.load()).in_flight == 0


async def test_a_permit_remembers_the_most_in_flight_while_it_held_its_slot(
    make_limiter: MakeLimiter,
) -> None:
    """`Permit.load()` judges a late answer by the load it was sent under: three in flight
    when it got its slot still read as three after the others finished."""
    limiter = make_limiter(3)
    release = anyio.Event()
    loads: list[LimiterLoad] = []

    async def other() -> None:
        async with limiter.acquire():
            await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(other)
        tg.start_soon(other)
        await anyio.wait_all_tasks_blocked()
        async with limiter.acquire() as permit:
            release.set()
            await anyio.wait_all_tasks_blocked()  # the other two are gone
            assert (await limiter.load()).in_flight == 1
            loads.append(await permit.load())
    assert loads[0].in_flight == 3
    assert loads[0].saturated(recent=60.0)
