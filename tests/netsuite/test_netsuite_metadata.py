"""Metadata catalog JSON Schema parsing."""

from __future__ import annotations

import pytest

from nswoo.errors import InvalidPayload
from nswoo.netsuite import parse_record_schema

# A CONSTRUCTED example, not captured from NetSuite: the reference (§7) says the catalog
# answers JSON Schema for `Accept: application/schema+json` but quotes none. It uses only
# JSON Schema keywords and OpenAPI's `nullable`, which is all the parser relies on.
SALES_ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "entity": {
            "title": "Customer",
            "type": "object",
            "$ref": "/services/rest/record/v1/metadata-catalog/customer",
        },
        "tranDate": {"title": "Date", "type": "string", "format": "date"},
        "memo": {"title": "Memo", "type": "string", "nullable": True},
        "shippingCost": {"title": "Shipping Cost", "type": "number", "format": "double"},
        "item": {
            "title": "Items",
            "type": "object",
            "items": {"$ref": "#/definitions/salesOrder-itemElement"},
        },
        "custbody_nswoo_woo_order_id": {
            "title": "WooCommerce Order ID",
            "type": "string",
            "nullable": False,
        },
        "custbody_channel": {
            "title": "Channel",
            "type": ["string", "null"],
            "enum": ["web", "pos"],
        },
        "links": {"title": "Links", "type": "array", "readOnly": True},
    },
    "required": ["entity"],
}


def test_fields_are_typed_labelled_and_flagged() -> None:
    """Each property becomes a FieldDef with label, type, required and custom flags."""
    schema = parse_record_schema("salesOrder", SALES_ORDER_SCHEMA)
    assert [f.id for f in schema.fields] == sorted(SALES_ORDER_SCHEMA["properties"])
    entity = schema.field("entity")
    assert entity is not None
    assert (entity.label, entity.type, entity.required, entity.custom) == (
        "Customer",
        "object",
        True,
        False,
    )
    assert entity.ref == "/services/rest/record/v1/metadata-catalog/customer"
    order_id = schema.field("custbody_nswoo_woo_order_id")
    assert order_id is not None
    assert (order_id.label, order_id.required, order_id.custom) == (
        "WooCommerce Order ID",
        True,
        True,
    )
    channel = schema.field("custbody_channel")
    assert channel is not None
    assert (channel.type, channel.required, channel.enum) == ("string", False, ("web", "pos"))
    tran_date = schema.field("tranDate")
    assert tran_date is not None
    assert tran_date.format == "date"
    assert {f.id for f in schema.custom_fields} == {
        "custbody_nswoo_woo_order_id",
        "custbody_channel",
    }
    assert {f.id for f in schema.required_fields} == {"entity", "custbody_nswoo_woo_order_id"}


def test_a_schema_without_properties_is_refused() -> None:
    """A document that is not a record schema is an InvalidPayload with the problem listed."""
    with pytest.raises(InvalidPayload) as info:
        parse_record_schema("salesOrder", {"title": "nope"})
    assert info.value.problems
