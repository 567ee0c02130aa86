"""The schema fixture: stable text that round-trips, and bad fixtures refused by line."""

from __future__ import annotations

import json

import pytest

from nswoo.errors import ConfigurationError, InvalidPayload, NotFound
from nswoo.netsuite._metadata import RecordSchema, parse_record_schema
from nswoo.schema import (
    FieldSpec,
    SchemaFixtureError,
    SchemaSnapshotError,
    Snapshot,
    parse_fixture,
    render_fixture,
    take_snapshot,
)

pytestmark = pytest.mark.anyio

SNAPSHOT = Snapshot.of(
    [
        FieldSpec("salesOrder", "memo", "Memo", "string", False),
        FieldSpec("customer", "email", "Email", "string", False),
        FieldSpec("salesOrder", "custbody_woo", "WooCommerce Order ID", "string", True),
        FieldSpec("salesOrder", "custbody_x", None, "unknown", False),
    ]
)
HEADER = '{"format": "nswoo-schema", "version": 1}'


def test_the_fixture_is_sorted_one_field_per_line_and_round_trips() -> None:
    text = render_fixture(SNAPSHOT)

    lines = text.splitlines()
    assert lines[0] == HEADER
    assert [json.loads(line)["id"] for line in lines[1:]] == [
        "email",
        "custbody_woo",
        "custbody_x",
        "memo",
    ]
    assert parse_fixture(text) == SNAPSHOT
    assert render_fixture(parse_fixture(text)) == text


def _field(**changes: object) -> str:
    data: dict[str, object] = {
        "record": "salesOrder",
        "id": "memo",
        "label": "Memo",
        "type": "string",
        "mandatory": False,
    }
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not ...})


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "is empty"),
        ("[settings]\nkey = 1\n", 1, "not an nswoo schema fixture"),
        ('{"openapi": "3.0.1"}\n', 1, "not an nswoo schema fixture"),
        ('{"format": "nswoo-schema", "version": 7}\n', 1, "version 7"),
        (f"{HEADER}\n{_field()}\n{{broken\n", 3, "not valid JSON"),
        (f"{HEADER}\n[1, 2]\n", 2, "must be a JSON object"),
        (f"{HEADER}\n\n{_field(mandatory=...)}\n", 3, "lacks 'mandatory'"),
        (f"{HEADER}\n{_field(mandatory='yes')}\n", 2, "'mandatory' must be true or false"),
        (f"{HEADER}\n{_field(id='')}\n", 2, "'id' must be a non-empty string"),
        (f"{HEADER}\n{_field(label=3)}\n", 2, "'label' must be a string or null"),
        (f"{HEADER}\n{_field(colour='red')}\n", 2, "unknown key 'colour'"),
        (f"{HEADER}\n{_field()}\n{_field(label='Other')}\n", 3, "listed twice (first on line 2)"),
    ],
)
def test_a_bad_fixture_is_refused_naming_the_line(text: str, line: int | None, words: str) -> None:
    with pytest.raises(SchemaFixtureError) as caught:
        parse_fixture(text, source="schema.jsonl")

    assert isinstance(caught.value, ConfigurationError)
    assert caught.value.line == line
    where = f"schema.jsonl:{line}" if line else "schema.jsonl"
    assert where in str(caught.value)
    assert words in str(caught.value)


class _Catalog:
    """A metadata source answering from canned documents (the parser does the reading)."""

    def __init__(self, documents: dict[str, object]) -> None:
        self.documents = documents

    async def record_schema(self, record_type: str) -> RecordSchema:
        return parse_record_schema(record_type, self.documents[record_type])


async def test_a_metadata_response_missing_its_fields_is_a_clear_error() -> None:
    catalog = _Catalog({"customer": {"type": "object"}, "salesOrder": {"properties": {}}})

    with pytest.raises(SchemaSnapshotError) as caught:
        await take_snapshot(catalog)

    assert isinstance(caught.value, InvalidPayload)
    assert "customer" in str(caught.value)
    assert "properties" in str(caught.value)


async def test_a_record_type_with_no_fields_is_a_clear_error() -> None:
    catalog = _Catalog({"customer": {"properties": {"email": {"type": "string"}}}})
    catalog.documents["salesOrder"] = {"properties": {}}

    with pytest.raises(SchemaSnapshotError, match="no fields for salesOrder"):
        await take_snapshot(catalog)


class _Account:
    """An account whose catalog has no `assemblyBuild` (NetSuite answers 404: NotFound)."""

    async def record_schema(self, record_type: str) -> RecordSchema:
        if record_type == "assemblyBuild":
            raise NotFound("Record type not found.", system="netsuite", status=404)
        return parse_record_schema(record_type, {"properties": {"memo": {"type": "string"}}})


async def test_a_record_type_the_account_does_not_have_is_a_clear_error() -> None:
    with pytest.raises(SchemaSnapshotError) as caught:
        await take_snapshot(_Account(), ("salesOrder", "assemblyBuild"))

    assert "has no record type 'assemblyBuild'" in str(caught.value)
