"""Stock sync against the simulators: what WooCommerce shows after a run, what is left alone,
partial failures, orders in flight, bad input. Real SQLite store, real clients and pipeline."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from nswoo.errors import ConfigurationError
from nswoo.inventory import StockSync, StockSyncReport, SyncProgress
from nswoo.orders._sync import OrderSync
from nswoo.store import Store, open_store
from nswoo.testing import CatalogItem, FaultPlan, SimWorld, build_world

pytestmark = pytest.mark.anyio

CATALOG = (
    CatalogItem("MUG-BLUE", Decimal("12.50"), Decimal("4.10"), {"Main": 40, "Overflow": 10}),
    CatalogItem("MUG-RED", Decimal("12.50"), Decimal("4.10"), {"Main": 25}, woo_stock=3),
    CatalogItem("CAP", Decimal("15.00"), Decimal("5.20"), {"Overflow": 12}),
    CatalogItem("LOCAL-SOAP", Decimal("5.00"), None, {"Main": 70}, woo_stock=9),
)
# TEE-S and TEE-M manage their own stock; TEE-L is managed by its parent TEE-PM.
VARIATIONS = {"TEE-S": {"Main": 6, "Overflow": 2}, "TEE-M": {"Main": 4}, "TEE-L": {"Main": 9}}
OWNERS = (
    '[inventory]\nsafety_stock = 1\nowners = [{ pattern = "LOCAL-*", owner = "woocommerce" }, '
    '{ pattern = "*", owner = "netsuite" }]\n'
)


def make_world(*, woo_faults: FaultPlan | None = None, extra: str = OWNERS) -> SimWorld:
    world = build_world(catalog=CATALOG, woo_faults=woo_faults, extra_config=extra)
    ns, woo = world.netsuite, world.woocommerce
    for sku, stock in VARIATIONS.items():
        world.item_ids[sku] = ns.add_item(
            sku,
            cost="3.00",
            locations={world.location_ids[name]: qty for name, qty in stock.items()},
        )
    woo.add_variable_product(
        "TEE",
        [
            {"sku": "TEE-S", "price": "19.99", "stock_quantity": 1},
            {"sku": "TEE-M", "price": "19.99", "stock_quantity": 50},
        ],
    )
    woo.add_variable_product(
        "TEE-PM",
        [{"sku": "TEE-L", "price": "19.99", "manage_stock": False}],
        manage_stock=True,
        stock_quantity=5,
    )
    return world


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await open_store(f"sqlite:///{tmp_path / 'nswoo.db'}") as opened:
        yield opened


async def run(
    world: SimWorld, store: Store, *, progress: list[SyncProgress] | None = None, **kw: Any
) -> StockSyncReport:
    async with world.netsuite_client() as ns, world.woo_client() as woo:
        sync = StockSync(
            netsuite=ns,
            woocommerce=woo,
            store=store,
            config=world.config,
            clock=world.clock,
            progress=None if progress is None else progress.append,
        )
        return await sync.sync(**kw)


def formula(world: SimWorld, sku: str, *, in_flight: int = 0) -> int:
    """What behaviour 5 says the store may sell, from the NetSuite simulator's own books."""
    net = sum(
        (
            on_hand - committed
            for on_hand, committed in (
                world.netsuite.balance(world.item_ids[sku], location)
                for location in world.location_ids.values()
            )
        ),
        Decimal(0),
    )
    return max(0, int(net) - world.config.inventory.safety_stock - in_flight)


def body(world: SimWorld, sku: str) -> str:
    """A product's or variation's REST body, byte for byte."""
    return json.dumps(world.woocommerce.product(world.woocommerce.id_for_sku(sku)), default=str)


NETSUITE_OWNED = ("CAP", "MUG-BLUE", "MUG-RED", "TEE-M", "TEE-S")


async def test_store_shows_the_formula_for_every_netsuite_owned_sku(store: Store) -> None:
    """After a sync, WooCommerce stock is on hand - committed - safety stock for every
    NetSuite-owned SKU, variations included; never on hand."""
    world = make_world()
    report = await run(world, store)
    for sku in NETSUITE_OWNED:
        assert world.woocommerce.stock_of(sku) == formula(world, sku), sku
    assert world.woocommerce.stock_of("MUG-BLUE") == 49  # 50 on hand, safety 1
    data = report.to_json()
    assert {k: data[k] for k in ("changed", "pushed", "failed")} == {
        "changed": 5,
        "pushed": 5,
        "failed": 0,
    }
    assert data["parent_managed"] == 1
    assert data["skus"]["parent_managed"] == ["TEE-L"]
    assert data["skipped_by_owner"] == 1
    # TEE-PM manages its variation's stock and NetSuite does not know it; TEE leaves stock
    # to its variations. Both are considered: 5 pushed + TEE-L + TEE + TEE-PM.
    assert data["skus"]["missing_in_netsuite"] == ["TEE-PM"]
    assert report.plan.variable_parents == ("TEE",)
    assert data["considered"] == 8


async def test_committed_stock_is_not_published(store: Store) -> None:
    """A sales order committed in NetSuite lowers what the store shows: on hand is not sold
    twice."""
    world = make_world()
    await run(world, store)
    async with world.netsuite_client() as ns:
        await ns.create(
            "salesOrder",
            {
                "entity": {"id": world.customer_id},
                "item": {"items": [{"item": {"id": world.item_ids["CAP"]}, "quantity": 5}]},
            },
        )
    assert world.netsuite.balance(world.item_ids["CAP"], world.location_ids["Overflow"]) == (
        Decimal(12),
        Decimal(5),
    )
    await run(world, store)
    assert world.woocommerce.stock_of("CAP") == 12 - 5 - 1


async def test_owned_by_woocommerce_and_parent_managed_are_untouched(store: Store) -> None:
    """WooCommerce-owned SKUs and parent-managed variations are byte-for-byte unchanged, and
    no write ever names them."""
    world = make_world()
    before = {sku: body(world, sku) for sku in ("LOCAL-SOAP", "TEE-L", "TEE-PM")}
    await run(world, store)
    await run(world, store)
    assert {sku: body(world, sku) for sku in before} == before
    written = {write.sku for write in world.woocommerce.stock_writes}
    assert written == set(NETSUITE_OWNED)


async def test_unchanged_data_writes_nothing(store: Store) -> None:
    """A second run on unchanged data sends no batch at all."""
    world = make_world()
    await run(world, store)
    batches = len(world.woocommerce.batches)
    report = await run(world, store)
    assert len(world.woocommerce.batches) == batches
    assert (report.plan.changed, report.pushed, report.plan.unchanged) == (0, 0, 5)


async def test_dry_run_writes_nothing_and_lists_the_changes(store: Store) -> None:
    """--dry-run decides and reports; WooCommerce and the store are left as they were."""
    world = make_world()
    before = {sku: body(world, sku) for sku in NETSUITE_OWNED}
    report = await run(world, store, dry_run=True)
    assert {sku: body(world, sku) for sku in NETSUITE_OWNED} == before
    assert world.woocommerce.batches == []
    assert await store.stock_pushes.last_pushed("sim", NETSUITE_OWNED) == {}
    changes = {c["sku"]: c["quantity"] for c in report.to_json()["changes"]}
    assert changes == {sku: formula(world, sku) for sku in NETSUITE_OWNED}
    assert report.pushed == 0


async def test_partial_batch_failure_is_retried_and_nothing_else_repushed(store: Store) -> None:
    """Items a batch refused are not recorded, are pushed again by the next run, and only
    they are; in the end the store shows the formula everywhere."""
    world = make_world(woo_faults=FaultPlan(seed=3, batch_item_failure_probability=0.5))
    first = await run(world, store)
    failed = {f.sku for f in first.failed}
    assert failed
    assert first.pushed == 5 - len(failed)
    assert first.to_json()["failed"] == len(failed)
    recorded = await store.stock_pushes.last_pushed("sim", NETSUITE_OWNED)
    assert set(recorded) == set(NETSUITE_OWNED) - failed
    sent_before = len(world.woocommerce.batches)
    second = await run(world, store)
    resent = {
        world.woocommerce.product(item["id"])["sku"]
        for record in world.woocommerce.batches[sent_before:]
        for item in record.body["update"]
    }
    assert resent == failed
    assert second.plan.changed == len(failed)
    for _ in range(10):
        if not second.failed:
            break
        second = await run(world, store)
    assert not second.failed
    for sku in NETSUITE_OWNED:
        assert world.woocommerce.stock_of(sku) == formula(world, sku), sku


async def test_an_order_in_flight_is_neither_counted_twice_nor_over_sold(
    store: Store, tmp_path: Path
) -> None:
    """An order placed between two syncs: while no sales order carries it, its units are held
    back (WooCommerce took them off, NetSuite has not); once NetSuite commits them, they are
    counted once; the store never shows more than can be sold, nor the units twice off."""
    world = make_world()
    await run(world, store)
    assert world.woocommerce.stock_of("MUG-BLUE") == 49
    order = world.woocommerce.place_order([("MUG-BLUE", 3)], status="processing")
    assert world.woocommerce.stock_of("MUG-BLUE") == 46  # WooCommerce decremented on placing

    report = await run(world, store)
    assert (report.in_flight_orders, report.in_flight_units) == (1, 3)
    assert world.woocommerce.stock_of("MUG-BLUE") == 46 == formula(world, "MUG-BLUE", in_flight=3)

    async with world.netsuite_client() as ns, world.woo_client() as woo:
        orders = OrderSync(netsuite=ns, woocommerce=woo, store=store, config=world.config.orders)
        imported = await orders.import_order(await woo.get_order(order["id"]))
    assert imported.outcome == "imported"
    on_hand, committed = world.netsuite.balance(
        world.item_ids["MUG-BLUE"], world.location_ids["Main"]
    )
    assert (on_hand, committed) == (Decimal(40), Decimal(3))

    report = await run(world, store)
    assert (report.in_flight_orders, report.in_flight_units) == (0, 0)
    assert world.woocommerce.stock_of("MUG-BLUE") == 46 == formula(world, "MUG-BLUE")

    sales_order = world.netsuite.sales_orders_by_woo_id()[str(order["id"])][0]
    world.netsuite.set_status(sales_order, "F")  # shipped: on hand and committed both drop
    await run(world, store)
    assert world.woocommerce.stock_of("MUG-BLUE") == 46


async def test_status_only_stops_woocommerce_counting_and_pushes_status(store: Store) -> None:
    """status-only turns stock management off once and publishes in stock / out of stock,
    holding back the units of orders in flight."""
    world = make_world(extra=OWNERS.replace("safety_stock = 1", 'policy = "status-only"'))
    world.netsuite.set_on_hand(world.item_ids["CAP"], world.location_ids["Overflow"], 2)
    await run(world, store)
    cap = world.woocommerce.product(world.woocommerce.id_for_sku("CAP"))
    assert (cap["manage_stock"], cap["stock_quantity"], cap["stock_status"]) == (
        False,
        None,
        "instock",
    )
    world.woocommerce.place_order([("CAP", 2)], status="processing")
    assert world.woocommerce.stock_of("CAP") is None  # WooCommerce no longer counts it
    await run(world, store)
    cap = world.woocommerce.product(world.woocommerce.id_for_sku("CAP"))
    assert cap["stock_status"] == "outofstock"
    writes = [w.fields for w in world.woocommerce.stock_writes if w.sku == "CAP"]
    assert writes == [
        {"manage_stock": False, "stock_status": "instock"},
        {"stock_status": "outofstock"},
    ]


async def test_named_skus_only(store: Store) -> None:
    """--sku re-syncs just those SKUs: nothing else is read into the plan or written."""
    world = make_world()
    report = await run(world, store, skus=["TEE-S", "CAP"])
    assert {w.sku for w in world.woocommerce.stock_writes} == {"TEE-S", "CAP"}
    assert report.plan.considered == 2
    assert world.woocommerce.stock_of("TEE-S") == formula(world, "TEE-S")


async def test_skus_that_need_quoting(store: Store) -> None:
    """SKUs with quotes, a comma, spaces and non-ASCII letters are read, matched and pushed,
    in a full run and named with --sku."""
    odd = ("O'BRIEN-MUG", 'SAY "HI"', "A,B", "ÄPFEL ß", "T")
    catalog = tuple(
        CatalogItem(sku, Decimal("5.00"), None, {"Main": 10 + n}, woo_stock=0)
        for n, sku in enumerate(odd)
    )
    world = build_world(catalog=catalog)
    report = await run(world, store)
    assert report.pushed == len(odd)
    assert {sku: world.woocommerce.stock_of(sku) for sku in odd} == {
        sku: 10 + n for n, sku in enumerate(odd)
    }
    world.netsuite.set_on_hand(world.item_ids["O'BRIEN-MUG"], world.location_ids["Main"], 3)
    world.netsuite.set_on_hand(world.item_ids["A,B"], world.location_ids["Main"], 4)
    report = await run(world, store, skus=["O'BRIEN-MUG", "A,B"])
    assert report.pushed == 2
    assert world.woocommerce.stock_of("O'BRIEN-MUG") == 3
    assert world.woocommerce.stock_of("A,B") == 4


async def test_negative_stock_and_a_sku_on_two_products_are_reported(store: Store) -> None:
    """Negative on hand counts as units owed and is named; a SKU two products, or two
    NetSuite items, share is not pushed and is named."""
    world = make_world()
    world.netsuite.add_item("MUG-RED", cost=None, locations={world.location_ids["Main"]: 5})
    world.netsuite.set_on_hand(world.item_ids["MUG-BLUE"], world.location_ids["Overflow"], -4)
    # WooCommerce refuses a duplicate SKU on save (reference §6), but imports and plugins
    # writing the database directly leave them behind; the simulator is edited the same way.
    world.woocommerce.add_product("CAP-OLD", price="1.00", stock_quantity=77)
    world.woocommerce._store.items[world.woocommerce.id_for_sku("CAP-OLD")].sku = "CAP"
    report = await run(world, store)
    kinds = {(p.subject, p.kind) for p in report.problems}
    assert ("MUG-BLUE", "negative_on_hand") in kinds
    assert ("CAP", "duplicate_sku_woocommerce") in kinds
    assert ("MUG-RED", "duplicate_sku_netsuite") in kinds
    assert not any(w.sku == "MUG-RED" for w in world.woocommerce.stock_writes)
    assert world.woocommerce.stock_of("MUG-BLUE") == 40 - 4 - 1
    assert not any(w.sku == "CAP" for w in world.woocommerce.stock_writes)


async def test_a_sku_no_owner_rule_matches_is_reported(store: Store) -> None:
    """Owner rules that do not cover a SKU: it is not written and is named."""
    world = make_world(extra='[inventory]\nowners = [{ pattern = "MUG-*", owner = "netsuite" }]\n')
    report = await run(world, store)
    assert {w.sku for w in world.woocommerce.stock_writes} == {"MUG-BLUE", "MUG-RED"}
    assert ("CAP", "no_owner") in {(p.subject, p.kind) for p in report.problems}


async def test_bad_sku_arguments_are_refused() -> None:
    """An empty SKU or one with control characters is refused before anything is read."""
    world = make_world()
    async with await open_store("memory://") as memory:
        for bad in ("", "  ", "A\nB"):
            with pytest.raises(ConfigurationError, match="--sku"):
                await run(world, memory, skus=[bad])
    assert world.netsuite.query_log == []


async def test_progress_is_reported(store: Store) -> None:
    """A run tells its progress: balances, catalog, orders and pushes."""
    world = make_world()
    seen: list[SyncProgress] = []
    await run(world, store, progress=seen)
    stages = {p.stage for p in seen}
    assert stages == {"balances", "catalog", "orders", "push"}
    last_push = [p for p in seen if p.stage == "push"][-1]
    assert attrs.astuple(last_push) == ("push", 5, 5)
