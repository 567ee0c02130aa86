"""The pure schema differ: a checked-in fixture against the live catalog (DESIGN behaviour 6).

Kinds: `added`, `removed`, `renamed` (a field gone and a field new on the same record with
the same label: NetSuite's script id changed, the label did not), `type_changed`,
`became_mandatory`, `became_optional`. A renamed field whose type or mandatory flag changed
too is reported as the rename plus those changes on its new id, each change exactly once.

Severity: `critical` for a field the integration's mapping writes (by its old or new id),
and for a field that is newly mandatory (added mandatory, or became mandatory) which the
mapping does not fill, since every write then fails; `warning` otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from .._settings import OrdersConfig
from ._snapshot import FieldSpec, Snapshot

__all__ = ["ChangeKind", "FieldChange", "Severity", "diff_snapshots", "mapped_fields"]

ChangeKind = Literal[
    "added", "removed", "renamed", "type_changed", "became_mandatory", "became_optional"
]
Severity = Literal["critical", "warning"]

# The body fields nswoo's own drafts write (netsuite/_records.py: `sales_order`, `customer`).
_SALES_ORDER_FIELDS = (
    "entity",
    "externalId",
    "location",
    "subsidiary",
    "tranDate",
    "memo",
    "otherRefNum",
    "shippingCost",
    "billingAddress",
    "shippingAddress",
    "item",
)
_CUSTOMER_FIELDS = (
    "email",
    "externalId",
    "isPerson",
    "firstName",
    "lastName",
    "companyName",
    "subsidiary",
)


def mapped_fields(orders: OrdersConfig | None = None) -> frozenset[tuple[str, str]]:
    """The `(record, field id)` pairs the integration writes, its custom field included."""
    pairs = {("salesOrder", f) for f in _SALES_ORDER_FIELDS}
    pairs |= {("customer", f) for f in _CUSTOMER_FIELDS}
    if orders is not None:
        pairs.add(("salesOrder", orders.custom_field))
    return frozenset(pairs)


@attrs.frozen(order=True)
class FieldChange:
    """One difference between the fixture and the live catalog.

    Attributes:
        record: the record type.
        field: the field id now (for `removed`: the id that is gone).
        kind: what changed.
        severity: `critical` or `warning` (see the module docstring).
        label: the field's label (the live one, else the fixture's).
        old_field: the former id for `renamed`, else None.
        old: the former value for `type_changed` (type) and None otherwise.
        new: the new value for `type_changed` (type) and None otherwise.
    """

    record: str
    field: str
    kind: ChangeKind
    severity: Severity
    label: str | None = None
    old_field: str | None = None
    old: str | None = None
    new: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The `schema diff --json` entry (DESIGN: JSON outputs)."""
        return {
            "record": self.record,
            "kind": self.kind,
            "field": self.field,
            "old_field": self.old_field,
            "label": self.label,
            "severity": self.severity,
        }

    def describe(self) -> str:
        """One line for people: `critical salesOrder custbody_x renamed from custbody_y`."""
        label = f" ({self.label})" if self.label else ""
        what: str = self.kind.replace("_", " ")
        if self.kind == "renamed":
            what = f"renamed from {self.old_field}"
        elif self.kind == "type_changed":
            what = f"type changed from {self.old} to {self.new}"
        return f"{self.severity:8} {self.record} {self.field}{label}: {what}"


def diff_snapshots(
    fixture: Snapshot,
    live: Snapshot,
    *,
    mapped: Iterable[tuple[str, str]] = (),
) -> tuple[FieldChange, ...]:
    """Every change from `fixture` to `live`, each once, sorted (critical first).

    Args:
        fixture: the checked-in snapshot.
        live: the catalog now.
        mapped: the `(record, field)` pairs the mapping writes (see `mapped_fields`).

    Example:
        >>> a = Snapshot.of([FieldSpec("salesOrder", "custbody_a", "Woo ID", "string", False)])
        >>> b = Snapshot.of([FieldSpec("salesOrder", "custbody_b", "Woo ID", "string", False)])
        >>> tuple((c.kind, c.field, c.old_field) for c in diff_snapshots(a, b))
        (('renamed', 'custbody_b', 'custbody_a'),)
    """
    used = frozenset(mapped)
    old = _by_record(fixture.fields)
    new = _by_record(live.fields)
    changes: list[FieldChange] = []
    for record in sorted(set(old) | set(new)):
        before, after = old.get(record, {}), new.get(record, {})
        gone = sorted(set(before) - set(after))
        came = sorted(set(after) - set(before))
        pairs: list[tuple[FieldSpec, FieldSpec]] = [
            (before[i], after[i]) for i in sorted(set(before) & set(after))
        ]
        renamed = _renames([before[i] for i in gone], [after[i] for i in came])
        for was, now in renamed:
            changes.append(_change(record, now.id, "renamed", now.label, used, old_field=was.id))
            pairs.append((was, now))
        paired_old = {was.id for was, _ in renamed}
        paired_new = {now.id for _, now in renamed}
        for field_id in gone:
            if field_id not in paired_old:
                was = before[field_id]
                changes.append(_change(record, field_id, "removed", was.label, used))
        for field_id in came:
            if field_id not in paired_new:
                now = after[field_id]
                changes.append(
                    _change(record, field_id, "added", now.label, used, mandatory=now.mandatory)
                )
        for was, now in pairs:
            label = now.label if now.label is not None else was.label
            if was.type != now.type:
                changes.append(
                    _change(
                        record,
                        now.id,
                        "type_changed",
                        label,
                        used,
                        old_field=was.id if was.id != now.id else None,
                        old=was.type,
                        new=now.type,
                    )
                )
            if was.mandatory != now.mandatory:
                kind: ChangeKind = "became_mandatory" if now.mandatory else "became_optional"
                changes.append(
                    _change(
                        record,
                        now.id,
                        kind,
                        label,
                        used,
                        old_field=was.id if was.id != now.id else None,
                        mandatory=now.mandatory,
                    )
                )
    return tuple(
        sorted(changes, key=lambda c: (c.severity != "critical", c.record, c.field, c.kind))
    )


def _by_record(fields: Iterable[FieldSpec]) -> Mapping[str, dict[str, FieldSpec]]:
    grouped: defaultdict[str, dict[str, FieldSpec]] = defaultdict(dict)
    for spec in fields:
        grouped[spec.record][spec.id] = spec
    return grouped


def _renames(gone: list[FieldSpec], came: list[FieldSpec]) -> list[tuple[FieldSpec, FieldSpec]]:
    """Pair fields gone and fields new by label, in id order; unlabeled fields never pair."""
    pending: defaultdict[str, list[FieldSpec]] = defaultdict(list)
    for spec in came:
        if spec.label:
            pending[spec.label.casefold()].append(spec)
    pairs = []
    for spec in gone:
        if spec.label and pending.get(spec.label.casefold()):
            pairs.append((spec, pending[spec.label.casefold()].pop(0)))
    return pairs


def _change(
    record: str,
    field: str,
    kind: ChangeKind,
    label: str | None,
    used: frozenset[tuple[str, str]],
    *,
    old_field: str | None = None,
    old: str | None = None,
    new: str | None = None,
    mandatory: bool = False,
) -> FieldChange:
    mapped = (record, field) in used or (old_field is not None and (record, old_field) in used)
    unfilled_mandatory = mandatory and kind in ("added", "became_mandatory") and not mapped
    severity: Severity = "critical" if mapped or unfilled_mandatory else "warning"
    return FieldChange(
        record=record,
        field=field,
        kind=kind,
        severity=severity,
        label=label,
        old_field=old_field if kind == "renamed" else None,
        old=old,
        new=new,
    )
