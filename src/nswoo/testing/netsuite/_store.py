"""The NetSuite simulator's account data: records, custom fields, stock, and SuiteQL.

Records live as REST-shaped dicts and are mirrored, on every write, into an in-memory SQLite
database whose tables carry the SuiteQL names and columns nswoo reads (reference §6):
`item`, `location`, `aggregateItemLocation`, `customer`, `transaction`, `transactionLine`.
SuiteQL runs on that database for real, read-only.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

import attrs

from nswoo._clock import Clock

from . import _bodies as bodies

__all__ = [
    "CURRENCY_PRECISIONS",
    "CustomField",
    "FieldType",
    "STATUS_NAMES",
    "QueryRefused",
    "RecordError",
    "Store",
    "canonical_record_type",
    "rows_as_items",
]

FieldType = Literal["text", "integer", "decimal", "checkbox", "date", "select"]

_SQL_TYPES: dict[str, str] = {
    "text": "TEXT",
    "integer": "INTEGER",
    "decimal": "NUMERIC",
    "checkbox": "TEXT",
    "date": "TEXT",
    "select": "INTEGER",
}
_SCHEMA_TYPES: dict[str, dict[str, str]] = {
    "text": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "checkbox": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "select": {"type": "object"},
}
# SDF prefixes for custom field script ids (reference §7: transaction body fields start
# `custbody`; entity fields `custentity` by the same convention).
_CUSTOM_PREFIX = {"salesOrder": "custbody", "customer": "custentity"}
_RECORD_TYPES = {"salesorder": "salesOrder", "customer": "customer"}
_TABLE = {"salesOrder": "transaction", "customer": "customer"}
# reference §6: community status list (B, D, E seen directly).
STATUS_NAMES = {
    "A": "Pending Approval",
    "B": "Pending Fulfillment",
    "C": "Cancelled",
    "D": "Partially Fulfilled",
    "E": "Pending Billing/Partially Fulfilled",
    "F": "Pending Billing",
    "G": "Billed",
    "H": "Closed",
}
_RELEASING_STATUSES = frozenset("CH")
_FULFILLED_STATUSES = frozenset("FG")
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_-]+$")  # reference §3: letters, digits, _ and -
_CUSTOM_ID = re.compile(r"^cust(body|entity)[a-z0-9_]+$")

CURRENCY_PRECISIONS = frozenset({0, 2})
"""The decimal places a NetSuite currency can have. Oracle, "Currency Decimal Precision"
(ns-online-help/section_N1397831.html): "The only values supported are 0 and 2." A
3-decimal currency (KWD, BHD, OMR, JOD, TND) is therefore booked at 2 places."""

# NetSuite's numeric limits are not in the reference. The simulator refuses what it cannot
# hold faithfully, with Oracle's INVALID_CONTENT body (reference §4), before anything is
# created: non-finite numbers, amounts and rates of 10^15 or more (a SQLite REAL, a double,
# stops holding them exactly to the cent well before that), and quantities of 10^10 or more,
# which NetSuite itself refuses (community: getlago/lago-api, `NS_QUANTITY_LIMIT =
# 10_000_000_000`, "NetSuite quantity max magnitude"; unconfirmed by Oracle).
_MAX_NUMBER = Decimal(10) ** 15
_MAX_QUANTITY = Decimal(10) ** 10
_MAX_ID = 2**63 - 1  # SQLite INTEGER, the simulator's internal ids


def canonical_record_type(name: str) -> str | None:
    """The REST record type for a URL segment, case-insensitively (`salesorder` → `salesOrder`)."""
    return _RECORD_TYPES.get(name.lower())


class RecordError(Exception):
    """A write NetSuite would refuse; carries the error body to answer."""

    def __init__(self, error: bodies.ErrorBody) -> None:
        super().__init__(error[1]["o:errorDetails"][0]["detail"])
        self.error = error


class QueryRefused(Exception):
    """A SuiteQL query the simulator will not run; carries the error body to answer."""

    def __init__(self, error: bodies.ErrorBody, reason: str) -> None:
        super().__init__(reason)
        self.error = error


@attrs.define(kw_only=True)
class CustomField:
    """A custom body/entity field: id (script id), label, type and mandatory flag."""

    record: str
    id: str
    label: str
    type: FieldType
    mandatory: bool = False


@attrs.frozen(kw_only=True)
class _Std:
    """A standard field: label, kind (value, ref, sublist, object, readonly), schema type."""

    label: str
    kind: str = "value"
    type: str = "string"
    target: str | None = None  # table a `ref` must resolve in; None accepts any id
    mandatory: bool = False


# Standard fields the simulator knows. Oracle's example body gives entity, location and
# item.items[].item/amount (reference §3); the rest are the commonly used, unverified fields
# the reference lists, to check against the metadata catalog.
_SALES_ORDER_FIELDS: dict[str, _Std] = {
    "id": _Std(label="Internal ID", kind="readonly"),
    "links": _Std(label="Links", kind="readonly", type="array"),
    "externalId": _Std(label="External ID"),
    "entity": _Std(label="Customer", kind="ref", type="object", target="customer", mandatory=True),
    "location": _Std(label="Location", kind="ref", type="object", target="location"),
    "subsidiary": _Std(label="Subsidiary", kind="ref", type="object"),
    "currency": _Std(label="Currency", kind="ref", type="object"),
    "orderStatus": _Std(label="Status", kind="ref", type="object"),
    "shipMethod": _Std(label="Ship Via", kind="ref", type="object"),
    "tranDate": _Std(label="Date", type="string"),
    "tranId": _Std(label="Order #"),
    "memo": _Std(label="Memo"),
    "otherRefNum": _Std(label="PO/Check Number"),
    "email": _Std(label="Email"),
    "shippingCost": _Std(label="Shipping Cost", type="number"),
    "shippingAddress": _Std(label="Shipping Address", kind="object", type="object"),
    "billingAddress": _Std(label="Billing Address", kind="object", type="object"),
    "status": _Std(label="Status", kind="readonly", type="object"),
    "total": _Std(label="Total", kind="readonly", type="number"),
    "item": _Std(label="Items", kind="sublist", type="object"),
}
_LINE_FIELDS: dict[str, _Std] = {
    "line": _Std(label="Line", type="integer"),
    "item": _Std(label="Item", kind="ref", type="object", target="item", mandatory=True),
    "quantity": _Std(label="Quantity", type="number"),
    "rate": _Std(label="Rate", type="number"),
    "amount": _Std(label="Amount", type="number"),
    "description": _Std(label="Description"),
    "location": _Std(label="Location", kind="ref", type="object", target="location"),
    "price": _Std(label="Price Level", kind="ref", type="object"),
    "taxCode": _Std(label="Tax Code", kind="ref", type="object"),
}
_CUSTOMER_FIELDS: dict[str, _Std] = {
    "id": _Std(label="Internal ID", kind="readonly"),
    "links": _Std(label="Links", kind="readonly", type="array"),
    "externalId": _Std(label="External ID"),
    "entityId": _Std(label="Customer ID"),
    # "You must enter a value for Company Name." is the reference's own USER_ERROR example
    # (§4); it applies to company customers (isPerson false).
    "companyName": _Std(label="Company Name"),
    "firstName": _Std(label="First Name"),
    "lastName": _Std(label="Last Name"),
    "email": _Std(label="Email"),
    "phone": _Std(label="Phone"),
    "isPerson": _Std(label="Type", type="boolean"),
    "isInactive": _Std(label="Inactive", type="boolean"),
    "subsidiary": _Std(label="Primary Subsidiary", kind="ref", type="object"),
    "currency": _Std(label="Currency", kind="ref", type="object"),
    "comments": _Std(label="Comments"),
}
_STANDARD = {"salesOrder": _SALES_ORDER_FIELDS, "customer": _CUSTOMER_FIELDS}

_DDL = """
CREATE TABLE location (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, isinactive TEXT NOT NULL DEFAULT 'F');
CREATE TABLE item (
    id INTEGER PRIMARY KEY, itemid TEXT NOT NULL, displayname TEXT,
    itemtype TEXT NOT NULL DEFAULT 'InvtPart', isinactive TEXT NOT NULL DEFAULT 'F',
    cost NUMERIC, averagecost NUMERIC, costingmethod TEXT DEFAULT 'AVG', externalid TEXT,
    lastmodifieddate TEXT);
CREATE TABLE aggregateItemLocation (
    item INTEGER NOT NULL, location INTEGER NOT NULL,
    quantityonhand NUMERIC NOT NULL DEFAULT 0, quantitycommitted NUMERIC NOT NULL DEFAULT 0,
    quantityavailable NUMERIC GENERATED ALWAYS AS (quantityonhand - quantitycommitted) VIRTUAL,
    quantityonorder NUMERIC NOT NULL DEFAULT 0, quantitybackordered NUMERIC NOT NULL DEFAULT 0,
    averagecostmli NUMERIC,
    onhandvaluemli NUMERIC GENERATED ALWAYS AS (quantityonhand * averagecostmli) VIRTUAL,
    lastquantityavailablechange TEXT,
    PRIMARY KEY (item, location));
CREATE TABLE customer (
    id INTEGER PRIMARY KEY, entityid TEXT, email TEXT, companyname TEXT, firstname TEXT,
    lastname TEXT, phone TEXT, externalid TEXT, isperson TEXT NOT NULL DEFAULT 'F',
    isinactive TEXT NOT NULL DEFAULT 'F', datecreated TEXT, lastmodifieddate TEXT);
CREATE TABLE "transaction" (
    id INTEGER PRIMARY KEY, tranid TEXT, type TEXT NOT NULL, status TEXT NOT NULL,
    entity INTEGER, externalid TEXT, trandate TEXT, foreigntotal NUMERIC, total NUMERIC,
    memo TEXT, otherrefnum TEXT, email TEXT, location INTEGER, shippingcost NUMERIC,
    createddate TEXT, lastmodifieddate TEXT);
CREATE TABLE transactionLine (
    id INTEGER NOT NULL, "transaction" INTEGER NOT NULL, linesequencenumber INTEGER NOT NULL,
    item INTEGER, quantity NUMERIC, rate NUMERIC, amount NUMERIC, foreignamount NUMERIC,
    mainline TEXT NOT NULL, taxline TEXT NOT NULL DEFAULT 'F', location INTEGER,
    quantitycommitted NUMERIC, quantitybackordered NUMERIC, isclosed TEXT NOT NULL DEFAULT 'F',
    memo TEXT, PRIMARY KEY ("transaction", id));
"""

_READ_ONLY_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)


def _authorize_read_only(action: int, *_args: object) -> int:
    return sqlite3.SQLITE_OK if action in _READ_ONLY_ACTIONS else sqlite3.SQLITE_DENY


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _flag(value: object) -> str:
    return "T" if value else "F"


@attrs.define(kw_only=True)
class _Commitment:
    item: int
    location: int
    committed: Decimal
    backordered: Decimal


@attrs.define(kw_only=True)
class Store:
    """All data of one simulated account, and the rules NetSuite applies to writes."""

    clock: Clock
    negative_line_quantities: bool = False
    strict_external_ids: bool = True
    currency_precision: int = 2
    db: sqlite3.Connection = attrs.field(init=False)
    records: dict[str, dict[int, dict[str, Any]]] = attrs.field(init=False)
    custom_fields: dict[str, dict[str, CustomField]] = attrs.field(init=False)
    created: dict[str, int] = attrs.field(init=False)
    _commitments: dict[int, list[_Commitment]] = attrs.field(init=False, factory=dict)
    _next_id: dict[str, int] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        if self.currency_precision not in CURRENCY_PRECISIONS:
            raise ValueError(
                "a NetSuite currency has 0 or 2 decimal places (Oracle: Currency Decimal"
                f" Precision), not {self.currency_precision}"
            )
        # check_same_thread=False: a served simulator runs its event loop in another thread;
        # every access still happens on one loop at a time.
        self.db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.db.executescript(_DDL)
        # A common Oracle function SuiteQL queries use; SQLite spells it COALESCE.
        self.db.create_function("NVL", 2, lambda a, b: b if a is None else a, deterministic=True)
        self.records = {"salesOrder": {}, "customer": {}}
        self.custom_fields = {"salesOrder": {}, "customer": {}}
        self.created = {"salesOrder": 0, "customer": 0}
        # Distinct id ranges per table, so a client mixing up ids hits an error, not a record.
        self._next_id = {"location": 1, "item": 100, "customer": 200, "transaction": 1000}

    def money(self, value: Decimal) -> Decimal:
        """`value` as NetSuite stores an amount: rounded to the currency's precision.

        Oracle's SuiteScript `N/format` notes (ns-online-help/section_4388844232.html):
        "CURRENCY field type rounds the number based on the user's currency precision
        setting". The rounding mode is not documented; half up (the commercial convention)
        is the simulator's choice.
        """
        return value.quantize(Decimal(1).scaleb(-self.currency_precision), rounding=ROUND_HALF_UP)

    def _new_id(self, table: str) -> int:
        value = self._next_id[table]
        self._next_id[table] = value + 1
        return value

    def _today(self) -> str:
        # Dates are ISO in the simulator; NetSuite formats them per user preference, which
        # the reference does not describe.
        return datetime.fromtimestamp(self.clock.time(), tz=UTC).date().isoformat()

    # -- seeding -----------------------------------------------------------------------------

    def add_location(self, name: str) -> int:
        """Insert a location; returns its id."""
        location_id = self._new_id("location")
        self.db.execute("INSERT INTO location (id, name) VALUES (?, ?)", (location_id, name))
        return location_id

    def add_item(
        self,
        itemid: str,
        *,
        cost: Decimal | float | str | None,
        average_cost: Decimal | float | str | None,
        locations: Mapping[int, Decimal | float | int],
        inactive: bool,
        display_name: str | None,
        item_type: str,
    ) -> int:
        """Insert an item with an `aggregateItemLocation` row per location; returns its id."""
        for location in locations:
            self._require_location(location)
        item_id = self._new_id("item")
        cost_value = None if cost is None else float(Decimal(str(cost)))
        average = None if average_cost is None else float(Decimal(str(average_cost)))
        self.db.execute(
            "INSERT INTO item (id, itemid, displayname, itemtype, isinactive, cost, averagecost,"
            " lastmodifieddate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item_id,
                itemid,
                display_name or itemid,
                item_type,
                _flag(inactive),
                cost_value,
                average,
                self._today(),
            ),
        )
        for location, on_hand in locations.items():
            self.db.execute(
                "INSERT INTO aggregateItemLocation (item, location, quantityonhand,"
                " averagecostmli, lastquantityavailablechange) VALUES (?, ?, ?, ?, ?)",
                (item_id, location, float(on_hand), average or cost_value, self._today()),
            )
        return item_id

    def set_on_hand(self, item: int, location: int, quantity: Decimal | float | int) -> None:
        """Set on-hand for (item, location), creating the balance row when needed."""
        self._require_location(location)
        if not self._exists("item", item):
            raise ValueError(f"no item {item}")
        self._ensure_balance(item, location)
        self.db.execute(
            "UPDATE aggregateItemLocation SET quantityonhand = ?, lastquantityavailablechange = ?"
            " WHERE item = ? AND location = ?",
            (float(quantity), self._today(), item, location),
        )

    def set_item_inactive(self, item: int, *, inactive: bool) -> None:
        """Mark an item inactive or active."""
        self.db.execute("UPDATE item SET isinactive = ? WHERE id = ?", (_flag(inactive), item))

    def _require_location(self, location: int) -> None:
        if not self._exists("location", location):
            raise ValueError(f"no location {location}; add it with add_location() first")

    def _exists(self, table: str, row_id: int) -> bool:
        query = f'SELECT 1 FROM "{table}" WHERE id = ?'  # noqa: S608 - table is ours, not input
        return self.db.execute(query, (row_id,)).fetchone() is not None

    def _ensure_balance(self, item: int, location: int) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO aggregateItemLocation (item, location, averagecostmli)"
            " SELECT id, ?, COALESCE(averagecost, cost) FROM item WHERE id = ?",
            (location, item),
        )

    def balance(self, item: int, location: int) -> tuple[Decimal, Decimal]:
        """`(on hand, committed)` for (item, location); zeros when there is no row."""
        row = self.db.execute(
            "SELECT quantityonhand, quantitycommitted FROM aggregateItemLocation"
            " WHERE item = ? AND location = ?",
            (item, location),
        ).fetchone()
        if row is None:
            return Decimal(0), Decimal(0)
        return Decimal(str(row[0])), Decimal(str(row[1]))

    # -- custom fields -----------------------------------------------------------------------

    def define_custom_field(
        self, record: str, field_id: str, label: str, field_type: FieldType, *, mandatory: bool
    ) -> None:
        """Add a custom field to a record type (and its column to the SuiteQL table)."""
        record = self._record(record)
        if not _CUSTOM_ID.match(field_id) or not field_id.startswith(_CUSTOM_PREFIX[record]):
            raise ValueError(
                f"custom field ids on {record} are lower-case and start with"
                f" {_CUSTOM_PREFIX[record]!r}, got {field_id!r}"
            )
        if field_type not in _SQL_TYPES:
            raise ValueError(f"unknown field type {field_type!r}")
        if field_id in self.custom_fields[record]:
            raise ValueError(f"{field_id} already exists on {record}")
        self.custom_fields[record][field_id] = CustomField(
            record=record, id=field_id, label=label, type=field_type, mandatory=mandatory
        )
        self.db.execute(
            f'ALTER TABLE "{_TABLE[record]}" ADD COLUMN {field_id} {_SQL_TYPES[field_type]}'
        )

    def rename_field(self, record: str, old: str, new: str, *, label: str | None = None) -> None:
        """Change a custom field's id (same label unless given): old ids stop working."""
        record = self._record(record)
        field = self._custom(record, old)
        if not _CUSTOM_ID.match(new) or new in self.custom_fields[record]:
            raise ValueError(f"cannot rename {old} to {new!r}")
        del self.custom_fields[record][old]
        field.id = new
        if label is not None:
            field.label = label
        self.custom_fields[record][new] = field
        self.db.execute(f'ALTER TABLE "{_TABLE[record]}" RENAME COLUMN {old} TO {new}')
        for stored in self.records[record].values():
            if old in stored:
                stored[new] = stored.pop(old)

    def make_mandatory(self, record: str, field_id: str, *, mandatory: bool = True) -> None:
        """Make a custom field mandatory (or optional again)."""
        self._custom(self._record(record), field_id).mandatory = mandatory

    def remove_field(self, record: str, field_id: str) -> None:
        """Delete a custom field and its values."""
        record = self._record(record)
        self._custom(record, field_id)
        del self.custom_fields[record][field_id]
        self.db.execute(f'ALTER TABLE "{_TABLE[record]}" DROP COLUMN {field_id}')
        for stored in self.records[record].values():
            stored.pop(field_id, None)

    def _record(self, record: str) -> str:
        canonical = canonical_record_type(record)
        if canonical is None:
            raise ValueError(f"the simulator has no record type {record!r}")
        return canonical

    def _custom(self, record: str, field_id: str) -> CustomField:
        try:
            return self.custom_fields[record][field_id]
        except KeyError:
            raise ValueError(f"no custom field {field_id} on {record}") from None

    # -- metadata ----------------------------------------------------------------------------

    def json_schema(self, record: str) -> dict[str, Any]:
        """A minimal JSON Schema for a record type (reference §7 has no literal)."""
        record = self._record(record)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for name, std in _STANDARD[record].items():
            if name == "links":
                continue
            properties[name] = {"title": std.label, "type": std.type, "nullable": not std.mandatory}
            if std.kind == "readonly":
                properties[name]["readOnly"] = True
            if std.mandatory:
                required.append(name)
        for field in self.custom_fields[record].values():
            properties[field.id] = {
                "title": field.label,
                **_SCHEMA_TYPES[field.type],
                "nullable": not field.mandatory,
            }
            if field.mandatory:
                required.append(field.id)
        return {"type": "object", "properties": properties, "required": required}

    # -- records -----------------------------------------------------------------------------

    def find_external(self, record: str, external_id: str) -> int | None:
        """The internal id holding `external_id` (case-insensitive, reference §3)."""
        wanted = external_id.lower()
        for record_id, stored in self.records[record].items():
            current = stored.get("externalId")
            if isinstance(current, str) and current.lower() == wanted:
                return record_id
        return None

    def create(self, record: str, body: Mapping[str, Any], *, ignore_unknown: bool = False) -> int:
        """Validate and insert a record; returns its internal id.

        Raises:
            RecordError: NetSuite would refuse the write.
        """
        clean = self._validate(record, body, ignore_unknown=ignore_unknown)
        self._check_mandatory(record, clean)
        external_id = clean.get("externalId")
        if external_id is not None and self.find_external(record, str(external_id)) is not None:
            raise RecordError(bodies.duplicate_entity())
        if record == "salesOrder":
            record_id = self._create_sales_order(clean)
        else:
            record_id = self._create_customer(clean)
        self.created[record] += 1
        return record_id

    def update(
        self,
        record: str,
        record_id: int,
        body: Mapping[str, Any],
        *,
        replace: frozenset[str] = frozenset(),
        ignore_unknown: bool = False,
    ) -> None:
        """Merge a PATCH body into a record (null clears a field; sublist lines append).

        Raises:
            RecordError: NetSuite would refuse the write.
        """
        clean = self._validate(record, body, ignore_unknown=ignore_unknown)
        stored = self.records[record][record_id]
        external_id = clean.get("externalId")
        if external_id is not None:
            holder = self.find_external(record, str(external_id))
            if holder is not None and holder != record_id:
                raise RecordError(bodies.duplicate_entity())
        merged = dict(stored)
        lines_changed = False
        for key, value in clean.items():
            if key == "item" and record == "salesOrder":
                lines_changed = True
                merged["item"] = self._merge_lines(
                    stored.get("item", []), value, replace="item" in replace
                )
            elif value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        # A record saved after a field became mandatory must now carry it, as in the UI.
        self._check_mandatory(record, merged)
        if record == "salesOrder" and not merged.get("item"):
            raise RecordError(_no_lines())
        self.records[record][record_id] = merged
        if record == "salesOrder":
            if lines_changed:
                self._release(record_id)
                if merged["_status"] in "BDE":
                    self._commit(record_id, merged)
            self._mirror_sales_order(record_id, merged)
        else:
            self._mirror_customer(record_id, merged)

    @staticmethod
    def _merge_lines(
        existing: list[dict[str, Any]], incoming: list[dict[str, Any]], *, replace: bool
    ) -> list[dict[str, Any]]:
        # reference §3: keyed sublists update matching lines and add the others; `?replace=`
        # replaces the whole sublist. The item sublist is keyed by `line` here.
        if replace:
            lines: list[dict[str, Any]] = []
        else:
            lines = [dict(line) for line in existing]
        by_key = {line.get("line"): line for line in lines}
        for line in incoming:
            key = line.get("line")
            if key is not None and key in by_key:
                by_key[key].update(line)
            else:
                lines.append(dict(line))
        for number, line in enumerate(lines, start=1):
            line["line"] = number
        return lines

    def _validate(
        self, record: str, body: Mapping[str, Any], *, ignore_unknown: bool
    ) -> dict[str, Any]:
        standard = _STANDARD[record]
        custom = self.custom_fields[record]
        clean: dict[str, Any] = {}
        for key, value in body.items():
            std = standard.get(key)
            if std is None and key not in custom:
                if ignore_unknown:
                    continue
                raise RecordError(bodies.nonexistent_field(key, key))
            if std is not None and std.kind == "readonly":
                continue  # `id` and computed fields are read-only and ignored (reference §3)
            if std is None:
                clean[key] = self._custom_value(custom[key], value)
            elif std.kind == "ref":
                clean[key] = None if value is None else self._reference(key, std, value, key)
            elif std.kind == "sublist":
                clean[key] = self._lines(value, ignore_unknown=ignore_unknown)
            elif key == "externalId" and value is not None:
                text = str(value)
                if self.strict_external_ids and not _EXTERNAL_ID.match(text):
                    raise RecordError(bodies.invalid_field_value(text, key, key))
                clean[key] = text
            elif std.type == "number" and value is not None:
                number = _decimal(value, key, key)
                # shippingCost is a currency field: stored at the currency's precision.
                clean[key] = self.money(number) if key == "shippingCost" else number
            else:
                clean[key] = value
        return clean

    def _custom_value(self, field: CustomField, value: object) -> object:
        if value is None:
            return None
        ok = {
            "text": isinstance(value, str | int) and not isinstance(value, bool),
            "integer": isinstance(value, int)
            and not isinstance(value, bool)
            and abs(value) <= _MAX_ID,
            "decimal": isinstance(value, int | float | str) and not isinstance(value, bool),
            "checkbox": isinstance(value, bool),
            "date": isinstance(value, str),
            "select": isinstance(value, dict),
        }[field.type]
        if not ok:
            raise RecordError(bodies.invalid_field_value(value, field.id, field.id))
        if field.type == "text":
            return str(value)
        if field.type == "decimal":
            return _decimal(value, field.id, field.id)
        return value

    def _reference(self, key: str, std: _Std, value: object, path: str) -> dict[str, str]:
        raw = value.get("id") if isinstance(value, dict) else None
        if raw is None:
            raise RecordError(bodies.invalid_field_value(value, key, path))
        text = str(raw)
        if std.target is None:
            return {"id": text}
        # An id beyond SQLite's INTEGER cannot exist: refused like any unknown id.
        known = text.isdigit() and int(text) <= _MAX_ID and self._exists(std.target, int(text))
        if not known:
            raise RecordError(bodies.invalid_field_value(text, key, path))
        if std.target == "item":
            inactive = self.db.execute(
                "SELECT isinactive FROM item WHERE id = ?", (int(text),)
            ).fetchone()
            if inactive[0] == "T":
                raise RecordError(bodies.invalid_field_value(text, key, path))
        return {"id": text}

    def _lines(self, value: object, *, ignore_unknown: bool) -> list[dict[str, Any]]:
        items = value.get("items") if isinstance(value, dict) else None
        if not isinstance(items, list):
            raise RecordError(bodies.invalid_field_value(value, "item", "item"))
        lines = []
        for index, line in enumerate(items):
            prefix = f"item.items[{index}]"
            if not isinstance(line, dict):
                raise RecordError(bodies.invalid_field_value(line, "item", prefix))
            clean: dict[str, Any] = {}
            for key, field_value in line.items():
                std = _LINE_FIELDS.get(key)
                if std is None:
                    if ignore_unknown:
                        continue
                    raise RecordError(bodies.nonexistent_field(key, f"{prefix}.{key}"))
                path = f"{prefix}.{key}"
                if std.kind == "ref":
                    clean[key] = self._reference(key, std, field_value, path)
                elif key == "quantity" and field_value is not None:
                    clean[key] = _decimal(field_value, key, path, limit=_MAX_QUANTITY)
                elif key == "amount" and field_value is not None:
                    # A currency field: NetSuite stores it at the currency's precision.
                    clean[key] = self.money(_decimal(field_value, key, path))
                elif std.type == "number" and field_value is not None:
                    clean[key] = _decimal(field_value, key, path)
                else:
                    clean[key] = field_value
            if "item" not in clean:
                raise RecordError(bodies.mandatory_missing("Item"))
            lines.append(clean)
        return lines

    def _check_mandatory(self, record: str, values: Mapping[str, Any]) -> None:
        for name, std in _STANDARD[record].items():
            if std.mandatory and values.get(name) in (None, ""):
                raise RecordError(bodies.mandatory_missing(std.label))
        if record == "customer" and not values.get("isPerson") and not values.get("companyName"):
            raise RecordError(bodies.mandatory_missing("Company Name"))
        for field in self.custom_fields[record].values():
            if field.mandatory and values.get(field.id) in (None, ""):
                raise RecordError(bodies.mandatory_missing(field.label))

    def _create_customer(self, values: dict[str, Any]) -> int:
        customer_id = self._new_id("customer")
        values.setdefault("entityId", values.get("companyName") or f"CUST{customer_id}")
        values["_created"] = self._today()
        self.records["customer"][customer_id] = values
        self._mirror_customer(customer_id, values)
        return customer_id

    def _mirror_customer(self, customer_id: int, values: Mapping[str, Any]) -> None:
        columns: dict[str, object] = {
            "id": customer_id,
            "entityid": values.get("entityId"),
            "email": values.get("email"),
            "companyname": values.get("companyName"),
            "firstname": values.get("firstName"),
            "lastname": values.get("lastName"),
            "phone": values.get("phone"),
            "externalid": values.get("externalId"),
            "isperson": _flag(values.get("isPerson")),
            "isinactive": _flag(values.get("isInactive")),
            "datecreated": values.get("_created"),
            "lastmodifieddate": self._today(),
        }
        columns.update(self._custom_columns("customer", values))
        self._replace_row("customer", columns)

    def _custom_columns(self, record: str, values: Mapping[str, Any]) -> dict[str, object]:
        out: dict[str, object] = {}
        for field in self.custom_fields[record].values():
            value = values.get(field.id)
            if field.type == "checkbox":
                out[field.id] = _flag(value)
            elif isinstance(value, Decimal):
                out[field.id] = float(value)
            elif isinstance(value, dict):
                out[field.id] = value.get("id")
            else:
                out[field.id] = value
        return out

    def _replace_row(self, table: str, columns: Mapping[str, object]) -> None:
        names = ", ".join(f'"{name}"' for name in columns)
        marks = ", ".join("?" for _ in columns)
        self.db.execute(
            f'INSERT OR REPLACE INTO "{table}" ({names}) VALUES ({marks})',  # noqa: S608 - ours
            tuple(columns.values()),
        )

    def _create_sales_order(self, values: dict[str, Any]) -> int:
        if not values.get("item"):
            raise RecordError(_no_lines())
        values["item"] = self._merge_lines([], values["item"], replace=True)
        order_id = self._new_id("transaction")
        values["_created"] = self._today()
        values.setdefault("tranDate", values["_created"])
        values.setdefault("tranId", f"SO{order_id}")
        # reference §8 leaves open whether Pending Approval orders commit stock; the
        # simulator does not commit them. Everything else starts Pending Fulfillment (§6).
        requested = (values.get("orderStatus") or {}).get("id")
        values["_status"] = "A" if requested == "A" else "B"
        self.records["salesOrder"][order_id] = values
        if values["_status"] == "B":
            self._commit(order_id, values)
        self._mirror_sales_order(order_id, values)
        return order_id

    def _line_amount(self, line: Mapping[str, Any]) -> Decimal:
        # An amount sent is stored at the currency's precision; without one, NetSuite
        # computes rate x quantity and rounds it the same way.
        if line.get("amount") is not None:
            return self.money(Decimal(line["amount"]))
        quantity = Decimal(line.get("quantity") or 1)
        rate = Decimal(line.get("rate") or 0)
        return self.money(quantity * rate)

    def sales_order_total(self, values: Mapping[str, Any]) -> Decimal:
        """Σ line amounts + shippingCost, each at the currency's precision (tax travels as
        lines when the caller adds them; the simulator computes no tax)."""
        total = sum((self._line_amount(line) for line in values.get("item", [])), Decimal(0))
        return self.money(total + self.money(Decimal(values.get("shippingCost") or 0)))

    def _line_location(self, line: Mapping[str, Any], order: Mapping[str, Any]) -> int | None:
        for source in (line.get("location"), order.get("location")):
            if source:
                return int(source["id"])
        # The item's default location: its first balance row.
        row = self.db.execute(
            "SELECT location FROM aggregateItemLocation WHERE item = ? ORDER BY location LIMIT 1",
            (int(line["item"]["id"]),),
        ).fetchone()
        return None if row is None else int(row[0])

    def _commit(self, order_id: int, values: Mapping[str, Any]) -> None:
        # reference §8: a sales order raises committed (available = on hand - committed).
        # What cannot be committed from what is available is backordered; the exact
        # backorder rule is unverified in the reference.
        commitments = []
        for line in values.get("item", []):
            item = int(line["item"]["id"])
            location = self._line_location(line, values)
            if location is None:
                continue
            quantity = Decimal(line.get("quantity") or 1)
            self._ensure_balance(item, location)
            on_hand, committed = self.balance(item, location)
            commit = max(Decimal(0), min(quantity, on_hand - committed))
            backordered = quantity - commit
            self.db.execute(
                "UPDATE aggregateItemLocation SET quantitycommitted = quantitycommitted + ?,"
                " quantitybackordered = quantitybackordered + ?, lastquantityavailablechange = ?"
                " WHERE item = ? AND location = ?",
                (float(commit), float(backordered), self._today(), item, location),
            )
            commitments.append(
                _Commitment(item=item, location=location, committed=commit, backordered=backordered)
            )
        self._commitments[order_id] = commitments

    def _release(self, order_id: int, *, fulfil: bool = False) -> None:
        for commitment in self._commitments.pop(order_id, []):
            shipped = commitment.committed if fulfil else Decimal(0)
            self.db.execute(
                "UPDATE aggregateItemLocation SET quantitycommitted = quantitycommitted - ?,"
                " quantitybackordered = quantitybackordered - ?,"
                " quantityonhand = quantityonhand - ?, lastquantityavailablechange = ?"
                " WHERE item = ? AND location = ?",
                (
                    float(commitment.committed),
                    float(commitment.backordered),
                    float(shipped),
                    self._today(),
                    commitment.item,
                    commitment.location,
                ),
            )

    def set_status(self, order_id: int, letter: str) -> None:
        """Move a sales order to a status letter, with its stock effect.

        `C` (cancelled) and `H` (closed) release committed stock; `F`/`G` (fulfilled, pending
        billing or billed) ship it (on hand and committed both drop); `B`/`D`/`E` keep or
        re-take commitments.
        """
        if letter not in STATUS_NAMES:
            raise ValueError(f"unknown status letter {letter!r}")
        values = self.records["salesOrder"][order_id]
        previous = values["_status"]
        if letter in _RELEASING_STATUSES | _FULFILLED_STATUSES:
            self._release(order_id, fulfil=letter in _FULFILLED_STATUSES)
        elif letter in "BDE" and previous not in "BDE":
            self._commit(order_id, values)
        values["_status"] = letter
        self._mirror_sales_order(order_id, values)

    def _mirror_sales_order(self, order_id: int, values: Mapping[str, Any]) -> None:
        total = self.sales_order_total(values)
        entity = values.get("entity")
        location = values.get("location")
        columns: dict[str, object] = {
            "id": order_id,
            "tranid": values.get("tranId"),
            "type": "SalesOrd",
            "status": values["_status"],
            "entity": int(entity["id"]) if entity else None,
            "externalid": values.get("externalId"),
            "trandate": values.get("tranDate"),
            "foreigntotal": float(total),
            "total": float(total),
            "memo": values.get("memo"),
            "otherrefnum": values.get("otherRefNum"),
            "email": values.get("email"),
            "location": int(location["id"]) if location else None,
            "shippingcost": (
                None if values.get("shippingCost") is None else float(values["shippingCost"])
            ),
            "createddate": values.get("_created"),
            "lastmodifieddate": self._today(),
        }
        columns.update(self._custom_columns("salesOrder", values))
        self._replace_row("transaction", columns)
        self.db.execute('DELETE FROM transactionLine WHERE "transaction" = ?', (order_id,))
        sign = -1 if self.negative_line_quantities else 1
        closed = _flag(values["_status"] in "CH")
        self._replace_row(
            "transactionLine",
            {
                "id": 0,
                "transaction": order_id,
                "linesequencenumber": 0,
                "mainline": "T",
                "amount": float(total),
                "foreignamount": float(total),
                "location": columns["location"],
                "isclosed": closed,
            },
        )
        commitments = self._commitments.get(order_id, [])
        for position, line in enumerate(values.get("item", [])):
            commitment = commitments[position] if position < len(commitments) else None
            amount = self._line_amount(line)
            quantity = Decimal(line.get("quantity") or 1)
            self._replace_row(
                "transactionLine",
                {
                    "id": line["line"],
                    "transaction": order_id,
                    "linesequencenumber": line["line"],
                    "item": int(line["item"]["id"]),
                    "quantity": sign * _number(quantity),
                    "rate": None if line.get("rate") is None else float(line["rate"]),
                    "amount": float(amount),
                    "foreignamount": float(amount),
                    "mainline": "F",
                    "location": commitment.location if commitment else None,
                    "quantitycommitted": float(commitment.committed) if commitment else 0,
                    "quantitybackordered": float(commitment.backordered) if commitment else 0,
                    "isclosed": closed,
                    "memo": line.get("description"),
                },
            )

    # -- SuiteQL -----------------------------------------------------------------------------

    def query(self, text: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one read-only SELECT; returns lower-case column names and rows.

        Raises:
            QueryRefused: not a single SELECT, or SQLite cannot run it (unknown table or
                column, syntax error); the error is NetSuite's INVALID_PARAMETER body.
        """
        stripped = _strip_sql_comments(text).strip()
        first = stripped.split(None, 1)[0].upper() if stripped else ""
        if first not in ("SELECT", "WITH"):
            raise QueryRefused(bodies.invalid_query(), "only SELECT statements are allowed")
        self.db.set_authorizer(_authorize_read_only)
        try:
            cursor = self.db.execute(_quote_sqlite_keywords(text))
            rows = cursor.fetchall()
            names = [column[0].lower() for column in cursor.description or ()]
        except (sqlite3.Error, sqlite3.Warning) as exc:
            # sqlite3.Warning: more than one statement; sqlite3.Error: everything else.
            raise QueryRefused(bodies.invalid_query(), str(exc)) from exc
        finally:
            self.db.set_authorizer(None)
        return names, rows

    # -- views -------------------------------------------------------------------------------

    def render(self, record: str, record_id: int, *, base: str, expand: bool) -> dict[str, Any]:
        """The GET representation of a record."""
        values = self.records[record][record_id]
        url = f"{base}/services/rest/record/v1/{record}/{record_id}"
        out: dict[str, Any] = {"links": [{"rel": "self", "href": url}], "id": str(record_id)}
        for key, value in values.items():
            if key.startswith("_") or key == "item":
                continue
            out[key] = _jsonable(value)
        if record == "salesOrder":
            status = values["_status"]
            out["status"] = {"id": status, "refName": STATUS_NAMES[status]}
            out["total"] = _number(self.sales_order_total(values))
            lines_url = f"{url}/item"
            # reference §3: sublists come back as links unless expandSubResources=true.
            if expand:
                # Amounts from the stored (exact) lines, not from their JSON floats.
                stored = values.get("item", [])
                lines = [_jsonable(line) for line in stored]
                for line, exact in zip(lines, stored, strict=True):
                    line["amount"] = _number(self._line_amount(exact))
                out["item"] = {
                    "links": [{"rel": "self", "href": lines_url}],
                    "items": lines,
                    "totalResults": len(lines),
                }
            else:
                out["item"] = {"links": [{"rel": "self", "href": lines_url}]}
        return out


def _no_lines() -> bodies.ErrorBody:
    # The reference has no literal for an order without lines; this is the simulator's wording.
    return bodies.bad_request(
        "Error while accessing a resource. You must enter at least one line item for this"
        " transaction."
    )


def _decimal(value: object, field: str, path: str, *, limit: Decimal = _MAX_NUMBER) -> Decimal:
    """A number field's value, or Oracle's INVALID_CONTENT for `path` (see `_MAX_NUMBER`)."""
    if isinstance(value, bool):
        raise RecordError(bodies.invalid_field_value(value, field, path))
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RecordError(bodies.invalid_field_value(value, field, path)) from None
    # Checked on the exponent first: `abs()` of 1E+999999999 is cheap, a float() is not.
    if not number.is_finite() or (number and number.adjusted() >= 30) or abs(number) >= limit:
        raise RecordError(bodies.invalid_field_value(value, field, path))
    return number


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, dict):
        return {key: _jsonable(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_jsonable(inner) for inner in value]
    return value


_SQL_TOKEN = re.compile(
    r"'(?:[^']|'')*'"  # string literal, '' escapes a quote
    r'|"(?:[^"]|"")*"'  # quoted identifier
    r"|--[^\n]*|/\*.*?\*/"  # comments
    r"|[A-Za-z_][A-Za-z0-9_$#]*"  # bare word
    r"|.",
    re.DOTALL,
)
# SuiteQL names that SQLite reserves; they are quoted so NetSuite's spelling runs as is.
_SQLITE_RESERVED = frozenset({"transaction"})


def _quote_sqlite_keywords(text: str) -> str:
    """Quote bare SuiteQL identifiers SQLite reserves (`transaction`), leaving literals alone."""
    out = []
    for match in _SQL_TOKEN.finditer(text):
        token = match.group(0)
        out.append(f'"{token.lower()}"' if token.lower() in _SQLITE_RESERVED else token)
    return "".join(out)


def _strip_sql_comments(text: str) -> str:
    without_blocks = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", " ", without_blocks)


def rows_as_items(
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    omit_nulls: bool,
    numbers_as_strings: bool,
) -> list[dict[str, Any]]:
    """SuiteQL rows as NetSuite sends them: lower-case keys and an empty `links` per row."""
    items = []
    for row in rows:
        item: dict[str, Any] = {"links": []}
        for name, value in zip(names, row, strict=True):
            if value is None and omit_nulls:
                continue
            shown = str(value) if numbers_as_strings and isinstance(value, int | float) else value
            item[name] = shown
        items.append(item)
    return items
