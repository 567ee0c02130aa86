"""Hostile deliveries: whatever a sender controls is answered 2xx or 4xx, never 5xx.

Every 5xx counts toward WooCommerce disabling the webhook (reference §8), and the headers are
not covered by the signature, so a replayed valid delivery with one header edited must still
be refused with a 4xx that says why. The store is a real SQLite file: its 64-bit INTEGER is
the bound an order id must fit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.orders.receiver._support import SECRET, STORE, order_body, serving, signed

from nswoo.orders._receiver import WebhookReceiver, asgi_app
from nswoo.store.sqlite import SqliteStore
from nswoo.woocommerce._webhooks import sign_body

pytestmark = pytest.mark.anyio

LIMIT = 256 * 1024
URL = "/webhooks/woocommerce"
INT64_MAX = 2**63 - 1


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[WebhookReceiver]:
    async with await SqliteStore.open(tmp_path / "nswoo.db") as store:
        yield WebhookReceiver(store=store, store_name=STORE, secret=SECRET, max_body_bytes=LIMIT)


def stored_rows(path: Path) -> list[tuple[int | None, bytes]]:
    """What the SQLite file itself holds: (order id, body) of every inbox row."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT order_id, body FROM inbox ORDER BY rowid").fetchall()
    return [(order_id, bytes(body)) for order_id, body in rows]


def deleted_body(order_id: object) -> bytes:
    """An `order.deleted` body: WooCommerce sends only `{"id": N}` (reference §8)."""
    return json.dumps({"id": order_id}).encode()


async def refused(
    receiver: WebhookReceiver, headers: dict[str, str], body: bytes
) -> tuple[int, str]:
    response = await receiver.handle(headers, body)
    return response.status, str(response.body.get("error", response.body["status"]))


@pytest.mark.parametrize(
    ("topic", "body"),
    [
        ("order.updated", order_body(id=2**63)),
        ("order.deleted", deleted_body(2**63)),
        ("order.deleted", deleted_body(2**64 + 5)),
    ],
)
async def test_order_id_past_sqlite_integer_range_is_400(
    receiver: WebhookReceiver, topic: str, body: bytes
) -> None:
    """A signed order whose id does not fit SQLite's signed 64-bit INTEGER is 400, not 500."""
    status, reason = await refused(receiver, signed(body, topic), body)
    assert status == 400
    assert "id" in reason
    assert await receiver.store.inbox.pending_count() == 0


async def test_order_id_at_the_top_of_the_range_is_stored(
    receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """2^63 - 1 is the largest id SQLite holds: it is accepted and stored as sent."""
    body = deleted_body(INT64_MAX)
    response = await receiver.handle(signed(body, "order.deleted"), body)
    assert (response.status, response.body["order_id"]) == (200, INT64_MAX)
    assert stored_rows(tmp_path / "nswoo.db") == [(INT64_MAX, body)]


@pytest.mark.parametrize(
    "order_id", [0, -1, -(2**63), 1.5, 727.0, True, "727", None, [727], {"id": 727}]
)
async def test_order_id_that_is_not_a_positive_integer_is_400(
    receiver: WebhookReceiver, order_id: object
) -> None:
    """Zero, negative, float, boolean, string, null and nested ids are refused with 400."""
    body = deleted_body(order_id)
    status, reason = await refused(receiver, signed(body, "order.deleted"), body)
    assert (status, "id" in reason) == (400, True)


@pytest.mark.parametrize(
    "value",
    [
        "9" * 5000,  # past Python's int-from-string digit limit: a ValueError, not a 400, today
        str(2**63),
        "0",
        "-12",
        "12.0",
        "١٢",  # Arabic-Indic digits: str.isdigit() says yes, int() would parse them
    ],
)
async def test_webhook_id_header_out_of_range_is_400(receiver: WebhookReceiver, value: str) -> None:
    """X-WC-Webhook-ID must be a positive 64-bit integer; anything else is a clear 400."""
    body = order_body()
    headers = signed(body) | {"X-WC-Webhook-ID": value}
    status, reason = await refused(receiver, headers, body)
    assert (status, "X-WC-Webhook-ID" in reason) == (400, True)
    assert await receiver.store.inbox.pending_count() == 0


@pytest.mark.parametrize(
    "value",
    [
        "9" * 5000,  # a replayed delivery with the unsigned header edited
        "a" * 129,
        "has space",
        "tab\there",
        "nul\x00byte",
        "caf\u00e9",
        "lone\udcffsurrogate",  # what a framework gives for undecodable bytes
    ],
)
async def test_delivery_id_header_that_is_too_long_or_not_visible_ascii_is_400(
    receiver: WebhookReceiver, value: str
) -> None:
    """X-WC-Webhook-Delivery-ID is a short token (a 32-char hash, §8); others are refused 400."""
    body = order_body()
    headers = signed(body) | {"X-WC-Webhook-Delivery-ID": value}
    status, reason = await refused(receiver, headers, body)
    assert (status, "X-WC-Webhook-Delivery-ID" in reason) == (400, True)
    assert await receiver.store.inbox.pending_count() == 0


async def test_delivery_id_of_128_visible_characters_is_accepted(
    receiver: WebhookReceiver,
) -> None:
    """The bound leaves room for any real delivery id: 128 visible ASCII characters pass."""
    body = order_body()
    delivery_id = "d" * 64 + "!~:/+=._-" + "e" * 55
    response = await receiver.handle(signed(body, delivery_id=delivery_id), body)
    assert (response.status, response.body["delivery_id"]) == (200, delivery_id)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser's recursion limit
        b'{"id": 727, "meta": ' + b"[" * 500 + b"]" * 500 + b"}",
        b'{"id": 727, "meta": ' + b'{"a":' * 100 + b"1" + b"}" * 100 + b"}",
    ],
)
async def test_deeply_nested_json_is_400(receiver: WebhookReceiver, body: bytes) -> None:
    """JSON nested deeper than any WooCommerce order (64 levels) is refused 400, not 500."""
    status, reason = await refused(receiver, signed(body, "order.deleted"), body)
    assert (status, "nest" in reason) == (400, True)


@pytest.mark.parametrize(
    "changes",
    [
        {"customer_id": 2**64},
        {"line_items": [{"id": 1, "product_id": -(2**63) - 1}]},
        {"total": 1e308 * 10},  # json.dumps writes Infinity: refused as not JSON
    ],
)
async def test_numbers_php_cannot_send_are_400(
    receiver: WebhookReceiver, changes: dict[str, Any]
) -> None:
    """Integers outside PHP's 64-bit range cannot come from WooCommerce: refused 400."""
    body = order_body(**changes)
    status, _ = await refused(receiver, signed(body), body)
    assert status == 400
    assert await receiver.store.inbox.pending_count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": 727, "x": 1e99999}',
        b'{"id": 727, "x": 1e999999999999999999999}',  # past Decimal: InvalidOperation today
        b'{"id": 727, "x": ' + b"9" * 5000 + b"}",
    ],
)
async def test_numbers_no_double_or_int64_holds_are_400(
    receiver: WebhookReceiver, body: bytes
) -> None:
    """A number past an IEEE double or with thousands of digits is refused 400."""
    status, _ = await refused(receiver, signed(body, "order.deleted"), body)
    assert status == 400


@pytest.mark.parametrize("body", [b"[727]", b'"727"', b"727", b"null", b"true"])
async def test_non_object_json_for_an_order_topic_is_400(
    receiver: WebhookReceiver, body: bytes
) -> None:
    """An order topic whose body is an array, string, number or null is refused 400."""
    status, _ = await refused(receiver, signed(body, "order.deleted"), body)
    assert status == 400


async def test_invalid_utf8_is_400(receiver: WebhookReceiver) -> None:
    """A signed body that is not UTF-8 is refused 400."""
    body = b'{"id": 727, "x": "\xff\xfe"}'
    assert (await refused(receiver, signed(body, "order.deleted"), body))[0] == 400


@pytest.mark.parametrize(
    "name", ["X-WC-Webhook-Topic", "X-WC-Webhook-Resource", "X-WC-Webhook-Event"]
)
async def test_topic_headers_with_odd_text_are_400(receiver: WebhookReceiver, name: str) -> None:
    """Topic headers with surrogates, controls or huge values are refused 400, not 500."""
    body = order_body()
    for value in ("order.upd\udcffated", "order.updated\x00", "order." + "u" * 10_000):
        headers = signed(body) | {name: value}
        assert (await refused(receiver, headers, body))[0] == 400


async def test_header_names_differing_only_in_case_keep_the_first(
    receiver: WebhookReceiver,
) -> None:
    """A mapping with two spellings of one header uses the first, as the ASGI adapter does."""
    body = order_body()
    headers = {"x-wc-webhook-delivery-id": "first"} | signed(body, delivery_id="second")
    response = await receiver.handle(headers, body)
    assert (response.status, response.body["delivery_id"]) == (200, "first")


async def test_odd_source_header_is_dropped_not_fatal(receiver: WebhookReceiver) -> None:
    """X-WC-Webhook-Source is informational: an odd one is ignored and the order is stored."""
    body = order_body()
    headers = signed(body) | {"X-WC-Webhook-Source": "https://x/\udcff" + "y" * 10_000}
    response = await receiver.handle(headers, body)
    assert (response.status, response.body["status"]) == (200, "accepted")


async def test_ping_with_an_id_past_64_bits_is_not_a_ping(receiver: WebhookReceiver) -> None:
    """`webhook_id=<id>` with an id no WooCommerce webhook has is not acknowledged as a ping."""
    assert (await receiver.handle({}, b"webhook_id=9999999999999999999")).status == 401
    assert (await receiver.handle({}, b"webhook_id=0")).status == 401
    assert (await receiver.handle({}, f"webhook_id={INT64_MAX}".encode())).status == 200


# ---------------------------------------------------------------------------------------------
# Over real HTTP


async def test_duplicate_headers_over_http_are_refused_not_first_wins(
    receiver: WebhookReceiver,
) -> None:
    """A header sent twice reads as both values joined (RFC 9110 §5.3), so it is refused."""
    body = order_body()
    base = list(signed(body).items())
    twice_delivery = [*base, ("X-WC-Webhook-Delivery-ID", "other")]
    twice_topic = [("X-WC-Webhook-Topic", "product.updated"), *base]
    twice_signature = [("X-WC-Webhook-Signature", sign_body(b"{}", SECRET)), *base]
    async with (
        serving(asgi_app(receiver)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        answers = [
            await http.post(URL, content=body, headers=headers)
            for headers in (twice_delivery, twice_topic, twice_signature)
        ]
        fine = await http.post(URL, content=body, headers=base)
    assert [a.status_code for a in answers] == [400, 400, 401]
    assert fine.status_code == 200
    assert await receiver.store.inbox.pending_count() == 1


async def test_non_latin1_header_bytes_over_http_are_answered_4xx(
    receiver: WebhookReceiver,
) -> None:
    """Raw UTF-8 or binary header bytes on the wire are refused 400/401, never 500."""
    body = order_body()
    odd = [b"caf\xc3\xa9", b"\xff\xfe\x80", b"12\xa0"]
    async with (
        serving(asgi_app(receiver)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        statuses = []
        for value in odd:
            for name in (b"X-WC-Webhook-ID", b"X-WC-Webhook-Delivery-ID", b"X-WC-Webhook-Topic"):
                headers = [(k.encode(), v.encode()) for k, v in signed(body).items()]
                headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
                response = await http.post(URL, content=body, headers=[*headers, (name, value)])
                statuses.append(response.status_code)
    assert set(statuses) == {400}


async def test_absurd_content_length_is_refused_without_a_500(
    receiver: WebhookReceiver,
) -> None:
    """A Content-Length of thousands of digits reaching the app is answered 413, not 500."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": URL,
        "headers": [(b"content-length", b"9" * 5000)],
    }
    await asgi_app(receiver)(scope, receive, send)
    assert sent[0]["status"] == 413


# ---------------------------------------------------------------------------------------------
# Properties

_HEADER_NAMES = st.sampled_from(
    [
        "X-WC-Webhook-Topic",
        "x-wc-webhook-topic",
        "X-WC-Webhook-Resource",
        "X-WC-Webhook-Event",
        "X-WC-Webhook-ID",
        "X-WC-Webhook-Delivery-ID",
        "X-WC-WEBHOOK-DELIVERY-ID",
        "X-WC-Webhook-Source",
        "X-WC-Webhook-Signature",
        "Content-Length",
        "User-Agent",
    ]
)
# Any code point, surrogates included: `handle` takes what a framework decoded.
_ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
# Integers around the edges that matter: SQLite's and PHP's 64-bit range, Python's digit limit.
_EDGE_INTS = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64]),
)
_HEADER_VALUES = st.one_of(
    _ANY_TEXT,
    _EDGE_INTS.map(str),
    st.just("9" * 5000),
    st.sampled_from(["order.updated", "order.deleted", "product.updated", "order", "updated"]),
)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | _EDGE_INTS
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "status", "x", "line_items"]), children, max_size=4
        )
    ),
    max_leaves=20,
)
_BODIES = st.one_of(
    st.binary(max_size=200),
    _JSON.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"id": _EDGE_INTS | _JSON}, optional={"status": _JSON}).map(
        lambda value: json.dumps(value).encode()
    ),
    st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n),
    _EDGE_INTS.map(lambda n: f"webhook_id={n}".encode()),
)


@settings(max_examples=300)
@given(
    topic=st.sampled_from(["order.updated", "order.deleted", "order.created", "product.updated"]),
    extra=st.dictionaries(_HEADER_NAMES, _HEADER_VALUES, max_size=3),
    body=_BODIES,
    sign=st.sampled_from([True, True, True, False]),  # mostly signed: reach the parsing
)
async def test_any_headers_and_body_get_a_2xx_or_4xx(
    receiver: WebhookReceiver,
    tmp_path: Path,
    *,
    topic: str,
    extra: dict[str, str],
    body: bytes,
    sign: bool,
) -> None:
    """Signed or not, whatever headers and body arrive, the answer is never a 5xx."""
    # One SQLite store for all examples (the fixture is shared by hypothesis' examples).
    headers = signed(body, topic) if sign else {}
    headers.update(extra)
    response = await receiver.handle(headers, body)
    assert 200 <= response.status < 500, response
    if response.status == 200 and response.body["status"] == "accepted":
        assert (response.body["order_id"], body) in stored_rows(tmp_path / "nswoo.db")
