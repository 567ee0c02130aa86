"""The WooCommerce simulator's order endpoints against reference/woocommerce.md."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from nswoo.testing import FakeClock, WooSimulator

pytestmark = pytest.mark.anyio

KEY, SECRET = "ck_sim", "cs_sim"
API = "/wp-json/wc/v3"


@pytest.fixture
def sim() -> WooSimulator:
    sim = WooSimulator(consumer_key=KEY, consumer_secret=SECRET, clock=FakeClock())
    sim.add_product("MUG-1", price="10.00", stock_quantity=10)
    return sim


@pytest.fixture
async def client(sim: WooSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.url + API, auth=(KEY, SECRET)
    ) as http:
        yield http


async def test_put_order_line_item_quantity_is_applied_and_stock_adjusted(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """§5 "Writing orders" and §7: a PUT that changes a line item's quantity changes the order
    (totals recalculated), and `wc_maybe_adjust_line_item_product_stock` adjusts stock on an
    order that has already reduced it.
    """
    order = sim.place_order([("MUG-1", 2)], status="processing")
    assert sim.stock_of("MUG-1") == 8
    line_id = order["line_items"][0]["id"]

    response = await client.put(
        f"/orders/{order['id']}", json={"line_items": [{"id": line_id, "quantity": 5}]}
    )

    assert response.status_code == 200
    assert response.json()["line_items"][0]["quantity"] == 5
    assert sim.stock_of("MUG-1") == 5


async def test_put_order_line_item_quantity_zero_removes_the_line(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """§5 "Writing orders": setting a line item's quantity to 0 removes it."""
    sim.add_product("MUG-2", price="4.00", stock_quantity=10)
    order = sim.place_order([("MUG-1", 1), ("MUG-2", 1)], status="pending")
    line_id = order["line_items"][0]["id"]

    response = await client.put(
        f"/orders/{order['id']}", json={"line_items": [{"id": line_id, "quantity": 0}]}
    )

    assert response.status_code == 200
    assert [line["sku"] for line in response.json()["line_items"]] == ["MUG-2"]


async def test_put_set_paid_on_pending_order_completes_payment_and_reduces_stock(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """§7: REST `set_paid: true` calls `payment_complete()` on create *or if the order
    needs_payment()* (a pending order with a total does), which sets processing and reduces
    stock.
    """
    order = sim.place_order([("MUG-1", 2)], status="pending")
    assert sim.stock_of("MUG-1") == 10

    response = await client.put(f"/orders/{order['id']}", json={"set_paid": True})

    assert response.status_code == 200
    assert response.json()["status"] == "processing"
    assert sim.stock_of("MUG-1") == 8


async def test_orders_batch_route_exists(sim: WooSimulator, client: httpx.AsyncClient) -> None:
    """§4: the batch routes include `POST|PUT|PATCH /wc/v3/orders/batch`."""
    order = sim.place_order([("MUG-1", 1)], status="processing")

    response = await client.post(
        "/orders/batch", json={"update": [{"id": order["id"], "status": "completed"}]}
    )

    assert response.status_code == 200
    assert response.json()["update"][0]["status"] == "completed"


async def test_orders_status_filter_rejects_unknown_status(client: httpx.AsyncClient) -> None:
    """§3: the v3 order list `status` is an array whose enum is the registered statuses plus
    `any`, `trash`, `auto-draft`; schema validation answers a value outside it with the
    `rest_invalid_param` 400 of §2, so a typo such as `on_hold` cannot silently hide
    orders.
    """
    response = await client.get("/orders", params={"status": "on_hold"})

    assert response.status_code == 400
    assert response.json()["code"] == "rest_invalid_param"


async def test_on_hold_order_has_no_date_paid(sim: WooSimulator) -> None:
    """§5 status table: `on-hold` is "Awaiting payment confirmation"; `processing` is
    "Payment received (paid)". An on-hold order therefore has no payment date.
    """
    order = sim.place_order([("MUG-1", 1)], status="on-hold")

    assert order["date_paid"] is None
    assert order["date_paid_gmt"] is None
