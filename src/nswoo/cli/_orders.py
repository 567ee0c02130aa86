"""`nswoo orders ...`: poll and import orders, replay and list dead letters."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

import anyio

from ..errors import ApiError, SchemaDriftError
from ..orders._sync import OrderSync, SyncReport
from ..schema._runtime import DriftAlerts
from ..schema._snapshot import SchemaSnapshotError, Snapshot, take_snapshot
from ._options import parse_since
from ._progress import add_progress_option, cap_list, progress_for
from ._runtime import Runtime, open_runtime
from ._types import Command, Context, ExitCode
from ._webhooks import webhook_warnings

__all__ = ["COMMANDS"]

_log = logging.getLogger("nswoo.schema")


_LISTED = 20
"""Orders a report lists by id at most; the rest are counted (`and N more`)."""


def _print_report(ctx: Context, report: SyncReport, verb: str) -> int:
    """Print a run's report (its own JSON with `--json`) and return the exit code: 3 when
    orders were dead-lettered (a person must look), else 4 when orders were kept because a
    system could not be reached (the next run tries them again), else 0.
    """
    if ctx.json:
        # The library's own serialisation, so scripts and the CLI read the same object.
        ctx.write(report.to_json())
    else:
        for line in _report_lines(report, verb):
            ctx.write(line)
    if report.dead_letters:
        return ExitCode.FAILED
    if report.count("retrying"):
        return ExitCode.UNREACHABLE
    return ExitCode.OK


def _report_lines(report: SyncReport, verb: str) -> list[str]:
    data = report.to_dict()
    counts = [
        f"{data['imported']} imported",
        f"{data['already_imported']} already imported",
        f"{data['ignored']} ignored",
        f"{data['dead_lettered']} dead-lettered",
    ]
    if data["total_differs"]:
        counts[-1] += f" ({data['total_differs']} booked with a total that differs)"
    if data["retrying"]:
        counts.append(f"{data['retrying']} kept for the next run")
    if data["deferred"]:
        counts.append(f"{data['deferred']} held by another worker")
    if data["kept_dead_letters"]:
        counts.append(f"{data['kept_dead_letters']} dead-lettered earlier, retried on schedule")
    lines = [f"{verb}: {', '.join(counts)}"]
    if report.dead_letters:
        lines.append("dead-lettered:")
        lines += cap_list(
            [f"  order {r.order_id}: {r.reason}" for r in report.dead_letters],
            _LISTED,
            "nswoo orders dead-letters lists them all",
        )
    retrying = [r for r in report.results if r.outcome == "retrying"]
    if retrying:
        lines.append("kept for the next run:")
        lines += cap_list(
            [f"  order {r.order_id}: {r.reason}" for r in retrying],
            _LISTED,
            "the next run tries them all again",
        )
    return lines


def _configure_sync(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=parse_since,
        default=None,
        help="poll orders modified after this ISO 8601 time (default: the stored cursor)",
    )
    add_progress_option(parser)


def _run_orders(
    args: argparse.Namespace,
    ctx: Context,
    verb: str,
    job: Callable[[OrderSync], Awaitable[SyncReport]],
    *,
    check_webhooks: bool = False,
) -> int:
    settings = ctx.settings()
    progress = progress_for(args, ctx, verb)
    warnings: list[str] = []

    def show(handled: int, read: int) -> None:
        progress.update(handled, read, "orders handled")

    async def go() -> SyncReport:
        async with open_runtime(settings) as runtime:
            # Orders held for a renamed or newly mandatory field page once per field, not
            # once per order (behaviour 6); the pager keeps what it cannot send yet.
            held: list[SchemaDriftError] = []
            report = await job(runtime.order_sync(progress=show, on_schema_drift=held.append))
            if held:
                await _page_drift(runtime, held)
            if check_webhooks:
                # Polling is the backstop; a disabled webhook is why it has work to do.
                warnings.extend(await webhook_warnings(runtime.woocommerce))
            return report

    try:
        report = anyio.run(go)
    finally:
        progress.close()
    for warning in warnings:
        logging.getLogger("nswoo.webhooks").warning("%s", warning)
    return _print_report(ctx, report, verb)


async def _page_drift(runtime: Runtime, held: list[SchemaDriftError]) -> None:
    """Page once per field that held orders, the label NetSuite printed resolved to the field
    id through the live metadata (the latest snapshot there is); the pager keeps what it
    cannot send yet."""
    try:
        snapshot: Snapshot | None = await take_snapshot(runtime.netsuite)
    except (ApiError, SchemaSnapshotError) as exc:
        _log.warning("schema drift: field labels not resolved (%s)", exc)
        snapshot = None
    drift = DriftAlerts(snapshot)
    for error in held:
        drift.record(error)
    pager = runtime.pager()
    await drift.page(pager, now=dt.datetime.now(dt.UTC))
    await pager.flush()


def _orders_sync(args: argparse.Namespace, ctx: Context) -> int:
    return _run_orders(
        args, ctx, "orders sync", lambda sync: sync.sync(since=args.since), check_webhooks=True
    )


def _orders_replay(args: argparse.Namespace, ctx: Context) -> int:
    return _run_orders(args, ctx, "orders replay", lambda sync: sync.replay())


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
        help="retry dead-lettered orders now",
        run=_orders_replay,
        configure=add_progress_option,
    ),
    Command(
        path=("orders", "dead-letters"),
        help="list dead-lettered orders with their reasons",
        run=_orders_dead_letters,
    ),
)
