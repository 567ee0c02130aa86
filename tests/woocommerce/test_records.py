"""WooCommerce models and converter: published payloads in, the same payloads out."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswoo.errors import ResponseInvalid
from nswoo.woocommerce import (
    WooOrder,
    WooProduct,
    WooVariation,
    dumps,
    loads,
    structure_order,
    structure_product,
    structure_variation,
    unstructure_order,
    unstructure_product,
    unstructure_variation,
)

FIXTURES = Path(__file__).parent / "fixtures"


def order_payload() -> dict[str, Any]:
    """The published order example, parsed with exact numbers."""
    payload: dict[str, Any] = loads((FIXTURES / "woo_order_example.json").read_bytes())
    return payload


def product_payload() -> dict[str, Any]:
    """The published product example, parsed with exact numbers."""
    payload: dict[str, Any] = loads((FIXTURES / "woo_product_example.json").read_bytes())
    return payload


def variation_payload(**changes: Any) -> dict[str, Any]:
    """A variation body as the variations endpoint returns it (no parent_id)."""
    body: dict[str, Any] = {
        "id": 23,
        "sku": "Bar3",
        "price": "12.00",
        "regular_price": "12.00",
        "sale_price": "",
        "status": "publish",
        "manage_stock": True,
        "stock_quantity": 7,
        "stock_status": "instock",
        "backorders": "no",
        "date_modified_gmt": "2017-03-23T20:01:14",
        "meta_data": [],
        "attributes": [{"id": 6, "name": "Color", "option": "Black"}],
    }
    body.update(changes)
    return body


def assert_same_wire(ours: Any, theirs: Any, path: str = "$") -> None:
    """Every key we write back exists in the original payload with an equal value."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict), path
        for key, value in ours.items():
            assert key in theirs, f"{path}.{key} is not in the original payload"
            assert_same_wire(value, theirs[key], f"{path}.{key}")
    elif isinstance(ours, list):
        assert isinstance(theirs, list), path
        assert len(ours) == len(theirs), path
        for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            assert_same_wire(mine, other, f"{path}[{index}]")
    else:
        assert type(ours) is type(theirs) or isinstance(ours, Decimal), path
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def test_published_order_structures_into_the_model() -> None:
    """The documented order 727 becomes a WooOrder with exact money and UTC dates."""
    order = structure_order(order_payload())
    assert isinstance(order, WooOrder)
    assert order.id == 727
    assert order.number == "727"
    assert order.status == "processing"
    assert order.total == Decimal("29.35")
    assert order.total_tax == Decimal("1.35")
    assert order.shipping_total == Decimal("10.00")
    assert str(order.shipping_total) == "10.00"
    assert order.date_created_gmt == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.date_modified_gmt == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert order.billing.email == "john.doe@example.com"
    assert order.shipping.email is None
    assert order.meta("_download_permissions_granted") == "yes"
    first, second = order.line_items
    assert first.price == Decimal(3)
    assert first.sku == ""
    assert first.quantity == 2
    assert second.sku == "Bar3"
    assert second.variation_id == 23
    assert second.taxes[0].total == Decimal("0.9")
    assert [m.key for m in second.meta_data] == ["pa_color", "size"]
    assert order.shipping_lines[0].method_id == "flat_rate"
    assert order.tax_lines[0].rate_code == "US-CA-STATE TAX"


def test_published_order_goes_back_out_unchanged() -> None:
    """Unstructuring the order gives back the published values, money text included."""
    payload = order_payload()
    back = unstructure_order(structure_order(payload))
    assert_same_wire(back, payload)
    assert back["total"] == "29.35"
    assert back["line_items"][1]["taxes"][0]["total"] == "0.9"
    assert "email" not in back["shipping"]


def test_published_order_survives_a_json_round_trip() -> None:
    """dumps then loads then structure gives an equal order, line price a JSON number."""
    order = structure_order(order_payload())
    text = dumps(unstructure_order(order))
    assert b'"price":3,' in text
    assert b'"total":"29.35"' in text
    assert structure_order(loads(text)) == order


def test_published_product_structures_and_goes_back_out() -> None:
    """The documented product 794 structures (empty sku and sale price are None) and back."""
    payload = product_payload()
    product = structure_product(payload)
    assert isinstance(product, WooProduct)
    assert product.sku is None
    assert product.price == Decimal("21.99")
    assert product.sale_price is None
    assert product.manage_stock is False
    assert product.stock_quantity is None
    assert product.variations == ()
    assert product.date_modified_gmt == datetime(2017, 3, 23, 20, 1, 14, tzinfo=UTC)
    back = unstructure_product(product)
    assert_same_wire(back, payload)
    assert back["sale_price"] == ""
    assert back["sku"] == ""


def test_unknown_keys_are_ignored_and_meta_data_kept() -> None:
    """Fields from newer WooCommerce versions do not break structuring; meta_data survives."""
    payload = order_payload()
    payload["needs_payment"] = False
    payload["brand_new_field"] = {"nested": [1, 2]}
    payload["meta_data"].append({"id": 1, "key": "_wc_extra", "value": {"a": [Decimal("1.5")]}})
    payload["line_items"][0]["image"] = {"id": 1, "src": "https://example.com/i.png"}
    order = structure_order(payload)
    assert order.meta("_wc_extra") == {"a": [Decimal("1.5")]}
    back = unstructure_order(order)
    assert "brand_new_field" not in back
    assert back["meta_data"][-1] == {"id": 1, "key": "_wc_extra", "value": {"a": [Decimal("1.5")]}}


def test_refund_totals_are_negative_decimals() -> None:
    """A refund's total is the negative string WooCommerce sends, kept exactly."""
    payload = order_payload()
    payload["refunds"] = [{"id": 730, "reason": "damaged", "total": "-5.10"}]
    order = structure_order(payload)
    assert order.refunds[0].total == Decimal("-5.10")
    assert unstructure_order(order)["refunds"][0]["total"] == "-5.10"


def test_deleted_product_line_has_no_sku() -> None:
    """A line whose product was deleted has sku None, and keeps it None on the way out."""
    payload = order_payload()
    payload["line_items"][0]["sku"] = None
    order = structure_order(payload)
    assert order.line_items[0].sku is None
    assert unstructure_order(order)["line_items"][0]["sku"] is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-03-22T19:28:02", datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)),
        ("2017-03-22T19:28:02Z", datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)),
        ("2017-03-22T21:28:02+02:00", datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)),
    ],
)
def test_gmt_dates_become_aware_utc(value: str, expected: datetime) -> None:
    """Offset-less *_gmt dates are UTC; dates with an offset are converted to UTC."""
    payload = order_payload()
    payload["date_modified_gmt"] = value
    modified = structure_order(payload).date_modified_gmt
    assert modified == expected
    assert modified.utcoffset() is not None
    assert modified.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("line_items", 0, "quantity"), "2", "$.line_items[0].quantity"),
        (("total",), "", "$.total"),
        (("total",), "12,50", "$.total"),
        (("prices_include_tax",), "no", "$.prices_include_tax"),
        (("id",), True, "$.id"),
        (("line_items", 0, "price"), "abc", "$.line_items[0].price"),
        (("date_created_gmt",), "yesterday", "$.date_created_gmt"),
    ],
)
def test_values_of_the_wrong_type_are_refused_with_their_path(
    path: tuple[Any, ...], value: Any, problem: str
) -> None:
    """A value that does not fit is refused (not coerced) and the error names its path."""
    payload = order_payload()
    target: Any = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(ResponseInvalid) as caught:
        structure_order(payload)
    assert problem in str(caught.value)
    assert caught.value.system == "woocommerce"


def test_non_object_payload_is_refused() -> None:
    """An array where an order belongs is a ResponseInvalid, not a crash."""
    with pytest.raises(ResponseInvalid, match="expected a JSON object, got an array"):
        structure_order([order_payload()])


def test_variation_takes_parent_id_from_the_url_when_the_body_has_none() -> None:
    """Variations read from products/<id>/variations get that id as parent_id."""
    variation = structure_variation(variation_payload(), parent_id=22)
    assert isinstance(variation, WooVariation)
    assert variation.parent_id == 22
    assert variation.stock_quantity == 7
    assert variation.sale_price is None
    back = unstructure_variation(variation)
    assert back["parent_id"] == 22
    assert back["sale_price"] == ""


def test_variation_without_any_parent_id_is_refused() -> None:
    """A variation body with no parent_id and no URL parent cannot be structured."""
    with pytest.raises(ResponseInvalid, match=r"\$\.parent_id"):
        structure_variation(variation_payload())


@pytest.mark.parametrize(
    ("wire", "parent_managed"), [("parent", True), (True, False), (False, False)]
)
def test_variation_manage_stock_may_be_parent(wire: Any, parent_managed: bool) -> None:
    """manage_stock is true, false or "parent" on variations (reference §6)."""
    variation = structure_variation(variation_payload(manage_stock=wire), parent_id=22)
    assert variation.manage_stock == wire
    assert variation.parent_managed is parent_managed


def test_variation_manage_stock_refuses_other_strings() -> None:
    """Only the string "parent" is accepted besides booleans."""
    with pytest.raises(ResponseInvalid, match=r"\$\.manage_stock"):
        structure_variation(variation_payload(manage_stock="yes"), parent_id=22)


def test_product_manage_stock_refuses_parent() -> None:
    """A product's manage_stock is a plain boolean."""
    payload = product_payload()
    payload["manage_stock"] = "parent"
    with pytest.raises(ResponseInvalid, match=r"\$\.manage_stock"):
        structure_product(payload)


def test_integral_json_number_with_fraction_is_an_int() -> None:
    """A stock quantity written as 5.0 reads as 5; 5.5 is refused."""
    payload = product_payload() | {"manage_stock": True, "stock_quantity": Decimal("5.0")}
    assert structure_product(payload).stock_quantity == 5
    with pytest.raises(ResponseInvalid, match=r"\$\.stock_quantity"):
        structure_product(payload | {"stock_quantity": Decimal("5.5")})


def test_loads_refuses_nan() -> None:
    """NaN is not JSON and never becomes a Decimal amount."""
    with pytest.raises(ValueError, match="NaN"):
        loads(b'{"price": NaN}')


def test_dumps_writes_decimals_as_exact_numbers() -> None:
    """dumps writes Decimal as its exact digits and refuses non-finite values."""
    assert dumps({"a": Decimal("0.10"), "b": [Decimal("3"), "x"], "c": None}) == (
        b'{"a":0.10,"b":[3,"x"],"c":null}'
    )
    with pytest.raises(ValueError, match="non-finite"):
        dumps(Decimal("Infinity"))


money_text = st.from_regex(r"-?(0|[1-9][0-9]{0,8})\.[0-9]{2,4}", fullmatch=True)


@given(total=money_text, line_total=money_text, tax=money_text)
def test_any_money_string_round_trips_exactly(total: str, line_total: str, tax: str) -> None:
    """Any money string with 2-4 decimals comes back as the very same text."""
    payload = order_payload()
    payload["total"] = total
    payload["line_items"][0]["total"] = line_total
    payload["line_items"][1]["taxes"][0]["total"] = tax
    order = structure_order(payload)
    assert order.total.as_tuple() == Decimal(total).as_tuple()
    back = unstructure_order(order)
    assert back["total"] == total
    assert back["line_items"][0]["total"] == line_total
    assert back["line_items"][1]["taxes"][0]["total"] == tax
    assert structure_order(loads(dumps(back))) == order


@given(price=st.from_regex(r"(0|[1-9][0-9]{0,6})(\.[0-9]{1,4})?", fullmatch=True))
def test_line_price_number_round_trips_exactly(price: str) -> None:
    """The JSON number in line_items[].price is read and written with the same digits."""
    text = (
        (FIXTURES / "woo_order_example.json").read_text().replace('"price": 3', f'"price": {price}')
    )
    order = structure_order(loads(text))
    assert format(order.line_items[0].price, "f") == price
    assert f'"price":{price},'.encode() in dumps(unstructure_order(order))


def test_any_text_loads_accepts_can_be_written_back() -> None:
    """dumps writes whatever loads read, even a lone surrogate, as valid JSON."""
    from nswoo.woocommerce._convert import dumps, loads

    value = loads(b'{"note": "caf\\u00e9 \\ud800", "total": 29.35}')
    assert loads(dumps(value)) == value


# -- bounds ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "places", "accepted"),
    [
        ("999999999999999.99999999", 8, True),
        ("-999999999999999", 8, True),
        ("1000000000000000", 8, False),
        ("-1E+15", 8, False),
        ("0E+999999999", 8, False),
        ("0.12345678", 8, True),
        ("0.123456789", 8, False),
        ("0.123456789", 30, True),
        ("0." + "1" * 30, 30, True),
        ("0." + "1" * 31, 30, False),
        ("NaN", 8, False),
        ("-Infinity", 30, False),
    ],
)
def test_amount_bounds(text: str, places: int, accepted: bool) -> None:
    """Amounts: finite, below 10^15 in magnitude, at most `places` decimal places."""
    from nswoo.woocommerce._records import amount_problem

    assert (amount_problem(Decimal(text), places=places) is None) is accepted


def test_integer_and_quantity_bounds() -> None:
    """Integers are signed 64-bit; quantities stay below 10^10 (NetSuite's range)."""
    from nswoo.woocommerce._records import integer_problem, quantity_problem

    assert integer_problem(2**63 - 1) is None
    assert integer_problem(-(2**63)) is None
    assert integer_problem(2**63) is not None
    assert integer_problem(Decimal("1E+999999999")) is not None
    assert integer_problem(Decimal("2.5")) is not None
    assert quantity_problem(9_999_999_999) is None
    assert quantity_problem(-9_999_999_999) is None
    assert quantity_problem(10**10) is not None
    # Past 4300 digits Python cannot even print an int: the message says its size instead.
    assert "about 5001 digits" in (quantity_problem(10**5000) or "")
    assert "negative integer of about 51 digits" in (integer_problem(-(10**50)) or "")


def test_product_prices_may_carry_unrounded_digits_but_not_huge_ones() -> None:
    """Product prices are unrounded numbers: many places read; 10^15 is refused by field."""
    payload = product_payload()
    payload["regular_price"] = "19.9999999999"
    assert structure_product(payload).regular_price == Decimal("19.9999999999")
    payload["sale_price"] = "1e15"
    with pytest.raises(ResponseInvalid, match=r"out of range.* @ \$\.sale_price"):
        structure_product(payload)


def test_an_order_id_beyond_64_bits_is_refused_by_field() -> None:
    """An id SQLite cannot store is refused naming `$.id`, with the value cut short."""
    payload = order_payload()
    payload["id"] = 10**400
    with pytest.raises(ResponseInvalid) as caught:
        structure_order(payload)
    assert "@ $.id" in str(caught.value)
    assert len(str(caught.value)) < 300


def test_loads_keeps_a_very_long_integer_exact() -> None:
    """An integer literal past Python's digit limit is read as an exact Decimal."""
    value = loads(b'{"n": 1' + b"0" * 5000 + b"}")["n"]
    assert value == Decimal(10) ** 5000
    assert loads(b'{"n": 12}')["n"] == 12
    assert isinstance(loads(b'{"n": 12}')["n"], int)
