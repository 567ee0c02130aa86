"""Scorecard `availability`: the store shows what NetSuite can sell, with orders arriving
while stock syncs run, and no unit counted twice.

After the order day the card runs its own step: a delivery restocks NetSuite, then orders
keep arriving in the store while `inventory sync` runs again and again; some of them are
imported into NetSuite mid-way (their units move from "in flight" to "committed"), the rest
stay in flight. When the traffic stops, one more sync runs, then one on unchanged data.
Everything is then counted from the simulators, not from the sync's report: per SKU,
NetSuite's own on hand and committed, and the store's orders that no sales order carries
(in flight), give what may be sold; the store must show exactly that.
"""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal
from typing import Any

import anyio

from ..inventory._sync import StockSync, StockSyncReport
from ._types import Card, DemoRun, Scorecard

__all__ = ["SCORECARD"]

_ORDERS = 60
"""Orders placed while the syncs run."""
_SYNCS = 4
"""Syncs started while they arrive."""
_DELIVERY = 400
"""Units of each SKU received at the main warehouse before the step."""


def _in_flight(run: DemoRun, order_ids: list[int]) -> tuple[int, Counter[str]]:
    """The store's orders in an imported status that no NetSuite sales order carries, and
    their units per SKU: counted from both simulators."""
    carried = run.world.netsuite.sales_orders_by_woo_id()
    orders = 0
    units: Counter[str] = Counter()
    for order_id in order_ids:
        order = run.world.woocommerce.order(order_id)
        if order["status"] in run.config.statuses and str(order_id) not in carried:
            orders += 1
            for line in order["line_items"]:
                units[line["sku"]] += line["quantity"]
    return orders, units


def _net(run: DemoRun, sku: str) -> tuple[Decimal, Decimal]:
    """NetSuite's own on hand and committed for `sku`, summed over every location."""
    on_hand = committed = Decimal(0)
    for location in run.world.location_ids.values():
        held, promised = run.world.netsuite.balance(run.world.item_ids[sku], location)
        on_hand += held
        committed += promised
    return on_hand, committed


async def _score(run: DemoRun) -> Card:
    world = run.world
    rng = random.Random(run.options.seed + 5)  # noqa: S311 - demo traffic, not cryptography
    skus = sorted(world.item_ids)
    inventory = world.config.inventory
    sync = StockSync(
        netsuite=run.netsuite,
        woocommerce=run.woocommerce,
        store=run.store,
        config=world.config,
    )
    # The order day sold most of the catalog; a delivery arrives at the main warehouse
    # first, so there is stock to sell, to hold back and to count.
    main = world.location_ids["Main"]
    for sku in skus:
        on_hand, _ = world.netsuite.balance(world.item_ids[sku], main)
        world.netsuite.set_on_hand(world.item_ids[sku], main, on_hand + _DELIVERY)
    batches_before = len(world.woocommerce.batches)
    reports: list[StockSyncReport] = [await sync.sync()]
    placed: list[int] = []
    imported: list[int] = []
    during = anyio.Event()

    async def traffic() -> None:
        for n in range(_ORDERS):
            lines = [(sku, rng.randint(1, 3)) for sku in rng.sample(skus, rng.randint(1, 2))]
            placed.append(world.woocommerce.place_order(lines, status="processing")["id"])
            if n % 6 == 5:
                # Some orders reach NetSuite mid-way: their units go from in flight to
                # committed while syncs are reading.
                for order_id in placed[-6:-3]:
                    order = await run.woocommerce.get_order(order_id)
                    if (await run.sync.import_order(order)).outcome == "imported":
                        imported.append(order_id)
            await anyio.sleep(0.003)
        during.set()

    async def syncs() -> None:
        for _ in range(_SYNCS):
            reports.append(await sync.sync())
            if during.is_set():
                break

    async with anyio.create_task_group() as group:
        group.start_soon(traffic)
        group.start_soon(syncs)
    final = await sync.sync()
    writes_before_quiet = len(world.woocommerce.batches)
    quiet = await sync.sync()
    quiet_batches = len(world.woocommerce.batches) - writes_before_quiet

    every_order = [order["id"] for order in run.placed] + placed
    flying, in_flight = _in_flight(run, every_order)
    mismatches: list[dict[str, Any]] = []
    shown: dict[str, int | None] = {}
    double_counted = 0
    for sku in skus:
        on_hand, committed = _net(run, sku)
        should = max(0, int(on_hand - committed) - inventory.safety_stock - in_flight[sku])
        shown[sku] = world.woocommerce.stock_of(sku)
        # What publishing on hand would have offered on top: the units NetSuite holds for
        # sales orders, and the units the store already sold that NetSuite has not booked.
        double_counted += int(committed) + in_flight[sku]
        if shown[sku] != should:
            mismatches.append({"sku": sku, "shown": shown[sku], "should": should})
    run.stamp(
        f"availability: {len(placed)} orders during {len(reports) - 1} syncs, "
        f"{sum(in_flight.values())} units in flight, {len(mismatches)} SKUs off"
    )
    units = sum(in_flight.values())
    pushes = sum(r.pushed for r in (*reports, final, quiet))
    batches = len(world.woocommerce.batches) - batches_before
    return {
        "ok": not mismatches and quiet_batches == 0 and not final.failed,
        "injected": {
            "orders_during_syncs": len(placed),
            "units_delivered_per_sku": _DELIVERY,
        },
        "timing_dependent": {
            "syncs_while_ordering": len(reports) - 1,
            "imported_while_syncing": len(imported),
            "pushes": pushes,
            "batch_requests": batches,
        },
        "skus_checked": len(skus),
        "mismatches": mismatches,
        "in_flight": {"orders": flying, "units": units},
        "units_on_hand_would_double_count": double_counted,
        "store_shows": shown,
        "unchanged_run_batches": quiet_batches,
        "explain": [
            f"{_DELIVERY} units of each of {len(skus)} SKUs delivered to NetSuite, then "
            f"{len(placed)} orders placed in the store while {len(reports) - 1} stock syncs "
            f"ran; {len(imported)} of them imported into NetSuite mid-way",
            f"at the end {flying} store orders ({units} units) had no sales order yet: in "
            "flight, held back from what the store may sell",
            f"per SKU the store shows on hand - committed - safety stock - in flight, counted "
            f"from the simulators: {len(skus) - len(mismatches)} of {len(skus)} SKUs match",
            f"publishing on hand instead would have offered {double_counted} units twice "
            "(committed to sales orders, or sold in the store and not yet in NetSuite)",
            f"{pushes} stock pushes in {batches} batch requests; a run on unchanged data sent "
            f"{quiet_batches}",
        ],
    }


SCORECARD = Scorecard("availability", _score)
