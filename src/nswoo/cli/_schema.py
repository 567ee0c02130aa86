"""`nswoo schema snapshot|diff`: the fields nswoo writes, checked in and compared (behaviour 6)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import anyio

from .._settings import Settings
from ..netsuite._client import open_netsuite
from ..schema._diff import FieldChange, diff_snapshots, mapped_fields
from ..schema._snapshot import (
    SchemaFixtureError,
    Snapshot,
    parse_fixture,
    render_fixture,
    take_snapshot,
)
from ..schema._watch import WatchReport, watch
from ._runtime import open_runtime, require_config
from ._types import Command, Context, ExitCode

__all__ = ["COMMANDS", "read_fixture"]


async def _live(settings: Settings) -> Snapshot:
    async with open_netsuite(settings.require_netsuite()) as netsuite:
        return await take_snapshot(netsuite)


def read_fixture(path: str) -> Snapshot:
    """The fixture at `path`, parsed.

    Raises:
        SchemaFixtureError: the file is unreadable, foreign, corrupt or badly edited.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SchemaFixtureError(
            "is not UTF-8 text (not an nswoo schema fixture)", source=path
        ) from None
    except OSError as exc:
        raise SchemaFixtureError(f"cannot be read: {exc.strerror}", source=path) from None
    return parse_fixture(text, source=path)


def _configure_snapshot(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the fixture here (default: stdout)"
    )


def _snapshot(args: argparse.Namespace, ctx: Context) -> int:
    snapshot = anyio.run(_live, ctx.settings())
    text = render_fixture(snapshot)
    if args.output is None:
        ctx.stdout.write(text)
        return ExitCode.OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SchemaFixtureError(f"cannot be written: {exc.strerror}", source=args.output) from None
    if ctx.json:
        ctx.write_json({"fixture": args.output, "fields": len(snapshot.fields)})
    else:
        ctx.write(f"schema snapshot: {len(snapshot.fields)} fields written to {args.output}")
    return ExitCode.OK


def _configure_diff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fixture", metavar="FIXTURE", help="the fixture `schema snapshot` wrote")


def diff_against_live(fixture_path: str, ctx: Context) -> tuple[FieldChange, ...]:
    """The changes from the fixture at `fixture_path` to the live catalog.

    The fixture is read first, so a bad fixture is refused before NetSuite is called. The
    mapping file, when configured, says which custom field the orders use.
    """
    fixture = read_fixture(fixture_path)
    settings = ctx.settings()
    orders = require_config(settings).orders if settings.config_path else None
    live = anyio.run(_live, settings)
    return diff_snapshots(fixture, live, mapped=mapped_fields(orders))


def print_changes(ctx: Context, changes: tuple[FieldChange, ...]) -> int:
    """Print the drift report (text or the contract's JSON); 1 when there are changes."""
    code = ExitCode.DIFFERENCES if changes else ExitCode.OK
    if ctx.json:
        ctx.write_json({"changes": [c.to_json() for c in changes]})
        return code
    if not changes:
        ctx.write("schema diff: no changes")
        return code
    critical = sum(c.severity == "critical" for c in changes)
    ctx.write(f"schema diff: {len(changes)} changes, {critical} critical")
    for change in changes:
        ctx.write(f"  {change.describe()}")
    return code


def _diff(args: argparse.Namespace, ctx: Context) -> int:
    return print_changes(ctx, diff_against_live(args.fixture, ctx))


def _configure_watch(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fixture", metavar="FIXTURE", help="the fixture `schema snapshot` wrote")


def _watch(args: argparse.Namespace, ctx: Context) -> int:
    fixture = read_fixture(args.fixture)
    settings = ctx.settings()

    async def go() -> WatchReport:
        async with open_runtime(settings) as runtime:
            return await watch(
                fixture,
                runtime.netsuite,
                runtime.pager(),
                mapped=mapped_fields(runtime.config.orders),
                now=dt.datetime.now(dt.UTC),
            )

    report = anyio.run(go)
    delivery = report.delivery
    alerts = {
        "raised": report.raised,
        "sent": delivery.sent,
        "failed": delivery.failed,
        "waiting": delivery.waiting,
    }
    if ctx.json:
        ctx.write_json({"changes": [c.to_json() for c in report.changes], "alerts": alerts})
    else:
        print_changes(ctx, report.changes)
        ctx.write(
            f"alerts: {report.raised} raised, {delivery.sent} sent, {delivery.failed} failed, "
            f"{delivery.waiting} waiting (held for office hours or retried on the next run)"
        )
        for error in delivery.errors:
            ctx.write(f"  not sent: {error}")
    if report.changes:
        # Drift is the job's finding: it is reported by exit code even when no page went out.
        return ExitCode.DIFFERENCES
    return ExitCode.FAILED if delivery.failed else ExitCode.OK


COMMANDS: tuple[Command, ...] = (
    Command(
        path=("schema", "snapshot"),
        help="write the fields of the record types nswoo writes to a fixture to check in",
        run=_snapshot,
        configure=_configure_snapshot,
    ),
    Command(
        path=("schema", "diff"),
        help="compare the live record types with a fixture (exit 1 when they differ)",
        run=_diff,
        configure=_configure_diff,
    ),
    Command(
        path=("schema", "watch"),
        help="diff with a fixture and page through the notifiers (the weekly job; exit 1 on drift)",
        run=_watch,
        configure=_configure_watch,
    ),
)
