"""OrderSync against both simulators: one sales order per WooCommerce order, whatever happens."""

from __future__ import annotations

import json

import anyio
import attrs
import httpx
import pytest

from nswoo._settings import CustomerStrategy
from nswoo.errors import OutcomeUnknown, ServiceUnavailable
from nswoo.limits._local import UnlimitedLimiter
from nswoo.orders._sync import OrderSync
from nswoo.store.memory import MemoryStore
from nswoo.testing._faults import FaultPlan, SlowCommit
from nswoo.testing._world import SimWorld, build_world
from nswoo.woocommerce._client import WooClient
from nswoo.woocommerce._convert import structure_order

pytestmark = pytest.mark.anyio


def sales_orders(world: SimWorld) -> dict[str, list[int]]:
    """What NetSuite holds: sales order ids grouped by WooCommerce order id."""
    return world.netsuite.sales_orders_by_woo_id()


async def make_sync(world: SimWorld, store: MemoryStore, **kwargs) -> OrderSync:
    return OrderSync(
        netsuite=world.netsuite_client(),
        woocommerce=world.woo_client(),
        store=store,
        config=world.config.orders,
        clock=world.clock,
        **kwargs,
    )


async def test_an_order_becomes_exactly_one_sales_order() -> None:
    """Importing twice creates one sales order carrying the order id and externalId."""
    world = build_world()
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([("MUG-BLUE", 2), ("TEE-S", 1)]))
    sync = await make_sync(world, store)
    first = await sync.import_order(order)
    second = await sync.import_order(order)
    assert first.outcome == "imported"
    assert second.outcome == "already_imported"
    assert second.sales_order_id == first.sales_order_id
    assert sales_orders(world) == {str(order.id): [int(first.sales_order_id or 0)]}
    so = world.netsuite.sales_order(int(first.sales_order_id or 0))
    assert so["externalId"] == f"woo-sim-{order.id}"
    link = await store.order_links.get("sim", order.id)
    assert link is not None
    assert link.sales_order_id == first.sales_order_id


async def test_slow_commit_is_found_not_duplicated() -> None:
    """A create whose answer is lost after NetSuite committed is looked up, not re-sent."""
    world = build_world(ns_faults=FaultPlan(slow_commits=SlowCommit(every=1)))
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([("CAP", 1)]))
    sync = await make_sync(world, store)
    result = await sync.import_order(order)
    assert result.outcome == "imported"
    assert len(sales_orders(world)[str(order.id)]) == 1
    posts = world.netsuite.stats.by_endpoint["POST record:salesOrder"]
    assert posts == 1


async def test_crash_before_the_link_is_recovered_by_lookup() -> None:
    """A sales order created by a run that died before linking is found and linked."""
    world = build_world()
    order = structure_order(world.woocommerce.place_order([("POSTER", 3)]))
    crashed = await make_sync(world, MemoryStore())
    await crashed.import_order(order)  # its store is lost with the "crash"
    fresh_store = MemoryStore()
    result = await (await make_sync(world, fresh_store)).import_order(order)
    assert result.outcome == "already_imported"
    assert len(sales_orders(world)[str(order.id)]) == 1
    assert await fresh_store.order_links.get("sim", order.id) is not None


async def test_concurrent_duplicate_deliveries_create_one_sales_order() -> None:
    """Eight workers importing the same order at once leave one sales order."""
    world = build_world()
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([("TEE-M", 1)]))
    outcomes: list[str] = []

    async def worker(n: int) -> None:
        sync = await make_sync(world, store, owner=f"worker-{n}")
        outcomes.append((await sync.import_order(order)).outcome)

    async with anyio.create_task_group() as tg:
        for n in range(8):
            tg.start_soon(worker, n)
    assert len(sales_orders(world)[str(order.id)]) == 1
    assert outcomes.count("imported") == 1
    assert set(outcomes) <= {"imported", "already_imported"}


async def test_unknown_sku_is_dead_lettered_and_replayed_once_the_item_exists() -> None:
    """An order with an unknown SKU is kept with its reason, and imported by replay later."""
    world = build_world()
    world.woocommerce.add_product("LAMP-1", price="30.00", stock_quantity=5)
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([("LAMP-1", 1), ("MUG-RED", 1)]))
    sync = await make_sync(world, store)
    result = await sync.import_order(order)
    assert result.outcome == "dead_lettered"
    assert "LAMP-1" in (result.reason or "")
    letters = await store.dead_letters.list("sim")
    assert [letter.order_id for letter in letters] == [order.id]
    assert sales_orders(world) == {}

    world.netsuite.add_item("LAMP-1", cost="11.00", locations={world.location_ids["Main"]: 4})
    report = await sync.replay()
    assert report.count("imported") == 1
    assert await store.dead_letters.list("sim") == []
    assert len(sales_orders(world)[str(order.id)]) == 1


async def test_injection_in_a_sku_is_carried_as_data() -> None:
    """A SKU holding SQL reaches NetSuite only as a quoted literal and is dead-lettered."""
    world = build_world()
    evil = "' OR '1'='1 --"
    world.woocommerce.add_product(evil, price="1.00", stock_quantity=5)
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([(evil, 1)]))
    result = await (await make_sync(world, store)).import_order(order)
    assert result.outcome == "dead_lettered"
    assert evil in (result.reason or "")
    item_queries = [q for q in world.netsuite.query_log if "FROM item" in q]
    assert item_queries
    assert all("''' OR ''1''=''1 --'" in q for q in item_queries)
    assert sales_orders(world) == {}


async def test_a_removed_custom_field_is_schema_drift_not_a_crash() -> None:
    """When the order-id field is gone, the order is dead-lettered as schema drift."""
    world = build_world()
    world.netsuite.rename_field("salesOrder", "custbody_nswoo_woo_order_id", "custbody_woo_id")
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([("MUG-BLUE", 1)]))
    result = await (await make_sync(world, store)).import_order(order)
    assert result.outcome == "dead_lettered"
    assert "schema drift" in (result.reason or "")
    assert "custbody_nswoo_woo_order_id" in (result.reason or "")


async def test_orders_not_in_an_imported_status_are_ignored() -> None:
    """A pending order is counted as ignored and never dead-lettered."""
    world = build_world()
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([("MUG-RED", 1)], status="pending"))
    result = await (await make_sync(world, store)).import_order(order)
    assert result.outcome == "ignored"
    assert await store.dead_letters.list() == []
    assert sales_orders(world) == {}


async def test_polling_imports_everything_and_advances_the_cursor() -> None:
    """sync() imports each order once; a second run re-sees the overlap but creates nothing."""
    world = build_world()
    store = MemoryStore()
    placed = [world.woocommerce.place_order([("TEE-S", 1)]) for _ in range(5)]
    world.woocommerce.place_order([("TEE-S", 1)], status="pending")
    sync = await make_sync(world, store)
    report = await sync.sync()
    assert report.count("imported") == 5
    assert report.count("ignored") == 1
    assert await store.cursors.get(sync.cursor_name) is not None
    again = await sync.sync()
    assert again.count("imported") == 0
    assert len(sales_orders(world)) == 5
    assert {str(p["id"]) for p in placed} == set(sales_orders(world))


async def test_item_matches_are_reused_but_misses_are_asked_again() -> None:
    """A second order with the same SKUs needs no item query; an unknown SKU is re-asked."""
    world = build_world()
    store = MemoryStore()
    sync = await make_sync(world, store)
    first = structure_order(world.woocommerce.place_order([("MUG-BLUE", 1)]))
    second = structure_order(world.woocommerce.place_order([("MUG-BLUE", 2)]))
    await sync.import_order(first)
    item_queries = len([q for q in world.netsuite.query_log if "FROM item" in q])
    await sync.import_order(second)
    assert len([q for q in world.netsuite.query_log if "FROM item" in q]) == item_queries
    assert len(sales_orders(world)) == 2

    world.woocommerce.add_product("NEW-1", price="2.00", stock_quantity=3)
    third = structure_order(world.woocommerce.place_order([("NEW-1", 1)]))
    assert (await sync.import_order(third)).outcome == "dead_lettered"
    world.netsuite.add_item("NEW-1", cost="1.00", locations={world.location_ids["Main"]: 3})
    assert (await sync.import_order(third)).outcome == "imported"


async def test_customers_by_email_are_found_or_created_once() -> None:
    """With customers by e-mail, two orders from one address share one new customer."""
    world = build_world(extra_config="")
    orders_config = attrs.evolve(
        world.config.orders, customer=CustomerStrategy(strategy="by-email")
    )
    store = MemoryStore()
    sync = OrderSync(
        netsuite=world.netsuite_client(),
        woocommerce=world.woo_client(),
        store=store,
        config=orders_config,
    )
    seeded = world.netsuite.stats.created.get("customer", 0)
    billing = {"email": "Ada@Example.com", "first_name": "Ada", "last_name": "Lovelace"}
    first = structure_order(world.woocommerce.place_order([("CAP", 1)], billing=billing))
    second = structure_order(world.woocommerce.place_order([("CAP", 2)], billing=billing))
    ignored = structure_order(
        world.woocommerce.place_order([("CAP", 1)], status="pending", billing={"email": "x@y.z"})
    )
    assert (await sync.import_order(first)).outcome == "imported"
    assert (await sync.import_order(second)).outcome == "imported"
    assert (await sync.import_order(ignored)).outcome == "ignored"
    world.woocommerce.add_product("NOT-IN-NS", price="1.00", stock_quantity=2)
    doomed = structure_order(
        world.woocommerce.place_order([("NOT-IN-NS", 1)], billing={"email": "new@shop.example"})
    )
    assert (await sync.import_order(doomed)).outcome == "dead_lettered"
    # Neither the ignored nor the dead-lettered order left a customer behind.
    assert world.netsuite.stats.created.get("customer", 0) == seeded + 1
    entities = {
        world.netsuite.sales_order(ids[0])["entity"]["id"] for ids in sales_orders(world).values()
    }
    assert len(entities) == 1
    assert entities != {str(world.customer_id)}


async def test_create_lost_before_it_reached_netsuite_is_sent_again_once() -> None:
    """A create whose connection dropped before any effect is looked up, then sent again."""
    world = build_world()
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([("TEE-S", 1)]))
    sync = await make_sync(world, store)
    resets = {"left": 1}
    real_create = sync.netsuite.create

    async def create_then_drop(record_type, body):  # type: ignore[no-untyped-def]
        if record_type == "salesOrder" and resets["left"]:
            resets["left"] = 0
            raise OutcomeUnknown("no answer (ReadError)", system="netsuite", method="POST")
        return await real_create(record_type, body)

    sync.netsuite.create = create_then_drop  # type: ignore[method-assign]
    result = await sync.import_order(order)
    assert result.outcome == "imported"
    assert len(sales_orders(world)[str(order.id)]) == 1
    assert world.netsuite.stats.by_endpoint["POST record:salesOrder"] == 1


async def test_duplicate_external_id_from_a_racing_writer_is_read_and_linked() -> None:
    """If another writer created the order between look-up and create, nswoo links theirs."""
    world = build_world()
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([("MUG-RED", 1)]))
    racer = await make_sync(world, MemoryStore(), owner="racer")
    sync = await make_sync(world, store)
    real_suiteql = sync.netsuite.suiteql
    raced = {"done": False}

    def suiteql_then_lose_the_race(query, **kwargs):  # type: ignore[no-untyped-def]
        async def rows():  # type: ignore[no-untyped-def]
            async for row in real_suiteql(query, **kwargs):
                yield row
            if "FROM transaction" in str(query) and not raced["done"]:
                raced["done"] = True
                await racer.import_order(order)  # the other writer creates it right now

        return rows()

    sync.netsuite.suiteql = suiteql_then_lose_the_race  # type: ignore[method-assign]
    result = await sync.import_order(order)
    assert raced["done"]
    assert result.outcome == "already_imported"
    assert len(sales_orders(world)[str(order.id)]) == 1
    assert world.netsuite.stats.by_status[400] >= 1  # NetSuite refused the duplicate


async def test_a_damaged_order_in_the_listing_is_dead_lettered_not_fatal() -> None:
    """An order WooCommerce lists but nswoo cannot read is kept; the poll goes on."""
    world = build_world()
    good = world.woocommerce.place_order([("CAP", 1)])
    damaged = {**good, "id": good["id"] + 1000, "total": "twelve dollars"}

    def listing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=[good, damaged], headers={"X-WP-Total": "2", "X-WP-TotalPages": "1"}
        )

    woo = WooClient.from_settings(
        world.woo_settings, transport=httpx.MockTransport(listing), limiter=UnlimitedLimiter()
    )
    store = MemoryStore()
    sync = OrderSync(
        netsuite=world.netsuite_client(), woocommerce=woo, store=store, config=world.config.orders
    )
    report = await sync.sync()
    assert report.count("imported") == 1
    assert [r.order_id for r in report.dead_letters] == [damaged["id"]]
    (letter,) = await store.dead_letters.list("sim")
    assert letter.order_id == damaged["id"]
    assert "cannot read" in letter.reason


async def test_a_failed_read_back_keeps_the_link_and_replay_checks_again() -> None:
    """When the created sales order cannot be read back, it stays linked, is flagged as
    unchecked with the error, and replay checks it and clears the flag."""
    world = build_world()
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([("POSTER", 2)]))
    sync = await make_sync(world, store)
    fails = {"left": 1}
    real_suiteql = sync.netsuite.suiteql

    def totals_once_unavailable(query, **kwargs):  # type: ignore[no-untyped-def]
        if "foreigntotal" in str(query) and fails["left"]:
            fails["left"] = 0
            raise ServiceUnavailable("HTTP 503", system="netsuite", status=503)
        return real_suiteql(query, **kwargs)

    sync.netsuite.suiteql = totals_once_unavailable  # type: ignore[method-assign]
    result = await sync.import_order(order)
    assert result.outcome == "total_differs"
    assert "could not be checked" in (result.reason or "")
    link = await store.order_links.get("sim", order.id)
    assert link is not None
    assert link.sales_order_id == result.sales_order_id
    assert [letter.order_id for letter in await store.dead_letters.list("sim")] == [order.id]

    replayed = await sync.replay()
    assert [r.outcome for r in replayed.results] == ["already_imported"]
    assert await store.dead_letters.list("sim") == []
    assert len(sales_orders(world)[str(order.id)]) == 1


async def test_a_linked_order_costs_no_netsuite_request_when_polled_again() -> None:
    """The read-back is for links nswoo makes; a linked order seen again asks NetSuite nothing."""
    world = build_world()
    store = MemoryStore()
    order = structure_order(world.woocommerce.place_order([("MUG-BLUE", 1)]))
    sync = await make_sync(world, store)
    assert (await sync.import_order(order)).outcome == "imported"
    before = len(world.netsuite.stats.requests)
    assert (await sync.import_order(order)).outcome == "already_imported"
    assert len(world.netsuite.stats.requests) == before


async def test_a_bulk_poll_costs_at_most_1_1_netsuite_requests_per_order() -> None:
    """Polling 230 orders: one create each, plus a few queries per page of 100 (existing
    sales orders, items) and per wave of 25 (what NetSuite booked), with the check kept."""
    world = build_world()
    store = MemoryStore()
    skus = ["MUG-BLUE", "TEE-S", "CAP", "POSTER"]
    for n in range(230):
        world.woocommerce.place_order([(skus[n % 4], 1), (skus[(n + 1) % 4], 2)])
    sync = await make_sync(world, store)
    async with sync.netsuite:
        await sync.netsuite.get("customer", world.customer_id)  # the token, minted first
        first = len(world.netsuite.stats.requests)
        report = await sync.sync()
    sent = [
        r
        for r in world.netsuite.stats.requests[first:]
        if r.endpoint != "token" and r.status != 429
    ]
    assert report.count("imported") == 230
    assert len(sent) / 230 <= 1.1
    assert sum(1 for q in world.netsuite.query_log if "foreigntotal" in q) == 10
    held = sales_orders(world)
    assert len(held) == 230
    assert all(len(ids) == 1 for ids in held.values())


async def test_the_report_is_a_dict_and_json_text() -> None:
    """`to_dict()` holds the CLI contract's keys; `to_json()` is that object as JSON text."""
    world = build_world()
    world.woocommerce.place_order([("CAP", 1)])
    world.woocommerce.place_order([("CAP", 1)], status="pending")
    report = await (await make_sync(world, MemoryStore())).sync()
    data = report.to_dict()
    assert json.loads(report.to_json()) == data
    assert data["imported"] == 1
    assert data["ignored"] == 1
    assert {"already_imported", "dead_lettered", "dead_letters", "retrying"} <= set(data)
