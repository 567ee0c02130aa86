"""LocalLimiter: caps in-flight work, pauses every caller, adapts its cap."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from nswoo.limits._local import LocalLimiter, UnlimitedLimiter
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio


async def test_two_hundred_tasks_never_exceed_a_cap_of_five() -> None:
    """200 concurrent tasks through a limiter of 5 never hold more than 5 slots."""
    limiter = LocalLimiter(5)
    seen = 0
    peak = 0

    async def work() -> None:
        nonlocal seen, peak
        async with limiter.acquire() as permit:
            seen += 1
            peak = max(peak, seen)
            await anyio.sleep(0.001)
            seen -= 1
            await permit.succeeded()

    async with anyio.create_task_group() as tg:
        for _ in range(200):
            tg.start_soon(work)
    assert peak == 5
    assert limiter.stats().max_in_flight == 5
    assert limiter.stats().acquired == 200
    assert limiter.stats().in_flight == 0


async def test_rate_limit_pauses_every_caller_until_the_delay_ends() -> None:
    """After rate_limited(2.0), no caller gets a slot before 2 s have passed."""
    clock = FakeClock()
    limiter = LocalLimiter(4, clock=clock)
    async with limiter.acquire() as permit:
        await permit.rate_limited(2.0)
    granted: list[float] = []

    async def caller() -> None:
        async with limiter.acquire():
            granted.append(clock.now())

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(caller)
    assert len(granted) == 10
    assert min(granted) >= 2.0
    assert limiter.stats().waits == 10


async def _round(limiter: LocalLimiter, size: int) -> None:
    """`size` concurrent requests that all succeed."""

    async def ok() -> None:
        async with limiter.acquire() as permit:
            await anyio.sleep(0.005)
            await permit.succeeded()

    async with anyio.create_task_group() as tg:
        for _ in range(size):
            tg.start_soon(ok)


async def test_cap_is_cut_once_per_cohort_and_recovers_slowly() -> None:
    """Several 429s from one cohort cut the cap once; re-growing to a failed cap is slower."""
    limiter = LocalLimiter(8, clock=FakeClock(), increase_after=3)

    async def hold(i: int) -> None:
        async with limiter.acquire() as permit:
            await anyio.sleep(0.01)
            if i < 5:
                await permit.rate_limited(0.0)

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(hold, i)
    assert limiter.stats().cap == 6  # ceil(8 * 0.7), once for the whole cohort
    assert limiter.stats().rate_limited == 5
    await _round(limiter, 6)  # 3 saturated successes suffice below the failed cap
    assert limiter.stats().cap == 7
    await _round(limiter, 7)
    await _round(limiter, 7)  # 14 successes: not enough to probe the cap that failed (15)
    assert limiter.stats().cap == 7
    await _round(limiter, 7)
    assert limiter.stats().cap == 8
    assert limiter.stats().configured_cap == 8


async def test_waiters_are_served_first_come_first_served() -> None:
    """A released slot goes to the oldest waiter, never to a later caller."""
    limiter = LocalLimiter(1)
    order: list[int] = []
    release = anyio.Event()

    async def first() -> None:
        async with limiter.acquire():
            await release.wait()

    async def waiter(n: int) -> None:
        async with limiter.acquire():
            order.append(n)
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        await anyio.sleep(0.01)
        for n in range(10):
            tg.start_soon(waiter, n)
            await anyio.sleep(0.001)
        release.set()
    assert order == list(range(10))


async def test_cap_never_exceeds_configuration_or_drops_below_minimum() -> None:
    """The working cap stays within [min_cap, configured cap]."""
    limiter = LocalLimiter(3, clock=FakeClock(), min_cap=2, increase_after=1)
    for _ in range(5):
        async with limiter.acquire() as permit:
            await permit.rate_limited(0.0)
    assert limiter.stats().cap == 2
    for _ in range(10):
        async with limiter.acquire() as permit:
            await permit.succeeded()
    assert limiter.stats().cap <= 3


def test_invalid_caps_are_refused() -> None:
    """A cap below 1 or a min_cap above the cap is a ValueError."""
    with pytest.raises(ValueError, match="cap must be at least 1"):
        LocalLimiter(0)
    with pytest.raises(ValueError, match="min_cap"):
        LocalLimiter(2, min_cap=3)


async def test_cancelled_holder_gives_its_slot_back() -> None:
    """A task cancelled while holding a slot releases it."""
    limiter = LocalLimiter(1)
    with anyio.move_on_after(0.01):
        async with limiter.acquire():
            await anyio.sleep(1)
    assert limiter.stats().in_flight == 0
    with anyio.fail_after(1):
        async with limiter.acquire():
            pass


async def test_unlimited_limiter_counts_without_waiting() -> None:
    """UnlimitedLimiter never waits and still reports what it saw."""
    limiter = UnlimitedLimiter()
    async with limiter.acquire(), limiter.acquire():
        assert limiter.stats().in_flight == 2
    assert limiter.stats().max_in_flight == 2
