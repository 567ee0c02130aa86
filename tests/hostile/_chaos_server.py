"""The chaos test's simulators, served on loopback as one separate process.

`nswoo sim` serves one sandbox NetSuite account and one shop; the chaos scenario needs two
environments side by side:

- sandbox: NetSuite account `1234567_SB1` and two WooCommerce shops, `main` and `outlet`,
  whose order ids overlap (both count from the same first id, orders placed in lockstep);
- production: NetSuite account `1234567` and one shop, also named `main`.

Everything is built with the public `nswoo.testing` API and served with `serve_simulators`
(three pairs of apps). A fourth app, the *control* app (no faults), is how the test process
plays the shoppers and reads the simulators' own records:

| route | does |
|---|---|
| `POST /shops/<shop>/orders` | place an order (`lines`, `status`, `shipping_total`, `skew_total`) |
| `PUT /shops/<shop>/orders/<id>` | change an order's status (`{"status": ...}`) as an admin |
| `GET /shops/<shop>/orders/<id>` | the order's REST body now (what a webhook carries) |
| `GET /shops/<shop>/orders` | every order of the shop, REST bodies |
| `GET /netsuite/<env>/sales-orders` | every sales order of the account (SuiteQL, then GET) |
| `GET /stats` | request counts by status per simulator (the faults actually injected) |

`skew_total` makes a *poison* order whose totals do not add up: the shop's REST answers
(order list, order, webhook body) report `total` raised by that amount while the lines,
shipping and tax stay as they are, as a store with a misbehaving totals plugin does. The
WooCommerce simulator itself always computes totals that add up, so the skew is applied by
an ASGI layer around its app here, and by the control app on the bodies it returns.

Usage: `python -m tests.hostile._chaos_server SPEC.json`. The spec holds `seed`,
`directory` (for key and config files), and the fault plans `netsuite_faults` and
`woo_faults` (the `nswoo sim --faults` mapping; each simulator gets its own seed derived
from `seed`). Prints one JSON line describing everything (URLs, credentials, files, ids),
then serves until SIGTERM or SIGINT and exits 0.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AsyncExitStack, suppress
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx

from nswoo.testing import (
    FaultPlan,
    NetSuiteSimulator,
    WooSimulator,
    generate_m2m_key_pair,
    serve_simulators,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

API = "/wp-json/wc/v3"
ENVIRONMENTS = {"sandbox": "1234567_SB1", "prod": "1234567"}
# shop key → (environment, `[orders] store` name)
SHOPS = {
    "sandbox-main": ("sandbox", "main"),
    "sandbox-outlet": ("sandbox", "outlet"),
    "prod-main": ("prod", "main"),
}
# sku, NetSuite cost, on hand (east, west)
NETSUITE_ITEMS = (
    ("MUG-BLUE", "3.10", (400, 250)),
    ("POSTER-A2", "1.80", (600, 0)),
    ("TEE-RED-M", "4.20", (150, 100)),
    ("TEE-RED-L", "4.20", (80, 120)),
)
# Prices differ per shop, so an order imported under the wrong shop shows wrong amounts.
PRICES = {
    "sandbox-main": {"MUG-BLUE": "12.00", "POSTER-A2": "9.50", "TEE-RED": "19.00"},
    "sandbox-outlet": {"MUG-BLUE": "8.40", "POSTER-A2": "6.65", "TEE-RED": "13.30"},
    "prod-main": {"MUG-BLUE": "12.50", "POSTER-A2": "9.90", "TEE-RED": "19.90"},
}
UNKNOWN_SKU = "LAMP-NOT-IN-NETSUITE"
"""Sold by every shop, missing in both NetSuite accounts: orders with it are poison."""
FIRST_ORDER_ID = 5000
"""Every shop counts ids from here, so the shops' order ids overlap."""


def _derived_seed(seed: int, name: str) -> int:
    # Independent fault streams per simulator, all fixed by the one seed (as `nswoo sim`).
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "big")


def _plan(mapping: dict[str, Any], seed: int, name: str) -> FaultPlan:
    return FaultPlan.from_mapping({**mapping, "seed": _derived_seed(seed, name)})


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


class World:
    """The simulators, their seeded ids, and the skews of the poison orders."""

    def __init__(self, spec: dict[str, Any]) -> None:
        seed = int(spec["seed"])
        self.directory = Path(spec["directory"])
        self.netsuite: dict[str, NetSuiteSimulator] = {}
        self.keys: dict[str, tuple[str, str, str]] = {}
        self.ids: dict[str, dict[str, Any]] = {}
        for env, account in ENVIRONMENTS.items():
            sim = NetSuiteSimulator(
                account, faults=_plan(spec.get("netsuite_faults", {}), seed, f"netsuite-{env}")
            )
            client_id, certificate_id = f"chaos-{env}-client", f"chaos-{env}-cert"
            private_pem, public_pem = generate_m2m_key_pair("ES256")
            sim.register_m2m_client(client_id, certificate_id, public_pem)
            east, west = sim.add_location("East"), sim.add_location("West")
            items = {
                sku: sim.add_item(
                    sku, cost=cost, average_cost=cost, locations={east: q_east, west: q_west}
                )
                for sku, cost, (q_east, q_west) in NETSUITE_ITEMS
            }
            shipping = sim.add_item(
                "SHIPPING", cost=None, locations={}, item_type="NonInvtPart", display_name="Ship"
            )
            customer = sim.add_customer(company_name="Web Store", email="web@example.com")
            self.netsuite[env] = sim
            self.keys[env] = (client_id, certificate_id, private_pem)
            self.ids[env] = {
                "items": items,
                "shipping_item": shipping,
                "customer": customer,
                "location": east,
            }
        self.shops: dict[str, WooSimulator] = {}
        for shop in SHOPS:
            tag = hashlib.sha256(f"{seed}:{shop}".encode()).hexdigest()[:16]
            woo = WooSimulator(
                consumer_key=f"ck_{tag}",
                consumer_secret=f"cs_{tag}",
                webhook_secret=f"whsec-{shop}-{tag}",
                faults=_plan(spec.get("woo_faults", {}), seed, f"woo-{shop}"),
                first_id=FIRST_ORDER_ID,
            )
            prices = PRICES[shop]
            woo.add_product("MUG-BLUE", price=prices["MUG-BLUE"], stock_quantity=650)
            woo.add_product("POSTER-A2", price=prices["POSTER-A2"], stock_quantity=600)
            woo.add_product(UNKNOWN_SKU, price="30.00", stock_quantity=100)
            woo.add_variable_product(
                "TEE-RED",
                [
                    {"sku": "TEE-RED-M", "price": prices["TEE-RED"], "stock_quantity": 250},
                    {"sku": "TEE-RED-L", "price": prices["TEE-RED"], "stock_quantity": 200},
                ],
                name="Red T-Shirt",
            )
            self.shops[shop] = woo
        self.orders: dict[str, list[int]] = {shop: [] for shop in SHOPS}
        self.skews: dict[str, dict[int, Decimal]] = {shop: {} for shop in SHOPS}

    # -- the shops ---------------------------------------------------------------------------

    def skewed(self, shop: str, order: Any) -> Any:
        """`order` (a REST order body, or a list of them) with poison totals applied."""
        if isinstance(order, list):
            return [self.skewed(shop, one) for one in order]
        if isinstance(order, dict) and isinstance(order.get("id"), int):
            skew = self.skews[shop].get(order["id"])
            if skew is not None and "total" in order:
                return {**order, "total": _money(Decimal(str(order["total"])) + skew)}
        return order

    def place(self, shop: str, body: dict[str, Any]) -> dict[str, Any]:
        woo = self.shops[shop]
        lines = [(str(sku), int(qty)) for sku, qty in body["lines"]]
        order = woo.place_order(
            lines,
            status=str(body.get("status", "processing")),
            shipping_total=str(body.get("shipping_total", "0.00")),
        )
        self.orders[shop].append(order["id"])
        if body.get("skew_total"):
            self.skews[shop][order["id"]] = Decimal(str(body["skew_total"]))
        return dict(self.skewed(shop, order))

    async def sales_orders(self, env: str) -> list[dict[str, Any]]:
        """Every sales order in the account: listed by the simulator's SuiteQL, read by id.

        Uses the simulator's sans-socket core (`handle`), so no fault applies to the test's
        own look at the truth.
        """
        sim = self.netsuite[env]
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            request = httpx.Request(
                "POST",
                f"{sim.base_url}/services/rest/query/v1/suiteql?limit=1000&offset={offset}",
                headers={"Authorization": f"Bearer {sim.mint_token()}", "Prefer": "transient"},
                json={"q": "SELECT id FROM transaction WHERE type = 'SalesOrd' ORDER BY id"},
            )
            answer = await sim.handle(request)
            if answer.status_code != 200:
                raise LookupError(f"SuiteQL answered {answer.status_code}: {answer.text}")
            page = answer.json()
            found.extend(sim.sales_order(int(row["id"])) for row in page["items"])
            if not page["hasMore"]:
                return found
            offset += len(page["items"])

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for env, sim in self.netsuite.items():
            stats = sim.stats
            out[f"netsuite-{env}"] = {
                "requests": len(stats.requests),
                "by_status": {str(k): v for k, v in stats.by_status.items()},
                # "timeout": a slow commit answered after the client gave up.
                "outcomes": dict(Counter(r.outcome for r in stats.requests)),
                "rate_limited": stats.rate_limited,
                "tokens_minted": stats.tokens_minted,
                "created": dict(stats.created),
            }
        for shop, woo in self.shops.items():
            statuses: dict[str, int] = {}
            for record in woo.requests:
                statuses[str(record.status)] = statuses.get(str(record.status), 0) + 1
            out[f"woo-{shop}"] = {"requests": len(woo.requests), "by_status": statuses}
        return out


# ---------------------------------------------------------------------------------------------
# ASGI: the skew layer around a shop, and the control app


def skewing(app: App, world: World, shop: str) -> App:
    """`app` (a shop's simulator) with the poison orders' totals raised in order answers."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(f"{API}/orders"):
            await app(scope, receive, send)
            return
        held: list[Message] = []
        body = bytearray()

        async def hold(message: Message) -> None:
            if message["type"] == "http.response.start":
                held.append(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    await _release(held[0], bytes(body))
            else:  # pragma: no cover - plain HTTP only
                await send(message)

        async def _release(start: Message, content: bytes) -> None:
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            if any(k.lower() == b"content-type" and b"json" in v for k, v in headers):
                with suppress(ValueError):
                    content = json.dumps(world.skewed(shop, json.loads(content))).encode()
            headers.append((b"content-length", str(len(content)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": content})

        try:
            await app(scope, receive, hold)
        except BaseException:
            # A simulated connection reset starts an answer it never finishes: pass the start
            # on, so the server drops the connection as it would without this layer.
            if held and not body:
                await send(held[0])
            raise

    return wrapped


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, payload: Any) -> None:
    content = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


_SHOP_ORDERS = re.compile(r"/shops/([a-z-]+)/orders(?:/([0-9]+))?")
_SALES_ORDERS = re.compile(r"/netsuite/([a-z]+)/sales-orders")


def control_app(world: World) -> App:
    """The test's own door into the simulators (no faults, no auth: loopback and test only)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        raw = await _read_body(receive)
        try:
            body = json.loads(raw) if raw else {}
            if path == "/stats" and method == "GET":
                await _answer(send, 200, world.stats())
                return
            if match := _SALES_ORDERS.fullmatch(path):
                await _answer(send, 200, await world.sales_orders(match.group(1)))
                return
            if match := _SHOP_ORDERS.fullmatch(path):
                shop, order_id = match.group(1), match.group(2)
                woo = world.shops[shop]
                if order_id is None and method == "POST":
                    await _answer(send, 201, world.place(shop, body))
                elif order_id is None and method == "GET":
                    orders = [woo.order(i) for i in world.orders[shop]]
                    await _answer(send, 200, world.skewed(shop, orders))
                elif method == "PUT":
                    order = woo.set_order_status(int(order_id), str(body["status"]))
                    await _answer(send, 200, world.skewed(shop, order))
                else:
                    await _answer(send, 200, world.skewed(shop, woo.order(int(order_id))))
                return
            await _answer(send, 404, {"error": f"no route {method} {path}"})
        except (LookupError, ValueError, TypeError) as exc:
            await _answer(send, 400, {"error": f"{type(exc).__name__}: {exc}"})

    return app


# ---------------------------------------------------------------------------------------------
# Main


def _config(store: str, ids: dict[str, Any]) -> str:
    return (
        "[orders]\n"
        f'store = "{store}"\n'
        f'customer = {{ strategy = "single", id = {ids["customer"]} }}\n'
        f"location = {ids['location']}\n"
        f"shipping_item = {ids['shipping_item']}\n"
    )


def describe(world: World, urls: dict[str, str], control: str) -> dict[str, Any]:
    """Everything the test needs, written out: files, URLs, credentials and seeded ids."""
    netsuite = {}
    for env, sim in world.netsuite.items():
        client_id, certificate_id, private_pem = world.keys[env]
        key_file = world.directory / f"netsuite-{env}-key.pem"
        key_file.write_text(private_pem)
        key_file.chmod(0o600)
        netsuite[env] = {
            "account_id": sim.account_id,
            "url": urls[f"netsuite-{env}"],
            "client_id": client_id,
            "certificate_id": certificate_id,
            "key_file": str(key_file),
            **world.ids[env],
        }
    shops = {}
    for shop, (env, store) in SHOPS.items():
        woo = world.shops[shop]
        config = world.directory / f"{shop}.toml"
        config.write_text(_config(store, world.ids[env]))
        shops[shop] = {
            "env": env,
            "store": store,
            "url": urls[shop],
            "consumer_key": woo.consumer_key,
            "consumer_secret": woo.consumer_secret,
            "webhook_secret": woo.webhook_secret,
            "config": str(config),
        }
    return {"control": control, "netsuite": netsuite, "shops": shops, "unknown_sku": UNKNOWN_SKU}


async def serve(spec: dict[str, Any]) -> int:
    """Build the world, serve it, print its description, wait for SIGTERM/SIGINT."""
    world = World(spec)
    shop_apps = {shop: skewing(woo.asgi_app(), world, shop) for shop, woo in world.shops.items()}
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with AsyncExitStack() as stack:
            sandbox = await stack.enter_async_context(
                serve_simulators(world.netsuite["sandbox"].asgi_app(), shop_apps["sandbox-main"])
            )
            prod = await stack.enter_async_context(
                serve_simulators(world.netsuite["prod"].asgi_app(), shop_apps["prod-main"])
            )
            # serve_simulators serves any two ASGI apps; the names are only its defaults.
            outlet = await stack.enter_async_context(
                serve_simulators(shop_apps["sandbox-outlet"], control_app(world))
            )
            urls = {
                "netsuite-sandbox": sandbox.netsuite,
                "sandbox-main": sandbox.woocommerce,
                "netsuite-prod": prod.netsuite,
                "prod-main": prod.woocommerce,
                "sandbox-outlet": outlet.netsuite,
            }
            for shop, woo in world.shops.items():
                # Bound to free ports: links and webhook sources must name the real address.
                woo.rebase(urls[shop])
            sys.stdout.write(json.dumps(describe(world, urls, outlet.woocommerce)) + "\n")
            sys.stdout.flush()
            async for _ in signals:
                break
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m tests.hostile._chaos_server SPEC.json\n")
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    return int(anyio.run(serve, spec))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
