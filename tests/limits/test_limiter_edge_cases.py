"""LocalLimiter: a waiter cancelled at hand-off leaves nothing behind."""

from __future__ import annotations

import anyio
import pytest

from nswoo.limits._local import LocalLimiter
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio


async def test_waiter_cancelled_at_hand_off_leaves_no_bookkeeping_behind() -> None:
    """A waiter cancelled just as a slot is handed to it returns the slot and leaks no state."""
    limiter = LocalLimiter(1, clock=FakeClock())
    leaked_rounds = 50

    for _ in range(leaked_rounds):
        waiter_scope = anyio.CancelScope()

        async def waiter(scope: anyio.CancelScope = waiter_scope) -> None:
            with scope:
                async with limiter.acquire():
                    pass

        async with anyio.create_task_group() as tg:
            permit_cm = limiter.acquire()
            await permit_cm.__aenter__()
            tg.start_soon(waiter)
            await anyio.wait_all_tasks_blocked()  # the waiter is queued
            waiter_scope.cancel()  # the waiter is cancelled; before it gets to run...
            await permit_cm.__aexit__(None, None, None)  # ...the slot is handed to it
    stats = limiter.stats()
    assert stats.in_flight == 0  # the slot itself is returned (this part works)
    # Today every such hand-off leaves its Event and mark in `_grant_marks` for good: a
    # long-running `webhooks serve` grows without bound under cancellations.
    assert len(limiter._grant_marks) == 0, len(limiter._grant_marks)
