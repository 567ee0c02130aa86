"""Order writes on the WooCommerce simulator: line edits, set_paid and orders/batch (§4, §5, §7)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from nswoo.testing import FakeClock, FaultPlan, WooSimulator

pytestmark = pytest.mark.anyio

KEY, SECRET = "ck_sim", "cs_sim"
API = "/wp-json/wc/v3"


@pytest.fixture
def sim() -> WooSimulator:
    sim = WooSimulator(consumer_key=KEY, consumer_secret=SECRET, clock=FakeClock())
    sim.add_product("MUG-1", price="10.00", stock_quantity=10)
    sim.add_product("MUG-2", price="4.00", stock_quantity=10)
    return sim


@pytest.fixture
async def client(sim: WooSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.url + API, auth=(KEY, SECRET)
    ) as http:
        yield http


async def test_line_edits_recalculate_totals(sim: WooSimulator, client: httpx.AsyncClient) -> None:
    """§5: any change to the lines recalculates totals; the unit price is kept."""
    order = sim.place_order([("MUG-1", 2)], status="pending")
    line_id = order["line_items"][0]["id"]

    body = (
        await client.put(
            f"/orders/{order['id']}", json={"line_items": [{"id": line_id, "quantity": 3}]}
        )
    ).json()

    assert body["line_items"][0]["id"] == line_id
    assert body["line_items"][0]["total"] == "30.00"
    assert body["total"] == "30.00"
    assert sim.stock_of("MUG-1") == 10  # a pending order has not reduced stock


async def test_removed_and_added_lines_move_stock_on_a_reduced_order(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """§7: on an order whose stock is reduced, a removed line gives its stock back and a new
    line (by `sku`) takes its quantity; a null `product_id` removes like quantity 0."""
    order = sim.place_order([("MUG-1", 2)], status="processing")
    line_id = order["line_items"][0]["id"]

    response = await client.put(
        f"/orders/{order['id']}",
        json={"line_items": [{"id": line_id, "product_id": None}, {"sku": "MUG-2", "quantity": 3}]},
    )

    assert response.status_code == 200
    assert [(li["sku"], li["quantity"]) for li in response.json()["line_items"]] == [("MUG-2", 3)]
    assert response.json()["total"] == "12.00"
    assert sim.stock_of("MUG-1") == 10
    assert sim.stock_of("MUG-2") == 7


async def test_two_lines_of_one_product_are_adjusted_separately(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """§7: `_reduced_stock` is per line, so two lines of one product each keep their own."""
    order = sim.place_order([("MUG-1", 1), ("MUG-1", 2)], status="processing")
    assert sim.stock_of("MUG-1") == 7
    first = order["line_items"][0]["id"]

    await client.put(f"/orders/{order['id']}", json={"line_items": [{"id": first, "quantity": 4}]})

    assert sim.stock_of("MUG-1") == 4  # 4 + 2 sold


async def test_unknown_line_id_is_refused_and_nothing_changes(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """§2: a line item id that is not the order's → 400 `woocommerce_rest_invalid_item_id`."""
    order = sim.place_order([("MUG-1", 2)], status="processing")
    line_id = order["line_items"][0]["id"]

    response = await client.put(
        f"/orders/{order['id']}",
        json={"line_items": [{"id": line_id, "quantity": 5}, {"id": 999999, "quantity": 1}]},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "woocommerce_rest_invalid_item_id"
    assert sim.order(order["id"])["line_items"][0]["quantity"] == 2
    assert sim.stock_of("MUG-1") == 8


async def test_set_paid_leaves_orders_that_need_no_payment_alone(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """§7: `set_paid` on update acts only when the order needs_payment(): a payable status
    (WooCommerce's default: pending, failed) and a total above zero."""
    on_hold = sim.place_order([("MUG-1", 1)], status="on-hold")
    free = sim.place_order([("MUG-1", 1, "0")], status="pending")

    held = (await client.put(f"/orders/{on_hold['id']}", json={"set_paid": True})).json()
    zero = (await client.put(f"/orders/{free['id']}", json={"set_paid": True})).json()

    assert (held["status"], held["date_paid"]) == ("on-hold", None)
    assert (zero["status"], zero["date_paid"]) == ("pending", None)


async def test_set_paid_on_failed_order_sets_date_paid(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    order = sim.place_order([("MUG-1", 1)], status="failed")

    body = (await client.put(f"/orders/{order['id']}", json={"set_paid": True})).json()

    assert body["status"] == "processing"
    assert body["date_paid_gmt"] is not None
    assert sim.stock_of("MUG-1") == 9


async def test_orders_batch_create_update_delete(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """§4: each operation answers per item; failures are `{"id", "error"}` (id 0 for a
    failed create) and the HTTP status stays 200; deletes are permanent."""
    keep = sim.place_order([("MUG-1", 1)], status="pending")
    gone = sim.place_order([("MUG-2", 1)], status="pending")

    response = await client.post(
        "/orders/batch",
        json={
            "create": [
                {"line_items": [{"sku": "MUG-2", "quantity": 2}], "set_paid": True},
                {"line_items": [{"sku": "NOPE", "quantity": 1}]},
            ],
            "update": [{"id": keep["id"], "status": "on-hold"}, {"id": 424242}],
            "delete": [gone["id"], 0, 515151],
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["create"][0]["status"] == "processing"
    assert body["create"][0]["created_via"] == "rest-api"
    assert body["create"][1]["id"] == 0
    assert body["create"][1]["error"]["code"] == "woocommerce_rest_shop_order_not_created"
    assert body["update"][0]["status"] == "on-hold"
    assert body["update"][1]["id"] == 424242
    assert body["update"][1]["error"]["code"] == "woocommerce_rest_shop_order_invalid_id"
    assert body["update"][1]["error"]["data"]["status"] == 400
    assert body["delete"][0]["id"] == gone["id"]
    assert body["delete"][1]["error"]["data"]["status"] == 404
    assert (await client.get(f"/orders/{gone['id']}")).status_code == 404
    assert sim.stock_of("MUG-2") == 8
    assert sim.batches[-1].endpoint == "orders/batch"


async def test_orders_batch_limit_counts_every_operation(client: httpx.AsyncClient) -> None:
    """§4: create + update + delete together may not exceed 100 → the literal 413."""
    response = await client.put(
        "/orders/batch", json={"create": [{}] * 50, "update": [{"id": 1}] * 50, "delete": [1]}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "woocommerce_rest_request_entity_too_large"


async def test_orders_batch_needs_credentials(sim: WooSimulator) -> None:
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.url + API) as http:
        response = await http.patch("/orders/batch", json={"update": []})

    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_cannot_batch"


async def test_orders_batch_injected_failure_uses_the_order_codes() -> None:
    sim = WooSimulator(
        consumer_key=KEY,
        consumer_secret=SECRET,
        clock=FakeClock(),
        faults=FaultPlan(batch_item_failure_probability=1.0),
    )
    sim.add_product("MUG-1", price="10.00", stock_quantity=10)
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.url + API, auth=(KEY, SECRET)
    ) as http:
        body = (await http.post("/orders/batch", json={"create": [{}]})).json()

    assert body["create"][0]["id"] == 0
    assert body["create"][0]["error"]["code"] == "woocommerce_rest_shop_order_not_created"


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        ("/orders", [("status[]", "processing"), ("status[]", "shipped")], "status"),
        ("/products", {"status": "published"}, "status"),
        ("/products", {"stock_status": "in_stock"}, "stock_status"),
    ],
)
async def test_unknown_status_filters_are_refused(
    client: httpx.AsyncClient, path: str, params: object, name: str
) -> None:
    """§2/§3: a filter value outside its enum is a `rest_invalid_param` 400 naming it."""
    response = await client.get(path, params=params)  # type: ignore[arg-type]

    assert response.status_code == 400
    assert response.json()["code"] == "rest_invalid_param"
    assert name in response.json()["data"]["params"]


@pytest.mark.parametrize("status", ["any", "trash", "auto-draft", "checkout-draft", "on-hold"])
async def test_known_order_status_filters_are_accepted(
    client: httpx.AsyncClient, status: str
) -> None:
    assert (await client.get("/orders", params={"status": status})).status_code == 200
