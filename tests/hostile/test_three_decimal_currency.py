"""A 3-decimal currency cannot be booked exactly in NetSuite: say so, never "imported".

NetSuite currencies have 0 or 2 decimal places (Oracle, "Currency Decimal Precision":
"The only values supported are 0 and 2"), and amounts are stored at that precision. A dinar
order of 3 x 1.255 (3.765), tax 0.226 and shipping 0.750 (WooCommerce total 4.741) is
booked as 3.77 + 0.23 + 0.75 = 4.75. nswoo used to report it `imported`. It now reads the
sales order back, and a booked total beyond the order's rounding tolerance is reported as
`total_differs`: the sales order stays linked (never a second one) and the order is
dead-lettered with both amounts until the sales order is corrected and a replay agrees.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from nswoo.orders._sync import OrderSync, SyncReport
from nswoo.store.memory import MemoryStore
from nswoo.testing import make_order
from nswoo.testing._world import SimWorld, build_world
from nswoo.woocommerce._convert import structure_order
from nswoo.woocommerce._records import WooOrder

pytestmark = pytest.mark.anyio


def dinar_world() -> tuple[SimWorld, OrderSync, MemoryStore]:
    """Tax and shipping on their own lines, so NetSuite's total can be compared with tax."""
    world = build_world()
    tax = world.netsuite.add_item("TAX", cost=None, item_type="OthCharge")
    shipping = world.netsuite.add_item("SHIPPING", cost=None, item_type="OthCharge")
    config = attrs.evolve(world.config.orders, tax_item=tax, shipping_item=shipping)
    store = MemoryStore()
    sync = OrderSync(
        netsuite=world.netsuite_client(),
        woocommerce=None,
        store=store,
        config=config,
        clock=world.clock,
    )
    return world, sync, store


def dinar_order(order_id: int = 5001) -> WooOrder:
    payload = make_order(
        id=order_id,
        dp=3,
        currency="KWD",
        line_items=[("MUG-BLUE", 3, "1.255")],
        shipping_total="0.750",
        tax_rate="0.06",
        tax_shipping=False,
    )
    assert payload["total"] == "4.741"
    return structure_order(payload)


async def test_a_total_netsuite_rounds_is_flagged_linked_and_dead_lettered() -> None:
    """Booked 4.75 for 4.741: `total_differs`, one linked sales order, a letter with both."""
    world, sync, store = dinar_world()
    order = dinar_order()

    result = await sync.import_order(order)

    assert result.outcome == "total_differs"
    assert result.sales_order_id is not None
    assert world.netsuite.sales_orders_by_woo_id() == {"5001": [int(result.sales_order_id)]}
    assert world.netsuite.sales_order(int(result.sales_order_id))["total"] == 4.75
    link = await store.order_links.get("sim", order.id)
    assert link is not None
    assert link.sales_order_id == result.sales_order_id
    [letter] = await store.dead_letters.list("sim")
    assert letter.order_id == order.id
    assert "4.75" in letter.reason
    assert "4.741" in letter.reason
    assert f"sales order {result.sales_order_id}" in letter.reason

    report = SyncReport((result,)).to_dict()
    assert report["imported"] == 0
    assert report["dead_lettered"] == 1
    assert report["total_differs"] == 1
    assert report["dead_letters"] == [
        {"order_id": 5001, "reason": result.reason, "sales_order_id": result.sales_order_id}
    ]


async def test_replay_keeps_the_flag_and_never_creates_a_second_sales_order() -> None:
    """Replaying re-checks the same sales order: still flagged, still one sales order."""
    world, sync, store = dinar_world()
    first = await sync.import_order(dinar_order())

    report = await sync.replay()

    assert [r.outcome for r in report.results] == ["total_differs"]
    assert report.results[0].sales_order_id == first.sales_order_id
    assert len(world.netsuite.sales_orders_by_woo_id()["5001"]) == 1
    assert world.netsuite.stats.by_endpoint["POST record:salesOrder"] == 1
    [letter] = await store.dead_letters.list("sim")
    assert letter.attempts == 2


async def test_a_corrected_sales_order_clears_the_flag_on_replay() -> None:
    """Once NetSuite's total is within the tolerance, replay resolves the dead letter."""
    world, sync, store = dinar_world()
    first = await sync.import_order(dinar_order())
    assert first.sales_order_id is not None
    # A person corrects the line in NetSuite: 3.76 + 0.23 + 0.75 = 4.74, 0.001 from 4.741.
    mug = world.item_ids["MUG-BLUE"]
    async with world.netsuite_client() as netsuite:
        await netsuite.update(
            "salesOrder",
            first.sales_order_id,
            {"item": {"items": [{"line": 1, "item": {"id": mug}, "amount": Decimal("3.76")}]}},
        )

    report = await sync.replay()

    assert [r.outcome for r in report.results] == ["already_imported"]
    assert await store.dead_letters.list("sim") == []
    assert len(world.netsuite.sales_orders_by_woo_id()["5001"]) == 1


async def test_a_two_decimal_order_is_imported_with_one_read_back() -> None:
    """An order NetSuite books exactly is plain `imported`, for a single extra read-back
    (one SuiteQL query on what NetSuite booked)."""
    world, sync, store = dinar_world()
    payload = make_order(
        id=5002, line_items=[("MUG-BLUE", 3, "1.25")], shipping_total="0.75", tax_rate="0.06"
    )
    result = await sync.import_order(structure_order(payload))

    assert result.outcome == "imported"
    assert await store.dead_letters.list("sim") == []
    assert len([q for q in world.netsuite.query_log if "foreigntotal" in q]) == 1
    total = world.netsuite.sales_order(int(result.sales_order_id or 0))["total"]
    assert Decimal(str(total)) == Decimal(payload["total"])
