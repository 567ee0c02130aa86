"""The schema fixture: the fields of the record types nswoo writes, as users check them in.

One field per line, sorted by record type then field id, so a change in review is a changed
line. The file is JSON Lines: a header line naming the format, then one object per field:

    {"format": "nswoo-schema", "version": 1}
    {"record": "salesOrder", "id": "memo", "label": "Memo", "type": "string", "mandatory": false}

`take_snapshot` reads the live fields from the metadata catalog (reference §7,
`NetSuiteClient.record_schema`); `parse_fixture` and `render_fixture` are pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Protocol

import attrs

from ..errors import ConfigurationError, InvalidPayload, NotFound
from ..netsuite._metadata import RecordSchema

__all__ = [
    "FORMAT",
    "RECORD_TYPES",
    "FieldSpec",
    "SchemaFixtureError",
    "SchemaSnapshotError",
    "SchemaSource",
    "Snapshot",
    "parse_fixture",
    "render_fixture",
    "snapshot_from_schemas",
    "take_snapshot",
]

FORMAT = "nswoo-schema"
VERSION = 1
RECORD_TYPES: tuple[str, ...] = ("customer", "salesOrder")
"""The record types the integration writes (DESIGN behaviour 6)."""

_KEYS = ("record", "id", "label", "type", "mandatory")


class SchemaFixtureError(ConfigurationError):
    """A schema fixture that cannot be read: foreign, corrupt or hand-edited badly.

    Attributes:
        line: the 1-based line of the problem, or None when it concerns the whole file.
    """

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")
        self.line = line
        self.source = source


class SchemaSnapshotError(InvalidPayload):
    """The metadata catalog could not describe a record type nswoo writes."""


@attrs.frozen(order=True)
class FieldSpec:
    """One field of one record type, as the fixture records it.

    Attributes:
        record: `salesOrder` or `customer`.
        id: the field id (script id for custom fields).
        label: the field's label (JSON Schema `title`), or None when the catalog gives none.
        type: the JSON Schema type (`string`, `object`, ...; `unknown` when absent).
        mandatory: whether NetSuite requires a value.
    """

    record: str
    id: str
    label: str | None
    type: str
    mandatory: bool


@attrs.frozen
class Snapshot:
    """The fields of the record types nswoo writes, sorted by (record, id); ids unique."""

    fields: tuple[FieldSpec, ...]

    @classmethod
    def of(cls, fields: Iterable[FieldSpec]) -> Snapshot:
        """A snapshot of `fields`, sorted.

        Raises:
            ValueError: a (record, id) appears twice.
        """
        ordered = tuple(sorted(fields))
        seen: set[tuple[str, str]] = set()
        for spec in ordered:
            key = (spec.record, spec.id)
            if key in seen:
                raise ValueError(f"{spec.record}.{spec.id} appears twice")
            seen.add(key)
        return cls(ordered)

    def records(self) -> tuple[str, ...]:
        """The record types present, sorted."""
        return tuple(sorted({f.record for f in self.fields}))

    def label_of(self, record: str, field_id: str) -> str | None:
        """The label of a field, or None when unknown."""
        return next((f.label for f in self.fields if f.record == record and f.id == field_id), None)

    def id_for_label(self, record: str, label: str) -> str | None:
        """The id of the one field of `record` with this label (case-insensitive), or None."""
        wanted = label.strip().casefold()
        ids = [
            f.id
            for f in self.fields
            if f.record == record and f.label is not None and f.label.casefold() == wanted
        ]
        return ids[0] if len(ids) == 1 else None


def snapshot_from_schemas(schemas: Iterable[RecordSchema]) -> Snapshot:
    """The snapshot of parsed metadata-catalog schemas."""
    return Snapshot.of(
        FieldSpec(schema.record, f.id, f.label, f.type, f.required)
        for schema in schemas
        for f in schema.fields
    )


def render_fixture(snapshot: Snapshot) -> str:
    """The fixture text: a header line, then one JSON object per field, newline-terminated."""
    lines = [json.dumps({"format": FORMAT, "version": VERSION})]
    lines.extend(
        json.dumps(
            {
                "record": f.record,
                "id": f.id,
                "label": f.label,
                "type": f.type,
                "mandatory": f.mandatory,
            },
            ensure_ascii=False,
        )
        for f in snapshot.fields
    )
    return "\n".join(lines) + "\n"


def parse_fixture(text: str, *, source: str = "fixture") -> Snapshot:
    """Read a fixture written by `render_fixture` (possibly edited by hand).

    Blank lines are skipped; fields may come in any order (the snapshot sorts them).

    Raises:
        SchemaFixtureError: the file is empty or not an nswoo schema fixture (foreign), a
            line is not JSON (corrupt), or a field line lacks a key, has a wrong type or
            repeats a field (hand-edited); the message names the line.
    """
    lines = text.splitlines()
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise SchemaFixtureError("is empty: write one with `nswoo schema snapshot`", source=source)
    first_no, first = numbered[0]
    header = _json_line(first, source=source, line=first_no, foreign=True)
    if header.get("format") != FORMAT:
        raise SchemaFixtureError(
            f"is not an nswoo schema fixture (the first line must be"
            f' {{"format": "{FORMAT}", "version": {VERSION}}})',
            source=source,
            line=first_no,
        )
    if header.get("version") != VERSION:
        raise SchemaFixtureError(
            f"fixture version {header.get('version')!r} is not supported (expected {VERSION})",
            source=source,
            line=first_no,
        )
    fields: list[FieldSpec] = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in numbered[1:]:
        spec = _field_line(_json_line(line, source=source, line=number), source, number)
        key = (spec.record, spec.id)
        if key in seen:
            raise SchemaFixtureError(
                f"{spec.record}.{spec.id} is listed twice (first on line {seen[key]})",
                source=source,
                line=number,
            )
        seen[key] = number
        fields.append(spec)
    return Snapshot.of(fields)


def _json_line(text: str, *, source: str, line: int, foreign: bool = False) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError:
        what = "is not an nswoo schema fixture" if foreign else "is not valid JSON"
        raise SchemaFixtureError(what, source=source, line=line) from None
    if not isinstance(value, dict):
        what = "is not an nswoo schema fixture" if foreign else "must be a JSON object"
        raise SchemaFixtureError(what, source=source, line=line)
    return value


def _field_line(data: dict[str, object], source: str, line: int) -> FieldSpec:
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise SchemaFixtureError(
            f"field line lacks {', '.join(repr(k) for k in missing)}", source=source, line=line
        )
    extra = sorted(set(data) - set(_KEYS))
    if extra:
        raise SchemaFixtureError(
            f"unknown key {', '.join(repr(k) for k in extra)}", source=source, line=line
        )
    record, field_id, kind = (_text(data, key, source, line) for key in ("record", "id", "type"))
    label, mandatory = data["label"], data["mandatory"]
    if label is not None and not isinstance(label, str):
        raise SchemaFixtureError("'label' must be a string or null", source=source, line=line)
    if not isinstance(mandatory, bool):
        raise SchemaFixtureError("'mandatory' must be true or false", source=source, line=line)
    return FieldSpec(record, field_id, label, kind, mandatory)


def _text(data: dict[str, object], key: str, source: str, line: int) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise SchemaFixtureError(f"{key!r} must be a non-empty string", source=source, line=line)
    return value


class SchemaSource(Protocol):
    """What `take_snapshot` needs of NetSuite: `NetSuiteClient.record_schema`."""

    async def record_schema(self, record_type: str) -> RecordSchema:
        """The record type's fields from the metadata catalog."""
        ...


async def take_snapshot(netsuite: SchemaSource, records: Sequence[str] = RECORD_TYPES) -> Snapshot:
    """The live fields of `records` from the metadata catalog.

    Raises:
        SchemaSnapshotError: the account has no such record type (404), or its schema has
            no fields (a metadata response missing its `properties`).
        ApiError: NetSuite could not be reached or refused the credentials.
    """
    schemas = []
    for record in records:
        try:
            schema = await netsuite.record_schema(record)
        except NotFound:
            raise SchemaSnapshotError(
                f"the account has no record type {record!r} in its metadata catalog"
                " (or this role cannot see it)",
                problems=(f"{record}: not found",),
                system="netsuite",
            ) from None
        except InvalidPayload as exc:
            raise SchemaSnapshotError(
                f"the metadata catalog's schema for {record} is unusable: {exc}",
                problems=(f"{record}: no properties",),
                system="netsuite",
            ) from None
        if not schema.fields:
            raise SchemaSnapshotError(
                f"the metadata catalog lists no fields for {record}",
                problems=(f"{record}: no fields",),
                system="netsuite",
            )
        schemas.append(schema)
    return snapshot_from_schemas(schemas)
