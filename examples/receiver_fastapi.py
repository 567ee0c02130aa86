"""nswoo's webhook receiver mounted under /nswoo in a FastAPI (or Starlette) app.

WooCommerce then posts to `https://<your host>/nswoo/webhooks/woocommerce`, and
`/nswoo/healthz` answers for monitoring; the rest of the app is yours. Run it against the
simulators (`pip install 'nswoo[server]' fastapi`):

    nswoo sim > sim.env &
    sleep 2 && source sim.env
    export NSWOO_SANDBOX_STORE=sqlite:///nswoo-sandbox.db
    python examples/receiver_fastapi.py sandbox

and point the store's webhooks at it: `nswoo webhooks ensure --env sandbox --url
http://127.0.0.1:8000/nswoo/webhooks/woocommerce`.
"""

from __future__ import annotations

import sys

import anyio
import uvicorn
from fastapi import FastAPI

from nswoo import OrderSync, from_env, load_config, open_store
from nswoo.netsuite import open_netsuite
from nswoo.orders import InboxWorker, WebhookReceiver, asgi_app
from nswoo.woocommerce import WooClient


def build_app(receiver: WebhookReceiver) -> FastAPI:
    """Your application, with the receiver mounted under /nswoo."""
    app = FastAPI()

    @app.get("/")
    async def home() -> dict[str, str]:
        return {"app": "yours"}

    # The receiver honours the mount's root_path: its routes live at /nswoo/webhooks/...
    app.mount("/nswoo", asgi_app(receiver))
    return app


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
        # The receiver only stores deliveries; the worker imports them into NetSuite.
        worker = InboxWorker(store=store, order_sync=sync)
        server = uvicorn.Server(uvicorn.Config(build_app(receiver), host="127.0.0.1", port=8000))
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run, stop)
            await server.serve()  # until Ctrl-C
            stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "sandbox"))
