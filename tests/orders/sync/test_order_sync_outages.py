"""Transient is not dead: outages are waited out, dead letters are retried on a schedule.

Against both simulators and a real SQLite file; NetSuite "goes down" at the transport (every
connection refused), the way an outage reaches nswoo. Time is a `FakeClock` shared by the
simulators, the store and the sync, so schedules are exact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.orders.sync._outage import Switch, netsuite

from nswoo.orders._plan import RetryPolicy
from nswoo.orders._sync import RETRY_KIND, OrderSync
from nswoo.store.sqlite import SqliteStore
from nswoo.testing import FakeClock
from nswoo.testing._world import SimWorld, build_world

pytestmark = pytest.mark.anyio

MINUTE = 60.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=0.0)


@pytest.fixture
async def store(clock: FakeClock, tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with await SqliteStore.open(tmp_path / "nswoo.db", clock=clock) as opened:
        yield opened


def make_sync(world: SimWorld, store: SqliteStore, switch: Switch, **kwargs: object) -> OrderSync:
    return OrderSync(
        netsuite=netsuite(world, switch),
        woocommerce=world.woo_client(),
        store=store,
        config=world.config.orders,
        clock=world.clock,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_an_outage_over_several_syncs_ends_with_each_order_imported_once(
    clock: FakeClock, store: SqliteStore
) -> None:
    """NetSuite down for three syncs, then back: every order imported exactly once, no dead
    letter at any point, nobody runs replay. A pending order is screened before any request."""
    world = build_world(clock=clock)
    switch = Switch(world.netsuite.transport())
    sync = make_sync(world, store, switch)
    placed = [world.woocommerce.place_order([("MUG-BLUE", 1), ("TEE-S", 2)]) for _ in range(5)]
    pending = world.woocommerce.place_order([("CAP", 1)], status="pending")

    switch.down = True
    for _ in range(3):
        report = await sync.sync()
        assert report.count("retrying") == 5
        assert report.count("ignored") == 1
        assert report.dead_letters == ()
        assert await store.dead_letters.list("sim") == []
        clock.advance(15 * MINUTE)
    assert switch.refused > 0
    assert world.netsuite.sales_orders_by_woo_id() == {}
    kept = await store.dead_letters.list("sim", kind=RETRY_KIND)
    assert sorted(letter.order_id for letter in kept) == sorted(p["id"] for p in placed)
    assert all(letter.attempts == 3 for letter in kept)

    switch.down = False
    report = await sync.sync()
    assert report.count("imported") == 5
    assert report.dead_letters == ()
    held = world.netsuite.sales_orders_by_woo_id()
    assert {key: len(ids) for key, ids in held.items()} == {str(p["id"]): 1 for p in placed}
    assert str(pending["id"]) not in held
    assert await store.dead_letters.list("sim") == []
    assert await store.dead_letters.list("sim", kind=RETRY_KIND) == []

    again = await sync.sync()
    assert again.count("imported") == 0
    assert {key: len(ids) for key, ids in world.netsuite.sales_orders_by_woo_id().items()} == {
        str(p["id"]): 1 for p in placed
    }


async def test_a_pending_order_costs_no_netsuite_request(
    clock: FakeClock, store: SqliteStore
) -> None:
    """Statuses are screened before any NetSuite call: an outage cannot dead-letter them."""
    world = build_world(clock=clock)
    switch = Switch(world.netsuite.transport(), down=True)
    world.woocommerce.place_order([("CAP", 1)], status="pending")
    report = await make_sync(world, store, switch).sync()
    assert [r.outcome for r in report.results] == ["ignored"]
    assert switch.refused == 0
    assert await store.dead_letters.list("sim") == []


async def test_the_cursor_stays_before_an_order_left_retrying(
    clock: FakeClock, store: SqliteStore
) -> None:
    """A poll that could not import an order leaves the cursor no later than the order's
    modification date, so the next poll (which starts an overlap before it) sees it again."""
    world = build_world(clock=clock)
    switch = Switch(world.netsuite.transport(), down=True)
    sync = make_sync(world, store, switch)
    order = world.woocommerce.place_order([("MUG-RED", 1)])
    clock.advance(30 * MINUTE)
    assert (await sync.sync()).count("retrying") == 1
    cursor = await store.cursors.get(sync.cursor_name)
    assert cursor is not None
    assert datetime.fromisoformat(cursor) <= datetime.fromisoformat(
        order["date_modified_gmt"] + "Z"
    )

    clock.advance(30 * MINUTE)
    switch.down = False
    report = await sync.sync()
    assert [(r.order_id, r.outcome) for r in report.results] == [(order["id"], "imported")]
    assert await store.cursors.get(sync.cursor_name) is not None


async def test_transient_failures_are_dead_lettered_only_after_attempts_and_time(
    clock: FakeClock, store: SqliteStore
) -> None:
    """Three failures within an hour are not enough when the policy wants a day; the
    failure after the day is, with its history; the schedule then imports it unasked."""
    world = build_world(clock=clock)
    switch = Switch(world.netsuite.transport(), down=True)
    policy = RetryPolicy(attempts=3, window=timedelta(days=1))
    sync = make_sync(world, store, switch, retry_policy=policy)
    order = world.woocommerce.place_order([("POSTER", 1)])
    for _ in range(4):
        assert (await sync.sync()).count("retrying") == 1
        clock.advance(15 * MINUTE)
    assert await store.dead_letters.list("sim") == []

    clock.advance(24 * 3600)
    report = await sync.sync()
    assert [r.outcome for r in report.results] == ["dead_lettered"]
    (letter,) = await store.dead_letters.list("sim")
    assert letter.order_id == order["id"]
    assert "failed 5 times for transient reasons from" in letter.reason
    assert await store.dead_letters.list("sim", kind=RETRY_KIND) == []

    # NetSuite is back; the dead letter is retried on its schedule (5 min), not by a person.
    switch.down = False
    clock.advance(60)
    assert [r.outcome for r in (await sync.sync()).results] == ["kept_dead_letter"]
    assert world.netsuite.sales_orders_by_woo_id() == {}
    clock.advance(5 * MINUTE)
    report = await sync.sync()
    assert [r.outcome for r in report.results] == ["imported"]
    assert await store.dead_letters.list("sim") == []
    assert len(world.netsuite.sales_orders_by_woo_id()[str(order["id"])]) == 1


async def test_an_order_whose_sku_appears_later_imports_on_the_schedule(
    clock: FakeClock, store: SqliteStore
) -> None:
    """Dead-lettered for an unknown SKU; the item is created in NetSuite; the next syncs
    after the backoff import it without anyone running replay."""
    world = build_world(clock=clock)
    switch = Switch(world.netsuite.transport())
    sync = make_sync(world, store, switch)
    world.woocommerce.add_product("LAMP-9", price="30.00", stock_quantity=5)
    order = world.woocommerce.place_order([("LAMP-9", 1)])

    first = await sync.sync()
    assert [r.outcome for r in first.results] == ["dead_lettered"]
    assert "LAMP-9" in (first.results[0].reason or "")
    world.netsuite.add_item("LAMP-9", cost="12.00", locations={world.location_ids["Main"]: 3})

    clock.advance(2 * MINUTE)
    early = await sync.sync()  # not due yet: 5 minutes after it was dead-lettered
    assert [r.outcome for r in early.results] == ["kept_dead_letter"]
    assert world.netsuite.sales_orders_by_woo_id() == {}

    clock.advance(2 * 3600)  # past the cursor's overlap: the poll no longer lists it
    report = await sync.sync()
    assert [(r.order_id, r.outcome) for r in report.results] == [(order["id"], "imported")]
    assert await store.dead_letters.list("sim") == []
    assert len(world.netsuite.sales_orders_by_woo_id()[str(order["id"])]) == 1


async def test_a_dead_letter_that_still_fails_backs_off_and_is_not_counted_again(
    clock: FakeClock, store: SqliteStore
) -> None:
    """An automatic retry that fails again keeps the letter (attempts + 1, later next time)
    and reports it as kept, so a scheduled job does not exit as if it dead-lettered anew."""
    world = build_world(clock=clock)
    switch = Switch(world.netsuite.transport())
    sync = make_sync(world, store, switch)
    world.woocommerce.add_product("GHOST-1", price="3.00", stock_quantity=5)
    order = world.woocommerce.place_order([("GHOST-1", 1)])
    assert (await sync.sync()).count("dead_lettered") == 1

    clock.advance(5 * MINUTE)
    report = await sync.sync()
    assert [r.outcome for r in report.results] == ["kept_dead_letter"]
    assert report.dead_letters == ()
    (letter,) = await store.dead_letters.list("sim")
    assert (letter.order_id, letter.attempts) == (order["id"], 2)

    clock.advance(5 * MINUTE)  # the next step is 30 minutes: not due yet
    before = len(world.netsuite.stats.requests)
    assert [r.outcome for r in (await sync.sync()).results] == ["kept_dead_letter"]
    assert len(world.netsuite.stats.requests) == before
