"""NetSuite wire models: id validation, external ids, draft bodies and exact JSON."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswoo.errors import InvalidPayload
from nswoo.netsuite import (
    Address,
    CustomerDraft,
    ExternalId,
    SalesOrderDraft,
    SalesOrderLine,
    dumps,
    to_body,
)
from nswoo.netsuite._records import record_path_id, validate_internal_id, validate_record_type


def test_external_id_addresses_as_eid() -> None:
    """An external id is addressed in a URL path as eid:<value>."""
    assert record_path_id(ExternalId("woo-main-40001")) == "eid:woo-main-40001"


@pytest.mark.parametrize("bad", ["", "woo main", "a|b", "x/../y", "é", "a?b", "a%2Fb", "eid:x"])
def test_external_id_refuses_characters_netsuite_does_not_allow(bad: str) -> None:
    """External ids hold only letters, digits, '_' and '-' (reference §3)."""
    with pytest.raises(InvalidPayload) as info:
        ExternalId(bad)
    assert info.value.field == "externalId"


@pytest.mark.parametrize("good", [647, "647", "0647"])
def test_internal_ids_are_normalised_digits(good: int | str) -> None:
    """Internal ids are positive integers given as int or digits."""
    assert validate_internal_id(good) == "647"


@pytest.mark.parametrize("bad", [0, -1, "", "12a", "1 2", "../1", True, 1.0, "١٢"])
def test_internal_ids_refuse_anything_but_digits(bad: object) -> None:
    """Anything that is not a positive internal id is refused before a request exists."""
    with pytest.raises(InvalidPayload):
        validate_internal_id(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "sales/order", "salesOrder?x=1", "1abc"])
def test_record_types_must_be_plain_names(bad: str) -> None:
    """A record type cannot change the URL path it is put in."""
    with pytest.raises(InvalidPayload):
        validate_record_type(bad)


def test_sales_order_body_has_reference_objects_sublist_and_custom_fields() -> None:
    """A sales order draft becomes the documented body shape with custom fields top-level."""
    draft = SalesOrderDraft(
        entity=107,
        lines=[
            SalesOrderLine(item=9999, quantity=Decimal("2"), rate=Decimal("19.90")),
            SalesOrderLine(
                item=55, quantity=Decimal("1"), amount=Decimal("5.00"), description="Gift"
            ),
        ],
        external_id=ExternalId("woo-main-40001"),
        custom_fields={"custbody_nswoo_woo_order_id": "40001", "custbody_flag": True},
        location=1,
        subsidiary=3,
        memo="web order",
        other_ref_num="40001",
        shipping_cost=Decimal("4.95"),
        shipping_address=Address(addr1="1 Main St", city="Springfield", zip="12345", country="US"),
        tran_date=dt.date(2024, 5, 1),
    )
    body = json.loads(dumps(to_body(draft)), parse_float=Decimal)
    assert body == {
        "entity": {"id": 107},
        "externalId": "woo-main-40001",
        "location": {"id": 1},
        "subsidiary": {"id": 3},
        "tranDate": "2024-05-01",
        "memo": "web order",
        "otherRefNum": "40001",
        "shippingCost": Decimal("4.95"),
        "shippingAddress": {
            "addr1": "1 Main St",
            "city": "Springfield",
            "zip": "12345",
            "country": "US",
        },
        "item": {
            "items": [
                {"item": {"id": 9999}, "quantity": 2, "rate": Decimal("19.90")},
                {
                    "item": {"id": 55},
                    "quantity": 1,
                    "amount": Decimal("5.00"),
                    "description": "Gift",
                },
            ]
        },
        "custbody_nswoo_woo_order_id": "40001",
        "custbody_flag": True,
    }


def test_oracle_example_body_is_reproduced_exactly() -> None:
    """The minimal draft reproduces Oracle's literal salesOrder body (reference §3)."""
    draft = SalesOrderDraft(
        entity=107,
        location=1,
        lines=[SalesOrderLine(item=9999, quantity=Decimal(1), amount=Decimal(1))],
    )
    body = to_body(draft)
    del body["item"]["items"][0]["quantity"]
    assert dumps(body) == (
        b'{"entity":{"id":107},"location":{"id":1},'
        b'"item":{"items":[{"item":{"id":9999},"amount":1}]}}'
    )


def test_money_keeps_its_exact_decimal_text() -> None:
    """Decimals are written as exact JSON numbers, never through a float."""
    assert dumps({"rate": Decimal("0.10"), "big": Decimal("12345678901234567890.01")}) == (
        b'{"rate":0.10,"big":12345678901234567890.01}'
    )
    assert dumps([Decimal("1E+2")]) == b"[100]"


def test_floats_and_non_finite_decimals_are_refused() -> None:
    """Floats and NaN/Infinity cannot reach a NetSuite body."""
    with pytest.raises(TypeError):
        dumps({"rate": 0.1})
    with pytest.raises(ValueError, match="NaN"):
        dumps({"rate": Decimal("NaN")})


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text()
        | st.decimals(allow_nan=False, allow_infinity=False),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_dumps_round_trips_exactly(value: object) -> None:
    """Anything dumps accepts decodes back to an equal value with exact decimals."""
    assert json.loads(dumps(value), parse_float=Decimal) == value


def test_custom_field_ids_are_validated() -> None:
    """Custom field keys must be cust… ids; standard keys cannot be overwritten."""
    with pytest.raises(InvalidPayload) as info:
        SalesOrderDraft(entity=1, lines=[], custom_fields={"entity": "2"})
    assert info.value.field == "entity"
    with pytest.raises(InvalidPayload):
        SalesOrderDraft(entity=1, lines=[], custom_fields={"custbody_x": 1.5})  # type: ignore[dict-item]


def test_draft_ids_and_amounts_are_validated() -> None:
    """Non-positive ids and non-finite amounts are refused with the field named."""
    with pytest.raises(InvalidPayload) as info:
        SalesOrderDraft(entity=0, lines=[])
    assert info.value.field == "entity"
    with pytest.raises(InvalidPayload) as info:
        SalesOrderLine(item=1, quantity=Decimal("Infinity"))
    assert info.value.field == "quantity"


def test_customer_body() -> None:
    """A customer draft uses the customer property names with subsidiary as a reference."""
    draft = CustomerDraft(
        email="ana@example.com",
        external_id=ExternalId("woo-main-c-12"),
        first_name="Ana",
        last_name="Lima",
        is_person=True,
        subsidiary=2,
    )
    assert to_body(draft) == {
        "email": "ana@example.com",
        "externalId": "woo-main-c-12",
        "isPerson": True,
        "firstName": "Ana",
        "lastName": "Lima",
        "subsidiary": {"id": 2},
    }


def test_public_names_are_exactly_the_sorted_exports() -> None:
    """nswoo.netsuite.__all__ lists every public name it re-exports, sorted."""
    import nswoo.netsuite as ns

    public = sorted(n for n in vars(ns) if not n.startswith("_") and n != "annotations")
    assert ns.__all__ == public
