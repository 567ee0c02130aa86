"""The schema differ's properties (issue 14, "Must show"), with hypothesis.

A fixture diffed with itself is empty; a rename (same label, new id) is a rename, never an
add plus a remove; every change made to a snapshot is reported exactly once.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nswoo.schema import FieldSpec, Snapshot, diff_snapshots, mapped_fields

RECORDS = ("customer", "salesOrder")
TYPES = ("string", "number", "boolean", "object")

_ids = st.from_regex(r"cust[a-z]{1,8}", fullmatch=True)


def _fresh(record: str, taken: set[tuple[str, str]]) -> st.SearchStrategy[str]:
    """An id not yet used on `record`."""
    return _ids.filter(lambda field_id: (record, field_id) not in taken)


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    """Fields with unique ids and unique labels per record (labels identify renames)."""
    fields = []
    for record in RECORDS:
        ids = draw(st.lists(_ids, unique=True, max_size=8))
        for n, field_id in enumerate(ids):
            fields.append(
                FieldSpec(
                    record,
                    field_id,
                    f"Label {record} {n}",
                    draw(st.sampled_from(TYPES)),
                    draw(st.booleans()),
                )
            )
    return Snapshot.of(fields)


@given(snapshots())
def test_a_fixture_diffed_with_itself_is_empty(snapshot: Snapshot) -> None:
    assert diff_snapshots(snapshot, snapshot, mapped=mapped_fields()) == ()


@given(snapshots(), st.data())
def test_every_change_is_reported_exactly_once(snapshot: Snapshot, data: st.DataObject) -> None:
    """Rename, retype, flip mandatory, remove some fields and add others: the report is
    exactly the set of changes made, a rename as one `renamed` entry."""
    expected: list[tuple[str, str, str, str | None]] = []
    live: list[FieldSpec] = []
    taken = {(f.record, f.id) for f in snapshot.fields}
    for spec in snapshot.fields:
        action = data.draw(st.sampled_from(("keep", "rename", "retype", "flip", "remove")))
        if action == "remove":
            expected.append((spec.record, spec.id, "removed", None))
            continue
        new = spec
        if action == "rename":
            new_id = data.draw(_fresh(spec.record, taken))
            taken.add((spec.record, new_id))
            new = FieldSpec(spec.record, new_id, spec.label, spec.type, spec.mandatory)
            expected.append((spec.record, new_id, "renamed", spec.id))
        elif action == "retype":
            kind = data.draw(st.sampled_from([t for t in TYPES if t != spec.type]))
            new = FieldSpec(spec.record, spec.id, spec.label, kind, spec.mandatory)
            expected.append((spec.record, spec.id, "type_changed", None))
        elif action == "flip":
            new = FieldSpec(spec.record, spec.id, spec.label, spec.type, not spec.mandatory)
            kind_name = "became_mandatory" if new.mandatory else "became_optional"
            expected.append((spec.record, spec.id, kind_name, None))
        live.append(new)
    for n, record in enumerate(data.draw(st.lists(st.sampled_from(RECORDS), max_size=3))):
        new_id = data.draw(_fresh(record, taken))
        taken.add((record, new_id))
        live.append(FieldSpec(record, new_id, f"New field {n}", "string", data.draw(st.booleans())))
        expected.append((record, new_id, "added", None))

    changes = diff_snapshots(snapshot, Snapshot.of(live), mapped=mapped_fields())

    reported = [(c.record, c.field, c.kind, c.old_field) for c in changes]
    assert sorted(reported, key=str) == sorted(expected, key=str)


@given(snapshots())
def test_a_rename_is_a_rename_not_an_add_and_a_remove(snapshot: Snapshot) -> None:
    for spec in snapshot.fields:
        renamed = FieldSpec(spec.record, spec.id + "x", spec.label, spec.type, spec.mandatory)
        others = [f for f in snapshot.fields if f != spec and f.id != renamed.id]
        before = Snapshot.of([*others, spec])
        changes = diff_snapshots(before, Snapshot.of([*others, renamed]))
        assert [(c.kind, c.field, c.old_field) for c in changes] == [
            ("renamed", renamed.id, spec.id)
        ]


def test_severity_marks_the_mapped_field_and_an_unfilled_mandatory_field_critical() -> None:
    woo = FieldSpec("salesOrder", "custbody_woo", "WooCommerce Order ID", "string", False)
    note = FieldSpec("salesOrder", "custbody_note", "Note", "string", False)
    before = Snapshot.of([woo, note])
    after = Snapshot.of(
        [
            FieldSpec("salesOrder", "custbody_woo2", "WooCommerce Order ID", "string", False),
            FieldSpec("salesOrder", "custbody_note", "Note", "number", False),
            FieldSpec("salesOrder", "custbody_region", "Region", "string", True),
            FieldSpec("salesOrder", "custbody_hint", "Hint", "string", False),
        ]
    )
    mapped = {("salesOrder", "custbody_woo")}

    changes = {(c.field, c.kind): c.severity for c in diff_snapshots(before, after, mapped=mapped)}

    assert changes == {
        ("custbody_woo2", "renamed"): "critical",
        ("custbody_region", "added"): "critical",
        ("custbody_note", "type_changed"): "warning",
        ("custbody_hint", "added"): "warning",
    }
