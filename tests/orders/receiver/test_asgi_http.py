"""The plain ASGI app over real HTTP on loopback (uvicorn + httpx), and its streaming limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.orders.receiver._support import SECRET, STORE, order_body, serving, signed

from nswoo.orders._receiver import WebhookReceiver, asgi_app
from nswoo.store.memory import MemoryStore

pytestmark = pytest.mark.anyio

LIMIT = 16 * 1024
URL = "/webhooks/woocommerce"


def make() -> WebhookReceiver:
    return WebhookReceiver(
        store=MemoryStore(), store_name=STORE, secret=SECRET, max_body_bytes=LIMIT
    )


async def test_signed_delivery_over_http_is_accepted_and_visible_in_healthz() -> None:
    """A signed POST is answered 200 accepted; /healthz then reports one pending item."""
    receiver = make()
    body = order_body()
    async with serving(asgi_app(receiver)) as base, httpx.AsyncClient(base_url=base) as http:
        response = await http.post(URL, content=body, headers=signed(body, delivery_id="h-1"))
        health = await http.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["status"] == "accepted"
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["inbox_pending"] == 1
    assert health.json()["deliveries"]["accepted"] == 1


async def test_status_table_over_http() -> None:
    """Ping 200, duplicate 200, bad signature 401, malformed 400: each on one live server."""
    receiver = make()
    body = order_body()
    async with serving(asgi_app(receiver)) as base, httpx.AsyncClient(base_url=base) as http:
        ping = await http.post(URL, content=b"webhook_id=3")
        first = await http.post(URL, content=body, headers=signed(body))
        again = await http.post(URL, content=body, headers=signed(body))
        forged = await http.post(URL, content=body, headers={"X-WC-Webhook-Topic": "order.updated"})
        broken = await http.post(URL, content=b"{oops", headers=signed(b"{oops"))
        after = await http.post(URL, content=body, headers=signed(body, delivery_id="d-2"))
    got = [(r.status_code, r.json()["status"]) for r in (ping, first, again, forged, broken, after)]
    assert got == [
        (200, "ping"),
        (200, "accepted"),
        (200, "duplicate"),
        (401, "rejected"),
        (400, "rejected"),
        (200, "accepted"),
    ]
    assert await receiver.store.inbox.pending_count() == 2


async def test_oversize_is_413_and_the_server_keeps_serving() -> None:
    """A body over the limit is refused 413; a normal delivery right after is accepted."""
    receiver = make()
    big = b'{"id":727,"pad":"' + b"x" * (LIMIT * 4) + b'"}'
    body = order_body()
    async with serving(asgi_app(receiver)) as base, httpx.AsyncClient(base_url=base) as http:
        refused = await http.post(URL, content=big, headers=signed(big))
        accepted = await http.post(URL, content=body, headers=signed(body))
    assert refused.status_code == 413
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert receiver.stats.rejected == {413: 1}


async def test_routes_404_and_405() -> None:
    """Unknown paths are 404; wrong methods on known paths are 405 with Allow."""
    async with serving(asgi_app(make())) as base, httpx.AsyncClient(base_url=base) as http:
        missing = await http.post("/webhooks/other", content=b"x")
        get_hook = await http.get(URL)
        post_health = await http.post("/healthz")
    assert missing.status_code == 404
    assert (get_hook.status_code, get_hook.headers["allow"]) == (405, "POST")
    assert post_health.status_code == 405


async def test_streamed_body_is_cut_off_at_the_limit_without_reading_the_rest() -> None:
    """Without Content-Length, reading stops at the first chunk past the limit and 413 is sent."""
    receiver = make()
    chunk = b"x" * 4096
    chunks_total = 100
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": chunk, "more_body": reads < chunks_total}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": URL, "headers": []}
    await asgi_app(receiver)(scope, receive, send)
    assert reads == LIMIT // len(chunk) + 1
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_lifespan_is_acknowledged() -> None:
    """The app answers lifespan startup and shutdown, so servers may run with lifespan on."""
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    await asgi_app(make())({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_chunked_oversize_over_http_is_413_and_serving_goes_on() -> None:
    """A chunked upload without Content-Length passing the limit is 413; serving continues."""
    receiver = make()
    body = order_body()

    async def upload():
        for _ in range(64):
            yield b"x" * 4096

    async with serving(asgi_app(receiver)) as base, httpx.AsyncClient(base_url=base) as http:
        try:
            refused = await http.post(URL, content=upload(), headers={"X-WC-Webhook-Topic": "x"})
            status = refused.status_code
        except httpx.TransportError:
            status = 0  # the server closed while the client was still sending
        accepted = await http.post(URL, content=body, headers=signed(body))
    # A client still uploading may see the 413 or only the closed connection; either way
    # the server refused it (counted) and answers the next delivery.
    assert status in (413, 0)
    assert receiver.stats.rejected == {413: 1}
    assert accepted.status_code == 200
