"""The WooCommerce simulator answers like the reference (reference/woocommerce.md) says."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from nswoo.testing._clock import FakeClock
from nswoo.testing._factories import make_order, make_product, make_variation
from nswoo.testing._faults import ErrorBurst, FaultPlan
from nswoo.testing.woocommerce._sim import WooSimulator
from nswoo.testing.woocommerce._webhooks import WebhookSubscription

pytestmark = pytest.mark.anyio

KEY, SECRET = "ck_test", "cs_test"
API = "/wp-json/wc/v3"


def _sim(**kwargs: object) -> WooSimulator:
    kwargs.setdefault("clock", FakeClock())
    return WooSimulator(consumer_key=KEY, consumer_secret=SECRET, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def sim() -> WooSimulator:
    return _sim()


@pytest.fixture
async def client(sim: WooSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.url + API, auth=(KEY, SECRET)
    ) as http:
        yield http


# --- factories ------------------------------------------------------------------------------


def test_make_order_totals_add_up() -> None:
    """A factory order's lines, shipping, fees, coupons and tax sum to its total."""
    order = make_order(
        line_items=[("A", 2, "10.00"), ("B", 1, "5.50")],
        shipping_total="7.25",
        fees=[("Gift wrap", "2.00")],
        coupons=[("SAVE5", "5.00")],
        tax_rate="0.10",
    )
    lines = sum(Decimal(li["total"]) for li in order["line_items"])
    fees = sum(Decimal(f["total"]) for f in order["fee_lines"])
    assert lines == Decimal("20.50")  # 25.50 subtotal less the 5.00 coupon
    assert Decimal(order["total"]) == lines + Decimal(order["shipping_total"]) + fees + Decimal(
        order["total_tax"]
    )
    assert Decimal(order["total_tax"]) == Decimal(order["cart_tax"]) + Decimal(
        order["shipping_tax"]
    )
    assert order["discount_total"] == "5.00"


# Keys of the literal examples saved beside reference/woocommerce.md (order 727, product 794).
ORDER_KEYS = [
    "id",
    "parent_id",
    "number",
    "order_key",
    "created_via",
    "version",
    "status",
    "currency",
    "date_created",
    "date_created_gmt",
    "date_modified",
    "date_modified_gmt",
    "discount_total",
    "discount_tax",
    "shipping_total",
    "shipping_tax",
    "cart_tax",
    "total",
    "total_tax",
    "prices_include_tax",
    "customer_id",
    "customer_ip_address",
    "customer_user_agent",
    "customer_note",
    "billing",
    "shipping",
    "payment_method",
    "payment_method_title",
    "transaction_id",
    "date_paid",
    "date_paid_gmt",
    "date_completed",
    "date_completed_gmt",
    "cart_hash",
    "meta_data",
    "line_items",
    "tax_lines",
    "shipping_lines",
    "fee_lines",
    "coupon_lines",
    "refunds",
    "_links",
]
LINE_ITEM_KEYS = [
    "id",
    "name",
    "product_id",
    "variation_id",
    "quantity",
    "tax_class",
    "subtotal",
    "subtotal_tax",
    "total",
    "total_tax",
    "taxes",
    "meta_data",
    "sku",
    "price",
]
SHIPPING_LINE_KEYS = ["id", "method_title", "method_id", "total", "total_tax", "taxes", "meta_data"]
TAX_LINE_KEYS = [
    "id",
    "rate_code",
    "rate_id",
    "label",
    "compound",
    "tax_total",
    "shipping_tax_total",
    "meta_data",
]
PRODUCT_KEYS = [
    "id",
    "name",
    "slug",
    "permalink",
    "date_created",
    "date_created_gmt",
    "date_modified",
    "date_modified_gmt",
    "type",
    "status",
    "featured",
    "catalog_visibility",
    "description",
    "short_description",
    "sku",
    "price",
    "regular_price",
    "sale_price",
    "date_on_sale_from",
    "date_on_sale_from_gmt",
    "date_on_sale_to",
    "date_on_sale_to_gmt",
    "price_html",
    "on_sale",
    "purchasable",
    "total_sales",
    "virtual",
    "downloadable",
    "downloads",
    "download_limit",
    "download_expiry",
    "external_url",
    "button_text",
    "tax_status",
    "tax_class",
    "manage_stock",
    "stock_quantity",
    "stock_status",
    "backorders",
    "backorders_allowed",
    "backordered",
    "sold_individually",
    "weight",
    "dimensions",
    "shipping_required",
    "shipping_taxable",
    "shipping_class",
    "shipping_class_id",
    "reviews_allowed",
    "average_rating",
    "rating_count",
    "related_ids",
    "upsell_ids",
    "cross_sell_ids",
    "parent_id",
    "purchase_note",
    "categories",
    "tags",
    "images",
    "attributes",
    "default_attributes",
    "variations",
    "grouped_products",
    "menu_order",
    "meta_data",
    "_links",
]


def test_factories_match_reference_examples_key_by_key() -> None:
    """Factory orders and products carry exactly the keys of the published examples, in order."""
    order = make_order(tax_rate="0.075")
    assert list(order) == ORDER_KEYS
    assert list(order["line_items"][0]) == LINE_ITEM_KEYS
    assert list(order["shipping_lines"][0]) == SHIPPING_LINE_KEYS
    assert list(order["tax_lines"][0]) == TAX_LINE_KEYS
    assert list(make_product()) == PRODUCT_KEYS
    assert make_order()["line_items"][0]["price"] == 3  # a JSON number, as in the example


def test_make_variation_parent_managed_shape() -> None:
    """A parent-managed variation answers manage_stock "parent" with the parent's quantity."""
    variation = make_variation(
        id=23, parent_id=22, sku="TEE-M", manage_stock="parent", stock_quantity=4
    )
    assert (variation["manage_stock"], variation["stock_quantity"]) == ("parent", 4)
    assert variation["stock_status"] == "instock"
    assert make_product(manage_stock=True, stock_quantity=0)["stock_status"] == "outofstock"


# --- auth and errors ------------------------------------------------------------------------


async def test_wrong_secret_is_401_with_www_authenticate(sim: WooSimulator) -> None:
    """A wrong consumer secret gets the literal 401 body and the Basic realm header."""
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.url + API) as http:
        response = await http.get("/products", auth=(KEY, "wrong"))
    assert response.status_code == 401
    assert response.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Consumer secret is invalid.",
        "data": {"status": 401},
    }
    assert response.headers["WWW-Authenticate"] == (
        'Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer '
        'secret in the password field."'
    )


async def test_no_credentials_cannot_list(sim: WooSimulator) -> None:
    """A request without credentials runs anonymous and fails the list permission check."""
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.url + API) as http:
        anonymous = await http.get("/orders")
        unknown_key = await http.get("/orders", auth=("ck_other", SECRET))
        by_query = await http.get(
            "/orders", params={"consumer_key": KEY, "consumer_secret": SECRET}
        )
    for response in (anonymous, unknown_key):
        assert response.status_code == 401
        assert response.json() == {
            "code": "woocommerce_rest_cannot_view",
            "message": "Sorry, you cannot list resources.",
            "data": {"status": 401},
        }
        assert "WWW-Authenticate" not in response.headers
    assert by_query.status_code == 200


async def test_unknown_ids_get_404_and_put_gets_400(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """GET on an unknown id is 404 and PUT is 400, both with the post type's invalid-id code."""
    order = await client.get("/orders/999")
    product = await client.get("/products/999")
    put = await client.put("/products/999", json={"stock_quantity": 1})
    assert order.status_code == 404
    assert order.json() == {
        "code": "woocommerce_rest_shop_order_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }
    assert product.json()["code"] == "woocommerce_rest_product_invalid_id"
    assert (put.status_code, put.json()["code"]) == (400, "woocommerce_rest_product_invalid_id")
    assert (await client.get("/coupons")).json()["code"] == "rest_no_route"


# --- paging and filters ---------------------------------------------------------------------


async def test_per_page_over_100_is_the_literal_400(client: httpx.AsyncClient) -> None:
    """per_page=101 gets WordPress's literal rest_invalid_param body."""
    response = await client.get("/products", params={"per_page": 101})
    assert response.status_code == 400
    assert response.json() == {
        "code": "rest_invalid_param",
        "message": "Invalid parameter(s): per_page",
        "data": {
            "status": 400,
            "params": {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
        },
    }


async def test_paging_headers_and_stable_id_order(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """X-WP-Total/TotalPages are right, Link has only prev/next, and orderby=id pages are stable."""
    ids = [sim.add_product(f"SKU-{n:02d}", price="1.00", stock_quantity=1) for n in range(23)]
    seen: list[int] = []
    for page in (1, 2, 3):
        response = await client.get(
            "/products", params={"per_page": 10, "page": page, "orderby": "id", "order": "asc"}
        )
        assert response.headers["X-WP-Total"] == "23"
        assert response.headers["X-WP-TotalPages"] == "3"
        rels = [link.rsplit("rel=", 1)[1] for link in response.headers.get_list("Link")]
        expected = {1: ['"next"'], 2: ['"prev"', '"next"'], 3: ['"prev"']}[page]
        assert [r for r in rels if r != '"https://api.w.org/"'] == expected
        seen += [p["id"] for p in response.json()]
    assert seen == ids
    middle = await client.get("/products", params={"per_page": 10, "page": 2, "orderby": "id"})
    next_link = next(v for v in middle.headers.get_list("Link") if 'rel="next"' in v)
    assert "per_page=10" in next_link
    assert "page=3" in next_link
    past_end = await client.get("/products", params={"per_page": 10, "page": 9})
    assert past_end.status_code == 200
    assert past_end.json() == []
    assert past_end.headers["X-WP-Total"] == "23"


async def test_order_filters_status_and_modified_after_gmt() -> None:
    """status lists and modified_after with dates_are_gmt=true select the right orders."""
    clock = FakeClock(epoch=1_700_000_000.0)
    sim = _sim(clock=clock, utc_offset=timedelta(hours=-3))
    sim.add_product("MUG", price="5.00", stock_quantity=50)
    old = sim.place_order([("MUG", 1)], status="processing")
    clock.advance(3600)
    new = sim.place_order([("MUG", 1)], status="on-hold")
    held = sim.place_order([("MUG", 1)], status="pending")
    cutoff = new["date_modified_gmt"]
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.url + API, auth=(KEY, SECRET)
    ) as http:
        by_status = await http.get("/orders", params={"status": "processing,on-hold"})
        as_array = await http.get("/orders", params=[("status[]", "pending")])
        gmt_after = await http.get(
            "/orders",
            params={"modified_after": old["date_modified_gmt"], "dates_are_gmt": "true"},
        )
        # Read as site-local time (3 h behind GMT) the same value selects no order.
        local_after = await http.get("/orders", params={"modified_after": old["date_modified_gmt"]})
        none_after = await http.get(
            "/orders", params={"modified_after": cutoff, "dates_are_gmt": "true"}
        )
    assert sorted(o["id"] for o in by_status.json()) == [old["id"], new["id"]]
    assert [o["id"] for o in as_array.json()] == [held["id"]]
    assert sorted(o["id"] for o in gmt_after.json()) == [new["id"], held["id"]]
    assert len(local_after.json()) == 0
    assert none_after.json() == []
    assert old["date_modified"] != old["date_modified_gmt"]


async def test_sku_filter_lists_variations_too(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """GET /products?sku= takes a comma list and finds variations by SKU."""
    sim.add_product("MUG", price="5.00", stock_quantity=3)
    parent = sim.add_variable_product(
        "TEE", [{"sku": "TEE-S", "price": "12"}, {"sku": "TEE-M", "price": "12"}]
    )
    listed = await client.get("/products", params={"sku": "MUG,TEE-M"})
    plain = await client.get("/products")
    found = {p["sku"]: p for p in listed.json()}
    assert set(found) == {"MUG", "TEE-M"}
    assert found["TEE-M"]["type"] == "variation"
    assert found["TEE-M"]["parent_id"] == parent
    assert {p["sku"] for p in plain.json()} == {"MUG", "TEE"}


# --- batch ----------------------------------------------------------------------------------


async def test_batch_over_100_items_is_the_literal_413(client: httpx.AsyncClient) -> None:
    """A batch of 101 items gets the literal 413 body."""
    response = await client.post(
        "/products/batch", json={"update": [{"id": n, "stock_quantity": 1} for n in range(101)]}
    )
    assert response.status_code == 413
    assert response.json() == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items for this request.",
        "data": {"status": 413},
    }


async def test_batch_reports_item_errors_with_200_and_applies_the_rest(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """Two failing items come back as {id, error} with HTTP 200 while the others are applied."""
    mug = sim.add_product("MUG", price="5.00", stock_quantity=3)
    sim.add_variable_product("TEE", [{"sku": "TEE-M", "price": "12", "stock_quantity": 2}])
    variation = sim.id_for_sku("TEE-M")
    response = await client.post(
        "/products/batch",
        json={
            "update": [
                {"id": mug, "stock_quantity": 40},
                {"id": 424242, "stock_quantity": 1},
                {"id": variation, "stock_quantity": 9},
            ]
        },
    )
    assert response.status_code == 200
    update = response.json()["update"]
    assert update[0]["stock_quantity"] == 40
    assert update[1] == {
        "id": 424242,
        "error": {
            "code": "woocommerce_rest_product_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 400},
        },
    }
    assert update[2]["id"] == variation
    assert update[2]["error"]["code"] == "woocommerce_rest_invalid_product_id"
    assert update[2]["error"]["data"] == {"status": 404}
    assert sim.stock_of("MUG") == 40
    assert sim.stock_of("TEE-M") == 2
    assert [w.id for w in sim.stock_writes] == [mug]
    assert sim.batches[-1].update == 3


async def test_batch_item_failure_probability_fails_single_items() -> None:
    """The fault plan fails individual batch items with realistic codes and applies the rest."""
    sim = _sim(faults=FaultPlan(seed=3, batch_item_failure_probability=0.5))
    ids = [sim.add_product(f"S{n}", price="1", stock_quantity=0) for n in range(20)]
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.url + API, auth=(KEY, SECRET)
    ) as http:
        response = await http.post(
            "/products/batch", json={"update": [{"id": i, "stock_quantity": 7} for i in ids]}
        )
    assert response.status_code == 200
    results = response.json()["update"]
    failed = [r for r in results if "error" in r]
    assert 0 < len(failed) < len(ids)
    assert {r["error"]["code"] for r in failed} == {"woocommerce_rest_product_invalid_id"}
    applied = {r["id"] for r in results if "error" not in r}
    assert all(sim.stock_of(f"S{n}") == (7 if i in applied else 0) for n, i in enumerate(ids))


async def test_variation_batch_updates_stock(sim: WooSimulator, client: httpx.AsyncClient) -> None:
    """The variations batch endpoint writes a variation's absolute stock."""
    parent = sim.add_variable_product("TEE", [{"sku": "TEE-M", "price": "12", "stock_quantity": 2}])
    variation = sim.id_for_sku("TEE-M")
    response = await client.post(
        f"/products/{parent}/variations/batch",
        json={"update": [{"id": variation, "stock_quantity": 11}]},
    )
    assert response.status_code == 200
    assert response.json()["update"][0]["stock_quantity"] == 11
    assert sim.stock_of("TEE-M") == 11


# --- stock ----------------------------------------------------------------------------------


async def test_processing_order_reduces_stock_once_and_cancel_restores(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """Processing reduces managed stock once, completing does not again, cancelling restores it."""
    sim.add_product("MUG", price="5.00", stock_quantity=10)
    sim.add_product("FREE", price="5.00", manage_stock=False)
    order = sim.place_order([("MUG", 3), ("FREE", 1)], status="processing")
    assert sim.stock_of("MUG") == 7
    completed = await client.put(f"/orders/{order['id']}", json={"status": "completed"})
    assert completed.status_code == 200
    assert completed.json()["date_completed_gmt"] is not None
    assert sim.stock_of("MUG") == 7
    await client.put(f"/orders/{order['id']}", json={"status": "cancelled"})
    assert sim.stock_of("MUG") == 10
    assert sim.stock_of("FREE") is None


async def test_parent_managed_variation_sells_from_parent(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """A variation without its own stock answers "parent" and orders reduce the parent."""
    parent = sim.add_variable_product(
        "TEE",
        [{"sku": "TEE-M", "price": "12", "manage_stock": False}],
        manage_stock=True,
        stock_quantity=8,
    )
    sim.place_order([("TEE-M", 2)], status="on-hold")
    variations = (await client.get(f"/products/{parent}/variations")).json()
    assert variations[0]["manage_stock"] == "parent"
    assert variations[0]["stock_quantity"] == 6
    assert (await client.get(f"/products/{parent}")).json()["stock_quantity"] == 6


async def test_stock_write_semantics(sim: WooSimulator, client: httpx.AsyncClient) -> None:
    """Absolute quantities set the stock status; manage_stock=false clears the quantity."""
    mug = sim.add_product("MUG", price="5.00", stock_quantity=3)
    zero = (await client.put(f"/products/{mug}", json={"stock_quantity": 0})).json()
    assert (zero["stock_quantity"], zero["stock_status"]) == (0, "outofstock")
    off = (
        await client.put(
            f"/products/{mug}", json={"manage_stock": False, "stock_status": "instock"}
        )
    ).json()
    assert (off["manage_stock"], off["stock_quantity"], off["stock_status"]) == (
        False,
        None,
        "instock",
    )
    assert len(sim.stock_writes) == 2


async def test_rest_created_order_matches_the_factory_shape(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """POST /orders takes a factory payload, answers 201 with Location, and adds up."""
    sim.add_product("MUG", price="5.00", stock_quantity=10)
    payload = make_order(line_items=[("MUG", 2, "5.00")], shipping_total="3.00")
    created = await client.post("/orders", json=payload | {"id": 0})
    body = created.json()
    assert created.status_code == 201
    assert created.headers["Location"].endswith(f"/orders/{body['id']}")
    assert body["total"] == "13.00"
    assert body["created_via"] == "rest-api"
    assert sim.stock_of("MUG") == 8


# --- faults ---------------------------------------------------------------------------------


async def test_fault_plan_429_5xx_and_resets() -> None:
    """Injected 429s carry Retry-After, bursts answer 5xx, and resets raise transport errors."""
    plan = FaultPlan(
        seed=1,
        rate_limit_probability=1.0,
        retry_after=2,
        error_bursts=(ErrorBurst(start=0, count=1),),
    )
    limited = _sim(faults=plan)
    async with httpx.AsyncClient(
        transport=limited.transport(), base_url=limited.url + API, auth=(KEY, SECRET)
    ) as http:
        first = await http.get("/products")
        second = await http.get("/products")
    assert first.status_code == 429
    assert second.headers["Retry-After"] == "2"
    resets = _sim(faults=FaultPlan(reset_probability=1.0))
    async with httpx.AsyncClient(
        transport=resets.transport(), base_url=resets.url + API, auth=(KEY, SECRET)
    ) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/products")
    bursts = _sim(faults=FaultPlan(error_bursts=(ErrorBurst(start=0, count=2, status=502),)))
    async with httpx.AsyncClient(
        transport=bursts.transport(), base_url=bursts.url + API, auth=(KEY, SECRET)
    ) as http:
        statuses = [(await http.get("/products")).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert bursts.counts[("GET /products", 502)] == 2


# --- webhooks -------------------------------------------------------------------------------


class _Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status)


def _verify(request: httpx.Request, secret: str) -> bool:
    expected = base64.b64encode(hmac.new(secret.encode(), request.content, hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), request.headers["X-WC-Webhook-Signature"])


async def test_webhook_delivery_is_signed_with_reference_headers() -> None:
    """A delivery carries §8's headers and a signature that verifies over the exact bytes."""
    sim = _sim(webhook_secret="whsec")
    sim.add_product("MUG", price="5.00", stock_quantity=5)
    hook = sim.subscribe("https://receiver.example/hook", "order.created")
    order = sim.place_order([("MUG", 1)])
    receiver = _Receiver()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        results = await sim.deliver_pending(http)
    assert [r.ok for r in results] == [True]
    (request,) = receiver.requests
    assert _verify(request, "whsec")
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("WooCommerce/")
    assert " Hookshot (WordPress/" in headers["User-Agent"]
    assert headers["X-WC-Webhook-Source"] == sim.url + "/"
    assert headers["X-WC-Webhook-Topic"] == "order.created"
    assert headers["X-WC-Webhook-Resource"] == "order"
    assert headers["X-WC-Webhook-Event"] == "created"
    assert headers["X-WC-Webhook-ID"] == str(hook.id)
    assert len(headers["X-WC-Webhook-Delivery-ID"]) == 32
    assert json.loads(request.content) == sim.order(order["id"])
    assert b"\\/" in request.content  # PHP's json_encode escapes slashes; verify raw bytes


async def test_ping_is_unsigned_webhook_id() -> None:
    """The ping posts webhook_id=<id> with no signature and no X-WC-Webhook headers."""
    sim = _sim(webhook_secret="whsec")
    hook = sim.subscribe("https://receiver.example/hook")
    receiver = _Receiver()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        result = await sim.send_ping(http, hook.id)
    (request,) = receiver.requests
    assert request.content == f"webhook_id={hook.id}".encode()
    assert not [h for h in request.headers if h.lower().startswith("x-wc-webhook")]
    assert result.ok
    assert not hook.pending_delivery


async def test_duplicate_and_redeliver_faults() -> None:
    """Duplicates repeat the delivery id; redeliveries repeat the body with a new id."""
    sim = _sim(
        webhook_secret="whsec",
        faults=FaultPlan(duplicate_webhook_probability=1.0, redeliver_probability=1.0),
    )
    sim.add_product("MUG", price="5.00", stock_quantity=5)
    sim.subscribe("https://receiver.example/hook", "order.created")
    sim.place_order([("MUG", 1)])
    receiver = _Receiver()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        results = await sim.deliver_pending(http)
    assert [r.kind for r in results] == ["delivery", "duplicate", "redelivery"]
    ids = [r.headers["X-WC-Webhook-Delivery-ID"] for r in receiver.requests]
    assert ids[0] == ids[1] != ids[2]
    assert len({r.content for r in receiver.requests}) == 1
    assert all(_verify(r, "whsec") for r in receiver.requests)


async def test_failed_delivery_is_not_retried_and_disables_after_limit() -> None:
    """A failed delivery is sent once, and the 7th consecutive failure disables the webhook."""
    sim = _sim(webhook_secret="whsec")
    sim.add_product("MUG", price="5.00", stock_quantity=50)
    hook = sim.subscribe("https://receiver.example/hook", "order.created")
    receiver = _Receiver(status=500)
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        sim.place_order([("MUG", 1)])
        first = await sim.deliver_pending(http)
        assert [r.ok for r in first] == [False]
        assert await sim.deliver_pending(http) == []
        for _ in range(6):
            sim.place_order([("MUG", 1)])
            await sim.deliver_pending(http)
    assert len(receiver.requests) == 7
    assert hook.status == "disabled"


async def test_checkout_draft_produces_order_updated_only() -> None:
    """A checkout-draft order sends order.updated (issue #66995) and no order.created."""
    sim = _sim(webhook_secret="whsec")
    sim.add_product("MUG", price="5.00", stock_quantity=5)
    sim.subscribe("https://receiver.example/hook", "order.created")
    sim.subscribe("https://receiver.example/hook", "order.updated")
    draft = sim.place_order([("MUG", 1)], status="checkout-draft")
    receiver = _Receiver()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        await sim.deliver_pending(http)
    topics = [r.headers["X-WC-Webhook-Topic"] for r in receiver.requests]
    assert topics == ["order.updated"]
    assert json.loads(receiver.requests[0].content)["status"] == "checkout-draft"
    assert draft["id"] == json.loads(receiver.requests[0].content)["id"]


async def test_updates_collapse_while_pending() -> None:
    """Updates to one order before delivery collapse into one delivery of its latest state."""
    sim = _sim(webhook_secret="whsec")
    sim.add_product("MUG", price="5.00", stock_quantity=5)
    sim.subscribe("https://receiver.example/hook", "order.updated")
    order = sim.place_order([("MUG", 1)], status="pending")
    sim.set_order_status(order["id"], "processing")
    sim.set_order_status(order["id"], "completed")
    receiver = _Receiver()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        await sim.deliver_pending(http)
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0].content)["status"] == "completed"


async def test_webhook_subscription_repr_hides_secret() -> None:
    """A subscription's repr never shows its secret."""
    sub = WebhookSubscription(delivery_url="https://r.example", topic="order.updated", secret="xyz")
    assert "xyz" not in repr(sub)
