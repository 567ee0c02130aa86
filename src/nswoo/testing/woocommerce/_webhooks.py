"""The WooCommerce simulator's webhook sender, following `reference/woocommerce.md` §8.

It signs bodies itself (base64 HMAC-SHA256 over the exact bytes sent), independently of
nswoo's receiver, so a bug in one cannot hide in the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

import attrs
import httpx

__all__ = [
    "DeliveryResult",
    "WebhookSubscription",
    "php_json_encode",
    "valid_webhook_topic",
    "webhook_hooks",
    "webhook_signature",
    "wp_specialchars_decode",
]

WebhookStatus = Literal["active", "paused", "disabled"]
DeliveryKind = Literal["delivery", "duplicate", "redelivery", "ping"]

# §8: the request is sent with a 60 s timeout and redirects are not followed.
_DELIVERY_TIMEOUT = 60.0

# §8 `wc_is_webhook_valid_topic`: resource.event from these lists, or a custom action topic.
_RESOURCES = ("coupon", "customer", "order", "product")
_EVENTS = ("created", "updated", "deleted", "restored")
# §8 the default topic-to-hook map (newest class-wc-webhook.php). The reference quotes the
# order and product topics; the customer and coupon lists are not quoted, so the simulator
# names no hooks for them rather than guess.
_TOPIC_HOOKS = {
    "order.created": ("woocommerce_new_order",),
    "order.updated": (
        "woocommerce_update_order",
        "woocommerce_order_refunded",
        "woocommerce_delete_order_refund",
    ),
    "order.deleted": ("wp_trash_post", "woocommerce_trash_order"),
    "order.restored": ("untrashed_post", "woocommerce_untrash_order"),
    "product.created": (
        "woocommerce_process_product_meta",
        "woocommerce_new_product",
        "woocommerce_new_product_variation",
    ),
    "product.updated": (
        "woocommerce_process_product_meta",
        "woocommerce_update_product",
        "woocommerce_update_product_variation",
    ),
    "product.deleted": ("wp_trash_post",),
    "product.restored": ("untrashed_post",),
}


def valid_webhook_topic(topic: str) -> bool:
    """`wc_is_webhook_valid_topic` (§8): `<resource>.<event>` or `action.woocommerce_*` /
    `action.wc_*` (WooCommerce's small denylist of action topics is not simulated)."""
    if topic.startswith(("action.woocommerce_", "action.wc_")):
        return True
    resource, _, event = topic.partition(".")
    return resource in _RESOURCES and event in _EVENTS


def webhook_hooks(topic: str) -> tuple[str, ...]:
    """The action names a webhook of `topic` listens to (its REST `hooks` field, §8)."""
    if topic.startswith("action."):
        return (topic.removeprefix("action."),)
    return _TOPIC_HOOKS.get(topic, ())


def php_json_encode(payload: Any) -> bytes:
    """`trim(wp_json_encode($payload))` (§8) as bytes.

    `wp_json_encode` calls PHP's `json_encode` with default flags, which (general PHP
    knowledge, not in the reference) escapes `/` as `\\/` and non-ASCII as `\\uXXXX` and adds no
    spaces. Receivers must therefore verify the raw bytes, never a re-serialisation.
    """
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    # A "/" can only occur inside JSON strings, so escaping every one is exact.
    return text.replace("/", "\\/").encode("ascii")


# WordPress's `wp_specialchars_decode($text, ENT_QUOTES)` table: the named entities are
# case-sensitive, decimal forms may carry leading zeros, hex forms are case-insensitive. One
# pass only (PHP `strtr`), so `&amp;lt;` becomes `&lt;`, not `<`.
_SPECIALCHARS = re.compile(
    r"&(?:lt|gt|amp|quot);|&#0*(?:39|34|60|62|38);|&#[xX]0*(?:27|22|26);",
)
_SPECIALCHAR_VALUES = {"39": "'", "34": '"', "60": "<", "62": ">", "38": "&"}
_SPECIALCHAR_HEX = {"27": "'", "22": '"', "26": "&"}
_SPECIALCHAR_NAMES = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"'}


def wp_specialchars_decode(text: str) -> str:
    """WordPress's `wp_specialchars_decode($text, ENT_QUOTES)` (the signing key of §8)."""

    def one(match: re.Match[str]) -> str:
        entity = match[0]
        if entity in _SPECIALCHAR_NAMES:
            return _SPECIALCHAR_NAMES[entity]
        if entity[2] in "xX":
            return _SPECIALCHAR_HEX[entity[3:-1].lstrip("0")]
        return _SPECIALCHAR_VALUES[entity[2:-1].lstrip("0")]

    return _SPECIALCHARS.sub(one, text) if "&" in text else text


def webhook_signature(body: bytes, secret: str) -> str:
    """`base64_encode(hash_hmac('sha256', $body, wp_specialchars_decode($secret, ENT_QUOTES),
    true))` (§8): a stored secret with `&amp;` signs with `&`.
    """
    key = wp_specialchars_decode(secret).encode()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


@attrs.define(kw_only=True)
class WebhookSubscription:
    """A webhook as WooCommerce stores it: where to POST which topic, signed with which secret.

    `id`, `status`, `failure_count` and `pending_delivery` are the sender's state: the
    simulator assigns `id` when the subscription is added, and a webhook whose consecutive
    failures pass the limit becomes `disabled` (§8). Set `status="active"` to re-enable it.

    Example:
        >>> sub = WebhookSubscription(
        ...     delivery_url="http://127.0.0.1:8000/webhooks/woocommerce",
        ...     topic="order.updated",
        ...     secret="s3cret",
        ... )
        >>> sub.status, sub.failure_count
        ('active', 0)
    """

    delivery_url: str
    topic: str
    secret: str = attrs.field(repr=False)
    name: str = ""
    id: int = 0
    status: WebhookStatus = "active"
    failure_count: int = 0
    pending_delivery: bool = True
    created: datetime | None = None
    modified: datetime | None = None

    @property
    def resource(self) -> str:
        """`order` for `order.updated`."""
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        """`updated` for `order.updated`."""
        return self.topic.split(".", 1)[-1]


@attrs.frozen(kw_only=True)
class DeliveryResult:
    """What one webhook POST did.

    `ok` follows WooCommerce: a status from 200 to 302 is a success (§8; for a ping, exactly
    200). `kind` is `delivery`, `duplicate` (the same delivery sent again, same delivery id),
    `redelivery` (the same event again with a new delivery id) or `ping`.
    """

    webhook_id: int
    topic: str
    resource_id: int | None
    delivery_id: str | None
    body: bytes = attrs.field(repr=False)
    status_code: int | None
    error: str | None
    ok: bool
    kind: DeliveryKind


@attrs.frozen
class _Pending:
    webhook_id: int
    resource: str
    resource_id: int
    event: str


@attrs.define(kw_only=True)
class WebhookSender:
    """Queues and delivers webhook events; the simulator owns one.

    `payload(resource, id)` returns the REST representation at delivery time (§8: the payload
    is built when the delivery runs, not when the event happened).
    """

    source_url: str
    user_agent: str
    payload: Callable[[str, int], dict[str, Any]]
    time: Callable[[], float]
    salt: bytes
    max_failures: int = 5
    delivery_ids: Literal["per-second", "unique"] = "per-second"
    ping_content_type: str | None = "application/x-www-form-urlencoded"
    duplicate: Callable[[int], bool] = attrs.field(default=lambda _n: False)
    redeliver: Callable[[int], bool] = attrs.field(default=lambda _n: False)
    # Given the 0-based number of a delivery POST, the status it fails with before reaching
    # the receiver (an injected outage), or None.
    outage: Callable[[int], int | None] = attrs.field(default=lambda _n: None)
    subscriptions: dict[int, WebhookSubscription] = attrs.field(factory=dict)
    pending: list[_Pending] = attrs.field(factory=list)
    pings: list[int] = attrs.field(factory=list)
    results: list[DeliveryResult] = attrs.field(factory=list)
    _deliveries: int = attrs.field(init=False, default=0)
    _attempts: int = attrs.field(init=False, default=0)
    _unique: int = attrs.field(init=False, default=0)
    _next_id: int = attrs.field(init=False, default=0)

    def add(self, subscription: WebhookSubscription) -> WebhookSubscription:
        """Register `subscription` under the next webhook id.

        Webhooks live in their own table (`wc_webhooks`, C-webhook-ds), so their ids are a
        sequence of their own, starting at 1.
        """
        self._next_id += 1
        subscription.id = self._next_id
        self.subscriptions[subscription.id] = subscription
        return subscription

    def queue_ping(self, webhook_id: int) -> None:
        """Ping `webhook_id` at the next `deliver_pending` (see `WooSimulator`'s REST routes)."""
        if webhook_id not in self.pings:
            self.pings.append(webhook_id)

    def queue(self, resource: str, resource_id: int, event: str) -> None:
        """Queue deliveries of `<resource>.<event>` for every active matching webhook.

        §8: an identical action already pending is not queued again, so bursts of updates to
        one resource collapse into one delivery.
        """
        for sub in self.subscriptions.values():
            if sub.status != "active" or sub.resource != resource or sub.event != event:
                continue
            entry = _Pending(sub.id, resource, resource_id, event)
            if entry not in self.pending:
                self.pending.append(entry)

    def _delivery_id(self, webhook_id: int, *, fresh: bool) -> str:
        # §8: `wp_hash(webhook_id . time())`, an HMAC-MD5 hex digest: two deliveries of one
        # webhook within the same second share an id. `fresh` (redeliveries) and the "unique"
        # mode add a counter so the id is new.
        seed = f"{webhook_id}{int(self.time())}"
        if fresh or self.delivery_ids == "unique":
            self._unique += 1
            seed += f"#{self._unique}"
        return hmac.new(self.salt, seed.encode(), hashlib.md5).hexdigest()

    async def _post(
        self,
        client: httpx.AsyncClient,
        sub: WebhookSubscription,
        entry: _Pending,
        *,
        kind: DeliveryKind,
        delivery_id: str,
    ) -> DeliveryResult:
        if entry.event == "deleted":
            payload: dict[str, Any] = {"id": entry.resource_id}  # §8: deleted sends only the id
        else:
            payload = self.payload(entry.resource, entry.resource_id)
        body = php_json_encode(payload)
        headers = {
            "User-Agent": self.user_agent,
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": self.source_url,
            "X-WC-Webhook-Topic": sub.topic,
            "X-WC-Webhook-Resource": entry.resource,
            "X-WC-Webhook-Event": entry.event,
            "X-WC-Webhook-Signature": webhook_signature(body, sub.secret),
            "X-WC-Webhook-ID": str(sub.id),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }
        attempt = self._attempts
        self._attempts += 1
        injected = self.outage(attempt)
        status_code: int | None
        error: str | None
        if injected is not None:
            # The receiver's host is down (or a proxy in front of it answers): nothing reaches
            # the receiver, and WooCommerce counts a failure as for any other answer.
            status_code, error = injected, "injected outage: the receiver was not reached"
        else:
            status_code, error = await _post(client, sub.delivery_url, body, headers)
        ok = status_code is not None and 200 <= status_code < 303
        self._log_delivery(sub, ok=ok)
        result = DeliveryResult(
            webhook_id=sub.id,
            topic=sub.topic,
            resource_id=entry.resource_id,
            delivery_id=delivery_id,
            body=body,
            status_code=status_code,
            error=error,
            ok=ok,
            kind=kind,
        )
        self.results.append(result)
        return result

    def _log_delivery(self, sub: WebhookSubscription, *, ok: bool) -> None:
        # §8 `log_delivery`/`failed_delivery`: success resets the count; on failure the webhook
        # is disabled once the count already exceeds the limit, else the count grows. With the
        # default 5 the 7th consecutive failure disables it. Nothing is ever retried.
        if ok:
            sub.failure_count = 0
        elif sub.failure_count > self.max_failures:
            sub.status = "disabled"
        else:
            sub.failure_count += 1

    async def deliver_pending(self, client: httpx.AsyncClient) -> list[DeliveryResult]:
        """POST queued pings, then every queued delivery once, in order; failures are
        counted, never retried."""
        results: list[DeliveryResult] = []
        pings, self.pings = self.pings, []
        for webhook_id in pings:
            if webhook_id in self.subscriptions:
                results.append(await self.send_ping(client, webhook_id))
        queue, self.pending = self.pending, []
        redeliveries: list[tuple[WebhookSubscription, _Pending]] = []
        for entry in queue:
            sub = self.subscriptions.get(entry.webhook_id)
            if sub is None or sub.status != "active":
                continue
            number = self._deliveries
            self._deliveries += 1
            delivery_id = self._delivery_id(sub.id, fresh=False)
            results.append(
                await self._post(client, sub, entry, kind="delivery", delivery_id=delivery_id)
            )
            if self.duplicate(number) and sub.status == "active":
                results.append(
                    await self._post(client, sub, entry, kind="duplicate", delivery_id=delivery_id)
                )
            if self.redeliver(number):
                redeliveries.append((sub, entry))
        for sub, entry in redeliveries:
            if sub.status == "active":
                delivery_id = self._delivery_id(sub.id, fresh=True)
                results.append(
                    await self._post(client, sub, entry, kind="redelivery", delivery_id=delivery_id)
                )
        return results

    async def send_ping(self, client: httpx.AsyncClient, webhook_id: int) -> DeliveryResult:
        """POST `webhook_id=<id>` with only `User-Agent` (§8): no signature, no X-WC headers.

        Only exactly 200 succeeds; it clears `pending_delivery`. A failed ping leaves
        `failure_count` alone. The Content-Type of a ping is Unconfirmed 3 (WooCommerce sets
        none; cURL sends a string body as form data), hence `ping_content_type`.
        """
        sub = self.subscriptions[webhook_id]
        body = f"webhook_id={webhook_id}".encode()
        headers = {"User-Agent": self.user_agent}
        if self.ping_content_type:
            headers["Content-Type"] = self.ping_content_type
        status_code, error = await _post(client, sub.delivery_url, body, headers)
        ok = status_code == 200
        if ok:
            sub.pending_delivery = False
        result = DeliveryResult(
            webhook_id=webhook_id,
            topic=sub.topic,
            resource_id=None,
            delivery_id=None,
            body=body,
            status_code=status_code,
            error=error,
            ok=ok,
            kind="ping",
        )
        self.results.append(result)
        return result


async def _post(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int | None, str | None]:
    """POST once as WooCommerce does (§8: no redirects followed, 60 s timeout, no retry).

    Returns the status, or None and the error when the request failed: transport errors and
    timeouts are failures (a WP_Error's code casts to 0).
    """
    try:
        response = await client.post(
            url, content=body, headers=headers, timeout=_DELIVERY_TIMEOUT, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return response.status_code, None
