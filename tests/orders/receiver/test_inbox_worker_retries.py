"""The inbox worker keeps a delivery whose import failed for a transient reason, and retries
it within a minute: a NetSuite outage never turns waiting deliveries into dead letters.

Real `OrderSync` against the simulators, a real SQLite file, NetSuite refused at the
transport while it is "down"; time on a `FakeClock` shared by everything.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.orders.sync._outage import Switch, netsuite

from nswoo.orders._inbox import InboxWorker
from nswoo.orders._sync import OrderSync
from nswoo.store.sqlite import SqliteStore
from nswoo.testing import FakeClock
from nswoo.testing._world import SimWorld, build_world

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=0.0)


@pytest.fixture
async def store(clock: FakeClock, tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with await SqliteStore.open(tmp_path / "nswoo.db", clock=clock) as opened:
        yield opened


def worker_for(world: SimWorld, store: SqliteStore, switch: Switch) -> InboxWorker:
    sync = OrderSync(
        netsuite=netsuite(world, switch),
        woocommerce=None,
        store=store,
        config=world.config.orders,
        clock=world.clock,
    )
    return InboxWorker(store=store, order_sync=sync, owner="w-1", clock=world.clock)


async def deliver(world: SimWorld, store: SqliteStore, delivery_id: str, order: dict) -> None:  # type: ignore[type-arg]
    await store.inbox.put(
        world.config.orders.store,
        delivery_id,
        topic="order.updated",
        order_id=order["id"],
        body=json.dumps(order).encode(),
    )


async def test_a_delivery_failing_while_netsuite_is_down_is_retried_within_a_minute(
    clock: FakeClock, store: SqliteStore
) -> None:
    """Down: the delivery is `retrying` and stays in the inbox (no dead letter). Up again:
    it is taken after 30 s, not before, and imported once."""
    world = build_world(clock=clock)
    switch = Switch(world.netsuite.transport(), down=True)
    worker = worker_for(world, store, switch)
    order = world.woocommerce.place_order([("MUG-BLUE", 1)])
    await deliver(world, store, "d-1", order)

    report = await worker.drain_once()
    assert [(r.order_id, r.outcome) for r in report.results] == [(order["id"], "retrying")]
    assert "tried again later" in (report.results[0].reason or "")
    assert await store.inbox.pending_count(world.config.orders.store) == 1
    assert await store.dead_letters.list() == []

    switch.down = False
    assert (await worker.drain_once()).results == ()  # given back for 30 s
    clock.advance(31)
    report = await worker.drain_once()
    assert [r.outcome for r in report.results] == ["imported"]
    assert await store.inbox.pending_count(world.config.orders.store) == 0
    assert await store.dead_letters.list() == []
    assert len(world.netsuite.sales_orders_by_woo_id()[str(order["id"])]) == 1


async def test_a_long_outage_spends_no_attempt_of_the_delivery(
    clock: FakeClock, store: SqliteStore
) -> None:
    """Far more passes than `max_attempts` while NetSuite is down: still not dead-lettered."""
    world = build_world(clock=clock)
    switch = Switch(world.netsuite.transport(), down=True)
    worker = worker_for(world, store, switch)
    order = world.woocommerce.place_order([("TEE-S", 2)])
    await deliver(world, store, "d-1", order)
    for _ in range(3 * worker.max_attempts):
        report = await worker.drain_once()
        assert [r.outcome for r in report.results] == ["retrying"]
        clock.advance(worker.retry_after + 1)
    assert await store.dead_letters.list() == []

    switch.down = False
    assert [r.outcome for r in (await worker.drain_once()).results] == ["imported"]
    assert len(world.netsuite.sales_orders_by_woo_id()[str(order["id"])]) == 1


async def test_a_later_delivery_of_a_retrying_order_waits_behind_it(
    clock: FakeClock, store: SqliteStore
) -> None:
    """Deliveries of one order keep their arrival order through a retry."""
    world = build_world(clock=clock)
    switch = Switch(world.netsuite.transport(), down=True)
    worker = worker_for(world, store, switch)
    order = world.woocommerce.place_order([("CAP", 1)])
    await deliver(world, store, "d-1", order)
    await deliver(world, store, "d-2", {**order, "customer_note": "later"})

    report = await worker.drain_once()
    assert [r.outcome for r in report.results] == ["retrying", "deferred"]
    assert "behind delivery d-1" in (report.results[1].reason or "")
    assert await store.inbox.pending_count(world.config.orders.store) == 2

    switch.down = False
    clock.advance(31)
    report = await worker.drain_once()
    assert [r.outcome for r in report.results] == ["imported", "already_imported"]
    assert len(world.netsuite.sales_orders_by_woo_id()[str(order["id"])]) == 1
