"""Webhook verification: signature, ping, size, body and topic checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswoo._settings import Secret
from nswoo.errors import (
    ConfigurationError,
    WebhookError,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
    WebhookTooLarge,
)
from nswoo.woocommerce import Delivery, Ping, WooOrder, sign_body, verify_delivery

FIXTURES = Path(__file__).parent / "fixtures"
SECRET_TEXT = "whsec-nswoo-test"
SECRET = Secret(SECRET_TEXT)


def headers_for(body: bytes, topic: str = "order.updated", **extra: str) -> dict[str, str]:
    """The headers WooCommerce sends with a delivery (reference §8), signed for `body`."""
    resource, _, event = topic.partition(".")
    headers = {
        "User-Agent": "WooCommerce/8.9.0 Hookshot (WordPress/6.5.0)",
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://shop.example/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign_body(body, SECRET),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": "5f0b3c8d2a1e",
    }
    headers.update(extra)
    return headers


def order_body() -> bytes:
    """The published order example, byte for byte."""
    return (FIXTURES / "woo_order_example.json").read_bytes()


def test_signature_matches_a_fixed_known_vector() -> None:
    """sign_body equals a hand-computed base64 HMAC-SHA256 (also checked with openssl)."""
    body = b'{"id":727,"status":"processing"}'
    assert sign_body(body, SECRET) == "WnnGUJco+/kBc7ZhkQ30gF5+4HyzLIQ59Tgd6S61XkY="


@given(body=st.binary(max_size=2048), secret=st.text(min_size=1, max_size=64))
def test_signature_is_base64_hmac_sha256_of_the_raw_body(body: bytes, secret: str) -> None:
    """For any body and secret the signature is base64(HMAC-SHA256(body, secret))."""
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    assert sign_body(body, Secret(secret)) == expected


@given(
    body=st.binary(min_size=1, max_size=512),
    index=st.integers(min_value=0),
    flip=st.integers(1, 255),
)
def test_a_one_byte_change_fails_verification(body: bytes, index: int, flip: int) -> None:
    """Changing any one byte of a signed body makes the signature invalid."""
    headers = headers_for(body)
    position = index % len(body)
    tampered = bytearray(body)
    tampered[position] ^= flip
    with pytest.raises(WebhookSignatureInvalid):
        verify_delivery(headers, bytes(tampered), secret=SECRET)


def test_verified_order_delivery_carries_the_order_and_headers() -> None:
    """A signed order.updated delivery yields the WooOrder and every header field."""
    body = order_body()
    delivery = verify_delivery(headers_for(body), body, secret=SECRET)
    assert isinstance(delivery, Delivery)
    assert delivery.topic == "order.updated"
    assert (delivery.resource, delivery.event) == ("order", "updated")
    assert delivery.webhook_id == 12
    assert delivery.delivery_id == "5f0b3c8d2a1e"
    assert delivery.source == "https://shop.example/"
    assert delivery.order_id == 727
    assert isinstance(delivery.order, WooOrder)
    assert delivery.order.total == Decimal("29.35")
    assert delivery.ignored is False
    assert delivery.ignorable is False
    assert delivery.payload["id"] == 727


def test_header_names_are_case_insensitive() -> None:
    """Lower-case header names (as ASGI servers give them) verify the same way."""
    body = order_body()
    headers = {name.lower(): value for name, value in headers_for(body).items()}
    delivery = verify_delivery(headers, body, secret=SECRET)
    assert isinstance(delivery, Delivery)
    assert delivery.order_id == 727


def test_ping_is_accepted_unsigned() -> None:
    """The ping (body webhook_id=N, no X-WC-* headers) is recognised without a signature."""
    headers = {
        "User-Agent": "WooCommerce/8.9.0 Hookshot (WordPress/6.5.0)",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert verify_delivery(headers, b"webhook_id=12", secret=SECRET) == Ping(webhook_id=12)


def test_unsigned_delivery_that_is_not_a_ping_is_rejected() -> None:
    """A body without a signature is refused unless it is exactly the ping."""
    with pytest.raises(WebhookSignatureInvalid, match="missing") as caught:
        verify_delivery({"Content-Type": "application/json"}, b'{"id": 1}', secret=SECRET)
    assert caught.value.http_status == 401


def test_ping_body_with_webhook_headers_needs_a_signature() -> None:
    """A ping-shaped body sent with X-WC-Webhook-* headers is not treated as a ping."""
    with pytest.raises(WebhookSignatureInvalid):
        verify_delivery({"X-WC-Webhook-Topic": "order.updated"}, b"webhook_id=12", secret=SECRET)


def test_wrong_signature_is_rejected() -> None:
    """A signature made with another secret is refused with 401."""
    body = order_body()
    headers = headers_for(body, **{"X-WC-Webhook-Signature": sign_body(body, Secret("other"))})
    with pytest.raises(WebhookSignatureInvalid, match="does not match") as caught:
        verify_delivery(headers, body, secret=SECRET)
    assert caught.value.http_status == 401


def test_signature_that_is_not_ascii_is_rejected_not_crashed() -> None:
    """A signature header with non-ASCII characters is a mismatch, not an exception."""
    body = order_body()
    with pytest.raises(WebhookSignatureInvalid):
        verify_delivery(headers_for(body, **{"X-WC-Webhook-Signature": "é"}), body, secret=SECRET)


def test_oversize_body_is_refused_before_anything_else() -> None:
    """A body over the limit is a 413 even when unsigned and not JSON."""
    with pytest.raises(WebhookTooLarge) as caught:
        verify_delivery({}, b"x" * 101, secret=SECRET, max_body_bytes=100)
    assert caught.value.http_status == 413
    assert (caught.value.size, caught.value.limit) == (101, 100)


def test_body_at_the_limit_is_accepted() -> None:
    """A body of exactly max_body_bytes is verified normally."""
    body = order_body()
    delivery = verify_delivery(headers_for(body), body, secret=SECRET, max_body_bytes=len(body))
    assert isinstance(delivery, Delivery)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"<html>oops</html>", "not JSON"),
        (b'{"id": NaN}', "not JSON"),
        (b"[1, 2]", "not an order object"),
        (b'{"id": "727"}', "no integer id"),
        (b'{"id": true}', "no integer id"),
        (b'{"status": "processing"}', "no integer id"),
        (b'{"id": 727, "status": "processing"}', "does not fit the model"),
    ],
)
def test_malformed_order_bodies_are_400(body: bytes, reason: str) -> None:
    """Signed but malformed order bodies are WebhookPayloadInvalid (400) with the reason."""
    with pytest.raises(WebhookPayloadInvalid, match=reason) as caught:
        verify_delivery(headers_for(body), body, secret=SECRET)
    assert caught.value.http_status == 400


def test_order_deleted_needs_only_the_id() -> None:
    """order.deleted carries {"id": N}: the delivery has the id and no order."""
    body = b'{"id":727}'
    delivery = verify_delivery(headers_for(body, "order.deleted"), body, secret=SECRET)
    assert isinstance(delivery, Delivery)
    assert delivery.order_id == 727
    assert delivery.order is None
    assert delivery.ignorable is False


@pytest.mark.parametrize("topic", ["product.updated", "customer.created", "action.woocommerce_x"])
def test_other_topics_are_ignored_not_refused(topic: str) -> None:
    """Well-formed topics other than order.* are returned flagged ignored (answer 200)."""
    body = b'{"id":794}'
    delivery = verify_delivery(headers_for(body, topic), body, secret=SECRET)
    assert isinstance(delivery, Delivery)
    assert delivery.ignored is True
    assert delivery.ignorable is True
    assert delivery.ignore_reason == f"topic {topic} is not handled"
    assert delivery.order is None


def test_checkout_draft_orders_are_ignorable() -> None:
    """An order.updated for a checkout-draft order is acknowledged and dropped (#66995)."""
    body = order_body().replace(b'"status": "processing"', b'"status": "checkout-draft"')
    delivery = verify_delivery(headers_for(body), body, secret=SECRET)
    assert isinstance(delivery, Delivery)
    assert delivery.order is not None
    assert delivery.ignorable is True
    assert delivery.ignore_reason == "order is a checkout draft"


@pytest.mark.parametrize("topic", ["order", "order.", ".updated", "order updated", "ORDER.x y"])
def test_malformed_topic_is_400(topic: str) -> None:
    """A topic header that is not resource.event is WebhookPayloadInvalid."""
    body = b'{"id":1}'
    headers = headers_for(body)
    headers["X-WC-Webhook-Topic"] = topic
    with pytest.raises(WebhookPayloadInvalid, match=r"resource\.event"):
        verify_delivery(headers, body, secret=SECRET)


def test_missing_topic_is_400() -> None:
    """A signed delivery without X-WC-Webhook-Topic is WebhookPayloadInvalid."""
    body = b'{"id":1}'
    headers = headers_for(body)
    del headers["X-WC-Webhook-Topic"]
    with pytest.raises(WebhookPayloadInvalid, match="missing X-WC-Webhook-Topic"):
        verify_delivery(headers, body, secret=SECRET)


def test_resource_header_that_contradicts_the_topic_is_400() -> None:
    """X-WC-Webhook-Resource must agree with the topic it was derived from."""
    body = b'{"id":1}'
    headers = headers_for(body, **{"X-WC-Webhook-Resource": "product"})
    with pytest.raises(WebhookPayloadInvalid, match="X-WC-Webhook-Resource"):
        verify_delivery(headers, body, secret=SECRET)


def test_non_integer_webhook_id_is_400() -> None:
    """X-WC-Webhook-ID must be an integer."""
    body = b'{"id":1}'
    with pytest.raises(WebhookPayloadInvalid, match="X-WC-Webhook-ID"):
        verify_delivery(headers_for(body, **{"X-WC-Webhook-ID": "abc"}), body, secret=SECRET)


def test_empty_secret_is_a_configuration_error() -> None:
    """An empty secret would accept forged signatures, so it is refused as configuration."""
    body = b'{"id":1}'
    with pytest.raises(ConfigurationError, match="webhook secret is empty"):
        verify_delivery(headers_for(body), body, secret=Secret(""))


def test_no_error_or_log_contains_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    """Every refusal names the problem and never shows the secret, in messages or logs."""
    caplog.set_level(logging.DEBUG)
    good = order_body()
    cases = [
        (headers_for(good, **{"X-WC-Webhook-Signature": "AAAA"}), good),
        ({}, b'{"id": 1}'),
        (headers_for(b"\xff"), b"\xff"),
        (headers_for(b"nope"), b"nope"),
        ({}, b"x" * 10),
    ]
    messages = []
    for headers, body in cases:
        with pytest.raises(WebhookError) as caught:
            verify_delivery(
                headers, body, secret=SECRET, max_body_bytes=9 if body == b"x" * 10 else 1 << 20
            )
        messages += [str(caught.value), repr(caught.value)]
    messages += [record.getMessage() for record in caplog.records]
    assert all(SECRET_TEXT not in message for message in messages)
    assert SECRET_TEXT not in repr(SECRET)
