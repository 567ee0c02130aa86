"""`nswoo webhooks ...`: receive WooCommerce webhooks and import them, and keep the store's
order webhooks on (`ensure`; `check` and `orders sync` warn about them)."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

import anyio

from .._settings import Settings
from ..errors import ConfigurationError, NswooError
from ._options import cannot_listen, require_server_extra
from ._runtime import open_runtime
from ._types import Command, Context, ExitCode

if TYPE_CHECKING:
    from ..woocommerce._client import WooClient
    from ..woocommerce._webhook_admin import EnsureResult

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


def _configure_ensure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        required=True,
        help="the receiver's public URL, e.g. https://hooks.example.com/webhooks/woocommerce",
    )


def _webhooks_ensure(args: argparse.Namespace, ctx: Context) -> int:
    """Create or repair the store's order.created/order.updated webhooks (idempotent)."""
    from ..woocommerce._client import WooClient
    from ..woocommerce._webhook_admin import check_receiver_url, ensure_webhooks

    settings = ctx.settings()
    woo = settings.require_woocommerce()
    if woo.webhook_secret is None:
        raise ConfigurationError(
            "is required: the webhooks are signed with it",
            key=f"WOO_{settings.environment.upper()}_WEBHOOK_SECRET",
        )
    check_receiver_url(args.url)
    secret = woo.webhook_secret

    async def go() -> EnsureResult:
        async with WooClient.from_settings(woo) as client:
            return await ensure_webhooks(client, url=args.url, secret=secret)

    result = anyio.run(go)
    if ctx.json:
        ctx.write_json(result.to_dict())
    else:
        for hook in result.created:
            ctx.write(f"created   {hook.topic} {hook.describe()}")
        for hook in result.updated:
            ctx.write(f"repaired  {hook.topic} {hook.describe()}: active, delivering here")
        for hook in result.rekeyed:
            ctx.write(f"ok        {hook.topic} {hook.describe()} (secret written)")
    for problem in result.problems:
        logging.getLogger("nswoo.webhooks").warning("%s", problem.message())
    return ExitCode.OK


async def webhook_warnings(client: WooClient) -> list[str]:
    """One line per problem with the store's order webhooks, or why they were not checked.

    Never raises for a service failure: the webhooks are a warning, not the command's job.
    """
    from ..woocommerce._webhook_admin import check_webhooks

    try:
        report = await check_webhooks(client)
    except NswooError as exc:
        return [f"order webhooks not checked: {exc}"]
    hint = "; nswoo webhooks ensure --url URL creates or repairs them"
    return [problem.message() + hint for problem in report.problems]


async def probe_webhooks(settings: Settings) -> str:
    """The `nswoo check` line on the store's order webhooks (a warning, never a failure)."""
    from ..woocommerce._client import WooClient

    async with WooClient.from_settings(settings.require_woocommerce()) as client:
        warnings = await webhook_warnings(client)
    if not warnings:
        return "order webhooks ok"
    return "warning: " + "; warning: ".join(warnings)


COMMANDS: tuple[Command, ...] = (
    Command(
        path=("webhooks", "serve"),
        help="receive WooCommerce webhooks and import them (runs until SIGTERM)",
        run=_webhooks_serve,
        configure=_configure_serve,
    ),
    Command(
        path=("webhooks", "ensure"),
        help="create or re-enable the store's order webhooks pointing at --url (idempotent)",
        run=_webhooks_ensure,
        configure=_configure_ensure,
    ),
)
