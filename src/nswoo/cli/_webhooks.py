"""`nswoo webhooks ...`: receive WooCommerce webhooks and import them."""

from __future__ import annotations

import argparse

import anyio

from ..errors import ConfigurationError
from ._options import cannot_listen, require_server_extra
from ._runtime import open_runtime
from ._types import Command, Context

__all__ = ["COMMANDS"]


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )


def _webhooks_serve(args: argparse.Namespace, ctx: Context) -> int:
    require_server_extra("webhooks serve")
    from ..orders._inbox import InboxWorker
    from ..orders._receiver import WebhookReceiver
    from ._serve import serve

    settings = ctx.settings()
    if not 0 <= args.port <= 65535:
        raise ConfigurationError("must be between 0 and 65535", key="--port")
    env = settings.environment.upper()

    def ready(host: str, port: int) -> None:
        print(
            f"nswoo: receiving webhooks on http://{host}:{port}/webhooks/woocommerce",
            file=ctx.stderr,
            flush=True,
        )

    async def go() -> int:
        async with open_runtime(settings) as runtime:
            woo = settings.woocommerce
            if woo is None or woo.webhook_secret is None:
                raise ConfigurationError(
                    "is required to verify deliveries", key=f"WOO_{env}_WEBHOOK_SECRET"
                )
            receiver = WebhookReceiver(
                store=runtime.store,
                store_name=runtime.config.orders.store,
                secret=woo.webhook_secret,
                max_body_bytes=runtime.config.webhooks.max_body_bytes,
            )
            worker = InboxWorker(store=runtime.store, order_sync=runtime.order_sync())
            try:
                return await serve(
                    receiver=receiver, worker=worker, host=args.host, port=args.port, ready=ready
                )
            except OSError as exc:
                raise cannot_listen(args.host, args.port, exc) from exc

    return int(anyio.run(go))


COMMANDS: tuple[Command, ...] = (
    Command(
        path=("webhooks", "serve"),
        help="receive WooCommerce webhooks and import them (runs until SIGTERM)",
        run=_webhooks_serve,
        configure=_configure_serve,
    ),
)
