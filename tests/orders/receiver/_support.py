"""Helpers for receiver tests: signed WooCommerce deliveries and a fake order sync."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import attrs

from nswoo._settings import OrdersConfig, Secret
from nswoo.cli._serve import DEFAULT_HEADER_TIMEOUT, server_config
from nswoo.orders._sync import ImportResult
from nswoo.woocommerce._records import WooOrder
from nswoo.woocommerce._webhooks import sign_body

ORDER_EXAMPLE = Path(__file__).parents[2] / "woocommerce" / "fixtures" / "woo_order_example.json"
SECRET = Secret("whsec-receiver-test")
STORE = "main"


def order_body(**changes: Any) -> bytes:
    """The published order example, byte for byte, or re-encoded with top-level `changes`."""
    raw = ORDER_EXAMPLE.read_bytes()
    if not changes:
        return raw
    payload = json.loads(raw)
    payload.update(changes)
    return json.dumps(payload).encode()


def signed(
    body: bytes,
    topic: str = "order.updated",
    *,
    delivery_id: str | None = "d-1",
    secret: Secret = SECRET,
) -> dict[str, str]:
    """The headers WooCommerce sends with a delivery (reference §8), signed for `body`."""
    resource, _, event = topic.partition(".")
    headers = {
        "User-Agent": "WooCommerce/8.9.0 Hookshot (WordPress/6.5.0)",
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://shop.example/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign_body(body, secret),
        "X-WC-Webhook-ID": "12",
    }
    if delivery_id is not None:
        headers["X-WC-Webhook-Delivery-ID"] = delivery_id
    return headers


@attrs.define
class FakeOrderSync:
    """Stands in for `OrderSync`: records orders, answers `outcome`, or raises `fail`."""

    outcome: str = "imported"
    fail: BaseException | None = None
    fail_times: int = 0
    imported: list[WooOrder] = attrs.field(factory=list)
    calls: int = 0
    config: OrdersConfig = attrs.field(factory=lambda: OrdersConfig(store=STORE))
    max_waits: list[float | None] = attrs.field(factory=list)

    async def import_order(self, order: WooOrder, *, max_wait: float | None = None) -> ImportResult:
        self.calls += 1
        self.max_waits.append(max_wait)
        if self.fail is not None and (self.fail_times == 0 or self.calls <= self.fail_times):
            raise self.fail
        self.imported.append(order)
        sales_order = f"SO-{order.id}" if self.outcome in ("imported", "already_imported") else None
        return ImportResult(order.id, self.outcome, sales_order)  # type: ignore[arg-type]


@asynccontextmanager
async def serving(
    app: Any, *, header_timeout: float = DEFAULT_HEADER_TIMEOUT
) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn, configured as `webhooks serve` does, on a free loopback
    port; yield its base URL."""
    import uvicorn

    class _Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # pytest owns the signals

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    server = _Server(server_config(app, header_timeout=header_timeout))
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])
            with anyio.fail_after(5):
                while not server.started:  # noqa: ASYNC110 - uvicorn has only the flag
                    await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                server.should_exit = True
    finally:
        sock.close()
