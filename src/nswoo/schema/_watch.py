"""The weekly job: diff the fixture with the live catalog and page about each change.

One alert per changed field (its key: record, field and kind), so a weekly run that finds the
same drift again does not page again within the pager's quiet time, and a page that could
not go out stays in the outbox for the next run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from ..notify._pager import FlushReport, Pager
from ..notify._port import Alert
from ._diff import FieldChange, diff_snapshots
from ._snapshot import SchemaSource, Snapshot, take_snapshot

__all__ = ["WatchReport", "alert_for", "watch"]

_WHAT_TO_DO = {
    "renamed": "Update the mapping to the new id (for the order field: [orders] custom_field), "
    "then run `nswoo orders replay` for the orders held meanwhile.",
    "removed": "If nswoo writes this field, restore it in NetSuite or remove it from the mapping.",
    "added": "If it is mandatory, give it a default in NetSuite or have the mapping fill it.",
    "became_mandatory": "Give it a default in NetSuite or have the mapping fill it; then run "
    "`nswoo orders replay`.",
    "became_optional": "No action needed.",
    "type_changed": "Check that the values nswoo writes still fit the new type.",
}


@attrs.frozen
class WatchReport:
    """The changes found, and what the pager did with them."""

    changes: tuple[FieldChange, ...]
    raised: int
    delivery: FlushReport


def alert_for(change: FieldChange, at: dt.datetime) -> Alert:
    """The page for one change (critical stays critical)."""
    label = f" ({change.label})" if change.label else ""
    what = change.kind.replace("_", " ")
    if change.kind == "renamed":
        what = f"renamed from {change.old_field}"
    subject = f"NetSuite {change.record} field {change.field}{label} {what}"
    return Alert(
        key=f"schema-drift:{change.record}:{change.field}:{change.kind}",
        subject=subject,
        body=f"{change.describe().strip()}\n\n{_WHAT_TO_DO[change.kind]}",
        severity=change.severity,
        raised_at=at,
    )


async def watch(
    fixture: Snapshot,
    netsuite: SchemaSource,
    pager: Pager,
    *,
    mapped: Iterable[tuple[str, str]],
    now: dt.datetime,
) -> WatchReport:
    """Diff `fixture` with the live catalog, raise one alert per change, flush the outbox.

    The outbox is flushed even when nothing changed, so pages held from earlier runs (office
    hours, an unreachable server) go out.
    """
    live = await take_snapshot(netsuite)
    changes = diff_snapshots(fixture, live, mapped=mapped)
    raised = 0
    for change in changes:
        raised += await pager.raise_alert(alert_for(change, now))
    return WatchReport(changes=changes, raised=raised, delivery=await pager.flush())
