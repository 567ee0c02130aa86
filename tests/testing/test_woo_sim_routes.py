"""WooCommerce simulator routes: DELETE with force or trash, OPTIONS, full order addresses.

Facts: reference/woocommerce.md §2, §5, §8; WooCommerce's CRUD and products controllers
(`delete_item`) and WordPress's `rest_handle_options_request` / `rest_send_allow_header`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from nswoo.testing import FakeClock, WooSimulator

pytestmark = pytest.mark.anyio

KEY, SECRET = "ck_routes", "cs_routes"
API = "/wp-json/wc/v3"
EXAMPLE = Path(__file__).parents[1] / "woocommerce" / "fixtures" / "woo_order_example.json"


@pytest.fixture
def sim() -> WooSimulator:
    return WooSimulator(consumer_key=KEY, consumer_secret=SECRET, clock=FakeClock())


@pytest.fixture
async def http(sim: WooSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.url + API, auth=(KEY, SECRET)
    ) as client:
        yield client


# --- DELETE products ------------------------------------------------------------------------


async def test_product_delete_without_force_trashes_then_410(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """Without force the product goes to the trash (answer: the product as it was), leaves
    the default listing, and a second DELETE is 410 `woocommerce_rest_already_trashed`."""
    product_id = sim.add_product("MUG-1", price="9.50", stock_quantity=3)
    first = await http.delete(f"/products/{product_id}")
    assert first.status_code == 200
    assert (first.json()["id"], first.json()["status"]) == (product_id, "publish")
    assert sim.product(product_id)["status"] == "trash"
    listed = await http.get("/products")
    trashed = await http.get("/products", params={"status": "trash"})
    assert listed.json() == []
    assert [p["id"] for p in trashed.json()] == [product_id]
    again = await http.delete(f"/products/{product_id}")
    assert again.status_code == 410
    assert again.json() == {
        "code": "woocommerce_rest_already_trashed",
        "message": "The product has already been deleted.",
        "data": {"status": 410},
    }


async def test_product_delete_with_force_removes_it_and_its_variations(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """`force=true` deletes permanently; a variable product takes its variations with it."""
    parent = sim.add_variable_product(
        "TEE", [{"sku": "TEE-M", "price": "10"}, {"sku": "TEE-L", "price": "10"}]
    )
    variation = sim.id_for_sku("TEE-M")
    response = await http.delete(f"/products/{parent}", params={"force": "true"})
    assert response.status_code == 200
    assert response.json()["id"] == parent
    assert (await http.get(f"/products/{parent}")).status_code == 404
    assert (await http.get(f"/products/{parent}/variations/{variation}")).status_code == 404
    with pytest.raises(KeyError):
        sim.id_for_sku("TEE-L")


async def test_product_delete_of_unknown_id_and_of_a_variation(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """§2: an unknown id is 404 invalid id; a variation through /products/<id> is refused."""
    sim.add_variable_product("TEE", [{"sku": "TEE-M", "price": "10"}])
    unknown = await http.delete("/products/999999", params={"force": "true"})
    variation = await http.delete(f"/products/{sim.id_for_sku('TEE-M')}")
    assert (unknown.status_code, unknown.json()["code"]) == (
        404,
        "woocommerce_rest_product_invalid_id",
    )
    assert (variation.status_code, variation.json()["code"]) == (
        404,
        "woocommerce_rest_invalid_product_id",
    )


async def test_delete_needs_a_key(sim: WooSimulator) -> None:
    """Anonymous deletes fail the permission check with 401 and change nothing."""
    product_id = sim.add_product("MUG-1", price="9.50", stock_quantity=3)
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.url + API) as http:
        response = await http.delete(f"/products/{product_id}", params={"force": "true"})
    assert (response.status_code, response.json()["code"]) == (
        401,
        "woocommerce_rest_cannot_delete",
    )
    assert sim.product(product_id)["status"] == "publish"


# --- DELETE orders --------------------------------------------------------------------------


async def test_order_trash_fires_order_deleted_and_keeps_stock(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """Trashing an order sets status `trash` (no stock restored: §7 hooks only cancelled and
    pending) and queues `order.deleted` (§8 `woocommerce_trash_order`)."""
    sim.add_product("MUG-1", price="9.50", stock_quantity=5)
    order = sim.place_order([("MUG-1", 2)], status="processing")
    sim.subscribe("http://receiver.test/hook", "order.deleted", secret="s")
    response = await http.delete(f"/orders/{order['id']}")
    assert response.status_code == 200
    assert response.json()["status"] == "processing"  # the answer is prepared before
    assert sim.order(order["id"])["status"] == "trash"
    assert sim.stock_of("MUG-1") == 3
    assert sim.pending_deliveries == 1
    listed = await http.get("/orders")
    assert listed.json() == []
    again = await http.delete(f"/orders/{order['id']}")
    assert (again.status_code, again.json()["message"]) == (
        410,
        "The shop_order has already been deleted.",
    )


async def test_order_delete_with_force_removes_it(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """`force=true` deletes the order for good: GET is then 404 invalid id."""
    sim.add_product("MUG-1", price="9.50", stock_quantity=5)
    order = sim.place_order([("MUG-1", 1)])
    response = await http.delete(f"/orders/{order['id']}", params={"force": "true"})
    assert response.status_code == 200
    missing = await http.get(f"/orders/{order['id']}")
    assert (missing.status_code, missing.json()["code"]) == (
        404,
        "woocommerce_rest_shop_order_invalid_id",
    )


# --- OPTIONS --------------------------------------------------------------------------------


async def test_options_describes_the_route_and_allows_its_methods(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """OPTIONS answers the route's namespace, methods and endpoints, and `Allow`."""
    product_id = sim.add_product("MUG-1", price="9.50", stock_quantity=3)
    response = await http.options(f"/products/{product_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["namespace"] == "wc/v3"
    assert body["methods"] == ["GET", "POST", "PUT", "PATCH", "DELETE"]
    assert [e["methods"] for e in body["endpoints"]] == [
        ["GET"],
        ["POST", "PUT", "PATCH"],
        ["DELETE"],
    ]
    assert body["schema"]["title"] == "product"
    assert response.headers["allow"] == "GET, POST, PUT, PATCH, DELETE"
    collection = await http.options("/orders")
    assert collection.json()["methods"] == ["GET", "POST"]


async def test_options_anonymous_has_no_allow_and_unknown_route_is_empty(
    sim: WooSimulator,
) -> None:
    """OPTIONS needs no permission; anonymously no method passes its permission check, so no
    `Allow`; a path matching no route answers 200 with `[]`."""
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.url + API) as http:
        known = await http.options("/orders")
        unknown = await http.options("/nothing/here")
    assert known.status_code == 200
    assert known.json()["methods"] == ["GET", "POST"]
    assert "allow" not in known.headers
    assert (unknown.status_code, unknown.json()) == (200, [])


async def test_unknown_method_on_a_known_route_is_no_route(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """WordPress answers a method a route does not have with 404 `rest_no_route`."""
    response = await http.delete("/orders/batch")
    assert (response.status_code, response.json()["code"]) == (404, "rest_no_route")


# --- addresses ------------------------------------------------------------------------------


async def test_created_order_carries_every_address_key(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """§5: a REST-created order's billing and shipping carry every key of the published
    example, given or not (empty when not given); unknown keys are dropped."""
    sim.add_product("MUG-1", price="9.50", stock_quantity=5)
    example = json.loads(EXAMPLE.read_text())
    created = await http.post(
        "/orders",
        json={
            "line_items": [{"sku": "MUG-1", "quantity": 1}],
            "billing": {"email": "ada@example.com", "postcode": 94103, "nickname": "x"},
        },
    )
    assert created.status_code == 201
    order = created.json()
    assert list(order["billing"]) == list(example["billing"])
    assert list(order["shipping"]) == list(example["shipping"])
    assert order["billing"]["email"] == "ada@example.com"
    assert order["billing"]["postcode"] == "94103"
    assert order["billing"]["first_name"] == ""
    assert set(order["shipping"].values()) == {""}


async def test_updated_address_keeps_every_key(sim: WooSimulator, http: httpx.AsyncClient) -> None:
    """A PUT with part of an address changes those keys and keeps the others."""
    sim.add_product("MUG-1", price="9.50", stock_quantity=5)
    order = sim.place_order([("MUG-1", 1)], billing={"email": "a@example.com"})
    assert list(order["billing"]) == [
        "first_name",
        "last_name",
        "company",
        "address_1",
        "address_2",
        "city",
        "state",
        "postcode",
        "country",
        "email",
        "phone",
    ]
    updated = await http.put(
        f"/orders/{order['id']}", json={"shipping": {"city": "Oslo"}, "billing": {"phone": "1"}}
    )
    body = updated.json()
    assert body["shipping"]["city"] == "Oslo"
    assert body["billing"]["email"] == "a@example.com"
    assert body["billing"]["phone"] == "1"
    assert len(body["shipping"]) == 9
