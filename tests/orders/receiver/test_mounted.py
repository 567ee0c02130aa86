"""The receiver mounted under a prefix: Starlette, FastAPI, uvicorn's root_path and Django.

Each over real loopback HTTP (uvicorn, configured as `webhooks serve` configures it). The
ASGI spec keeps the mount prefix in `path` and names it in `root_path`; the receiver must
route on what lies below it (issue: `app.mount("/nswoo", asgi_app(receiver))` answered 404).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from tests.orders.receiver._support import SECRET, STORE, order_body, serving, signed

from nswoo._http._server import listening_socket, running, signal_free_server
from nswoo.cli._serve import server_config
from nswoo.orders._receiver import WebhookReceiver, asgi_app
from nswoo.testing import MemoryStore

pytestmark = pytest.mark.anyio

LIMIT = 64 * 1024


def make() -> WebhookReceiver:
    return WebhookReceiver(
        store=MemoryStore(), store_name=STORE, secret=SECRET, max_body_bytes=LIMIT
    )


async def deliver_and_probe(base: str, prefix: str) -> tuple[httpx.Response, httpx.Response]:
    body = order_body()
    async with httpx.AsyncClient(base_url=base) as http:
        delivered = await http.post(
            f"{prefix}/webhooks/woocommerce", content=body, headers=signed(body, delivery_id="m-1")
        )
        health = await http.get(f"{prefix}/healthz")
    return delivered, health


async def test_mounted_in_starlette() -> None:
    """`Mount("/nswoo", asgi_app(receiver))`: deliveries and healthz answer under the prefix,
    the host app keeps its own routes, and the unprefixed path is not the receiver's."""
    receiver = make()

    async def home(_request: Any) -> PlainTextResponse:
        return PlainTextResponse("host app")

    app = Starlette(routes=[Route("/", home), Mount("/nswoo", app=asgi_app(receiver))])
    async with serving(app) as base:
        delivered, health = await deliver_and_probe(base, "/nswoo")
        async with httpx.AsyncClient(base_url=base) as http:
            own = await http.get("/")
            bare = await http.post("/webhooks/woocommerce", content=b"{}")
    assert (delivered.status_code, delivered.json()["status"]) == (200, "accepted")
    assert (health.status_code, health.json()["inbox_pending"]) == (200, 1)
    assert (own.status_code, own.text) == (200, "host app")
    assert bare.status_code == 404
    assert await receiver.store.inbox.pending_count() == 1


async def test_mounted_in_fastapi_as_in_the_example() -> None:
    """examples/receiver_fastapi.py's app: the receiver under /nswoo beside FastAPI routes."""
    from examples.receiver_fastapi import build_app

    receiver = make()
    async with serving(build_app(receiver)) as base:
        delivered, health = await deliver_and_probe(base, "/nswoo")
        async with httpx.AsyncClient(base_url=base) as http:
            own = await http.get("/")
            unknown = await http.get("/nswoo/elsewhere")
    assert (delivered.status_code, delivered.json()["status"]) == (200, "accepted")
    assert health.json()["status"] == "ok"
    assert own.json() == {"app": "yours"}
    assert (unknown.status_code, unknown.json()["path"]) == (404, "/nswoo/elsewhere")


async def test_mounted_in_django_as_in_the_example() -> None:
    """examples/receiver_django.py's ASGI application: /nswoo/... reaches the receiver with
    root_path set, everything else is Django's."""
    from examples.receiver_django import build_application

    receiver = make()
    async with serving(build_application(receiver)) as base:
        delivered, health = await deliver_and_probe(base, "/nswoo")
        async with httpx.AsyncClient(base_url=base) as http:
            django = await http.get("/")
    assert (delivered.status_code, delivered.json()["status"]) == (200, "accepted")
    assert health.json()["inbox_pending"] == 1
    assert django.json() == {"app": "django"}


@asynccontextmanager
async def served_with_root_path(app: Any, root_path: str) -> AsyncIterator[str]:
    """uvicorn with `root_path` set, as behind a proxy that strips `/nswoo` before it."""
    sock = listening_socket("127.0.0.1", 0)
    config = server_config(app)
    config.root_path = root_path
    async with running((signal_free_server(config), sock)) as started:
        assert started
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_uvicorn_root_path_behind_a_stripping_proxy() -> None:
    """`uvicorn --root-path /nswoo`: the proxy sends /webhooks/woocommerce, uvicorn reports
    path /nswoo/webhooks/woocommerce with root_path /nswoo, and the receiver answers."""
    receiver = make()
    async with served_with_root_path(asgi_app(receiver), "/nswoo") as base:
        delivered, health = await deliver_and_probe(base, "")
    assert (delivered.status_code, delivered.json()["status"]) == (200, "accepted")
    assert health.status_code == 200


@pytest.mark.parametrize(
    ("root_path", "path", "status"),
    [
        ("/nswoo", "/nswoo/healthz", 200),  # the spec's form: path includes root_path
        ("/nswoo", "/healthz", 200),  # older mounters strip the prefix from path
        ("/nswoo/", "/nswoo/healthz", 200),
        ("/nswoo", "/nswoohealthz", 404),  # a prefix matches whole segments only
        ("", "/healthz", 200),
    ],
)
async def test_route_below_root_path(root_path: str, path: str, status: int) -> None:
    """The route is the path below root_path; a path outside it is taken as relative."""
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "root_path": root_path, "headers": []}
    await asgi_app(make())(scope, receive, send)
    assert sent[0]["status"] == status
