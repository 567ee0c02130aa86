"""Two WooCommerce backends behind one arrange API: the simulator, and respx with literal bodies.

The respx side builds every success body from the published examples
(`reference/woo_order_example.json`, `woo_product_example.json`, copied beside the
WooCommerce client tests) and every error body from `reference/woocommerce.md` §1, §2 and §4,
with just enough state to page, look up SKUs and apply batches.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
import httpx
import respx

from nswoo._http import RetryPolicy
from nswoo._settings import Secret, WooSettings
from nswoo.limits._local import LocalLimiter
from nswoo.testing import FakeClock, WooSimulator
from nswoo.woocommerce import WooClient

EXAMPLES = Path(__file__).parents[1] / "woocommerce" / "fixtures"
KEY = "ck_contract_0123456789"
SECRET = "cs_contract_0123456789"
SIM_URL = "http://127.0.0.1:8081"
RESPX_URL = "https://shop.example"
API_PREFIX = "/wp-json/wc/v3"


def example(name: str) -> dict[str, Any]:
    """A fresh copy of a published example (`order` or `product`)."""
    data: dict[str, Any] = json.loads((EXAMPLES / f"woo_{name}_example.json").read_text())
    return data


def error(status: int, code: str, message: str, **data: Any) -> httpx.Response:
    """§2: every error body is `{code, message, data: {status, ...}}`."""
    body = {"code": code, "message": message, "data": {"status": status, **data}}
    return httpx.Response(status, json=body)


def settings(url: str, secret: str = SECRET) -> WooSettings:
    """Store settings with the contract keys."""
    return WooSettings(
        environment="sandbox", url=url, consumer_key=Secret(KEY), consumer_secret=Secret(secret)
    )


@attrs.frozen
class WireRequest:
    """A request as the backend received it."""

    method: str
    path: str
    params: Mapping[str, str]


class WooArrange(Protocol):
    """What a contract test may arrange and observe, whatever the backend."""

    def product(self, sku: str, *, price: str = "9.50", stock: int = 5) -> int:
        """A simple product that manages stock; returns its id."""

    def variable_product(self, sku: str, variations: Sequence[str]) -> tuple[int, dict[str, int]]:
        """A variable product with variations (by SKU); returns the parent id and their ids."""

    def orders(self, count: int) -> list[int]:
        """`count` processing orders; returns their ids, oldest first."""

    async def published_order(self) -> int:
        """The order of `woo_order_example.json` (as close as the backend can make it)."""

    def batch_limit(self, limit: int) -> None:
        """The store accepts at most `limit` items per batch request (§4 filter)."""

    def client(self, *, secret: str) -> WooClient:
        """Another client for the same store with a different consumer secret."""

    def requests(self) -> list[WireRequest]:
        """Every request the backend received, in order."""

    def batch_sizes(self) -> list[int]:
        """The number of update items in each batch request received."""


@attrs.define
class WooBackend:
    """A client wired to one backend, and its arrange API."""

    name: str
    client: WooClient
    arrange: WooArrange


def _client(url: str, clock: FakeClock, transport: Any, secret: str = SECRET) -> WooClient:
    return WooClient.from_settings(
        settings(url, secret),
        limiter=LocalLimiter(4, clock=clock),
        transport=transport,
        clock=clock,
        policy=RetryPolicy(attempts=4),
    )


# ---------------------------------------------------------------------------------------------
# Simulator


@attrs.define
class SimWooArrange:
    """Arranges the WooCommerce simulator through its seeding API."""

    sim: WooSimulator
    clock: FakeClock

    def product(self, sku: str, *, price: str = "9.50", stock: int = 5) -> int:
        return self.sim.add_product(sku, price=price, stock_quantity=stock)

    def variable_product(self, sku: str, variations: Sequence[str]) -> tuple[int, dict[str, int]]:
        parent = self.sim.add_variable_product(
            sku, [{"sku": v, "price": "19.99", "stock_quantity": 3} for v in variations]
        )
        return parent, {v: self.sim.id_for_sku(v) for v in variations}

    def orders(self, count: int) -> list[int]:
        self.sim.add_product("ORDER-SKU", price="5.00", stock_quantity=10 * count)
        return [self.sim.place_order([("ORDER-SKU", 1)])["id"] for _ in range(count)]

    async def published_order(self) -> int:
        # The example's two lines: a simple product without a SKU at 3.00 and variation
        # "Bar3" at 12.00, taxed at the store's 7.5 %, plus a 10.00 flat rate; created over
        # REST because a line without a SKU can only be placed by product id.
        published = example("order")
        single = self.sim.add_product("", price="3.00", stock_quantity=10, name="Woo Single #1")
        parent = self.sim.add_variable_product(
            "SHIP-IDEA",
            [{"sku": "Bar3", "price": "12.00", "stock_quantity": 10}],
            name="Ship Your Idea",
        )
        body = {
            "status": "processing",
            "billing": published["billing"],
            "shipping": published["shipping"],
            "line_items": [
                {"product_id": single, "quantity": 2},
                {"product_id": parent, "variation_id": self.sim.id_for_sku("Bar3"), "quantity": 1},
            ],
            "shipping_lines": [
                {"method_id": "flat_rate", "method_title": "Flat Rate", "total": "10.00"}
            ],
        }
        auth = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        response = await self.sim.handle(
            httpx.Request(
                "POST",
                f"{SIM_URL}{API_PREFIX}/orders",
                json=body,
                headers={"Authorization": f"Basic {auth}"},
            )
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def batch_limit(self, limit: int) -> None:
        self.sim.batch_limit = limit

    def client(self, *, secret: str) -> WooClient:
        return _client(SIM_URL, self.clock, self.sim.transport(), secret)

    def requests(self) -> list[WireRequest]:
        return [
            WireRequest(r.method, r.path, dict(httpx.QueryParams(r.query)))
            for r in self.sim.requests
        ]

    def batch_sizes(self) -> list[int]:
        return [b.update for b in self.sim.batches]


# ---------------------------------------------------------------------------------------------
# respx


@attrs.define
class RespxWooArrange:
    """A respx router answering from the published examples and the reference's error bodies."""

    router: respx.MockRouter
    clock: FakeClock
    items: dict[int, dict[str, Any]] = attrs.field(factory=dict)
    order_bodies: dict[int, dict[str, Any]] = attrs.field(factory=dict)
    limit: int = 100
    received: list[WireRequest] = attrs.field(factory=list)
    sizes: list[int] = attrs.field(factory=list)
    _next_id: int = 800

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _item(self, sku: str, *, price: str, stock: int | None, **changes: Any) -> int:
        # The published product with another id, SKU, price and stock (§6 fields).
        body = example("product")
        item_id = self._new_id()
        body.update(
            id=item_id,
            sku=sku,
            price=price,
            regular_price=price,
            manage_stock=stock is not None,
            stock_quantity=stock,
            **changes,
        )
        self.items[item_id] = body
        return item_id

    def product(self, sku: str, *, price: str = "9.50", stock: int = 5) -> int:
        return self._item(sku, price=price, stock=stock)

    def variable_product(self, sku: str, variations: Sequence[str]) -> tuple[int, dict[str, int]]:
        parent = self._item(sku, price="", stock=None, type="variable")
        ids = {
            v: self._item(v, price="19.99", stock=3, type="variation", parent_id=parent)
            for v in variations
        }
        self.items[parent]["variations"] = list(ids.values())
        return parent, ids

    def orders(self, count: int) -> list[int]:
        ids = []
        for _ in range(count):
            order_id = self._new_id()
            body = example("order")
            body.update(id=order_id, number=str(order_id))
            self.order_bodies[order_id] = body
            ids.append(order_id)
        return ids

    async def published_order(self) -> int:
        body = example("order")
        self.order_bodies[body["id"]] = body
        return int(body["id"])

    def batch_limit(self, limit: int) -> None:
        self.limit = limit

    def client(self, *, secret: str) -> WooClient:
        return _client(RESPX_URL, self.clock, None, secret)

    def requests(self) -> list[WireRequest]:
        return list(self.received)

    def batch_sizes(self) -> list[int]:
        return list(self.sizes)

    # -- routes ----------------------------------------------------------------------------

    def install(self) -> None:
        """Route every wc/v3 request through one handler."""
        self.router.route(url__startswith=f"{RESPX_URL}{API_PREFIX}/").mock(side_effect=self._serve)

    def _serve(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(API_PREFIX)
        self.received.append(
            WireRequest(request.method, request.url.path, dict(request.url.params))
        )
        refused = self._authenticate(request)
        if refused is not None:
            return refused
        if request.method == "GET" and path == "/orders":
            rows = [self.order_bodies[i] for i in sorted(self.order_bodies)]
            return self._page(request, rows)
        if request.method == "GET" and (m := re.fullmatch(r"/orders/(\d+)", path)):
            body = self.order_bodies.get(int(m[1]))
            if body is None:
                # §2: GET on an unknown id.
                return error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            return httpx.Response(200, json=body)
        if request.method == "GET" and path == "/products":
            skus = request.url.params.get("sku")
            wanted = set(skus.split(",")) if skus else None
            rows = [
                body
                for _, body in sorted(self.items.items())
                if (wanted is None and body["type"] != "variation")
                or (wanted is not None and body["sku"] in wanted)
            ]
            return self._page(request, rows)
        if request.method == "GET" and (m := re.fullmatch(r"/products/(\d+)/variations", path)):
            parent = int(m[1])
            rows = [
                body
                for _, body in sorted(self.items.items())
                if body["type"] == "variation" and body["parent_id"] == parent
            ]
            return self._page(request, rows)
        if request.method == "POST" and (
            m := re.fullmatch(r"/products(?:/(\d+)/variations)?/batch", path)
        ):
            return self._batch(request, variations=m[1] is not None)
        return error(404, "rest_no_route", "No route was found matching the URL and request method")

    def _authenticate(self, request: httpx.Request) -> httpx.Response | None:
        user, _, password = (
            base64.b64decode(request.headers["authorization"].removeprefix("Basic "))
            .decode()
            .partition(":")
        )
        if user == KEY and password == SECRET:
            return None
        # §1: Basic auth with a wrong secret, and the header the Basic path adds.
        response = error(
            401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."
        )
        response.headers["WWW-Authenticate"] = (
            'Basic realm="WooCommerce API. Use a consumer key in the username field and a '
            'consumer secret in the password field."'
        )
        return response

    def _page(self, request: httpx.Request, rows: list[dict[str, Any]]) -> httpx.Response:
        per_page = int(request.url.params.get("per_page", "10"))
        if not 1 <= per_page <= 100:
            # §2: the literal schema-validation body.
            return error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): per_page",
                params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
            )
        page = int(request.url.params.get("page", "1"))
        chunk = rows[(page - 1) * per_page : page * per_page]
        # §3: X-WP-Total and X-WP-TotalPages on every collection answer.
        headers = {
            "X-WP-Total": str(len(rows)),
            "X-WP-TotalPages": str(math.ceil(len(rows) / per_page)),
        }
        return httpx.Response(200, json=chunk, headers=headers)

    def _batch(self, request: httpx.Request, *, variations: bool) -> httpx.Response:
        updates = json.loads(request.content).get("update", [])
        self.sizes.append(len(updates))
        if len(updates) > self.limit:
            # §4: the literal 413 body.
            return error(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {self.limit} items for this request.",
            )
        post_type = "product_variation" if variations else "product"
        out = []
        for patch in updates:
            item = self.items.get(patch["id"])
            if item is None:
                # §2: an update on an unknown id is the invalid-id code with status 400.
                failure = {
                    "code": f"woocommerce_rest_{post_type}_invalid_id",
                    "message": "Invalid ID.",
                    "data": {"status": 400},
                }
                out.append({"id": patch["id"], "error": failure})
                continue
            owner = next(
                (
                    i
                    for i, b in self.items.items()
                    if b["sku"] == patch.get("sku") and i != item["id"]
                ),
                None,
            )
            if patch.get("sku") and owner is not None:
                # §2: a duplicate SKU names the product that holds it.
                failure = {
                    "code": "product_invalid_sku",
                    "message": "Invalid or duplicated SKU.",
                    "data": {
                        "status": 400,
                        "resource_id": owner,
                        "unique_sku": f"{patch['sku']}-1",
                    },
                }
                out.append({"id": patch["id"], "error": failure})
                continue
            item.update(patch)
            out.append(item)
        # §4: HTTP 200 even when items failed.
        return httpx.Response(200, json={"update": out})


async def woo_backend(name: str) -> AsyncIterator[WooBackend]:
    """Yield a client and arrange API for `name` (`simulator` or `respx`)."""
    clock = FakeClock()
    if name == "simulator":
        sim = WooSimulator(
            SIM_URL,
            consumer_key=KEY,
            consumer_secret=SECRET,
            clock=clock,
            tax_rate="0.075",
            tax_shipping=False,
        )
        async with _client(SIM_URL, clock, sim.transport()) as client:
            yield WooBackend(name, client, SimWooArrange(sim, clock))
        return
    with respx.mock(assert_all_called=False) as router:
        arrange = RespxWooArrange(router, clock)
        arrange.install()
        async with _client(RESPX_URL, clock, None) as client:
            yield WooBackend(name, client, arrange)
