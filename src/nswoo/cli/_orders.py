"""`nswoo orders ...`: poll and import orders, replay and list dead letters."""

from __future__ import annotations

import argparse

import anyio

from ..orders._sync import SyncReport
from ._options import parse_since
from ._runtime import open_runtime
from ._types import Command, Context, ExitCode

__all__ = ["COMMANDS"]


def _print_report(ctx: Context, report: SyncReport, verb: str) -> int:
    data = report.to_dict()
    if ctx.json:
        ctx.write_json(data)
    else:
        ctx.write(
            f"{verb}: {data['imported']} imported, {data['already_imported']} already imported, "
            f"{data['ignored']} ignored, {data['dead_lettered']} dead-lettered"
            + (f", {data['deferred']} held by another worker" if data["deferred"] else "")
            + (
                f", {data['kept_dead_letters']} left for orders replay"
                if data["kept_dead_letters"]
                else ""
            )
        )
        for result in report.dead_letters:
            ctx.write(f"  order {result.order_id}: {result.reason}")
    return ExitCode.FAILED if report.dead_letters else ExitCode.OK


def _configure_sync(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=parse_since,
        default=None,
        help="poll orders modified after this ISO 8601 time (default: the stored cursor)",
    )


def _orders_sync(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings()

    async def go() -> SyncReport:
        async with open_runtime(settings) as runtime:
            return await runtime.order_sync().sync(since=args.since)

    return _print_report(ctx, anyio.run(go), "orders sync")


def _orders_replay(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings()

    async def go() -> SyncReport:
        async with open_runtime(settings) as runtime:
            return await runtime.order_sync().replay()

    return _print_report(ctx, anyio.run(go), "orders replay")


def _orders_dead_letters(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings()

    async def go() -> list[dict[str, object]]:
        async with open_runtime(settings) as runtime:
            letters = await runtime.store.dead_letters.list(runtime.config.orders.store)
        return [
            {
                "order_id": letter.order_id,
                "reason": letter.reason,
                "attempts": letter.attempts,
                "first_seen": letter.first_seen.isoformat().replace("+00:00", "Z"),
                "last_seen": letter.last_seen.isoformat().replace("+00:00", "Z"),
            }
            for letter in letters
        ]

    letters = anyio.run(go)
    if ctx.json:
        ctx.write_json({"dead_letters": letters})
    elif not letters:
        ctx.write("no dead letters")
    else:
        for letter in letters:
            ctx.write(
                f"order {letter['order_id']}  attempts {letter['attempts']}  "
                f"first {letter['first_seen']}  last {letter['last_seen']}"
            )
            ctx.write(f"  {letter['reason']}")
    return ExitCode.OK


COMMANDS: tuple[Command, ...] = (
    Command(
        path=("orders", "sync"),
        help="poll WooCommerce orders from the stored cursor and import each idempotently",
        run=_orders_sync,
        configure=_configure_sync,
    ),
    Command(
        path=("orders", "replay"),
        help="retry dead-lettered orders",
        run=_orders_replay,
    ),
    Command(
        path=("orders", "dead-letters"),
        help="list dead-lettered orders with their reasons",
        run=_orders_dead_letters,
    ),
)
