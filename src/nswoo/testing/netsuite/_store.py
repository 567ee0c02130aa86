"""The NetSuite simulator's account data: records, custom fields, stock, and SuiteQL.

Records live as REST-shaped dicts and are mirrored, on every write, into an in-memory SQLite
database whose tables carry the SuiteQL names and columns nswoo reads (reference §6):
`item`, `location`, `aggregateItemLocation`, `customer`, `transaction`, `transactionLine`.
SuiteQL runs on that database for real, read-only.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

import attrs

from nswoo._clock import Clock

from . import _bodies as bodies
from ._filters import FilterField, Kind
from ._suiteql import (
    INTERNAL_FUNCTIONS,
    SUITEQL_FUNCTIONS,
    NotSimulated,
    date_add,
    oracle_trunc,
    sysdate,
    to_date,
    translate,
)

__all__ = [
    "CURRENCY_PRECISIONS",
    "CustomField",
    "FieldType",
    "ItemSeed",
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
    index: str = ""  # the SQLite index on its column; it keeps its name across renames


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
_RECORD_PATH = "/services/rest/record/v1/"
# The REST record type of an item, by its SuiteQL `itemtype` (REST record names of NetSuite's
# item records; the simulator serves none of them, so following the link answers 501).
_ITEM_RECORD_TYPES = {
    "InvtPart": "inventoryItem",
    "NonInvtPart": "nonInventorySaleItem",
    "Service": "serviceSaleItem",
    "OthCharge": "otherChargeSaleItem",
    "Discount": "discountItem",
    "Assembly": "assemblyItem",
    "Kit": "kitItem",
    "Group": "itemGroup",
}
# Reference fields whose target the simulator does not hold: linked, without a refName.
_UNSIMULATED_REFERENCES = {
    "subsidiary": "subsidiary",
    "currency": "currency",
    "shipMethod": "shipItem",
    "price": "priceLevel",
    "taxCode": "salesTaxItem",
}
# Body fields `q` filters on (Oracle: fields marked x-ns-filterable in the metadata; the
# simulator's choice of the standard fields it stores), as columns of the SuiteQL tables.
_FILTERABLE: dict[str, dict[str, FilterField]] = {
    "customer": {
        "id": FilterField("id", "number"),
        "externalId": FilterField("externalid", "string"),
        "entityId": FilterField("entityid", "string"),
        "companyName": FilterField("companyname", "string"),
        "firstName": FilterField("firstname", "string"),
        "lastName": FilterField("lastname", "string"),
        "email": FilterField("email", "string"),
        "phone": FilterField("phone", "string"),
        "isPerson": FilterField("isperson", "boolean"),
        "isInactive": FilterField("isinactive", "boolean"),
        "dateCreated": FilterField("datecreated", "date"),
        "lastModifiedDate": FilterField("lastmodifieddate", "date"),
    },
    "salesOrder": {
        "id": FilterField("id", "number"),
        "externalId": FilterField("externalid", "string"),
        "tranId": FilterField("tranid", "string"),
        "memo": FilterField("memo", "string"),
        "otherRefNum": FilterField("otherrefnum", "string"),
        "email": FilterField("email", "string"),
        "entity": FilterField("entity", "number"),
        "location": FilterField("location", "number"),
        "total": FilterField("total", "number"),
        "shippingCost": FilterField("shippingcost", "number"),
        "tranDate": FilterField("trandate", "date"),
        "createdDate": FilterField("createddate", "date"),
        "lastModifiedDate": FilterField("lastmodifieddate", "date"),
    },
}
_FILTER_KINDS: dict[str, Kind] = {
    "text": "string",
    "integer": "number",
    "decimal": "number",
    "checkbox": "boolean",
    "date": "date",
}

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
-- Indexes, so a lookup costs the same at 100,000 rows as at 1,000: the columns nswoo and
-- common integrations filter on (SKU, external ids compared without case, e-mails compared
-- lower-case, the customer of an order, the lines of an item). Custom field columns get
-- theirs when they are defined (`Store.define_custom_field`).
CREATE INDEX ix_item_itemid ON item (itemid);
CREATE INDEX ix_item_externalid ON item (UPPER(externalid));
CREATE INDEX ix_ail_location ON aggregateItemLocation (location);
CREATE INDEX ix_customer_email ON customer (LOWER(email));
CREATE INDEX ix_customer_externalid ON customer (UPPER(externalid));
CREATE INDEX ix_transaction_externalid ON "transaction" (UPPER(externalid));
CREATE INDEX ix_transaction_entity ON "transaction" (entity);
CREATE INDEX ix_transactionline_item ON transactionLine (item);
"""

# The secondary indexes of the item tables (as in _DDL), dropped around a large bulk insert.
_BULK_INDEXES = {
    "ix_item_itemid": "CREATE INDEX ix_item_itemid ON item (itemid)",
    "ix_item_externalid": "CREATE INDEX ix_item_externalid ON item (UPPER(externalid))",
    "ix_ail_location": "CREATE INDEX ix_ail_location ON aggregateItemLocation (location)",
}
_BULK_THRESHOLD = 10_000

_READ_ONLY_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}
)
_ALLOWED_FUNCTIONS = SUITEQL_FUNCTIONS | INTERNAL_FUNCTIONS
_DATE_COLUMNS = frozenset(
    {"trandate", "createddate", "lastmodifieddate", "datecreated", "lastquantityavailablechange"}
)
_COUNT_CACHE_SIZE = 256


@attrs.define
class _Authorizer:
    """Read-only SQL with SuiteQL's functions only; remembers the function it refused."""

    refused_function: str | None = None

    def __call__(self, action: int, _arg1: object, arg2: object, *_rest: object) -> int:
        if action == sqlite3.SQLITE_FUNCTION:
            name = str(arg2).upper()
            if name in _ALLOWED_FUNCTIONS:
                return sqlite3.SQLITE_OK
            self.refused_function = name
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK if action in _READ_ONLY_ACTIONS else sqlite3.SQLITE_DENY


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _flag(value: object) -> str:
    return "T" if value else "F"


@attrs.frozen(kw_only=True)
class ItemSeed:
    """One item for `NetSuiteSimulator.add_items`: the SKU (`itemid`), costs, on-hand per
    location id, and the same options `add_item` takes.

    Example:
        >>> ItemSeed(itemid="SKU-1", cost="4.00", on_hand={1: 10}).item_type
        'InvtPart'
    """

    itemid: str
    cost: Decimal | float | str | None = None
    average_cost: Decimal | float | str | None = None
    on_hand: Mapping[int, Decimal | float | int] = attrs.field(factory=dict)
    inactive: bool = False
    display_name: str | None = None
    item_type: str = "InvtPart"


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
    # External id (lower-case: NetSuite compares them without case, reference §3) → internal
    # id, per record type: a create's duplicate check and an `eid:` URL cost one dict lookup.
    _external: dict[str, dict[str, int]] = attrs.field(init=False)
    _indexes: int = attrs.field(init=False, default=0)
    # SuiteQL answers totalResults on every page: the count of a query is kept until the
    # data changes, so paging through N rows counts them once, not once per page.
    _counts: dict[tuple[str, int], int] = attrs.field(init=False, factory=dict)
    _columns: dict[str, frozenset[str]] | None = attrs.field(init=False, default=None)

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
        # Oracle's date forms, rewritten to these by `_suiteql.translate`.
        self.db.create_function("NSWOO_SYSDATE", 0, sysdate(self.clock.time))
        self.db.create_function("NSWOO_TO_DATE", 2, to_date, deterministic=True)
        self.db.create_function("NSWOO_DATE_ADD", 2, date_add, deterministic=True)
        self.db.create_function("TRUNC", 1, oracle_trunc, deterministic=True)
        self.db.create_function("TRUNC", 2, oracle_trunc, deterministic=True)
        self.records = {"salesOrder": {}, "customer": {}}
        self.custom_fields = {"salesOrder": {}, "customer": {}}
        self.created = {"salesOrder": 0, "customer": 0}
        self._external = {"salesOrder": {}, "customer": {}}
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

    def add_items(self, seeds: Iterable[ItemSeed]) -> list[int]:
        """Insert many items in one transaction (bulk `executemany`); returns their ids.

        Raises:
            ValueError: a seed names a location that does not exist (nothing is inserted).
        """
        today = self._today()
        items: list[tuple[object, ...]] = []
        balances: list[tuple[object, ...]] = []
        locations: set[int] = set()
        first = self._next_id["item"]
        item_id = first
        for seed in seeds:
            cost = None if seed.cost is None else float(seed.cost)
            average = None if seed.average_cost is None else float(seed.average_cost)
            items.append(
                (
                    item_id,
                    seed.itemid,
                    seed.display_name or seed.itemid,
                    seed.item_type,
                    "T" if seed.inactive else "F",
                    cost,
                    average,
                    today,
                )
            )
            valued = average or cost
            for location, on_hand in seed.on_hand.items():
                balances.append((item_id, location, float(on_hand), valued, today))
            locations.update(seed.on_hand)
            item_id += 1
        for location in locations:
            self._require_location(location)
        self._next_id["item"] = item_id
        # A large batch inserts faster without the secondary indexes, built again after it
        # in one sorted pass.
        rebuild = _BULK_INDEXES if len(items) >= _BULK_THRESHOLD else {}
        self.db.execute("BEGIN")
        try:
            for name in rebuild:
                self.db.execute(f"DROP INDEX {name}")
            self.db.executemany(
                "INSERT INTO item (id, itemid, displayname, itemtype, isinactive, cost,"
                " averagecost, lastmodifieddate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                items,
            )
            self.db.executemany(
                "INSERT INTO aggregateItemLocation (item, location, quantityonhand,"
                " averagecostmli, lastquantityavailablechange) VALUES (?, ?, ?, ?, ?)",
                balances,
            )
            for statement in rebuild.values():
                self.db.execute(statement)
        except BaseException:
            self.db.execute("ROLLBACK")
            self._next_id["item"] = first
            raise
        self.db.execute("COMMIT")
        return list(range(first, item_id))

    def create_many(self, record: str, bodies_: Iterable[Mapping[str, Any]]) -> list[int]:
        """`create` for many bodies in one SQLite transaction; returns the new ids in order.

        Raises:
            RecordError: a body NetSuite would refuse; the records before it are created.
        """
        ids: list[int] = []
        self.db.execute("BEGIN")
        try:
            for body in bodies_:
                ids.append(self.create(record, body))
        finally:
            self.db.execute("COMMIT")
        return ids

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
        self._indexes += 1
        index = f"ix_custom_{self._indexes}"
        self.custom_fields[record][field_id] = CustomField(
            record=record,
            id=field_id,
            label=label,
            type=field_type,
            mandatory=mandatory,
            index=index,
        )
        table = _TABLE[record]
        self.db.execute(f'ALTER TABLE "{table}" ADD COLUMN {field_id} {_SQL_TYPES[field_type]}')
        # Integrations look orders up by a custom field (nswoo: the WooCommerce order id).
        self.db.execute(f'CREATE INDEX {index} ON "{table}" ({field_id})')
        self._schema_changed()

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
        self._schema_changed()
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
        field = self.custom_fields[record].pop(field_id)
        # SQLite refuses to drop an indexed column: the index goes first.
        self.db.execute(f"DROP INDEX IF EXISTS {field.index}")
        self.db.execute(f'ALTER TABLE "{_TABLE[record]}" DROP COLUMN {field_id}')
        self._schema_changed()
        for stored in self.records[record].values():
            stored.pop(field_id, None)

    def _schema_changed(self) -> None:
        # Columns moved: the BUILTIN.DF column lists and the kept counts are stale.
        self._columns = None
        self._counts.clear()

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
        return self._external[record].get(external_id.lower())

    def _index_external(self, record: str, record_id: int, old: object, new: object) -> None:
        """Move `record_id` from external id `old` to `new` in the lookup (None: none)."""
        index = self._external[record]
        if isinstance(old, str) and index.get(old.lower()) == record_id:
            del index[old.lower()]
        if isinstance(new, str):
            index[new.lower()] = record_id

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
        self._index_external(record, record_id, stored.get("externalId"), merged.get("externalId"))
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
        self._index_external("customer", customer_id, None, values.get("externalId"))
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
        self._index_external("salesOrder", order_id, None, values.get("externalId"))
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
        """Run one read-only SELECT; returns lower-case column names and all its rows.

        Raises:
            QueryRefused: see `query_page`.
        """
        names, rows, _ = self.query_page(text, limit=None, offset=0)
        return names, rows

    def query_page(
        self, text: str, *, limit: int | None, offset: int
    ) -> tuple[list[str], list[tuple[Any, ...]], int]:
        """One page of a read-only SuiteQL SELECT: column names, `limit` rows from `offset`,
        and the number of rows the whole query returns.

        Oracle forms are translated first (`_suiteql`). The page is SQLite's LIMIT/OFFSET and
        the total a COUNT kept until the data changes, so a page costs what the query's
        indexes make it cost, not a pass over every row it matches.

        Raises:
            QueryRefused: not a single SELECT, or SQLite cannot run it (unknown table or
                column, syntax error): NetSuite's INVALID_PARAMETER body; or an Oracle form
                or function the simulator does not simulate: its 501 body.
        """
        stripped = _strip_sql_comments(text).strip()
        first = stripped.split(None, 1)[0].upper() if stripped else ""
        if first not in ("SELECT", "WITH"):
            raise QueryRefused(bodies.invalid_query(), "only SELECT statements are allowed")
        try:
            translation = translate(
                text, columns=self._table_columns(), date_columns=self._date_columns()
            )
        except NotSimulated as exc:
            raise QueryRefused(
                bodies.not_simulated_query(exc.what, exc.detail), f"not simulated: {exc.what}"
            ) from exc
        sql = _quote_sqlite_keywords(translation.sql).strip().rstrip(";")
        if limit is None:
            page_sql, total_sql = sql, None
        elif translation.limited:
            page_sql = f"SELECT * FROM ({sql}) LIMIT {limit} OFFSET {offset}"  # noqa: S608
            total_sql = f"SELECT COUNT(*) FROM ({sql})"  # noqa: S608
        else:
            page_sql = f"{sql} LIMIT {limit} OFFSET {offset}"
            total_sql = f"SELECT COUNT(*) FROM ({sql})"  # noqa: S608
        authorizer = _Authorizer()
        self.db.set_authorizer(authorizer)
        try:
            cursor = self.db.execute(page_sql)
            rows = cursor.fetchall()
            names = [column[0].lower() for column in cursor.description or ()]
            total = len(rows) if total_sql is None else self._count(total_sql)
        except (sqlite3.Error, sqlite3.Warning) as exc:
            # sqlite3.Warning: more than one statement; sqlite3.Error: everything else.
            raise self._refusal(exc, authorizer) from exc
        finally:
            self.db.set_authorizer(None)
        return names, rows, total

    def _count(self, sql: str) -> int:
        key = (sql, self.db.total_changes)
        cached = self._counts.get(key)
        if cached is None:
            if len(self._counts) >= _COUNT_CACHE_SIZE:
                self._counts.clear()
            cached = int(self.db.execute(sql).fetchone()[0])
            self._counts[key] = cached
        return cached

    @staticmethod
    def _refusal(exc: Exception, authorizer: _Authorizer) -> QueryRefused:
        message = str(exc)
        missing = re.match(r"no such function: (\w+)", message)
        function = authorizer.refused_function or (missing.group(1).upper() if missing else None)
        if function is not None:
            listed = function in SUITEQL_FUNCTIONS
            detail = (
                "SuiteQL supports it, SQLite does not"
                if listed
                else "it is not in SuiteQL's documented function list (NetSuite refuses"
                " functions outside it, the simulator does not decide for it)"
            )
            return QueryRefused(
                bodies.not_simulated_query(f"the function {function}", detail),
                f"not simulated: function {function}",
            )
        if "user-defined function raised exception" in message:
            # TO_DATE on a value that does not match its format: Oracle refuses the query.
            return QueryRefused(bodies.invalid_query(), message)
        return QueryRefused(bodies.invalid_query(), message)

    def _table_columns(self) -> dict[str, frozenset[str]]:
        if self._columns is None:
            tables = ("item", "location", "aggregateItemLocation", "customer", "transaction")
            self._columns = {
                table.lower(): frozenset(
                    row[1].lower()
                    for row in self.db.execute(f'PRAGMA table_info("{table}")').fetchall()
                )
                for table in (*tables, "transactionLine")
            }
        return self._columns

    def _date_columns(self) -> frozenset[str]:
        custom = {
            field.id
            for fields in self.custom_fields.values()
            for field in fields.values()
            if field.type == "date"
        }
        return _DATE_COLUMNS | custom

    # -- views -------------------------------------------------------------------------------

    def render(self, record: str, record_id: int, *, base: str, expand: bool) -> dict[str, Any]:
        """The GET representation of a record.

        Reference fields carry `id`, `refName` and a link to the referenced record (Oracle,
        Format of Selects and References, ns-online-help/section_1545142037.html); `refName`
        is left out where the simulator holds no such record (subsidiary, currency, ...).
        """
        values = self.records[record][record_id]
        url = f"{base}{_RECORD_PATH}{record}/{record_id}"
        out: dict[str, Any] = {"links": [{"rel": "self", "href": url}], "id": str(record_id)}
        standard = _STANDARD[record]
        for key, value in values.items():
            if key.startswith("_") or (key == "item" and record == "salesOrder"):
                continue
            std = standard.get(key)
            if std is not None and std.kind == "ref" and isinstance(value, dict):
                out[key] = self.reference_view(key, value, base=base)
            else:
                out[key] = _jsonable(value)
        if record == "salesOrder":
            status = values["_status"]
            out["status"] = {"id": status, "refName": STATUS_NAMES[status]}
            out["total"] = _number(self.sales_order_total(values))
            lines_url = f"{url}/item"
            # reference §3: sublists come back as links unless expandSubResources=true.
            if expand:
                out["item"] = self.lines_view(record_id, base=base, expand=True)
            else:
                out["item"] = {"links": [{"rel": "self", "href": lines_url}]}
        return out

    def lines_view(self, order_id: int, *, base: str, expand: bool) -> dict[str, Any]:
        """The item sublist of a sales order, as `GET …/salesOrder/<id>/item` answers it.

        Oracle documents the sublist URL (Accessing Subresources in REST Web Services,
        ns-online-help/section_159894563219.html) but not its body: each line is a link to
        `…/item/<line>` (its fields with `expandSubResources=true`), as record collections
        list their records.
        """
        stored = self.records["salesOrder"][order_id].get("item", [])
        lines_url = f"{base}{_RECORD_PATH}salesOrder/{order_id}/item"
        if expand:
            lines = [self.line_view(order_id, line["line"], base=base) for line in stored]
        else:
            lines = [
                {"links": [{"rel": "self", "href": f"{lines_url}/{line['line']}"}]}
                for line in stored
            ]
        return {
            "links": [{"rel": "self", "href": lines_url}],
            "items": lines,
            "totalResults": len(lines),
        }

    def line_view(self, order_id: int, line_number: int, *, base: str) -> dict[str, Any]:
        """One line of a sales order's item sublist (`GET …/item/<line>`).

        Raises:
            KeyError: the order has no such line.
        """
        stored = self.records["salesOrder"][order_id].get("item", [])
        exact = next((line for line in stored if line.get("line") == line_number), None)
        if exact is None:
            raise KeyError(line_number)
        url = f"{base}{_RECORD_PATH}salesOrder/{order_id}/item/{line_number}"
        view: dict[str, Any] = {"links": [{"rel": "self", "href": url}]}
        for key, value in exact.items():
            std = _LINE_FIELDS.get(key)
            if std is not None and std.kind == "ref" and isinstance(value, dict):
                view[key] = self.reference_view(key, value, base=base)
            else:
                view[key] = _jsonable(value)
        # The amount from the stored (exact) line, not from its JSON float.
        view["amount"] = _number(self._line_amount(exact))
        return view

    def reference_view(self, field: str, value: Mapping[str, Any], *, base: str) -> dict[str, Any]:
        """A stored `{"id": …}` reference as GET shows it: links, id and refName."""
        text = str(value.get("id"))
        record_type, name = self._referenced(field, text)
        view: dict[str, Any] = {}
        if record_type is not None:
            view["links"] = [{"rel": "self", "href": f"{base}{_RECORD_PATH}{record_type}/{text}"}]
        view["id"] = text
        if name is not None:
            view["refName"] = name
        return view

    def _referenced(self, field: str, text: str) -> tuple[str | None, str | None]:
        """The REST record type a reference field points at, and the record's display name."""
        number = int(text) if text.isdigit() and int(text) <= _MAX_ID else None
        if field == "entity":
            customer = self.records["customer"].get(number) if number is not None else None
            return "customer", None if customer is None else customer.get("entityId")
        if field == "location":
            row = self.db.execute("SELECT name FROM location WHERE id = ?", (number,)).fetchone()
            return "location", None if row is None else str(row[0])
        if field == "item":
            row = self.db.execute(
                "SELECT itemid, itemtype FROM item WHERE id = ?", (number,)
            ).fetchone()
            if row is None:
                return None, None
            return _ITEM_RECORD_TYPES.get(str(row[1])), str(row[0])
        return _UNSIMULATED_REFERENCES.get(field), None

    def display_name(self, record: str, record_id: int) -> str | None:
        """The refName another record shows for this one (a customer: its `entityId`)."""
        values = self.records[record].get(record_id)
        if values is None:
            return None
        if record == "customer":
            return str(values.get("entityId"))
        return str(values.get("tranId"))

    # -- listing and deleting ----------------------------------------------------------------

    def filter_fields(self, record: str) -> dict[str, FilterField]:
        """The body fields `q` can filter a record type on (REST name → column, type)."""
        fields = dict(_FILTERABLE[record])
        for field in self.custom_fields[record].values():
            kind = _FILTER_KINDS.get(field.type)
            if kind is not None:
                fields[field.id] = FilterField(column=field.id, kind=kind)
        return fields

    def list_ids(
        self, record: str, condition: str, params: Sequence[object], *, limit: int, offset: int
    ) -> tuple[list[int], int]:
        """Ids of a record type matching an SQL condition (from `compile_filter`), one page,
        in internal id order, and how many match in all."""
        table = _TABLE[record]
        where = f"({condition})"
        if record == "salesOrder":
            where = f"type = 'SalesOrd' AND {where}"
        page = self.db.execute(
            f'SELECT id FROM "{table}" WHERE {where} ORDER BY id LIMIT ? OFFSET ?',  # noqa: S608
            (*params, limit, offset),
        ).fetchall()
        total_sql = f'SELECT COUNT(*) FROM "{table}" WHERE {where}'  # noqa: S608
        key = (total_sql + repr(tuple(params)), self.db.total_changes)
        total = self._counts.get(key)
        if total is None:
            if len(self._counts) >= _COUNT_CACHE_SIZE:
                self._counts.clear()
            total = int(self.db.execute(total_sql, tuple(params)).fetchone()[0])
            self._counts[key] = total
        return [int(row[0]) for row in page], total

    def delete(self, record: str, record_id: int) -> None:
        """Delete a record, as `DELETE …/<type>/<id>` does (Oracle: 204, no body).

        A sales order's committed stock is released. A customer that sales orders refer to
        is kept: NetSuite refuses to delete a record other records depend on (reference
        silent on the REST literal; the wording is the simulator's).

        Raises:
            RecordError: the record has dependent records.
        """
        if record == "customer":
            dependent = self.db.execute(
                'SELECT 1 FROM "transaction" WHERE entity = ? LIMIT 1', (record_id,)
            ).fetchone()
            if dependent is not None:
                raise RecordError(
                    bodies.bad_request(
                        "Error while accessing a resource. This record cannot be deleted"
                        " because it has dependent records."
                    )
                )
        values = self.records[record].pop(record_id)
        self._index_external(record, record_id, values.get("externalId"), None)
        if record == "salesOrder":
            self._release(record_id)
            self.db.execute('DELETE FROM transactionLine WHERE "transaction" = ?', (record_id,))
            self.db.execute('DELETE FROM "transaction" WHERE id = ?', (record_id,))
        else:
            self.db.execute("DELETE FROM customer WHERE id = ?", (record_id,))


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
