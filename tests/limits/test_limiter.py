"""LocalLimiter specifics: cohorts, first come first served, the minimum cap.

What every backend must do is in `test_limiter_contract.py`; the rule's properties are in
`test_adaptive.py`.
"""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from nswoo.limits._local import LocalLimiter, UnlimitedLimiter
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio


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


async def test_unlimited_limiter_counts_without_waiting() -> None:
    """UnlimitedLimiter never waits and still reports what it saw."""
    limiter = UnlimitedLimiter()
    async with limiter.acquire(), limiter.acquire():
        assert limiter.stats().in_flight == 2
    assert limiter.stats().max_in_flight == 2


async def test_unlimited_limiter_never_reads_as_saturated() -> None:
    """UnlimitedLimiter's load is never at its cap, so no 401 is read as a rate limit."""
    limiter = UnlimitedLimiter()
    async with limiter.acquire(), limiter.acquire(), limiter.acquire():
        load = await limiter.load()
    assert load.in_flight == 3
    assert not load.saturated(recent=60.0)
