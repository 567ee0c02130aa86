"""Hostile: a dead worker's order lease must not stall the inbox for everyone else.

Found by hostile testing: four queued deliveries of an order whose lease was held by a killed
worker made `InboxWorker.drain_once` take 120 s (`OrderSync.import_order` waited up to
`max_wait`, 30 s, for each in turn) and take nothing else meanwhile; SIGTERM of `webhooks
serve` then took over 30 s.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from nswoo.netsuite._client import NetSuiteClient
from nswoo.orders._inbox import InboxWorker
from nswoo.orders._sync import OrderSync
from nswoo.store._ports import Store
from nswoo.store.sqlite import SqliteStore
from nswoo.testing import FakeClock, SimWorld, build_world
from nswoo.woocommerce._convert import dumps

pytestmark = pytest.mark.anyio

LEASE = 300.0
RECHECK = 5.0  # InboxWorker's default busy_recheck


async def queue_orders(world: SimWorld, store: Store) -> tuple[int, int]:
    """A killed worker holds order X's lease; X has four deliveries queued, Y has one."""
    name = world.config.orders.store
    stuck = world.woocommerce.place_order([("MUG-BLUE", 1)])
    other = world.woocommerce.place_order([("TEE-S", 2)])
    await store.order_links.claim(name, stuck["id"], owner="killed-worker", lease_seconds=LEASE)
    for n in range(4):
        await store.inbox.put(
            name, f"x-{n}", topic="order.updated", order_id=stuck["id"], body=dumps(stuck)
        )
    await store.inbox.put(
        name, "y-0", topic="order.created", order_id=other["id"], body=dumps(other)
    )
    return stuck["id"], other["id"]


def worker_for(
    world: SimWorld, store: Store, netsuite: NetSuiteClient, *, poll_interval: float = 0.5
) -> InboxWorker:
    """A live worker with a real OrderSync (its default max_wait: 30 s) on the simulators."""
    sync = OrderSync(
        netsuite=netsuite,
        woocommerce=None,
        store=store,
        config=world.config.orders,
        clock=world.clock,
    )
    return InboxWorker(
        store=store,
        order_sync=sync,
        owner="live-worker",
        clock=world.clock,
        poll_interval=poll_interval,
    )


async def test_a_dead_workers_lease_costs_no_waiting_and_no_attempts(tmp_path: Path) -> None:
    """The busy order's deliveries wait in the inbox; the other order is imported at once."""
    clock = FakeClock()
    world = build_world(clock=clock)
    async with (
        await SqliteStore.open(tmp_path / "nswoo.db", clock=clock) as store,
        world.netsuite_client() as netsuite,
    ):
        stuck, other = await queue_orders(world, store)
        worker = worker_for(world, store, netsuite)
        started = clock.now()
        first = await worker.drain_once()
        waited = clock.now() - started
        assert waited < 1.0, f"drain_once sat {waited:.0f}s on another worker's lease"
        meanwhile = []
        while clock.now() - started < LEASE:  # looked at again every busy_recheck
            clock.advance(RECHECK)
            meanwhile.append(await worker.drain_once())
        last = await worker.drain_once()
        letters = await store.dead_letters.list()
        pending = await store.inbox.pending_count()

    assert sorted((r.order_id, r.outcome) for r in first.results) == [
        (stuck, "deferred"),
        (stuck, "deferred"),
        (stuck, "deferred"),
        (stuck, "deferred"),
        (other, "imported"),
    ]
    assert all(r.outcome == "deferred" for report in meanwhile[:-1] for r in report.results)
    after_expiry = [r for report in (*meanwhile, last) for r in report.results]
    assert sorted(r.outcome for r in after_expiry if r.outcome != "deferred") == [
        "already_imported",
        "already_imported",
        "already_imported",
        "imported",
    ]
    assert letters == []  # rechecks never spent an attempt (5 would dead-letter it)
    assert pending == 0
    booked = world.netsuite.sales_orders_by_woo_id()
    assert (len(booked[str(stuck)]), len(booked[str(other)])) == (1, 1)


async def test_the_worker_stops_promptly_while_an_order_is_held_by_a_dead_worker(
    tmp_path: Path,
) -> None:
    """run() keeps draining other orders and returns soon after stop, on the real clock."""
    world = build_world()
    async with (
        await SqliteStore.open(tmp_path / "nswoo.db") as store,
        world.netsuite_client() as netsuite,
    ):
        stuck, other = await queue_orders(world, store)
        worker = worker_for(world, store, netsuite, poll_interval=0.05)
        name = world.config.orders.store
        stop = anyio.Event()
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(worker.run, stop)
                while await store.order_links.get(name, other) is None:  # noqa: ASYNC110 - the store has no events
                    await anyio.sleep(0.02)
                stop.set()
        pending = await store.inbox.pending_count(name)
        available = await store.inbox.take(name, owner="check", limit=10, lease_seconds=1)
        held = await store.order_links.lease(name, stuck)

    assert pending == 4  # the held order's deliveries are kept for later, not lost
    assert available == []  # given back until the dead worker's lease ends
    assert held is not None
    assert held.owner == "killed-worker"
