"""The metadata catalog's JSON Schema for one record type, parsed into typed fields (pure).

Reference §7: `GET /services/rest/record/v1/metadata-catalog/<record>` with
`Accept: application/schema+json` returns JSON Schema, personalised per user and including
custom fields. The reference quotes no literal schema, so the parser relies only on JSON
Schema's own keywords (`properties`, `title`, `type`, `format`, `$ref`, `required`,
`enum`) plus OpenAPI's `nullable`, and tolerates anything else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ..errors import InvalidPayload

__all__ = ["FieldDef", "RecordSchema", "parse_record_schema"]


@attrs.frozen
class FieldDef:
    """One property of a record type.

    Attributes:
        id: the property id (`custbody_nswoo_woo_order_id`, `entity`).
        label: the JSON Schema `title` (NetSuite's field label), or None.
        type: the JSON Schema `type` (`string`, `number`, `boolean`, `object`, …);
            `"reference"` for a `$ref` to another record; `"unknown"` when absent.
        format: the JSON Schema `format` (`date`, `date-time`, …), or None.
        ref: the `$ref` target, for references and sublists.
        required: in the schema's `required` list, or `nullable: false`.
        custom: the id starts with `cust` (custom body, column or entity field).
        enum: the allowed values when the schema lists them.
    """

    id: str
    label: str | None
    type: str
    required: bool
    custom: bool
    format: str | None = None
    ref: str | None = None
    enum: tuple[str, ...] = ()


@attrs.frozen
class RecordSchema:
    """The fields of one record type, sorted by id.

    Example:
        >>> schema = parse_record_schema("salesOrder", {"properties": {"memo": {"type": "string"}}})
        >>> schema.field("memo").type
        'string'
    """

    record: str
    fields: tuple[FieldDef, ...]

    def field(self, field_id: str) -> FieldDef | None:
        """The field with this id, or None."""
        return next((f for f in self.fields if f.id == field_id), None)

    @property
    def custom_fields(self) -> tuple[FieldDef, ...]:
        """The custom fields only."""
        return tuple(f for f in self.fields if f.custom)

    @property
    def required_fields(self) -> tuple[FieldDef, ...]:
        """The fields the schema marks mandatory."""
        return tuple(f for f in self.fields if f.required)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _field(field_id: str, spec: Mapping[str, object], required: set[str]) -> FieldDef:
    ref = _str(spec.get("$ref"))
    kind = spec.get("type")
    if isinstance(kind, list):
        # JSON Schema allows ["string", "null"]; the non-null member is the type.
        names = [k for k in kind if isinstance(k, str) and k != "null"]
        kind = names[0] if names else None
    type_name = _str(kind) or ("reference" if ref else "unknown")
    if ref is None:
        items = spec.get("items")
        if isinstance(items, Mapping):
            ref = _str(items.get("$ref"))
    raw_enum = spec.get("enum")
    enum = (
        tuple(str(v) for v in raw_enum)
        if isinstance(raw_enum, Sequence) and not isinstance(raw_enum, str)
        else ()
    )
    return FieldDef(
        id=field_id,
        label=_str(spec.get("title")),
        type=type_name,
        required=field_id in required or spec.get("nullable") is False,
        custom=field_id.lower().startswith("cust"),
        format=_str(spec.get("format")),
        ref=ref,
        enum=enum,
    )


def parse_record_schema(record: str, payload: object) -> RecordSchema:
    """Parse a metadata-catalog JSON Schema document into a `RecordSchema`.

    Raises:
        InvalidPayload: the document is not an object with a `properties` object.
    """
    if not isinstance(payload, Mapping) or not isinstance(payload.get("properties"), Mapping):
        raise InvalidPayload(
            f"metadata catalog schema for {record} has no 'properties' object",
            problems=("$.properties: missing or not an object",),
            system="netsuite",
        )
    properties = payload["properties"]
    raw_required = payload.get("required")
    required = (
        {r for r in raw_required if isinstance(r, str)}
        if isinstance(raw_required, Sequence) and not isinstance(raw_required, str)
        else set()
    )
    fields = [
        _field(str(field_id), spec, required)
        for field_id, spec in properties.items()
        if isinstance(spec, Mapping)
    ]
    return RecordSchema(record=record, fields=tuple(sorted(fields, key=lambda f: f.id)))
