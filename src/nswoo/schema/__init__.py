"""Schema drift (DESIGN behaviour 6): snapshot the fields nswoo writes, diff them, watch them.

- `take_snapshot`, `render_fixture`, `parse_fixture`: the checked-in fixture;
- `diff_snapshots` (pure): added, removed, renamed, type changed, became mandatory/optional;
- `DriftAlerts`: write errors naming a field, paged once per field (`OrderSync(on_schema_drift=)`).
"""

from __future__ import annotations

from ._diff import FieldChange as FieldChange
from ._diff import diff_snapshots as diff_snapshots
from ._diff import mapped_fields as mapped_fields
from ._runtime import DriftAlerts as DriftAlerts
from ._snapshot import FieldSpec as FieldSpec
from ._snapshot import SchemaFixtureError as SchemaFixtureError
from ._snapshot import SchemaSnapshotError as SchemaSnapshotError
from ._snapshot import Snapshot as Snapshot
from ._snapshot import parse_fixture as parse_fixture
from ._snapshot import render_fixture as render_fixture
from ._snapshot import take_snapshot as take_snapshot

__all__ = [
    "DriftAlerts",
    "FieldChange",
    "FieldSpec",
    "SchemaFixtureError",
    "SchemaSnapshotError",
    "Snapshot",
    "diff_snapshots",
    "mapped_fields",
    "parse_fixture",
    "render_fixture",
    "take_snapshot",
]
