"""WooCommerce webhook deliveries: verify, classify and parse one request. No I/O.

A receiver (any framework) hands `verify_delivery` the request headers and the *raw* body
bytes, and maps the outcome to its answer:

- `Ping` → 200 (WooCommerce only counts exactly 200 as a successful ping, reference §8);
- `Delivery` → persist, then 200 (also when `delivery.ignorable`: an ignored topic or a
  `checkout-draft` order is acknowledged, never refused, so WooCommerce does not count a
  failure and eventually disable the webhook);
- `WebhookError` → `exc.http_status` (401 signature, 400 payload, 413 size).

Headers (reference §8): `X-WC-Webhook-Source`, `-Topic`, `-Resource`, `-Event`,
`-Signature`, `-ID`, `-Delivery-ID`. Only the body is signed: the headers are not, so they
are checked for consistency but cannot be trusted beyond that.

Whatever a sender controls is bounded before it leaves this module, so a hostile request is
a `WebhookError` (a 4xx), never an exception a server turns into a 500 (which WooCommerce
counts toward disabling the webhook, reference §8): ids must be positive and fit a signed
64-bit integer (SQLite's INTEGER, PHP's `int`), the delivery id is a short visible-ASCII
token, JSON may nest at most `MAX_JSON_DEPTH` levels and hold only numbers PHP can send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from .._settings import Secret
from ..errors import (
    ConfigurationError,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
    WebhookTooLarge,
)
from ._convert import ModelMismatch, loads, structure_as
from ._records import WooOrder

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "MAX_ID",
    "MAX_JSON_DEPTH",
    "Delivery",
    "Ping",
    "sign_body",
    "verify_delivery",
]

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
"""The default body limit (`[webhooks] max_body_bytes`)."""

_HEADER_PREFIX = "x-wc-webhook-"
_SIGNATURE = "x-wc-webhook-signature"
_TOPIC = "x-wc-webhook-topic"
_RESOURCE = "x-wc-webhook-resource"
_EVENT = "x-wc-webhook-event"
_WEBHOOK_ID = "x-wc-webhook-id"
_DELIVERY_ID = "x-wc-webhook-delivery-id"
_SOURCE = "x-wc-webhook-source"

MAX_ID = 2**63 - 1
"""The largest order or webhook id accepted: SQLite's INTEGER and PHP's `PHP_INT_MAX`."""

MAX_JSON_DEPTH = 64
"""How deep a body's JSON may nest. A WooCommerce order nests about 5 levels (order, line
items, meta data, value); plugin meta values add a few. Deeper input is refused before any
code walks it recursively."""

# The ping body is the plain string `webhook_id=<id>` (reference §8, `deliver_ping()`).
_PING_BODY = re.compile(rb"webhook_id=([0-9]{1,19})")
# `<resource>.<event>`: resources like `order`, events like `updated` or, for `action.*`
# topics, a hook name (reference §8, `wc_is_webhook_valid_topic`). WordPress hook names are
# short; 200 characters bounds what reaches the inbox and the logs.
_TOPIC_FORM = re.compile(r"(?=.{3,200}\Z)([a-z0-9_-]+)\.([A-Za-z0-9_.-]+)", re.ASCII)
# WooCommerce sends `wp_hash(webhook_id . time())`, 32 hex characters (reference §8); a
# resend tool may use its own token. Visible ASCII, at most 128: it becomes a storage key.
_DELIVERY_ID_FORM = re.compile(r"[!-~]{1,128}", re.ASCII)
_WEBHOOK_ID_FORM = re.compile(r"[0-9]{1,19}", re.ASCII)
# The store's home URL: informational only, so an odd one is dropped rather than refused.
_SOURCE_FORM = re.compile(r"[!-~]{1,2048}", re.ASCII)
# HTTP's optional whitespace (RFC 9110 §5.6.3) is space and tab only; `str.strip()` would
# also remove Unicode spaces such as U+00A0 that arrive as latin-1 header bytes.
_OWS = " \t"
# What PHP's json_encode can write (WooCommerce builds every body with it, reference §8):
# integers within PHP's 64-bit int, other numbers within an IEEE double.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_DOUBLE_MAX_EXPONENT = 308  # the largest double is about 1.8e308
_CHECKOUT_DRAFT = "checkout-draft"


@attrs.frozen
class Ping:
    """WooCommerce's unsigned ping, sent when a webhook is created or its URL changes.

    Answer it with exactly 200: anything else leaves the webhook pending (reference §8).
    """

    webhook_id: int


@attrs.frozen
class Delivery:
    """A verified webhook delivery.

    Attributes:
        topic: `resource.event`, e.g. `order.updated`.
        resource, event: the two halves of `topic`.
        webhook_id: the `X-WC-Webhook-ID` header, when sent.
        delivery_id: the `X-WC-Webhook-Delivery-ID` header (a hash; use it to drop
            duplicate deliveries), when sent.
        source: the `X-WC-Webhook-Source` header (the store's home URL), when sent.
        payload: the JSON body, parsed with exact numbers.
        order_id: for `order.*` topics, the order's id.
        order: for `order.*` topics other than `order.deleted`, the order; None otherwise
            (`order.deleted` bodies carry only `{"id": N}`, reference §8).
        ignored: True when the topic is not an `order.*` topic (nswoo acts on orders only).

    Example:
        >>> delivery = verify_delivery(headers, body, secret=secret)  # doctest: +SKIP
        >>> if isinstance(delivery, Delivery) and not delivery.ignorable:  # doctest: +SKIP
        ...     await inbox.put(delivery)
    """

    topic: str
    resource: str
    event: str
    webhook_id: int | None
    delivery_id: str | None
    source: str | None
    payload: Any = attrs.field(eq=False, repr=False)
    order_id: int | None = None
    order: WooOrder | None = None
    ignored: bool = False

    @property
    def ignorable(self) -> bool:
        """Acknowledge and drop: an ignored topic, or a `checkout-draft` order.

        WooCommerce delivers `order.updated` for block-checkout drafts before payment
        (reference §8, issue #66995); they are not orders yet.
        """
        return self.ignore_reason is not None

    @property
    def ignore_reason(self) -> str | None:
        """Why the delivery is ignorable, or None when it must be processed."""
        if self.ignored:
            return f"topic {self.topic} is not handled"
        if self.order is not None and self.order.status == _CHECKOUT_DRAFT:
            return "order is a checkout draft"
        return None


def sign_body(body: bytes, secret: Secret) -> str:
    """The `X-WC-Webhook-Signature` value for `body`: base64(HMAC-SHA256(body, secret)).

    WooCommerce signs with the secret after decoding HTML entities
    (`wp_specialchars_decode`, reference §8): configure the decoded secret.
    """
    digest = hmac.new(secret.reveal().encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_delivery(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: Secret,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Delivery | Ping:
    """Verify and parse one webhook request.

    Checks run in this order, so an unauthenticated sender learns nothing about the body:
    size, ping, signature, UTF-8, JSON, topic, then the resource itself.

    Args:
        headers: the request headers (names matched case-insensitively).
        body: the raw request body, exactly as received (the signature covers these bytes).
        secret: the webhook's secret.
        max_body_bytes: larger bodies are refused before anything else.

    Returns:
        `Ping` for WooCommerce's unsigned ping, else the verified `Delivery`.

    Raises:
        WebhookTooLarge: the body is over `max_body_bytes` (answer 413).
        WebhookSignatureInvalid: the signature is missing or wrong (answer 401).
        WebhookPayloadInvalid: not UTF-8, not JSON, a malformed topic, or an `order.*` body
            that is not an order object with an integer `id` (answer 400).
        ConfigurationError: `secret` is empty (every signature would be forgeable).
    """
    if len(body) > max_body_bytes:
        raise WebhookTooLarge(size=len(body), limit=max_body_bytes)
    lowered = _lowered(headers)
    if not any(name.startswith(_HEADER_PREFIX) for name in lowered) and (
        ping := _PING_BODY.fullmatch(body)
    ):
        # The ping is the only unsigned request WooCommerce sends: no X-WC-Webhook-*
        # headers at all and a fixed form-encoded body (reference §8). Accepting it
        # reveals nothing and changes nothing. An id no webhook can have is no ping.
        pinged = int(ping.group(1))
        if 0 < pinged <= MAX_ID:
            return Ping(webhook_id=pinged)
    _check_signature(lowered.get(_SIGNATURE), body, secret)

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookPayloadInvalid("body is not UTF-8") from None
    topic, resource, event = _topic(lowered)
    webhook_id = _webhook_id(lowered.get(_WEBHOOK_ID))
    delivery_id = _delivery_id(lowered.get(_DELIVERY_ID))
    payload = _parse_json(text, topic)

    common: dict[str, Any] = {
        "topic": topic,
        "resource": resource,
        "event": event,
        "webhook_id": webhook_id,
        "delivery_id": delivery_id,
        "source": _source(lowered.get(_SOURCE)),
        "payload": payload,
    }
    if resource != "order":
        return Delivery(**common, ignored=True)
    order_id = _order_id(payload, topic)
    # Only order deliveries are stored and imported: their numbers must be ones PHP can
    # send, so nothing downstream (SQLite, Decimal arithmetic) meets an unbounded value.
    _check_numbers(payload, topic)
    if event == "deleted":
        # Deleted (trashed) orders are sent as `{"id": N}` only (reference §8).
        return Delivery(**common, order_id=order_id)
    try:
        order = structure_as(WooOrder, payload, what="order")
    except ModelMismatch as exc:
        raise WebhookPayloadInvalid(str(exc), topic=topic) from exc
    return Delivery(**common, order_id=order_id, order=order)


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lower-cased; of two spellings of one name the first is kept.

    The ASGI adapter joins a header sent twice into one value (RFC 9110 §5.3), so only a
    caller's mapping can hold `X-WC-Webhook-ID` and `x-wc-webhook-id` at once; keeping the
    first matches what an HTTP server would have passed first.
    """
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        lowered.setdefault(name.lower(), value)
    return lowered


def _check_signature(given: str | None, body: bytes, secret: Secret) -> None:
    if not secret:
        raise ConfigurationError(
            "the webhook secret is empty: set WOO_<ENV>_WEBHOOK_SECRET to the webhook's secret"
        )
    if given is None or not given.strip(_OWS):
        raise WebhookSignatureInvalid("missing X-WC-Webhook-Signature header")
    expected = sign_body(body, secret).encode("ascii")
    # Constant time: the comparison must not tell a forger how many bytes were right.
    # "replace": a header decoded with surrogates must compare unequal, not raise.
    if not hmac.compare_digest(expected, given.strip(_OWS).encode("utf-8", "replace")):
        raise WebhookSignatureInvalid("signature does not match the body")


def _topic(headers: Mapping[str, str]) -> tuple[str, str, str]:
    topic = (headers.get(_TOPIC) or "").strip(_OWS)
    if not topic:
        raise WebhookPayloadInvalid("missing X-WC-Webhook-Topic header")
    form = _TOPIC_FORM.fullmatch(topic)
    if form is None:
        # The topic is not named: it is unvalidated sender text.
        raise WebhookPayloadInvalid(
            "X-WC-Webhook-Topic is not of the form resource.event (ASCII, at most 200 chars)"
        )
    resource, event = form.group(1), form.group(2)
    # WooCommerce derives the Resource and Event headers from the topic (reference §8), so
    # a mismatch means the request was not built by WooCommerce as sent.
    for name, expected in ((_RESOURCE, resource), (_EVENT, event)):
        value = headers.get(name)
        if value is not None and value.strip(_OWS) != expected:
            raise WebhookPayloadInvalid(f"{_display(name)} does not match the topic", topic=topic)
    return topic, resource, event


def _webhook_id(value: str | None) -> int | None:
    if value is None or not value.strip(_OWS):
        return None
    # The form check comes before int(): thousands of digits would make int() raise (or
    # work for a long time), and non-ASCII digits such as "١٢" would pass str.isdigit().
    text = value.strip(_OWS)
    if _WEBHOOK_ID_FORM.fullmatch(text) is None or not 0 < int(text) <= MAX_ID:
        raise WebhookPayloadInvalid(
            f"X-WC-Webhook-ID is not a positive integer of at most {MAX_ID}"
        )
    return int(text)


def _delivery_id(value: str | None) -> str | None:
    if value is None or not value.strip(_OWS):
        return None
    text = value.strip(_OWS)
    if _DELIVERY_ID_FORM.fullmatch(text) is None:
        raise WebhookPayloadInvalid(
            "X-WC-Webhook-Delivery-ID must be 1 to 128 visible ASCII characters"
        )
    return text


def _source(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip(_OWS)
    return text if _SOURCE_FORM.fullmatch(text) else None


def _parse_json(text: str, topic: str) -> Any:
    try:
        return loads(text)
    except RecursionError:
        # The parser recurses per nesting level; a body of brackets reaches Python's limit.
        raise WebhookPayloadInvalid(
            f"body nests deeper than {MAX_JSON_DEPTH} levels", topic=topic
        ) from None
    except (ValueError, ArithmeticError) as exc:
        # JSONDecodeError; or NaN/Infinity, an integer past Python's digit limit (ValueError
        # from int()), an exponent past what Decimal holds (decimal.InvalidOperation, an
        # ArithmeticError): none of them something PHP's json_encode writes.
        reason = "body is not JSON" if isinstance(exc, json.JSONDecodeError) else None
        raise WebhookPayloadInvalid(
            reason or "body is not JSON WooCommerce could send (a number is out of range)",
            topic=topic,
        ) from None


def _check_numbers(payload: Any, topic: str) -> None:
    """Refuse nesting past `MAX_JSON_DEPTH` and numbers PHP cannot write. Iterative: a deep
    payload must not hit the recursion limit here either."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping | list):
            if depth > MAX_JSON_DEPTH:
                raise WebhookPayloadInvalid(
                    f"body nests deeper than {MAX_JSON_DEPTH} levels", topic=topic
                )
            items = value.values() if isinstance(value, Mapping) else value
            stack.extend((item, depth + 1) for item in items)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not _INT_MIN <= value <= _INT_MAX:
                raise WebhookPayloadInvalid(
                    "body holds an integer outside the signed 64-bit range", topic=topic
                )
        elif isinstance(value, Decimal) and value.adjusted() > _DOUBLE_MAX_EXPONENT:
            raise WebhookPayloadInvalid(
                "body holds a number larger than a double can hold", topic=topic
            )


def _order_id(payload: Any, topic: str) -> int:
    if not isinstance(payload, Mapping):
        raise WebhookPayloadInvalid("body is not an order object", topic=topic)
    order_id = payload.get("id")
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        raise WebhookPayloadInvalid("order object has no integer id", topic=topic)
    if order_id <= 0:
        raise WebhookPayloadInvalid("order id must be positive", topic=topic)
    if order_id > MAX_ID:
        raise WebhookPayloadInvalid(
            f"order id is larger than {MAX_ID} (the signed 64-bit limit)", topic=topic
        )
    return order_id


def _display(header: str) -> str:
    return "-".join("WC" if part == "wc" else part.capitalize() for part in header.split("-"))
