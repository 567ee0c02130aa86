"""nswoo's webhook receiver under /nswoo in a Django project served over ASGI.

Django has no way to mount another ASGI application, so the project's `asgi.py` sends
requests under the prefix to the receiver and everything else to Django. The receiver
honours the scope's `root_path` (the ASGI spec keeps the prefix in `path` and names it in
`root_path`), so WooCommerce posts to `https://<your host>/nswoo/webhooks/woocommerce`.

In your project's `asgi.py`:

    from django.core.asgi import get_asgi_application
    application = mount("/nswoo", asgi_app(receiver), get_asgi_application())

Run this file against the simulators (`pip install 'nswoo[server]' django`):

    nswoo sim > sim.env &
    sleep 2 && source sim.env
    export NSWOO_SANDBOX_STORE=sqlite:///nswoo-sandbox.db
    python examples/receiver_django.py sandbox
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import uvicorn
from django.conf import settings as django_settings  # type: ignore[import-untyped]
from django.core.asgi import get_asgi_application  # type: ignore[import-untyped]
from django.http import HttpRequest, JsonResponse  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

from nswoo import OrderSync, from_env, load_config, open_store
from nswoo.netsuite import open_netsuite
from nswoo.orders import InboxWorker, WebhookReceiver, asgi_app
from nswoo.woocommerce import WooClient

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def mount(prefix: str, app: App, fallback: App) -> App:
    """An ASGI app sending requests under `prefix` to `app`, the rest to `fallback`.

    As Starlette's `Mount` does: `path` keeps the prefix, `root_path` gains it. Lifespan
    goes to `app` (Django's ASGI handler refuses lifespan; nswoo's receiver acknowledges it).
    """
    prefix = "/" + prefix.strip("/")

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await app(scope, receive, send)
            return
        mounted_at = str(scope.get("root_path", "")).rstrip("/") + prefix
        request_path = str(scope.get("path", ""))
        if request_path == mounted_at or request_path.startswith(mounted_at + "/"):
            await app({**scope, "root_path": mounted_at}, receive, send)
        else:
            await fallback(scope, receive, send)

    return dispatch


def home(request: HttpRequest) -> JsonResponse:
    """A view of the Django project the receiver shares a server with."""
    return JsonResponse({"app": "django"})


urlpatterns = [path("", home)]


def configure_django() -> None:
    """Minimal settings for this example; a real project has its own settings module."""
    if not django_settings.configured:
        django_settings.configure(
            ROOT_URLCONF=__name__,
            ALLOWED_HOSTS=["127.0.0.1", "localhost"],
            SECRET_KEY=secrets.token_urlsafe(32),
        )


def build_application(receiver: WebhookReceiver) -> App:
    """The project's ASGI application: the receiver under /nswoo, Django for the rest."""
    configure_django()
    django_app: App = get_asgi_application()
    return mount("/nswoo", asgi_app(receiver), django_app)


async def main(environment: str) -> int:
    settings = from_env(environment)
    config = load_config(settings.require_config_path())
    woo_settings = settings.require_woocommerce()
    if woo_settings.webhook_secret is None:
        print(f"set WOO_{environment.upper()}_WEBHOOK_SECRET", file=sys.stderr)
        return 2
    async with (
        await open_store(settings.store_url) as store,
        open_netsuite(settings.require_netsuite()) as netsuite,
        WooClient.from_settings(woo_settings) as woocommerce,
    ):
        receiver = WebhookReceiver(
            store=store,
            store_name=config.orders.store,
            secret=woo_settings.webhook_secret,
            max_body_bytes=config.webhooks.max_body_bytes,
        )
        sync = OrderSync(
            netsuite=netsuite, woocommerce=woocommerce, store=store, config=config.orders
        )
        worker = InboxWorker(store=store, order_sync=sync)
        application = build_application(receiver)
        server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=8000))
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run, stop)
            await server.serve()  # until Ctrl-C
            stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "sandbox"))
