"""Write errors that name a field, gathered during a sync and paged once per field.

`OrderSync(on_schema_drift=alerts.record)` tells `DriftAlerts` of every order dead-lettered
for schema drift; `page()` afterwards raises one alert per (record, field), however many
orders failed on it. NetSuite's "You must enter a value for <Label>" names a label, which
is resolved to the field id through the latest snapshot.
"""

from __future__ import annotations

import datetime as dt

from ..errors import SchemaDriftError
from ..notify._pager import Pager
from ..notify._port import Alert
from ._snapshot import Snapshot

__all__ = ["DriftAlerts"]


class DriftAlerts:
    """Collects schema-drift failures; pages one alert per field.

    Args:
        snapshot: the latest snapshot, to turn a label NetSuite printed into the field id.
    """

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self._snapshot = snapshot
        self._fields: dict[tuple[str, str], tuple[str | None, int, str]] = {}

    def field_id(self, record: str, named: str) -> tuple[str, str | None]:
        """`(field id, label)` for what an error named (an id, or a label)."""
        if self._snapshot is None:
            return named, None
        label = self._snapshot.label_of(record, named)
        if label is not None:
            return named, label
        found = self._snapshot.id_for_label(record, named)
        return (found, named) if found is not None else (named, None)

    def record(self, error: SchemaDriftError) -> None:
        """Note one failed write (called by `OrderSync` per dead-lettered order)."""
        record = error.record or "salesOrder"
        field_id, label = self.field_id(record, error.field or "(unnamed field)")
        _, count, detail = self._fields.get((record, field_id), (label, 0, error.detail))
        self._fields[(record, field_id)] = (label, count + 1, detail)

    @property
    def fields(self) -> dict[tuple[str, str], int]:
        """`{(record, field id): orders that failed on it}`."""
        return {key: count for key, (_, count, _) in self._fields.items()}

    async def page(self, pager: Pager, *, now: dt.datetime) -> int:
        """Raise one alert per field; returns how many were new (not deduplicated)."""
        raised = 0
        for (record, field_id), (label, count, detail) in sorted(self._fields.items()):
            named = f"{field_id} ({label})" if label else field_id
            alert = Alert(
                key=f"schema-drift:{record}:{field_id}:write",
                subject=f"NetSuite {record} writes fail on field {named}",
                body=(
                    f"{count} order(s) dead-lettered: {detail}\n\n"
                    "Fix the mapping or the field in NetSuite (see `nswoo schema diff`), then "
                    "run `nswoo orders replay`: each held order imports exactly once."
                ),
                severity="critical",
                raised_at=now,
            )
            raised += await pager.raise_alert(alert)
        return raised
