"""The webhook receiver: verify a WooCommerce delivery, persist it, answer in milliseconds.

Two layers, so any web framework can host the receiver:

- `WebhookReceiver.handle(headers, body)` is framework-agnostic: it takes the raw request and
  returns a `ReceiverResponse` (status and JSON body). It never calls NetSuite: the answer
  depends only on the signature check and one inbox write, so WooCommerce's 60 s delivery
  timeout (reference §8) is never at risk however slow NetSuite is.
- `asgi_app(receiver)` is a plain ASGI application (no framework dependency) serving
  `POST /webhooks/woocommerce` and `GET /healthz`; `nswoo webhooks serve` runs it under
  uvicorn.

Status codes (DESIGN behaviour 4):

| outcome | status | body `status` |
|---|---|---|
| `order.*` delivery persisted | 200 | `accepted` |
| delivery id already seen | 200 | `duplicate` |
| WooCommerce's unsigned ping | 200 | `ping` |
| topic other than `order.*`, or a `checkout-draft` order | 200 | `ignored` |
| missing or wrong signature | 401 | `rejected` |
| not UTF-8 or JSON; no positive 64-bit order `id`; a header out of bounds | 400 | `rejected` |
| body not all received within `body_timeout` seconds (ASGI app) | 408 | `rejected` |
| body over `[webhooks] max_body_bytes` | 413 | `rejected` |
| the inbox could not be written | 503 | `error` |

Every 2xx means "persisted or deliberately dropped": WooCommerce never retries a delivery
(reference §8), so the receiver must not acknowledge one it has not stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import anyio
import attrs

from .._clock import Clock
from .._http import AsgiApp, Receive, Scope, Send, serve_lifespan
from .._settings import Secret
from ..errors import ConfigurationError, StorageError, WebhookError, WebhookTooLarge
from ..store._ports import Store
from ..woocommerce._webhooks import Delivery, Ping, verify_delivery

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "HEALTH_PATH",
    "WEBHOOK_PATH",
    "AsgiApp",
    "ReceiverResponse",
    "ReceiverStats",
    "WebhookReceiver",
    "asgi_app",
    "derived_delivery_id",
]

_log = logging.getLogger("nswoo.webhooks")

WEBHOOK_PATH = "/webhooks/woocommerce"
"""Where WooCommerce posts deliveries (the webhook's delivery URL ends with this path)."""

HEALTH_PATH = "/healthz"
"""Liveness and inbox depth, for load balancers and monitoring."""

DEFAULT_BODY_TIMEOUT = 20.0
"""Seconds the ASGI app waits for a whole request body before answering 408.

WooCommerce sends a few kilobytes at once with a 60 s timeout of its own (reference §8), so
20 s is generous for it and short for a sender holding connections open byte by byte.
"""


@attrs.frozen
class ReceiverResponse:
    """What to answer WooCommerce: an HTTP status and a small JSON object.

    Attributes:
        status: the HTTP status code.
        body: the JSON body; always has a `status` key (`accepted`, `duplicate`, `ping`,
            `ignored`, `rejected` or `error`). It never contains the webhook secret.
    """

    status: int
    body: dict[str, Any]

    def json_bytes(self) -> bytes:
        """The body as compact UTF-8 JSON."""
        return json.dumps(self.body, separators=(",", ":")).encode()


@attrs.frozen
class ReceiverStats:
    """Counts of what the receiver answered since it was created.

    Attributes:
        accepted: `order.*` deliveries persisted to the inbox.
        duplicate: deliveries whose id was already in the inbox (dropped).
        ignored: other topics and `checkout-draft` orders (acknowledged, not stored).
        pings: WooCommerce pings acknowledged.
        rejected: refused requests by HTTP status (401, 400, 413, 503).
    """

    accepted: int = 0
    duplicate: int = 0
    ignored: int = 0
    pings: int = 0
    rejected: Mapping[int, int] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The counts as a JSON object (status codes as string keys)."""
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "ignored": self.ignored,
            "pings": self.pings,
            "rejected": {str(status): n for status, n in sorted(self.rejected.items())},
        }


def derived_delivery_id(topic: str, body: bytes) -> str:
    """A stable delivery id for a delivery sent without `X-WC-Webhook-Delivery-ID`.

    WooCommerce always sends the header (reference §8), but proxies and hand-made resends may
    drop it. Without an id the inbox could not drop duplicates, so one is derived from what
    was delivered: the same topic and the same bytes give the same id. Two such deliveries
    carry the same order state (the payload is built at delivery time and includes
    `date_modified`), so dropping the second loses nothing.
    """
    digest = hashlib.sha256(topic.encode() + b"\n" + body).hexdigest()
    return f"sha256:{digest}"


def inbox_key(delivery_id: str | None, topic: str, body: bytes) -> str:
    """The key the inbox deduplicates on: the delivery id *and* a digest of the body.

    WooCommerce builds `X-WC-Webhook-Delivery-ID` as `wp_hash(webhook_id . time())` (reference
    §8), so two different deliveries of one webhook within the same second share an id:
    deduplicating on the id alone would drop the second one, and with it an order. A true
    duplicate (the same delivery sent twice) has the same id and the same bytes, so the pair
    still drops it. A delivery without the header falls back to `derived_delivery_id`.
    """
    if not delivery_id:
        return derived_delivery_id(topic, body)
    digest = hashlib.sha256(body).hexdigest()[:16]
    return f"{delivery_id}:{digest}"


@attrs.define
class _Counts:
    """The mutable counters behind `ReceiverStats` (one event loop, no lock needed)."""

    accepted: int = 0
    duplicate: int = 0
    ignored: int = 0
    pings: int = 0
    rejected: dict[int, int] = attrs.field(factory=dict)


class WebhookReceiver:
    """Verifies WooCommerce webhook deliveries and persists order deliveries to the inbox.

    The handler is framework-agnostic: give it the request headers and the raw body bytes
    (exactly as received: the signature covers them) and send back what it returns. It does
    no NetSuite call; an `InboxWorker` imports what it persisted.

    Example:
        >>> receiver = WebhookReceiver(
        ...     store=store, store_name="main", secret=secret, max_body_bytes=5_242_880
        ... )  # doctest: +SKIP
        >>> response = await receiver.handle(request_headers, raw_body)  # doctest: +SKIP
        >>> response.status, response.body["status"]  # doctest: +SKIP
        (200, 'accepted')

    Args:
        store: where the inbox lives (`store.inbox`).
        store_name: the WooCommerce store name (`[orders] store`), part of the inbox key.
        secret: the webhook's secret (`WOO_<ENV>_WEBHOOK_SECRET`).
        max_body_bytes: larger bodies are answered 413 (`[webhooks] max_body_bytes`).
        clock: when given, stamps `received_at` on inbox items; otherwise the store does.
        body_timeout: seconds `asgi_app` gives a request, from its headers, to deliver its
            whole body; later it is answered 408 and the connection closed.

    Raises:
        ConfigurationError: `secret` is empty (every signature would be forgeable), or
            `max_body_bytes` or `body_timeout` is not positive.
    """

    def __init__(
        self,
        *,
        store: Store,
        store_name: str,
        secret: Secret,
        max_body_bytes: int,
        clock: Clock | None = None,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        if not secret:
            raise ConfigurationError(
                "the webhook secret is empty: set it to the webhook's secret in WooCommerce",
                key="WOO_<ENV>_WEBHOOK_SECRET",
            )
        if max_body_bytes <= 0:
            raise ConfigurationError("must be positive", key="webhooks.max_body_bytes")
        if not (math.isfinite(body_timeout) and body_timeout > 0):
            raise ConfigurationError("must be a positive number of seconds", key="body_timeout")
        self.store = store
        self.store_name = store_name
        self._secret = secret
        self.max_body_bytes = max_body_bytes
        self.clock = clock
        self.body_timeout = body_timeout
        self._counts = _Counts()

    def __repr__(self) -> str:
        # The secret stays out of repr (it would be masked anyway; this keeps repr short).
        return f"WebhookReceiver(store_name={self.store_name!r})"

    @property
    def stats(self) -> ReceiverStats:
        """A snapshot of the counts so far."""
        c = self._counts
        return ReceiverStats(
            accepted=c.accepted,
            duplicate=c.duplicate,
            ignored=c.ignored,
            pings=c.pings,
            rejected=dict(c.rejected),
        )

    async def handle(self, headers: Mapping[str, str], body: bytes) -> ReceiverResponse:
        """Verify one request and persist it when it is an order delivery.

        Args:
            headers: the request headers (names matched case-insensitively).
            body: the raw request body.

        Returns:
            The response to send (see the module's status table). Refusals are answers,
            not exceptions, so a framework adapter is a few lines.
        """
        try:
            verified = verify_delivery(
                headers, body, secret=self._secret, max_body_bytes=self.max_body_bytes
            )
        except WebhookError as exc:
            return self.reject(exc)
        if isinstance(verified, Ping):
            self._counts.pings += 1
            _log.info("webhook ping from webhook %s acknowledged", verified.webhook_id)
            return ReceiverResponse(200, {"status": "ping", "webhook_id": verified.webhook_id})
        return await self._persist(verified, body)

    def reject(self, exc: WebhookError) -> ReceiverResponse:
        """Count and log a refused request, and build its answer (`exc.http_status`).

        Framework adapters call this when they refuse a request before `handle` sees it,
        e.g. a body over the limit cut off while streaming.
        """
        status = exc.http_status
        self._counts.rejected[status] = self._counts.rejected.get(status, 0) + 1
        # The message names the problem (size, missing header, JSON), never the secret or
        # the body; logged at WARNING because a forged or broken sender is worth seeing.
        _log.warning("webhook refused with %s: %s", status, exc)
        return ReceiverResponse(status, {"status": "rejected", "error": str(exc)})

    def too_large(self, size: int) -> ReceiverResponse:
        """The 413 answer for a body of at least `size` bytes (counted like any refusal)."""
        return self.reject(WebhookTooLarge(size=size, limit=self.max_body_bytes))

    def too_slow(self, received: int) -> ReceiverResponse:
        """The 408 answer for a body still incomplete after `body_timeout` seconds.

        Counted like any refusal. Nothing was stored: WooCommerce sends its body at once, so
        a body this slow is a stalled or hostile sender, and holding its connection longer
        would let a few hundred of them pin the server.
        """
        self._counts.rejected[408] = self._counts.rejected.get(408, 0) + 1
        _log.warning(
            "webhook refused with 408: %d body bytes arrived in %g s", received, self.body_timeout
        )
        return ReceiverResponse(
            408,
            {
                "status": "rejected",
                "error": f"the request body did not arrive within {self.body_timeout:g} s",
            },
        )

    async def pending(self) -> int:
        """How many of this store's inbox items are not done yet (for `GET /healthz`).

        Raises:
            StorageError: the store failed.
        """
        return await self.store.inbox.pending_count(self.store_name)

    async def _persist(self, delivery: Delivery, body: bytes) -> ReceiverResponse:
        if delivery.ignorable:
            self._counts.ignored += 1
            reason = delivery.ignore_reason
            _log.debug("webhook %s ignored: %s", delivery.topic, reason)
            return ReceiverResponse(
                200, {"status": "ignored", "topic": delivery.topic, "reason": reason}
            )
        delivery_id = delivery.delivery_id or derived_delivery_id(delivery.topic, body)
        key = inbox_key(delivery.delivery_id, delivery.topic, body)
        received_at = None if self.clock is None else datetime.fromtimestamp(self.clock.time(), UTC)
        try:
            # Persist before answering: WooCommerce never sends a delivery again (§8), so a
            # 200 for something not stored would lose the order until the polling sync.
            fresh = await self.store.inbox.put(
                self.store_name,
                key,
                topic=delivery.topic,
                order_id=delivery.order_id,
                body=body,
                received_at=received_at,
            )
        except StorageError as exc:
            self._counts.rejected[503] = self._counts.rejected.get(503, 0) + 1
            _log.error(
                "webhook %s for order %s not stored: %s", delivery.topic, delivery.order_id, exc
            )
            return ReceiverResponse(503, {"status": "error", "error": "the inbox is unavailable"})
        answer: dict[str, Any] = {
            "status": "accepted" if fresh else "duplicate",
            "topic": delivery.topic,
            "order_id": delivery.order_id,
            "delivery_id": delivery_id,
        }
        if fresh:
            self._counts.accepted += 1
            _log.info("webhook %s for order %s accepted", delivery.topic, delivery.order_id)
        else:
            self._counts.duplicate += 1
            _log.info(
                "webhook %s for order %s: duplicate dropped", delivery.topic, delivery.order_id
            )
        return ReceiverResponse(200, answer)


# ---------------------------------------------------------------------------------------------
# ASGI


def asgi_app(receiver: WebhookReceiver) -> AsgiApp:
    """A plain ASGI 3 application serving the receiver (no web framework needed).

    Routes:

    - `POST /webhooks/woocommerce`: `receiver.handle`. The body is read in chunks and the
      request is answered 413 as soon as it passes `max_body_bytes` (or at once when
      `Content-Length` says so), without buffering the rest; that connection is then closed.
      A body not complete within `receiver.body_timeout` seconds of the call is answered
      408 and its connection closed (a slow sender cannot hold a connection open).
    - `GET /healthz`: 200 `{"status": "ok", "inbox_pending": N, "deliveries": {...}}`, or
      503 when the store cannot be read.
    - other paths: 404; other methods on these paths: 405 with `Allow`.

    The paths are relative to where the app is mounted: under `app.mount("/nswoo", ...)`
    in Starlette or FastAPI, behind `uvicorn --root-path /nswoo`, or under a prefix in a
    Django ASGI project, WooCommerce posts to `/nswoo/webhooks/woocommerce` (the scope's
    `root_path` is honoured, see `route_path`).

    `lifespan` messages are acknowledged, so servers run with `lifespan="on"` start cleanly.

    Example:
        >>> import uvicorn  # doctest: +SKIP
        >>> uvicorn.run(asgi_app(receiver), host="127.0.0.1", port=8000)  # doctest: +SKIP
    """
    return _ReceiverApp(receiver)


@attrs.frozen
class _ReceiverApp:
    receiver: WebhookReceiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await serve_lifespan(receive, send)
            return
        if kind != "http":
            # Websockets are not spoken here; closing before accept refuses the handshake.
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        path, method = route_path(scope), scope["method"]
        if path == WEBHOOK_PATH:
            if method != "POST":
                await _respond(send, _not_allowed(), extra=[(b"allow", b"POST")])
                return
            await self._webhook(scope, receive, send)
        elif path == HEALTH_PATH:
            if method not in ("GET", "HEAD"):
                await _respond(send, _not_allowed(), extra=[(b"allow", b"GET, HEAD")])
                return
            await _respond(send, await self._health(), head=method == "HEAD")
        else:
            await _respond(
                send, ReceiverResponse(404, {"status": "not_found", "path": scope["path"]})
            )

    async def _webhook(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.receiver.max_body_bytes
        headers = _headers(scope)
        declared = _content_length(headers)
        if declared is not None and declared > limit:
            # Refuse before reading a byte: the sender said how much is coming.
            response = self.receiver.too_large(declared)
            await _respond(send, response, extra=[(b"connection", b"close")])
            return
        body = bytearray()
        complete: bool | None = False
        # The deadline covers reading only: persisting has the store's own timeouts, and a
        # delivery fully received is never cut off.
        with anyio.move_on_after(self.receiver.body_timeout):
            complete = await _read_body(receive, body, limit)
        if complete is None:
            return  # the sender gave up; nothing was stored, nothing to answer
        if len(body) > limit:
            # Stop reading: the rest is never buffered, and the connection is closed after
            # the answer because the unread remainder cannot be skipped safely.
            response = self.receiver.too_large(len(body))
            await _respond(send, response, extra=[(b"connection", b"close")])
            return
        if not complete:
            response = self.receiver.too_slow(len(body))
            await _respond(send, response, extra=[(b"connection", b"close")])
            return
        await _respond(send, await self.receiver.handle(headers, bytes(body)))

    async def _health(self) -> ReceiverResponse:
        try:
            pending = await self.receiver.pending()
        except StorageError as exc:
            _log.error("health check: %s", exc)
            return ReceiverResponse(503, {"status": "error", "error": "the inbox is unavailable"})
        return ReceiverResponse(
            200,
            {
                "status": "ok",
                "inbox_pending": pending,
                "deliveries": self.receiver.stats.to_json(),
            },
        )


def route_path(scope: Scope) -> str:
    """The request path below where the app is mounted (`root_path`).

    The ASGI spec (HTTP scope, and its WSGI-compatibility section: `PATH_INFO` is `path`
    with `root_path` removed) has `path` include `root_path`; Starlette's `Mount` (since
    0.35, encode/starlette#2400), uvicorn's `--root-path` and Django build scopes that way.
    Some older mounters strip the prefix from `path` themselves, so a `path` that does not
    start with `root_path` is taken as already relative.
    """
    path: str = scope["path"]
    root = str(scope.get("root_path") or "").rstrip("/")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root) :] or "/"
    return path


async def _read_body(receive: Receive, body: bytearray, limit: int) -> bool | None:
    """Append the request body to `body`: True when complete, False when stopped past
    `limit`, None when the sender disconnected. Cancelled by the caller's deadline."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > limit:
            return False
        if not message.get("more_body", False):
            return True


def _not_allowed() -> ReceiverResponse:
    return ReceiverResponse(405, {"status": "method_not_allowed"})


def _headers(scope: Scope) -> dict[str, str]:
    # ASGI gives lower-cased byte names; header values are latin-1 by the HTTP spec, so any
    # bytes decode. A header sent twice is read as its values joined with ", " (RFC 9110
    # §5.3): a second signature, topic or delivery id then makes the value invalid and the
    # request is refused, rather than one copy silently winning.
    headers: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _content_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("content-length", "").strip(" \t")
    if not (value.isascii() and value.isdigit()):
        return None
    # More than 19 digits is past any body size (and int() refuses over 4300 digits): the
    # sender announced more than the limit, whatever the exact number.
    return int(value) if len(value) <= 19 else 2**63


async def _respond(
    send: Send,
    response: ReceiverResponse,
    *,
    extra: list[tuple[bytes, bytes]] | None = None,
    head: bool = False,
) -> None:
    payload = response.json_bytes()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else payload})
