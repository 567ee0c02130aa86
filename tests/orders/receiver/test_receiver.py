"""The framework-agnostic handler: the DESIGN status-code table, dedupe, stats."""

from __future__ import annotations

import logging

import pytest
from tests.orders.receiver._support import SECRET, STORE, order_body, signed

from nswoo._settings import Secret
from nswoo.errors import ConfigurationError
from nswoo.orders._receiver import ReceiverResponse, WebhookReceiver, derived_delivery_id, inbox_key
from nswoo.store.memory import MemoryStore
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio

LIMIT = 64 * 1024


def make(store: MemoryStore | None = None, *, limit: int = LIMIT) -> WebhookReceiver:
    return WebhookReceiver(
        store=store or MemoryStore(clock=FakeClock()),
        store_name=STORE,
        secret=SECRET,
        max_body_bytes=limit,
    )


async def pending(receiver: WebhookReceiver) -> list[tuple[str, str, int | None]]:
    items = await receiver.store.inbox.take(STORE, owner="t", limit=100, lease_seconds=60)
    return [(i.delivery_id, i.topic, i.order_id) for i in items]


async def test_signed_order_delivery_is_persisted_and_accepted() -> None:
    """A correctly signed order.updated is stored in the inbox, then answered 200 accepted."""
    receiver = make()
    body = order_body()
    response = await receiver.handle(signed(body, delivery_id="abc"), body)
    assert response == ReceiverResponse(
        200,
        {"status": "accepted", "topic": "order.updated", "order_id": 727, "delivery_id": "abc"},
    )
    items = await receiver.store.inbox.take(STORE, owner="t", limit=10, lease_seconds=60)
    assert [(i.store, i.delivery_id, i.order_id, i.body) for i in items] == [
        (STORE, inbox_key("abc", "order.updated", body), 727, body)
    ]


async def test_duplicate_delivery_id_gives_one_inbox_item() -> None:
    """The same delivery id twice is answered 200 duplicate and stored once."""
    receiver = make()
    body = order_body()
    first = await receiver.handle(signed(body, delivery_id="same"), body)
    second = await receiver.handle(signed(body, delivery_id="same"), body)
    assert (first.status, first.body["status"]) == (200, "accepted")
    assert (second.status, second.body["status"]) == (200, "duplicate")
    assert await pending(receiver) == [
        (inbox_key("same", "order.updated", body), "order.updated", 727)
    ]
    assert (receiver.stats.accepted, receiver.stats.duplicate) == (1, 1)


async def test_missing_delivery_id_is_derived_from_the_body_so_dedupe_still_works() -> None:
    """Without a delivery id header, the same body twice is stored once under a digest id."""
    receiver = make()
    body = order_body()
    first = await receiver.handle(signed(body, delivery_id=None), body)
    second = await receiver.handle(signed(body, delivery_id=None), body)
    assert [first.body["status"], second.body["status"]] == ["accepted", "duplicate"]
    assert await pending(receiver) == [
        (derived_delivery_id("order.updated", body), "order.updated", 727)
    ]


async def test_ping_is_answered_200_unsigned_and_not_stored() -> None:
    """WooCommerce's unsigned `webhook_id=N` ping gets exactly 200 and stores nothing."""
    receiver = make()
    response = await receiver.handle({"User-Agent": "WooCommerce/8.9.0"}, b"webhook_id=12")
    assert response == ReceiverResponse(200, {"status": "ping", "webhook_id": 12})
    assert await receiver.store.inbox.pending_count() == 0
    assert receiver.stats.pings == 1


@pytest.mark.parametrize(
    ("topic", "body"),
    [
        ("product.updated", b'{"id":99,"sku":"MUG"}'),
        ("customer.created", b'{"id":5}'),
        ("action.woocommerce_something", b'{"action":"x","arg":1}'),
    ],
)
async def test_other_topics_are_ignored_with_200(topic: str, body: bytes) -> None:
    """Topics other than order.* are acknowledged 200 ignored and never stored."""
    receiver = make()
    response = await receiver.handle(signed(body, topic), body)
    assert (response.status, response.body["status"]) == (200, "ignored")
    assert await receiver.store.inbox.pending_count() == 0


async def test_checkout_draft_order_is_ignored_with_200() -> None:
    """An order.updated for a checkout-draft order is acknowledged 200 ignored, not stored."""
    receiver = make()
    body = order_body(status="checkout-draft")
    response = await receiver.handle(signed(body), body)
    assert (response.status, response.body["status"]) == (200, "ignored")
    assert await receiver.store.inbox.pending_count() == 0
    assert receiver.stats.ignored == 1


async def test_order_deleted_with_only_an_id_is_accepted() -> None:
    """order.deleted bodies carry only {"id": N}; they are stored for the worker."""
    receiver = make()
    body = b'{"id":727}'
    response = await receiver.handle(signed(body, "order.deleted"), body)
    assert response.body["status"] == "accepted"
    assert await pending(receiver) == [
        (inbox_key("d-1", "order.deleted", body), "order.deleted", 727)
    ]


@pytest.mark.parametrize(
    ("case", "headers_for", "body", "status"),
    [
        ("no signature", lambda b: {"X-WC-Webhook-Topic": "order.updated"}, order_body(), 401),
        (
            "wrong secret",
            lambda b: signed(b, secret=Secret("another-secret")),
            order_body(),
            401,
        ),
        ("tampered body", lambda b: signed(order_body()), order_body(total="0.01"), 401),
        ("not UTF-8", signed, b'{"id": 1, "x": "\xff\xfe"}', 400),
        ("not JSON", signed, b"{not json", 400),
        ("JSON array", signed, b"[1,2,3]", 400),
        ("id is a string", signed, b'{"id":"727","status":"processing"}', 400),
        ("no id", signed, b'{"status":"processing"}', 400),
        ("not an order", signed, b'{"id":727,"status":5}', 400),
        ("over the limit", signed, b'{"id":1,"pad":"' + b"x" * LIMIT + b'"}', 413),
    ],
)
async def test_refusals_follow_the_status_table(
    case: str, headers_for: object, body: bytes, status: int
) -> None:
    """Bad signatures are 401, malformed bodies 400, oversize 413; nothing is stored."""
    receiver = make()
    response = await receiver.handle(headers_for(body), body)  # type: ignore[operator]
    assert response.status == status, case
    assert response.body["status"] == "rejected"
    assert await receiver.store.inbox.pending_count() == 0
    assert receiver.stats.rejected == {status: 1}


async def test_the_secret_never_appears_in_answers_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Neither responses nor log lines nor repr contain the webhook secret."""
    caplog.set_level(logging.DEBUG)
    receiver = make()
    body = order_body()
    answers = [
        await receiver.handle(signed(body), body),
        await receiver.handle(signed(body, secret=Secret("x")), body),
        await receiver.handle({}, b"garbage"),
    ]
    text = " ".join(str(a) for a in answers) + caplog.text + repr(receiver)
    assert SECRET.reveal() not in text


async def test_storage_failure_is_not_acknowledged() -> None:
    """When the inbox cannot be written the answer is 503, never a 2xx for a lost order."""
    store = MemoryStore(clock=FakeClock())
    await store.aclose()
    receiver = make(store)
    body = order_body()
    response = await receiver.handle(signed(body), body)
    assert (response.status, response.body["status"]) == (503, "error")
    assert receiver.stats.rejected == {503: 1}


async def test_received_at_comes_from_the_injected_clock() -> None:
    """With a clock, inbox items are stamped with its time."""
    clock = FakeClock(epoch=1_700_000_000.0)
    receiver = WebhookReceiver(
        store=MemoryStore(), store_name=STORE, secret=SECRET, max_body_bytes=LIMIT, clock=clock
    )
    body = order_body()
    await receiver.handle(signed(body), body)
    [item] = await receiver.store.inbox.take(STORE, owner="t", limit=1, lease_seconds=1)
    assert item.received_at.timestamp() == 1_700_000_000.0


def test_an_empty_secret_is_refused() -> None:
    """A receiver with an empty secret would accept forgeries, so construction fails."""
    with pytest.raises(ConfigurationError):
        WebhookReceiver(store=MemoryStore(), store_name=STORE, secret=Secret(""), max_body_bytes=1)


async def test_different_deliveries_sharing_a_delivery_id_are_both_kept() -> None:
    """Two deliveries in one second share WooCommerce's delivery id; neither is dropped."""
    receiver = make()
    first_body = order_body(id=727)
    second_body = order_body(id=728)
    first = await receiver.handle(signed(first_body, delivery_id="same-second"), first_body)
    second = await receiver.handle(signed(second_body, delivery_id="same-second"), second_body)
    assert (first.body["status"], second.body["status"]) == ("accepted", "accepted")
    assert len(await pending(receiver)) == 2
