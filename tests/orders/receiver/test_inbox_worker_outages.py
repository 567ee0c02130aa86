"""Inbox worker outages: run-wide failures must not use up an item's attempts."""

from __future__ import annotations

import pytest
from tests.orders.receiver._support import STORE, FakeOrderSync, order_body

from nswoo.errors import AuthenticationError
from nswoo.orders._inbox import InboxWorker
from nswoo.store.memory import MemoryStore
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio

LEASE = 60.0


async def test_an_authentication_outage_does_not_dead_letter_waiting_deliveries() -> None:
    """A delivery is imported once credentials work again, however long NetSuite refused them.

    Refused credentials are run-wide (the worker "pauses ... never fatal: nothing is lost"),
    not the item's fault; they must not count towards `max_attempts`, or an outage of a few
    leases turns every waiting delivery into a dead letter that `orders sync` then skips.
    """
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    sync = FakeOrderSync(fail=AuthenticationError("bad token", system="netsuite"), fail_times=5)
    worker = InboxWorker(
        store=store, order_sync=sync, owner="w-1", lease_seconds=LEASE, clock=clock, max_attempts=5
    )
    await store.inbox.put(STORE, "d-1", topic="order.updated", order_id=727, body=order_body())
    for _ in range(5):  # NetSuite refuses credentials for five lease periods
        with pytest.raises(AuthenticationError):
            await worker.drain_once()
        clock.advance(LEASE + 1)
    report = await worker.drain_once()  # credentials fixed
    assert [r.outcome for r in report.results] == ["imported"]
    assert [o.id for o in sync.imported] == [727]
    assert await store.dead_letters.list() == []
