"""`nswoo inventory sync`: publish what NetSuite can sell, push what changed."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import TextIO

import anyio

from ..inventory._sync import StockSync, StockSyncReport, SyncProgress
from ._runtime import open_runtime
from ._types import Command, Context, ExitCode

__all__ = ["COMMANDS"]

_SHOWN = 20
"""Names listed per category in the text report (the JSON report lists them all)."""

_PROGRESS_EVERY = 2.0
"""Seconds between progress lines on stderr; a run shorter than that prints none."""


class _Progress:
    """Progress lines on stderr (stdout stays the report), at most one every 2 s."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._clock = clock
        self._next = clock() + _PROGRESS_EVERY
        self._done: dict[str, str] = {}

    def __call__(self, event: SyncProgress) -> None:
        of = f"/{event.total}" if event.total is not None else ""
        self._done[event.stage] = f"{event.stage} {event.done}{of}"
        now = self._clock()
        if now >= self._next:
            self._next = now + _PROGRESS_EVERY
            print("inventory sync: " + ", ".join(self._done.values()), file=self._stream)


def _names(label: str, names: Sequence[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return f"  {label}: {shown}{more}"


def _print_report(ctx: Context, report: StockSyncReport) -> int:
    code = ExitCode.FAILED if report.failed else ExitCode.OK
    data = report.to_json()
    if ctx.json:
        ctx.write_json(data)
        return code
    done = (
        "dry run, nothing written"
        if report.dry_run
        else f"{data['pushed']} pushed, {data['failed']} failed"
    )
    ctx.write(
        f"inventory sync: {data['considered']} considered, {data['changed']} changed "
        f"({done}); {data['skipped_by_owner']} skipped by owner, {data['parent_managed']} "
        f"parent-managed, {data['missing_in_woocommerce']} missing in WooCommerce, "
        f"{data['missing_in_netsuite']} missing in NetSuite"
    )
    ctx.write(
        f"  in flight: {report.in_flight_units} units in {report.in_flight_orders} orders "
        "without a sales order"
    )
    if report.dry_run:
        for push in report.plan.pushes[:_SHOWN]:
            ctx.write(f"  {push.sku}: {push.target.quantity} ({push.target.status})")
        if len(report.plan.pushes) > _SHOWN:
            ctx.write(f"  ... and {len(report.plan.pushes) - _SHOWN} more (--json lists all)")
    for failure in report.failed[:_SHOWN]:
        ctx.write(f"  failed {failure.sku}: {failure.message} ({failure.code})")
    if len(report.failed) > _SHOWN:
        ctx.write(f"  ... {len(report.failed) - _SHOWN} more failed; the next run tries again")
    for problem in report.problems[:_SHOWN]:
        ctx.write(f"  {problem.kind}: {problem.detail}")
    if len(report.problems) > _SHOWN:
        ctx.write(f"  ... and {len(report.problems) - _SHOWN} more problems (--json lists all)")
    plan = report.plan
    for label, names in (
        ("parent-managed", plan.parent_managed),
        ("missing in WooCommerce", plan.missing_in_woocommerce),
        ("missing in NetSuite", plan.missing_in_netsuite),
    ):
        if names:
            ctx.write(_names(label, names))
    return code


def _configure_sync(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="compute and report what would change; write nothing",
    )
    parser.add_argument(
        "--sku",
        dest="skus",
        action="extend",
        nargs="+",
        default=None,
        metavar="SKU",
        help="only these SKUs (e.g. right after their orders were imported); repeatable",
    )


def _inventory_sync(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings()
    progress = _Progress(ctx.stderr)

    async def go() -> StockSyncReport:
        async with open_runtime(settings) as runtime:
            sync = StockSync(
                netsuite=runtime.netsuite,
                woocommerce=runtime.woocommerce,
                store=runtime.store,
                config=runtime.config,
                clock=runtime.clock,
                progress=progress,
            )
            return await sync.sync(skus=args.skus, dry_run=args.dry_run)

    return _print_report(ctx, anyio.run(go))


COMMANDS: tuple[Command, ...] = (
    Command(
        path=("inventory", "sync"),
        help="compute availability and push what changed (only the named SKUs with --sku)",
        run=_inventory_sync,
        configure=_configure_sync,
    ),
)
