"""The WooCommerce converter: wc/v3 JSON ⇄ the attrs models of `_records`.

WooCommerce-specific rules live here and nowhere else:

- JSON is parsed with `parse_float=Decimal` (`loads`), so the JSON *numbers* WooCommerce
  sends for money (`line_items[].price`, `coupon_lines[].nominal_amount`, reference §5) are
  exact, and `dumps` writes a `Decimal` back as the same number text.
- Money strings become `Decimal` holding the exact text (`"29.35"`, `"0.9"`), and go back
  out as the same string (`format(d, "f")`). Product prices may be `""` (no sale, no own
  price): that is None, and None goes back out as `""`.
- Dates are the `*_gmt` fields, sent without an offset (`"2017-03-22T19:28:02"`): they are
  UTC, read as aware UTC datetimes and written back in the same form.
- Scalars are strict: a string is not an int, `"parent"` is not a bool. A payload that does
  not fit is refused with every problem listed, rather than silently coerced.
- Numbers are bounded (`_records` module docstring): money amounts, unrounded numbers, line
  quantities and integers each have a range, and a value outside it is refused with the
  field's JSON path ("... is out of range ... @ $.total"), so one hostile order is one
  readable rejection, never an overflow further down.
- Keys the models do not name are ignored (WooCommerce adds fields across versions).

The converter is a private, fully configured instance (never cattrs' global one); nothing
registers hooks on it after this module is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.v import format_exception

from ..errors import ApiContext, ResponseInvalid
from ._records import (
    MAX_MONEY_PLACES,
    MAX_NUMBER_PLACES,
    ManageStock,
    WooAddress,
    WooItemTax,
    WooLineItem,
    WooMeta,
    WooOrder,
    WooProduct,
    WooVariation,
    amount_problem,
    integer_problem,
    quantity_problem,
)

__all__ = [
    "ModelMismatch",
    "OutOfRange",
    "dumps",
    "loads",
    "make_converter",
    "structure_order",
    "structure_product",
    "structure_variation",
    "unstructure_order",
    "unstructure_product",
    "unstructure_variation",
]

T = TypeVar("T")

_MAX_PROBLEMS_IN_MESSAGE = 5

# Integer literals longer than this are kept as exact Decimals by `loads`: Python refuses to
# convert more than 4300 digits to an int, which would make a whole page of orders
# unreadable for one hostile number; as a Decimal it is refused by the bounds, in its field.
_LONG_INT_DIGITS = 100

# `dumps` writes a Decimal in plain notation unless its exponent is beyond this: plain
# notation of `1E+999999999` would be a billion characters.
_PLAIN_EXPONENT = 40


class OutOfRange(ValueError):
    """A number outside nswoo's bounds; its message says which bound (kept in the problem)."""


class ModelMismatch(Exception):
    """A payload does not fit a model. `problems` holds one line per problem (JSON paths).

    Internal: the public functions turn it into `ResponseInvalid` (API responses) or
    `WebhookPayloadInvalid` (webhook bodies).
    """

    def __init__(self, what: str, problems: tuple[str, ...]) -> None:
        self.what = what
        self.problems = problems
        shown = "; ".join(problems[:_MAX_PROBLEMS_IN_MESSAGE])
        more = len(problems) - _MAX_PROBLEMS_IN_MESSAGE
        suffix = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"{what} does not fit the model: {shown}{suffix}")


# ---------------------------------------------------------------------------------------------
# JSON


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _LONG_INT_DIGITS else Decimal(text)


def loads(data: bytes | str) -> Any:
    """Parse JSON with exact numbers: floats become `Decimal`; NaN/Infinity are refused.

    An integer literal of more than 100 digits is kept as an exact `Decimal` (no model
    accepts it, and the converter then refuses it in its own field rather than the whole
    document failing to parse).

    Raises:
        ValueError: the text is not JSON (`json.JSONDecodeError` is a `ValueError`), or
            bytes are not UTF-8 (`UnicodeDecodeError` is a `ValueError`).
    """
    return json.loads(
        data, parse_float=Decimal, parse_int=_parse_int, parse_constant=_refuse_constant
    )


def dumps(value: Any) -> bytes:
    """Encode JSON (UTF-8, compact), writing a `Decimal` as the exact number it holds.

    The standard `json` module can only write a `Decimal` as a float or a string; WooCommerce
    order payloads need exact numbers (`"price": 3`, reference §5). Text is written with
    ASCII escapes, so any string `loads` accepted (even a lone surrogate from a hostile
    body) can be written back, e.g. into a dead letter.
    """
    return "".join(_encode(value)).encode("ascii")


def _encode(value: Any) -> Iterator[str]:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("a non-finite Decimal cannot be written as JSON")
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)  # noqa: S101 - finite, checked above
        # Plain notation keeps the exact text ("6.00"); an extreme exponent is written in
        # exponent notation, which JSON allows, rather than as a billion digits.
        plain = -_PLAIN_EXPONENT <= exponent <= _PLAIN_EXPONENT
        yield format(value, "f") if plain else str(value)
    elif isinstance(value, Mapping):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            if index:
                yield ","
            yield json.dumps(key)
            yield ":"
            yield from _encode(item)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from _encode(item)
        yield "]"
    else:
        yield json.dumps(value, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# Scalar hooks (strict: refuse rather than coerce)


def _structure_str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _structure_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


def _exact_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("expected an integer, got a boolean")
    if isinstance(value, int):
        problem = integer_problem(value)
        if problem is not None:
            raise OutOfRange(problem)
        return value
    # An integral JSON number written with a fraction ("2.0"), or a very long integer
    # literal (see `loads`), arrives as a Decimal. The range is checked before `int()`:
    # `int(Decimal("1E+999999999"))` would build a billion-digit number.
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        problem = integer_problem(value)
        if problem is not None:
            raise OutOfRange(problem)
        return int(value)
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _structure_int(value: Any, _: Any) -> int:
    return _exact_int(value)


def _structure_quantity(value: Any, _: Any) -> int:
    quantity = _exact_int(value)
    problem = quantity_problem(quantity)
    if problem is not None:
        raise OutOfRange(problem)
    return quantity


def _structure_optional_int(value: Any, _: Any) -> int | None:
    return None if value is None else _structure_int(value, int)


def _structure_optional_str(value: Any, _: Any) -> str | None:
    return None if value is None else _structure_str(value, str)


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("expected a decimal amount, got a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError("expected a decimal amount, got text that is not a number") from None
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        # Only reached when the JSON was parsed without parse_float=Decimal; repr() is the
        # shortest text that reads back as this float, the closest we can get to the wire.
        result = Decimal(repr(value))
    else:
        raise TypeError(f"expected a decimal amount, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("expected a finite decimal amount")
    return result


def _bounded(value: Decimal, places: int) -> Decimal:
    problem = amount_problem(value, places=places)
    if problem is not None:
        raise OutOfRange(problem)
    return value


def _structure_decimal(value: Any, _: Any) -> Decimal:
    # The default for every Decimal field: a money amount in the store's decimals.
    return _bounded(_to_decimal(value), places=MAX_MONEY_PLACES)


def _structure_number(value: Any, _: Any) -> Decimal:
    # An unrounded number (line `price`, per-rate taxes): more decimal places are normal.
    return _bounded(_to_decimal(value), places=MAX_NUMBER_PLACES)


def _structure_optional_number(value: Any, _: Any) -> Decimal | None:
    # WooCommerce sends "" for an absent price ("sale_price": "", reference §6 example).
    if value is None or value == "":
        return None
    return _structure_number(value, Decimal)


def _unstructure_decimal(value: Decimal) -> str:
    # "f" keeps the exact digits and trailing zeros ("6.00") and never uses an exponent.
    return format(value, "f")


def _unstructure_optional_decimal(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _structure_datetime(value: Any, _: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 date, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("expected an ISO 8601 date") from None
    # The *_gmt fields carry no offset: they are UTC by definition (reference §5).
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _structure_optional_datetime(value: Any, _: Any) -> datetime | None:
    return None if value is None else _structure_datetime(value, datetime)


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def _unstructure_optional_datetime(value: datetime | None) -> str | None:
    return None if value is None else _unstructure_datetime(value)


def _structure_manage_stock(value: Any, _: Any) -> ManageStock:
    if value == "parent" or isinstance(value, bool):
        return value  # type: ignore[no-any-return]
    raise TypeError('expected true, false or "parent"')


def _structure_meta(value: Any, _: Any) -> WooMeta:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a meta_data object, got {type(value).__name__}")
    if "key" not in value:
        raise ValueError("meta_data entry without a key")
    return WooMeta(
        id=_structure_optional_int(value.get("id"), int),
        key=_structure_str(value["key"], str),
        # Meta values are any JSON value (plugins store objects and lists); kept as parsed.
        value=value.get("value"),
    )


def _unstructure_meta(meta: WooMeta) -> dict[str, Any]:
    data: dict[str, Any] = {"key": meta.key, "value": meta.value}
    if meta.id is not None:
        data = {"id": meta.id, **data}
    return data


def _unstructure_address(address: WooAddress) -> dict[str, Any]:
    # Shipping addresses have no `email` (and older stores no `phone`, reference §5): leave
    # the keys out rather than write nulls WooCommerce never sent.
    return {
        field.name: value
        for field in attrs.fields(WooAddress)
        if (value := getattr(address, field.name)) is not None
    }


def _identity(value: Any) -> Any:
    return value


def _product_sku(value: Any, _: Any) -> str | None:
    # Products and variations send "" when they have no SKU (reference §6): None here.
    sku = _structure_optional_str(value, str)
    return sku or None


def _unstructure_product_sku(value: str | None) -> str:
    return value or ""


def make_converter() -> cattrs.Converter:
    """Build a converter configured for WooCommerce wc/v3 payloads (see module docstring)."""
    converter = cattrs.Converter(
        forbid_extra_keys=False,
        detailed_validation=True,
        unstruct_collection_overrides={tuple: list},
    )
    structure_hooks: list[tuple[Any, Callable[[Any, Any], Any]]] = [
        (str, _structure_str),
        (bool, _structure_bool),
        (int, _structure_int),
        (int | None, _structure_optional_int),
        (str | None, _structure_optional_str),
        (Decimal, _structure_decimal),
        (Decimal | None, _structure_optional_number),
        (datetime, _structure_datetime),
        (datetime | None, _structure_optional_datetime),
        (ManageStock, _structure_manage_stock),
        (WooMeta, _structure_meta),
    ]
    for type_, structure in structure_hooks:
        converter.register_structure_hook(type_, structure)
    converter.register_unstructure_hook(Decimal, _unstructure_decimal)
    converter.register_unstructure_hook(Decimal | None, _unstructure_optional_decimal)
    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    converter.register_unstructure_hook(datetime | None, _unstructure_optional_datetime)
    converter.register_unstructure_hook(WooMeta, _unstructure_meta)
    converter.register_unstructure_hook(WooAddress, _unstructure_address)

    # Per-rate taxes are unrounded numbers (see `_records`). Registered before the line
    # item, whose structuring function looks up the hook for its `taxes` when it is built.
    converter.register_structure_hook(
        WooItemTax,
        make_dict_structure_fn(
            WooItemTax,
            converter,
            _cattrs_detailed_validation=True,
            total=override(struct_hook=_structure_number),
            subtotal=override(struct_hook=_structure_optional_number),
        ),
    )
    # A line's quantity has NetSuite's range; its `price` is an unrounded JSON number.
    converter.register_structure_hook(
        WooLineItem,
        make_dict_structure_fn(
            WooLineItem,
            converter,
            _cattrs_detailed_validation=True,
            quantity=override(struct_hook=_structure_quantity),
            price=override(struct_hook=_structure_number),
        ),
    )
    # Line-item `price` is a JSON number on the wire, not a string (reference §5): keep the
    # Decimal, which `dumps` writes back as the same number.
    converter.register_unstructure_hook(
        WooLineItem,
        make_dict_unstructure_fn(WooLineItem, converter, price=override(unstruct_hook=_identity)),
    )
    for cls in (WooProduct, WooVariation):
        converter.register_structure_hook(
            cls,
            make_dict_structure_fn(
                cls,
                converter,
                _cattrs_detailed_validation=True,
                sku=override(struct_hook=_product_sku),
                price=override(struct_hook=_structure_optional_number),
                regular_price=override(struct_hook=_structure_optional_number),
                sale_price=override(struct_hook=_structure_optional_number),
            ),
        )
        converter.register_unstructure_hook(
            cls,
            make_dict_unstructure_fn(
                cls, converter, sku=override(unstruct_hook=_unstructure_product_sku)
            ),
        )
    return converter


# Built once at import and never changed afterwards: a configured value, not shared state.
_CONVERTER: Final = make_converter()


# ---------------------------------------------------------------------------------------------
# Entry points


def structure_as(cls: type[T], data: Any, *, what: str) -> T:
    """Structure `data` into `cls` with the WooCommerce converter.

    Raises:
        ModelMismatch: `data` is not an object, or does not fit `cls`; lists every problem.
    """
    if not isinstance(data, Mapping):
        raise ModelMismatch(what, (f"expected a JSON object, got {_json_type(data)} @ $",))
    try:
        return _CONVERTER.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        problems = cattrs.transform_error(exc, format_exception=_format_problem)
        raise ModelMismatch(what, tuple(problems)) from exc


def _format_problem(exc: BaseException, type_: type | None) -> str:
    # cattrs' own wording for the usual mismatches; a bound keeps its message, which says
    # which bound the value broke ("... is out of range: amounts must be below 10^15").
    if isinstance(exc, OutOfRange):
        return str(exc)
    return format_exception(exc, type_)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number" if isinstance(value, int | Decimal | float) else type(value).__name__


def _invalid(exc: ModelMismatch, context: ApiContext | None) -> ResponseInvalid:
    kwargs: ApiContext = context if context is not None else {"system": "woocommerce"}
    return ResponseInvalid(str(exc), **kwargs)


def structure_order(data: Any, *, context: ApiContext | None = None) -> WooOrder:
    """A wc/v3 order object (REST response or webhook body) → `WooOrder`.

    Args:
        data: the order parsed with `loads` (floats as `Decimal`).
        context: the response's `ApiContext`, added to the error when there is one.

    Raises:
        ResponseInvalid: the payload does not fit; the message lists the problems.
    """
    try:
        return structure_as(WooOrder, data, what="order")
    except ModelMismatch as exc:
        raise _invalid(exc, context) from exc


def structure_product(data: Any, *, context: ApiContext | None = None) -> WooProduct:
    """A wc/v3 product object → `WooProduct`.

    Raises:
        ResponseInvalid: the payload does not fit; the message lists the problems.
    """
    try:
        return structure_as(WooProduct, data, what="product")
    except ModelMismatch as exc:
        raise _invalid(exc, context) from exc


def structure_variation(
    data: Any, *, parent_id: int | None = None, context: ApiContext | None = None
) -> WooVariation:
    """A wc/v3 variation object → `WooVariation`.

    Args:
        data: the variation object.
        parent_id: the parent product id from the URL it was read from; used when the body
            has no `parent_id` (or a 0 one).
        context: the response's `ApiContext`, added to the error when there is one.

    Raises:
        ResponseInvalid: the payload does not fit, or no parent id is known.
    """
    if isinstance(data, Mapping) and parent_id is not None and not data.get("parent_id"):
        data = {**data, "parent_id": parent_id}
    try:
        return structure_as(WooVariation, data, what="variation")
    except ModelMismatch as exc:
        raise _invalid(exc, context) from exc


def unstructure_order(order: WooOrder) -> dict[str, Any]:
    """`WooOrder` → a wc/v3-shaped dict (money as strings, `price` as a Decimal number)."""
    result: dict[str, Any] = _CONVERTER.unstructure(order)
    return result


def unstructure_product(product: WooProduct) -> dict[str, Any]:
    """`WooProduct` → a wc/v3-shaped dict (empty prices and SKU as `""`)."""
    result: dict[str, Any] = _CONVERTER.unstructure(product)
    return result


def unstructure_variation(variation: WooVariation) -> dict[str, Any]:
    """`WooVariation` → a wc/v3-shaped dict (empty prices and SKU as `""`)."""
    result: dict[str, Any] = _CONVERTER.unstructure(variation)
    return result
