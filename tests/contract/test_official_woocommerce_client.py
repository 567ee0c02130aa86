"""The official `woocommerce` client (PyPI `woocommerce` 3.0.0, woocommerce/wc-api-python)
drives the WooCommerce simulator over real loopback HTTP.

A client nobody here wrote: what it sends is what users' integrations send, so the
simulator must answer it as WooCommerce does. Over `http://` the client signs every request
with OAuth 1.0a one-legged, HMAC-SHA256, parameters in the query string (its `oauth.py`;
reference/woocommerce.md "Open-source Python clients", P-wcapi), which real WooCommerce
accepts there and the simulator must too (§1). The simulator runs with
`refuse_basic_over_http=True`, like a store WordPress sees as plain HTTP.

The client is synchronous (requests): each call runs in a worker thread while uvicorn
serves the simulator on the event loop. Each case cites its source in the reference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
import requests

from nswoo.testing import NetSuiteSimulator, WooSimulator, serve_simulators
from woocommerce import API  # type: ignore[import-untyped]

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

KEY = "ck_official_0123456789abcdef"
SECRET = "cs_official_0123456789abcdef"


class Store:
    """The simulator served on loopback, and the official client pointed at it."""

    def __init__(self, sim: WooSimulator, api: API) -> None:
        self.sim = sim
        self.api = api

    async def call(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        """`api.<method>(endpoint, ...)` in a thread (requests blocks)."""
        function: Callable[..., requests.Response] = getattr(self.api, method)
        return await anyio.to_thread.run_sync(lambda: function(endpoint, *args, **kwargs))


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    sim = WooSimulator(consumer_key=KEY, consumer_secret=SECRET, refuse_basic_over_http=True)
    async with serve_simulators(NetSuiteSimulator().asgi_app(), sim.asgi_app()) as urls:
        # OAuth signs home_url(path) (§1): the store must know the address it is served on.
        sim.rebase(urls.woocommerce)
        yield Store(sim, API(url=urls.woocommerce, consumer_key=KEY, consumer_secret=SECRET))


async def test_oauth_over_plain_http_is_accepted(store: Store) -> None:
    """§1: over http:// the client signs OAuth 1.0a (HMAC-SHA256, query string): 200."""
    store.sim.add_product("MUG-1", price="9.50", stock_quantity=3)
    response = await store.call("get", "products", params={"sku": "MUG-1"})
    assert response.status_code == 200, response.text
    assert [p["sku"] for p in response.json()] == ["MUG-1"]
    assert "oauth_signature_method=HMAC-SHA256" in response.request.url


async def test_wrong_secret_is_refused_with_woocommerce_words(store: Store) -> None:
    """§1 table: a signature made with another secret is 401 `Invalid signature ...`."""
    wrong = API(url=store.sim.url, consumer_key=KEY, consumer_secret="cs_wrong")
    response = await anyio.to_thread.run_sync(lambda: wrong.get("products"))
    assert response.status_code == 401
    assert response.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Invalid signature - provided signature does not match.",
        "data": {"status": 401},
    }


async def test_paging_headers_and_links(store: Store) -> None:
    """§3: per_page/page, X-WP-Total and X-WP-TotalPages on every page, prev/next links,
    a page past the end is an empty 200."""
    for n in range(25):
        store.sim.add_product(f"SKU-{n:02d}", price="1.00", stock_quantity=1)
    seen: list[str] = []
    for page in (1, 2, 3):
        response = await store.call(
            "get",
            "products",
            params={"per_page": 10, "page": page, "orderby": "id", "order": "asc"},
        )
        assert response.status_code == 200
        assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == ("25", "3")
        seen += [p["sku"] for p in response.json()]
        rels = {link["rel"] for link in response.links.values()}
        assert ("next" in rels) == (page < 3)
        assert ("prev" in rels) == (page > 1)
    past = await store.call("get", "products", params={"per_page": 10, "page": 4})
    assert seen == [f"SKU-{n:02d}" for n in range(25)]
    assert (past.status_code, past.json()) == (200, [])


async def test_per_page_over_100_is_refused(store: Store) -> None:
    """§2/§3: per_page 101 fails schema validation with `rest_invalid_param`."""
    response = await store.call("get", "products", params={"per_page": 101})
    assert response.status_code == 400
    assert response.json()["code"] == "rest_invalid_param"
    assert response.json()["data"]["params"] == {
        "per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"
    }


async def test_batch_of_100_passes_and_101_is_413(store: Store) -> None:
    """§4: create + update + delete may hold 100 items; 101 is 413 with the literal body."""
    ids = [store.sim.add_product(f"B-{n:03d}", price="2.00", stock_quantity=0) for n in range(101)]
    updates = [{"id": i, "stock_quantity": 7} for i in ids]
    full = await store.call("post", "products/batch", {"update": updates[:100]})
    over = await store.call("post", "products/batch", {"update": updates})
    assert full.status_code == 200
    assert [item["stock_quantity"] for item in full.json()["update"]] == [7] * 100
    assert over.status_code == 413
    assert over.json() == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items for this request.",
        "data": {"status": 413},
    }
    assert store.sim.stock_of("B-100") == 0


async def test_batch_per_item_errors_inside_a_200(store: Store) -> None:
    """§4: failed items come back as `{id, error}` (id 0 for a failed create) in a 200, and
    the others are applied (no rollback)."""
    kept = store.sim.add_product("KEEP", price="3.00", stock_quantity=1)
    response = await store.call(
        "post",
        "products/batch",
        {
            "create": [{"name": "Dup", "sku": "KEEP", "regular_price": "1.00"}],
            "update": [{"id": kept, "stock_quantity": 4}, {"id": 999999, "stock_quantity": 1}],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["create"][0]["id"] == 0
    assert body["create"][0]["error"]["code"] == "product_invalid_sku"  # §2 duplicate SKU
    assert body["update"][0]["stock_quantity"] == 4
    assert body["update"][1]["id"] == 999999
    assert body["update"][1]["error"]["code"] == "woocommerce_rest_product_invalid_id"
    assert store.sim.stock_of("KEEP") == 4


async def test_created_order_carries_full_addresses(store: Store) -> None:
    """§5 and woo_order_example.json: a created order's billing and shipping carry every
    key real answers carry, even those the request left out."""
    store.sim.add_product("MUG-1", price="9.50", stock_quantity=3)
    response = await store.call(
        "post",
        "orders",
        {
            "status": "processing",
            "billing": {"first_name": "Ada", "email": "ada@example.com"},
            "line_items": [{"sku": "MUG-1", "quantity": 1}],
        },
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert sorted(order["billing"]) == sorted(
        [
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
    )
    assert len(order["shipping"]) == 9
    assert order["billing"]["first_name"] == "Ada"


async def test_delete_trashes_then_force_deletes(store: Store) -> None:
    """Products controller `delete_item`: without force, trash (a second time 410); with
    `force=True` (sent by the client as the text `True`), gone for good."""
    product = store.sim.add_product("GONE", price="1.00", stock_quantity=1)
    trashed = await store.call("delete", f"products/{product}")
    again = await store.call("delete", f"products/{product}")
    forced = await store.call("delete", f"products/{product}", params={"force": True})
    after = await store.call("get", f"products/{product}")
    assert trashed.status_code == 200
    assert (again.status_code, again.json()["code"]) == (410, "woocommerce_rest_already_trashed")
    assert forced.status_code == 200
    assert (after.status_code, after.json()["code"]) == (
        404,
        "woocommerce_rest_product_invalid_id",
    )


async def test_options_lists_the_route(store: Store) -> None:
    """WordPress answers OPTIONS with the route's methods; OPTIONS needs no key permission."""
    response = await store.call("options", "orders")
    assert response.status_code == 200
    assert response.json()["methods"] == ["GET", "POST"]
    assert response.headers["Allow"] == "GET, POST"


async def test_webhook_created_through_the_client(store: Store) -> None:
    """§8 / webhooks controller: POST webhooks is 201, active, and never shows the secret."""
    response = await store.call(
        "post",
        "webhooks",
        {
            "name": "Order created",
            "topic": "order.created",
            "delivery_url": "http://127.0.0.1:9/webhooks/woocommerce",
            "secret": "s3cret",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    assert "secret" not in response.json()


async def test_a_replayed_request_is_refused(store: Store) -> None:
    """§1: the same signed URL sent twice reuses its nonce: the second is 401."""
    store.sim.add_product("MUG-1", price="9.50", stock_quantity=3)
    first = await store.call("get", "products")
    url = first.request.url
    replay = await anyio.to_thread.run_sync(lambda: requests.get(url, timeout=5))
    assert first.status_code == 200
    assert replay.status_code == 401
    assert replay.json()["message"] == "Invalid nonce - nonce has already been used."
