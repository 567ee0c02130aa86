"""NetSuite REST record wire models: ids, external ids, drafts, and exact JSON bodies.

Everything here is pure: validation happens before any request is built, and drafts turn
into request bodies through this module's own cattrs converter (never the global one).

Body shape facts (reference §3): references are `{"id": …}` objects, the sales order line
sublist is `item.items[]`, the external id is `externalId`, custom body fields are top-level
keys. Oracle's only literal salesOrder body is
`{"entity":{"id":107},"location":{"id":1},"item":{"items":[{"item":{"id":9999},"amount":1}]}}`;
the other property names used below (`quantity`, `rate`, `subsidiary`, `tranDate`, `memo`,
`otherRefNum`, `shippingCost`, the address subrecords) are common usage the reference marks
as unverified: check them against `metadata-catalog/salesorder` (`NetSuiteClient.record_schema`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import cattrs

from ..errors import InvalidPayload

__all__ = [
    "Address",
    "CustomFieldValue",
    "CustomerDraft",
    "ExternalId",
    "RecordDraft",
    "RecordId",
    "SalesOrderDraft",
    "SalesOrderLine",
    "dumps",
    "make_converter",
    "record_path_id",
    "to_body",
    "validate_internal_id",
    "validate_record_type",
]

# Reference §3: "Allowed characters are letters, digits, `_` and `-`."
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_-]+")
_INTERNAL_ID = re.compile(r"[0-9]+")
# Record types are URL path segments (`salesOrder`, `customer`, `customrecord_x`); anything
# else would change the path the request is sent to.
_RECORD_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Custom fields are ids with the `cust` prefix (`custbody…`, `custcol…`, `custentity…`,
# reference §7 for `custbody`); they become top-level keys, so they must not collide with a
# standard property such as `entity`.
_CUSTOM_FIELD = re.compile(r"cust[a-z0-9_]+", re.IGNORECASE)

CustomFieldValue = str | int | Decimal | bool


def _problem(detail: str, *, field: str | None = None) -> InvalidPayload:
    return InvalidPayload(detail, problems=(detail,), field=field, system="netsuite")


def validate_internal_id(value: int | str, *, field: str = "id") -> str:
    """Return `value` as the decimal text of a NetSuite internal id, or raise `InvalidPayload`.

    Internal ids are positive integers; `True`, negative numbers and text with anything but
    ASCII digits are refused so they can never alter a URL or a query.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _problem(f"{field} must be an internal id (digits)", field=field)
    text = str(value)
    if not _INTERNAL_ID.fullmatch(text) or int(text) <= 0:
        raise _problem(f"{field} must be an internal id (positive digits only)", field=field)
    return str(int(text))


def validate_record_type(record_type: str) -> str:
    """Return `record_type` if it is a plain record type name, else raise `InvalidPayload`."""
    if not isinstance(record_type, str) or not _RECORD_TYPE.fullmatch(record_type):
        raise _problem("record type must be letters, digits and '_'", field="record_type")
    return record_type


def _check_external_id(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or not _EXTERNAL_ID.fullmatch(value):
        raise _problem(
            "external id may contain only letters, digits, '_' and '-' (NetSuite's rule)",
            field="externalId",
        )


@attrs.frozen
class ExternalId:
    """A NetSuite external id, addressed in URLs as `eid:<value>` (reference §3).

    Construction validates the characters NetSuite allows (letters, digits, `_`, `-`), so an
    `ExternalId` is always safe in a path or a query.

    Example:
        >>> ExternalId("woo-main-40001").path_segment
        'eid:woo-main-40001'
    """

    value: str = attrs.field(validator=_check_external_id)

    @property
    def path_segment(self) -> str:
        """The URL segment that addresses the record: `eid:<value>`."""
        return f"eid:{self.value}"

    def __str__(self) -> str:
        return self.value


RecordId = int | str | ExternalId
"""An internal id (`647`, `"647"`) or an `ExternalId`."""


def record_path_id(record_id: RecordId) -> str:
    """The path segment for `record_id`: digits, or `eid:<value>`. Raises `InvalidPayload`."""
    if isinstance(record_id, ExternalId):
        return record_id.path_segment
    return validate_internal_id(record_id)


def _positive_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _problem(f"{attribute.name} must be a positive internal id", field=attribute.name)


def _finite(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _problem(f"{attribute.name} must be a finite Decimal", field=attribute.name)


def _custom_fields(_instance: object, _attribute: object, value: Mapping[str, object]) -> None:
    for key, item in value.items():
        if not _CUSTOM_FIELD.fullmatch(key):
            raise _problem(
                "custom field ids must start with 'cust' and hold only letters, digits and '_'",
                field=key,
            )
        if isinstance(item, Decimal) and not item.is_finite():
            raise _problem("custom field values must be finite", field=key)
        if not isinstance(item, str | int | Decimal):  # bool is an int
            raise _problem("custom field values must be str, int, Decimal or bool", field=key)


def _line_tuple(value: Iterable[SalesOrderLine]) -> tuple[SalesOrderLine, ...]:
    return tuple(value)


def _frozen_mapping(value: Mapping[str, CustomFieldValue]) -> Mapping[str, CustomFieldValue]:
    # A private copy, so a draft cannot change after validation.
    return dict(value)


@attrs.frozen
class Address:
    """A billing or shipping address subrecord.

    Unverified (reference §3 and Unconfirmed item 7): the property names (`addr1`, `city`,
    `state`, `zip`, `country`, …) and whether REST accepts them nested in a sales order are
    common usage, not Oracle text. Check them against your account's metadata catalog.
    """

    addr1: str | None = None
    addr2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    addressee: str | None = None
    phone: str | None = None


@attrs.frozen
class SalesOrderLine:
    """One `item.items[]` line: an item id, a quantity, and a rate or an amount.

    Leave `rate` and `amount` unset to let NetSuite price the line; setting both lets
    NetSuite check one against the other.
    """

    item: int = attrs.field(validator=_positive_id)
    quantity: Decimal = attrs.field(validator=_finite)
    rate: Decimal | None = attrs.field(default=None, validator=_finite)
    amount: Decimal | None = attrs.field(default=None, validator=_finite)
    description: str | None = None


@attrs.frozen
class SalesOrderDraft:
    """A sales order to create: what nswoo writes, before NetSuite gives it an id.

    Example:
        >>> draft = SalesOrderDraft(
        ...     entity=107,
        ...     lines=(SalesOrderLine(item=9999, quantity=Decimal("2"), rate=Decimal("9.95")),),
        ...     external_id=ExternalId("woo-main-40001"),
        ...     custom_fields={"custbody_nswoo_woo_order_id": "40001"},
        ... )
        >>> to_body(draft)["item"]
        {'items': [{'item': {'id': 9999}, 'quantity': Decimal('2'), 'rate': Decimal('9.95')}]}
    """

    entity: int = attrs.field(validator=_positive_id)
    lines: tuple[SalesOrderLine, ...] = attrs.field(converter=_line_tuple)
    external_id: ExternalId | None = None
    custom_fields: Mapping[str, CustomFieldValue] = attrs.field(
        factory=dict, converter=_frozen_mapping, validator=_custom_fields
    )
    location: int | None = attrs.field(default=None, validator=_positive_id)
    subsidiary: int | None = attrs.field(default=None, validator=_positive_id)
    memo: str | None = None
    other_ref_num: str | None = None
    shipping_cost: Decimal | None = attrs.field(default=None, validator=_finite)
    billing_address: Address | None = None
    shipping_address: Address | None = None
    tran_date: dt.date | None = None


@attrs.frozen
class CustomerDraft:
    """A customer to create or upsert (the `by-email` customer strategy).

    `is_person` picks an individual (first and last name) over a company; NetSuite asks for
    `companyName` when the customer is a company ("You must enter a value for Company Name.",
    reference §4). The `isPerson`, `firstName`, `lastName` and `companyName` property names
    are common usage, not Oracle text: check them against `metadata-catalog/customer`.
    """

    email: str
    external_id: ExternalId | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    is_person: bool | None = None
    subsidiary: int | None = attrs.field(default=None, validator=_positive_id)
    custom_fields: Mapping[str, CustomFieldValue] = attrs.field(
        factory=dict, converter=_frozen_mapping, validator=_custom_fields
    )


RecordDraft = SalesOrderDraft | CustomerDraft


def _ref(value: int | None) -> dict[str, int] | None:
    return None if value is None else {"id": value}


def _compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Drop unset (None) properties: an omitted property keeps NetSuite's default (§3)."""
    return {key: value for key, value in fields.items() if value is not None}


def _with_custom(
    body: dict[str, Any], custom: Mapping[str, CustomFieldValue], record: str
) -> dict[str, Any]:
    for key, value in custom.items():
        if key in body:
            raise _problem(f"custom field {key!r} collides with a {record} property", field=key)
        body[key] = value
    return body


def make_converter() -> cattrs.Converter:
    """The NetSuite wire converter: drafts → request bodies, with Decimal kept exact.

    Decimal and date values stay Python objects in the unstructured form; `dumps` writes
    Decimals as exact JSON numbers.
    """
    converter = cattrs.Converter()
    converter.register_unstructure_hook(Decimal, lambda value: value)
    converter.register_unstructure_hook(dt.date, lambda value: value.isoformat())
    converter.register_unstructure_hook(
        ExternalId, lambda value: value.value if value is not None else None
    )
    converter.register_unstructure_hook(
        Address, lambda value: _compact(attrs.asdict(value)) or None
    )

    def line(value: SalesOrderLine) -> dict[str, Any]:
        return _compact(
            {
                "item": _ref(value.item),
                "quantity": value.quantity,
                "rate": value.rate,
                "amount": value.amount,
                "description": value.description,
            }
        )

    def sales_order(value: SalesOrderDraft) -> dict[str, Any]:
        body = _compact(
            {
                "entity": _ref(value.entity),
                "externalId": converter.unstructure(value.external_id, ExternalId | None),
                "location": _ref(value.location),
                "subsidiary": _ref(value.subsidiary),
                "tranDate": converter.unstructure(value.tran_date, dt.date | None),
                "memo": value.memo,
                "otherRefNum": value.other_ref_num,
                "shippingCost": value.shipping_cost,
                "billingAddress": converter.unstructure(value.billing_address, Address | None),
                "shippingAddress": converter.unstructure(value.shipping_address, Address | None),
                "item": {"items": [line(entry) for entry in value.lines]},
            }
        )
        return _with_custom(body, value.custom_fields, "salesOrder")

    def customer(value: CustomerDraft) -> dict[str, Any]:
        body = _compact(
            {
                "email": value.email,
                "externalId": converter.unstructure(value.external_id, ExternalId | None),
                "isPerson": value.is_person,
                "firstName": value.first_name,
                "lastName": value.last_name,
                "companyName": value.company_name,
                "subsidiary": _ref(value.subsidiary),
            }
        )
        return _with_custom(body, value.custom_fields, "customer")

    converter.register_unstructure_hook(SalesOrderLine, line)
    converter.register_unstructure_hook(SalesOrderDraft, sales_order)
    converter.register_unstructure_hook(CustomerDraft, customer)
    return converter


def to_body(draft: RecordDraft, *, converter: cattrs.Converter | None = None) -> dict[str, Any]:
    """The REST request body for `draft` (Decimals kept as `Decimal`; see `dumps`)."""
    result: dict[str, Any] = (converter or make_converter()).unstructure(draft, type(draft))
    return result


# ---------------------------------------------------------------------------------------------
# Exact JSON

_MAX_DEPTH = 64


def _encode(value: object, out: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("JSON body nested too deeply")
    if value is None or isinstance(value, bool | str):
        out.append(json.dumps(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("a NaN or infinite Decimal cannot be sent as JSON")
        # Fixed-point text: `Decimal("1E+2")` → `100`, never a float round trip.
        out.append(format(value, "f"))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        # Floats are refused outright: money must never pass through binary floating point.
        raise TypeError("float values are not accepted in NetSuite bodies; use Decimal")
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be strings")
            if index:
                out.append(",")
            out.append(json.dumps(key))
            out.append(":")
            _encode(item, out, depth + 1)
        out.append("}")
    elif isinstance(value, Sequence):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: object) -> bytes:
    """Encode `value` as compact UTF-8 JSON, writing each `Decimal` as its exact decimal text.

    Accepts dicts, lists and tuples, str, int, bool, None and finite `Decimal`. Floats are
    refused with `TypeError` (money must not be rounded through binary floating point), as are
    NaN and infinite Decimals (`ValueError`).

    Example:
        >>> dumps({"amount": Decimal("19.90")})
        b'{"amount":19.90}'
    """
    out: list[str] = []
    _encode(value, out, 0)
    return "".join(out).encode()
