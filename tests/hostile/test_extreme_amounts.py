"""Hostile numbers in WooCommerce orders: one order is one rejection, never a stalled run.

An amount such as `1e999999999` or one with more than 60 significant digits used to pass the
converter and blow up the mapper's decimal arithmetic (`InvalidOperation`/`Overflow`): every
`orders sync` ended in an ExceptionGroup, the cursor never moved and the orders after it were
neither imported nor dead-lettered. The bounds are documented in
`nswoo.woocommerce._records`; what lies outside them is refused at the converter, naming the
field, and any unforeseen failure of one order's import is that order's dead letter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest

from nswoo._settings import OrdersConfig, Secret
from nswoo.errors import ResponseInvalid, WebhookPayloadInvalid
from nswoo.limits._local import LocalLimiter
from nswoo.orders._plan import Rejection, map_order
from nswoo.orders._sync import OrderSync
from nswoo.store.memory import MemoryStore
from nswoo.testing import make_order
from nswoo.testing._world import SimWorld, build_world
from nswoo.woocommerce import sign_body, verify_delivery
from nswoo.woocommerce._client import WooClient
from nswoo.woocommerce._convert import dumps, loads, structure_order

pytestmark = pytest.mark.anyio

SIXTY_ONE_DIGITS = "1234567890" * 6 + "1"


class TamperedListing(httpx.AsyncBaseTransport):
    """The WooCommerce simulator, with some orders' fields rewritten in every answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport, edits: Mapping[int, dict[str, Any]]):
        self.inner = inner
        self.edits = edits

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "/orders" not in request.url.path:
            return response
        await response.aread()
        data = json.loads(response.content)
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and item.get("id") in self.edits:
                item.update(self.edits[item["id"]])
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=json.dumps(data))


def polling_sync(
    world: SimWorld, store: MemoryStore, edits: Mapping[int, dict[str, Any]]
) -> OrderSync:
    woo = WooClient.from_settings(
        world.woo_settings,
        limiter=LocalLimiter(4, clock=world.clock),
        transport=TamperedListing(world.woocommerce.transport(), edits),
        clock=world.clock,
    )
    return OrderSync(
        netsuite=world.netsuite_client(),
        woocommerce=woo,
        store=store,
        config=world.config.orders,
        clock=world.clock,
    )


async def test_one_extreme_order_does_not_stall_polling() -> None:
    """31 orders, two with impossible totals: 29 imported, 2 dead-lettered naming `total`."""
    world = build_world()
    ids = [world.woocommerce.place_order([("MUG-BLUE", 1)])["id"] for _ in range(31)]
    poison = {ids[8]: {"total": "1e999999999"}, ids[20]: {"total": SIXTY_ONE_DIGITS}}
    store = MemoryStore()
    sync = polling_sync(world, store, poison)

    report = await sync.sync()

    assert report.count("imported") == 29
    assert sorted(r.order_id for r in report.dead_letters) == sorted(poison)
    assert all("$.total" in (r.reason or "") for r in report.dead_letters)
    assert all("out of range" in (r.reason or "") for r in report.dead_letters)
    assert sorted(int(k) for k in world.netsuite.sales_orders_by_woo_id()) == sorted(
        set(ids) - set(poison)
    )
    letters = await store.dead_letters.list("sim")
    assert sorted(letter.order_id for letter in letters) == sorted(poison)
    # The kept payload is what WooCommerce sent, written compactly, and reads back.
    for letter in letters:
        assert letter.payload is not None
        assert len(letter.payload) < 20_000
        assert loads(letter.payload)["id"] == letter.order_id
    assert await store.cursors.get(sync.cursor_name) is not None

    again = await sync.sync()
    assert again.count("imported") == 0
    assert again.count("kept_dead_letter") == 2
    assert len(world.netsuite.sales_orders_by_woo_id()) == 29


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        ("$.total", lambda o: o.update(total="1e999999999")),
        ("$.total", lambda o: o.update(total=SIXTY_ONE_DIGITS)),
        ("$.total", lambda o: o.update(total="0." + "0" * 60 + "1")),
        ("$.shipping_total", lambda o: o.update(shipping_total="-1e15")),
        ("$.id", lambda o: o.update(id=2**63)),
        ("$.customer_id", lambda o: o.update(customer_id=-(2**63) - 1)),
        ("$.line_items[0].quantity", lambda o: o["line_items"][0].update(quantity=10**30)),
        ("$.line_items[0].quantity", lambda o: o["line_items"][0].update(quantity=10**10)),
        ("$.line_items[0].id", lambda o: o["line_items"][0].update(id=2**64)),
        ("$.line_items[0].total", lambda o: o["line_items"][0].update(total="1E+16")),
        ("$.line_items[0].price", lambda o: o["line_items"][0].update(price=Decimal("1e999"))),
        (
            "$.line_items[0].taxes[0].total",
            lambda o: o["line_items"][0].update(taxes=[{"id": 1, "total": "9" * 40}]),
        ),
    ],
)
def test_converter_refuses_out_of_range_numbers_naming_the_field(path: str, edit: Any) -> None:
    """An out-of-range amount, quantity or id is `ResponseInvalid` naming its JSON path."""
    payload = make_order()
    edit(payload)
    with pytest.raises(ResponseInvalid) as caught:
        structure_order(payload)
    message = str(caught.value)
    problem, _, where = message.partition(" @ ")
    assert where.startswith(f"{path} ") or where == path
    assert "out of range" in problem or "decimal places; at most 8 are accepted" in problem
    assert len(message) < 400


def test_bounds_accept_what_woocommerce_really_sends() -> None:
    """Store-decimal money, float-derived prices and unrounded taxes all still read."""
    payload = make_order(dp=3, currency="KWD")
    payload["line_items"][0].update(
        price=Decimal("3.3333333333333335"),
        taxes=[{"id": 75, "total": "0.4545454545454545", "subtotal": ""}],
        quantity=9_999_999_999,
    )
    payload.update(total="999999999999999.999", customer_id=2**63 - 1)
    order = structure_order(payload)
    assert order.total == Decimal("999999999999999.999")
    assert order.line_items[0].quantity == 9_999_999_999


def test_a_huge_integer_literal_spoils_only_its_own_order() -> None:
    """A 5000-digit integer no longer makes the whole page unreadable: just its order."""
    page = b'[{"id": 1, "total": "1.00"}, {"id": 2, "customer_id": 1' + b"0" * 5000 + b"}]"
    items = loads(page)
    assert items[0]["id"] == 1
    with pytest.raises(ResponseInvalid, match=r"out of range: integers must fit in 64 bits"):
        structure_order({**make_order(), "customer_id": items[1]["customer_id"]})


def test_a_kept_payload_with_an_extreme_exponent_stays_small() -> None:
    """`dumps` writes 1E+100000 as exponent notation, not as 100,001 digits."""
    data = loads(b'{"total": 1e100000, "price": 6.00}')
    text = dumps(data)
    assert len(text) < 100
    assert loads(text) == data
    assert b'"price":6.00' in text


def test_map_order_rejects_out_of_range_amounts_on_an_order_built_directly() -> None:
    """An order not built by the converter gets a rejection naming the field, not Overflow."""
    order = structure_order(make_order(line_items=[("A", 2, "3.00")], shipping_total="0"))
    config = OrdersConfig(store="main")
    for bad in (
        attrs.evolve(order, total=Decimal("1e999999999")),
        attrs.evolve(order, total=Decimal(SIXTY_ONE_DIGITS)),
        attrs.evolve(order, line_items=(attrs.evolve(order.line_items[0], quantity=10**30),)),
        attrs.evolve(order, line_items=(attrs.evolve(order.line_items[0], quantity=10**5000),)),
    ):
        result = map_order(bad, config=config, items={"A": 11}, customer_id=107)
        assert isinstance(result, Rejection)
        assert result.kind == "invalid_order"
        assert "out of range" in result.reason


class _BuggyOrderSync(OrderSync):
    """An import with a bug that only one order triggers."""

    buggy_order: int = 0

    def _decide(self, job: Any, items: Any, customers: Any) -> None:
        if job.order.id == self.buggy_order:
            raise RuntimeError("a bug nobody foresaw")
        super()._decide(job, items, customers)


async def test_an_unexpected_error_in_one_order_does_not_end_the_run() -> None:
    """The failing order is dead-lettered with the error; the others are imported."""
    world = build_world()
    orders = [structure_order(world.woocommerce.place_order([("TEE-S", 1)])) for _ in range(5)]
    store = MemoryStore()
    sync = _BuggyOrderSync(
        netsuite=world.netsuite_client(),
        woocommerce=None,
        store=store,
        config=world.config.orders,
        clock=world.clock,
    )
    sync.buggy_order = orders[2].id

    report = await sync.import_orders(orders)

    assert report.count("imported") == 4
    [failed] = report.dead_letters
    assert failed.order_id == orders[2].id
    assert "RuntimeError: a bug nobody foresaw" in (failed.reason or "")
    [letter] = await store.dead_letters.list("sim")
    assert letter.order_id == orders[2].id
    assert letter.payload is not None
    # Its claim was released: once the bug is gone, replay imports it.
    sync.buggy_order = 0
    replayed = await sync.replay()
    assert replayed.count("imported") == 1
    assert await store.dead_letters.list("sim") == []
    assert len(world.netsuite.sales_orders_by_woo_id()) == 5


def test_a_webhook_with_an_out_of_range_amount_is_refused_naming_the_field() -> None:
    """A signed delivery whose total is beyond 10^15 is a 400 naming `$.total`, not a
    delivery that fails five leases in the inbox."""
    secret = Secret("whsec-test")
    payload = make_order()
    payload["total"] = "1e20"
    body = json.dumps(payload).encode()
    headers = {
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": "created",
        "X-WC-Webhook-Signature": sign_body(body, secret),
        "X-WC-Webhook-Delivery-ID": "1",
    }
    with pytest.raises(WebhookPayloadInvalid, match=r"out of range.*@ \$\.total"):
        verify_delivery(headers, body, secret=secret)
