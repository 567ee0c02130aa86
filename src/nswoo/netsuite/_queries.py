"""NetSuite data access: the named, typed SuiteQL queries every capability reuses.

Every query nswoo sends to NetSuite lives here, built with the injection-safe builder of
`nswoo.netsuite._suiteql` (values bound with `text()`, `text_list()`, `id_list()`, column names
with `ident()`), so a capability asks for *what* it needs ("the sales orders of these
WooCommerce orders", "the items with these SKUs") and never writes SQL itself.

Facts the queries rely on (reference §6): SuiteQL column keys come back lower-case;
`transaction.type` is `'SalesOrd'` for sales orders; custom body fields are columns of
`transaction`; `item.isinactive` is `'T'`/`'F'`. External ids are compared without case
(reference §3: NetSuite treats them case-insensitively), so both sides are upper-cased.

The module is shared: each capability appends its queries in its own section below and
leaves the other sections alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, LiteralString

import anyio
import attrs

from ..errors import InvalidPayload, SchemaDriftError
from ._client import NetSuiteClient
from ._records import ExternalId
from ._suiteql import (
    MAX_IN_LIST,
    MAX_PAGE_SIZE,
    Param,
    TextList,
    id_list,
    ident,
    number,
    suiteql_queries,
    suiteql_query,
    text_list,
)

__all__ = [
    "BookedTotal",
    "ItemBalance",
    "SalesOrderKey",
    "booked_totals",
    "customers_by_email",
    "customers_by_external_id",
    "item_balances",
    "items_by_column",
    "sales_order_for",
    "sales_orders_for",
]


# =============================================================================================
# Sales orders (orders)


@attrs.frozen
class SalesOrderKey:
    """How a sales order for one WooCommerce order is recognised in NetSuite.

    Attributes:
        external_id: `woo-<store>-<order id>` (compared without case).
        custom_field_value: the order id as the custom body field holds it (`"40001"`); it
            is trusted only on a sales order without a `woo-` external id (made by hand or by
            an older setup), because another store sharing the account numbers its orders
            the same way.
    """

    external_id: ExternalId
    custom_field_value: str


_SALES_ORDERS_BY_KEY = (
    "SELECT t.id AS id, t.externalid AS externalid, t.{field} AS woo_order_id "
    "FROM transaction t WHERE t.type = 'SalesOrd' "
    "AND (UPPER(t.externalid) IN {external_ids} "
    "OR (t.{field} IN {values} "
    "AND (t.externalid IS NULL OR UPPER(t.externalid) NOT LIKE 'WOO-%'))) "
    "ORDER BY t.id"
)


def _drift(field: str, exc: InvalidPayload) -> SchemaDriftError:
    # The query is nswoo's own and valid but for the configured column: NetSuite refusing
    # it means the custom field no longer exists (DESIGN behaviour 6).
    return SchemaDriftError(
        f"looking up sales orders by {field} failed: {exc.detail}",
        field=field,
        record="salesOrder",
        system="netsuite",
        status=exc.status,
        code=exc.code,
    )


async def sales_orders_for(
    client: NetSuiteClient, keys: Iterable[SalesOrderKey], *, field: str
) -> dict[SalesOrderKey, str]:
    """The internal id of the sales order carrying each key, for many orders at once.

    One SuiteQL query per `MAX_IN_LIST` keys (a WooCommerce page of 100 orders is one
    query): a sales order matches a key by external id (without case), or by the custom
    field `field` when it has no `woo-` external id. When several match one key the
    lowest internal id wins (the oldest), as in `sales_order_for`.

    Args:
        client: the NetSuite client.
        keys: the orders' keys (duplicates are looked up once).
        field: the custom body field holding the WooCommerce order id.

    Returns:
        Key → sales order internal id, for the keys that have one (absent: none found).

    Raises:
        SchemaDriftError: NetSuite refused the query: `field` no longer exists.
        ConfigurationError: `field` is not an identifier.
    """
    wanted = list(dict.fromkeys(keys))
    column = ident(field)
    found: dict[SalesOrderKey, str] = {}
    for start in range(0, len(wanted), MAX_IN_LIST):
        chunk = wanted[start : start + MAX_IN_LIST]
        by_external = {key.external_id.value.upper(): key for key in chunk}
        by_value: dict[str, list[SalesOrderKey]] = {}
        for key in chunk:
            by_value.setdefault(key.custom_field_value, []).append(key)
        query = suiteql_query(
            _SALES_ORDERS_BY_KEY,
            field=column,
            external_ids=text_list(by_external),
            values=text_list(by_value),
        )
        try:
            async for row in client.suiteql(query, booleans=False):
                sales_order_id = str(row["id"])
                external = row.get("externalid")
                if isinstance(external, str) and external.upper() in by_external:
                    matched = [by_external[external.upper()]]
                elif not isinstance(external, str) or not external.upper().startswith("WOO-"):
                    matched = by_value.get(_field_text(row.get("woo_order_id")), [])
                else:
                    matched = []
                for key in matched:
                    found.setdefault(key, sales_order_id)
        except SchemaDriftError:
            raise
        except InvalidPayload as exc:
            raise _drift(field, exc) from exc
    return found


async def sales_order_for(client: NetSuiteClient, key: SalesOrderKey, *, field: str) -> str | None:
    """The internal id of the sales order carrying `key`, or None (`sales_orders_for` for one).

    Raises:
        SchemaDriftError: the custom field `field` is gone.
    """
    return (await sales_orders_for(client, [key], field=field)).get(key)


def _field_text(value: object) -> str:
    """A custom field value as text: NetSuite may send a numeric field as a JSON number."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@attrs.frozen
class BookedTotal:
    """What NetSuite booked for a sales order, as SuiteQL returns it.

    Attributes:
        sales_order_id: the internal id.
        total: the total in the transaction's currency, or None when NetSuite sent
            something that is not a number.
        tax: the tax NetSuite computed into that total, or None when it sent something that
            is not a number (no tax at all reads as 0).
    """

    sales_order_id: str
    total: Decimal | None
    tax: Decimal | None


# `transaction.foreigntotal` is the total in the transaction's currency (reference §6 lists
# `transaction`; the column is the one public SuiteQL libraries read, e.g. GSpo7/suiteql-sql-
# library `rollup-example.sql`, and meir.prolecto.com/2023/02/19/sql-ar-and-ap-fields). The
# tax NetSuite computed is the sum of the order's tax lines (`transactionline.taxline = 'T'`),
# whose `foreignamount` is stored with the sign of a credit, hence `* -1`: the query of public
# SuiteQL libraries for "Sales Order - With Sales Tax" (Tim Dietrich's query library) reads it
# this way. Neither column is confirmed by Oracle's own pages; a sales order without tax
# lines gives NULL, read as no tax.
_BOOKED_TOTALS = (
    "SELECT t.id AS id, t.foreigntotal AS total, "
    "(SELECT SUM(tl.foreignamount * -1) FROM transactionline tl "
    "WHERE tl.transaction = t.id AND tl.taxline = 'T') AS tax "
    "FROM transaction t WHERE t.type = 'SalesOrd' AND t.id IN {ids}"
)


def _amount(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        # JSON numbers are decoded as floats by the client: the shortest repr is the
        # number NetSuite wrote (2 places at most for money), so go through it.
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return None
    return None


async def booked_totals(
    client: NetSuiteClient, sales_order_ids: Iterable[str]
) -> dict[str, BookedTotal]:
    """The booked total and tax of many sales orders: one query per `MAX_IN_LIST` ids.

    Returns:
        Internal id → `BookedTotal`; an id NetSuite did not return is absent.
    """
    ids = id_list(sales_order_ids)
    found: dict[str, BookedTotal] = {}
    for query in suiteql_queries(_BOOKED_TOTALS, ids=ids):
        async for row in client.suiteql(query, booleans=False):
            tax = row.get("tax")
            found[str(row["id"])] = BookedTotal(
                sales_order_id=str(row["id"]),
                total=_amount(row.get("total")),
                tax=Decimal(0) if tax is None else _amount(tax),
            )
    return found


# =============================================================================================
# Items (orders; inventory)


_SKU_CHUNK = 500
"""Values per item lookup: far below the `IN` list limit, short enough to read in logs."""


async def items_by_column(
    client: NetSuiteClient, column: str, values: Iterable[str], *, active_only: bool = True
) -> dict[str, int]:
    """Value of `column` (e.g. `itemid`, the SKU) → item internal id, for many values.

    One query per 500 values. Values are compared exactly as given; a value held by
    several items maps to the lowest id. Inactive items are left out unless
    `active_only=False`.

    Raises:
        ConfigurationError: `column` is not an identifier.
    """
    wanted = sorted(set(values))
    found: dict[str, int] = {}
    template = (
        "SELECT i.id AS id, i.{column} AS value FROM item i "
        "WHERE i.isinactive = 'F' AND i.{column} IN {values} ORDER BY i.id"
        if active_only
        else "SELECT i.id AS id, i.{column} AS value FROM item i "
        "WHERE i.{column} IN {values} ORDER BY i.id"
    )
    for query in suiteql_queries(
        template, chunk_size=_SKU_CHUNK, column=ident(column), values=text_list(wanted)
    ):
        async for row in client.suiteql(query, booleans=False):
            value = row.get("value")
            if isinstance(value, str) and value not in found:
                found[value] = int(row["id"])
    return {value: found[value] for value in wanted if value in found}


# =============================================================================================
# Customers (orders)


async def customers_by_external_id(
    client: NetSuiteClient, external_ids: Iterable[ExternalId]
) -> dict[ExternalId, str]:
    """External id → internal id of the customers carrying them (compared without case).

    One query per 1000 ids. The by-email strategy keys its customers by an external id
    derived from the e-mail (`nswoo.orders.customer_external_id`), so this finds a page of
    orders' customers at once.
    """
    wanted = {external_id.value.upper(): external_id for external_id in external_ids}
    found: dict[ExternalId, str] = {}
    for query in suiteql_queries(
        "SELECT c.id AS id, c.externalid AS externalid FROM customer c "
        "WHERE UPPER(c.externalid) IN {external_ids} ORDER BY c.id",
        external_ids=text_list(wanted),
    ):
        async for row in client.suiteql(query, booleans=False):
            external = row.get("externalid")
            key = wanted.get(external.upper()) if isinstance(external, str) else None
            if key is not None and key not in found:
                found[key] = str(row["id"])
    return found


async def customers_by_email(client: NetSuiteClient, emails: Iterable[str]) -> dict[str, list[str]]:
    """Lower-cased e-mail → internal ids of the active customers with that e-mail.

    Compared without case on both sides (NetSuite keeps e-mails as typed). Ids in
    ascending order.
    """
    wanted = sorted({email.strip().lower() for email in emails if email.strip()})
    found: dict[str, list[str]] = {}
    for query in suiteql_queries(
        "SELECT c.id AS id, LOWER(c.email) AS email FROM customer c "
        "WHERE c.isinactive = 'F' AND LOWER(c.email) IN {emails} ORDER BY c.id",
        emails=text_list(wanted),
    ):
        async for row in client.suiteql(query, booleans=False):
            email = row.get("email")
            if isinstance(email, str):
                found.setdefault(email, []).append(str(row["id"]))
    return found


# =============================================================================================
# Balances per location (inventory)


@attrs.frozen
class ItemBalance:
    """One NetSuite item's stock at one location: a row of `aggregateItemLocation`.

    Attributes:
        item_id: the item's internal id.
        sku: the item's SKU (the configured `item_match` column, `itemid` by default).
        location: the location's internal id; None when the item has no balance row in the
            locations asked for (the item exists, and nothing of it is there).
        on_hand: `quantityonhand`, None when NetSuite sent no number.
        committed: `quantitycommitted`, None when NetSuite sent no number.
    """

    item_id: int
    sku: str
    location: int | None
    on_hand: Decimal | None
    committed: Decimal | None


# Item types that hold stock: inventory items and assemblies (reference §6 lists the
# `itemtype` values). Non-inventory, service, charge, discount and group items have no
# balance of their own, so a WooCommerce product sharing such an item's SKU is reported as
# missing in NetSuite rather than set to 0.
_BALANCE_BOUNDS = (
    "SELECT MAX(i.id) AS high, COUNT(i.id) AS items FROM item i "
    "WHERE i.isinactive = 'F' AND i.itemtype IN ('InvtPart', 'Assembly') AND i.id > {after}"
)
# One row per (item, location), and one row with a NULL location for an item without any
# balance row there (LEFT JOIN). Keyset paging on (item id, location) from the last row read,
# so a page boundary may fall inside an item's locations and no offset nears the 100,000-row
# cap (reference §6: order by a unique key for stable paging). NVL turns the missing
# location into 0 (location ids are positive), so the key has no NULL to order.
_BALANCE_SELECT = (
    "SELECT i.id AS item_id, i.{column} AS sku, NVL(b.location, 0) AS location, "
    "b.quantityonhand AS quantityonhand, b.quantitycommitted AS quantitycommitted "
    "FROM item i LEFT JOIN aggregateItemLocation b ON b.item = i.id"
)
_BALANCE_WHERE = (
    " WHERE i.isinactive = 'F' AND i.itemtype IN ('InvtPart', 'Assembly') "
    "AND i.id BETWEEN {low} AND {high} "
    "AND (i.id > {after_item} OR (i.id = {after_item} AND NVL(b.location, 0) > {after_location}))"
)
_BALANCE_ORDER = " ORDER BY i.id, NVL(b.location, 0)"
_ALL_IDS = (0, 2**63 - 1)


def _quantity(value: object) -> Decimal | None:
    """A SuiteQL quantity as an exact Decimal; None for null or anything not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except ArithmeticError:
            return None
        return number if number.is_finite() else None
    return None


def _balance(row: Mapping[str, Any]) -> ItemBalance | None:
    sku = row.get("sku")
    if not isinstance(sku, str) or not sku:
        return None  # an item without a value in the SKU column matches no product
    location = int(str(row.get("location") or 0))
    return ItemBalance(
        item_id=int(str(row["item_id"])),
        sku=sku,
        location=location or None,
        on_hand=_quantity(row.get("quantityonhand")),
        committed=_quantity(row.get("quantitycommitted")),
    )


@attrs.define
class _Chain:
    """One keyset-paged read of the balances of the items with ids in `low..high`."""

    client: NetSuiteClient
    template: LiteralString
    params: dict[str, Param]
    low: int
    high: int
    on_page: Callable[[int], None] | None
    after_item: int = attrs.field(init=False)
    after_location: int = 0
    rows: list[ItemBalance] = attrs.field(factory=list)
    done: bool = False

    def __attrs_post_init__(self) -> None:
        self.after_item = self.low - 1

    async def page(self) -> None:
        """Read the next page; `done` once the range is exhausted."""
        query = suiteql_query(
            self.template,
            low=number(self.low),
            high=number(self.high),
            after_item=number(self.after_item),
            after_location=number(self.after_location),
            **self.params,
        )
        page = await self.client.suiteql_page(query, limit=MAX_PAGE_SIZE, booleans=False)
        for row in page.items:
            self.after_item = int(str(row["item_id"]))
            self.after_location = int(str(row.get("location") or 0))
            balance = _balance(row)
            if balance is not None:
                self.rows.append(balance)
        if self.on_page is not None:
            self.on_page(len(page.items))
        self.done = len(page.items) < MAX_PAGE_SIZE or not page.has_more

    async def run(self) -> None:
        """Read the remaining pages."""
        while not self.done:
            await self.page()


def _balance_template(*, locations: bool, skus: bool) -> LiteralString:
    template: LiteralString = _BALANCE_SELECT
    if locations:
        template += " AND b.location IN {locations}"
    template += _BALANCE_WHERE
    if skus:
        template += " AND i.{column} IN {skus}"
    return template + _BALANCE_ORDER


async def _split(first: _Chain, partitions: int) -> list[_Chain]:
    """After a full first page: the rest of the id range, cut into up to `partitions` ranges.

    The first chain keeps the item it stopped in (its other locations come next) up to the
    end of its range; the other ranges start after it.
    """
    query = suiteql_query(_BALANCE_BOUNDS, after=number(first.after_item))
    page = await first.client.suiteql_page(query, limit=1, booleans=False)
    found = page.items[0] if page.items else {}
    high, items = found.get("high"), int(str(found.get("items") or 0))
    if high is None or items == 0:
        return []  # nothing after the item the first chain is in: it finishes alone
    high = int(str(high))
    parts = max(1, min(partitions, -(-items // MAX_PAGE_SIZE) + 1))
    width = -(-(high - first.after_item) // parts)
    first.high = first.after_item + width - 1 if parts > 1 else high
    others = []
    for low in range(first.high + 1, high + 1, width):
        others.append(
            _Chain(
                first.client,
                first.template,
                first.params,
                low,
                min(high, low + width - 1),
                first.on_page,
            )
        )
    return others


async def _run_all(chains: list[_Chain]) -> None:
    """Run the chains at once; the first error stops the others and is raised as itself."""
    errors: list[Exception] = []

    async def run(chain: _Chain) -> None:
        try:
            await chain.run()
        except Exception as exc:
            errors.append(exc)
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for chain in chains:
            group.start_soon(run, chain)
    if errors:
        raise errors[0]


async def item_balances(
    client: NetSuiteClient,
    *,
    column: str = "itemid",
    locations: Iterable[int] = (),
    skus: Iterable[str] | None = None,
    partitions: int = 1,
    on_page: Callable[[int], None] | None = None,
) -> list[ItemBalance]:
    """Stock per (item, location) of the active stock items, from `aggregateItemLocation`.

    Joined to `item` for the SKU (`column`); an active stock item without a balance row in
    `locations` comes back once with `location=None`. Pages of 1000 rows, keyset-paged on
    (item id, location) past the 100,000-row cap (reference §6). When the first page is full
    and `partitions > 1`, the rest of the id range is split (one more query for its size) and
    the ranges are read concurrently: keyset paging is sequential within a range, and the
    client's limiter caps what runs at once.

    Args:
        client: the NetSuite client.
        column: the item column holding the SKU (`[orders] item_match`).
        locations: location ids to read; empty: every location.
        skus: only these SKUs (quoted literals, 1000 per query); None: every item.
        partitions: how many id ranges may be read at once.
        on_page: called with each page's row count (progress).

    Raises:
        ConfigurationError: `column` is not an identifier.
        InvalidPayload: a SKU holds control characters; a location id is not positive.
    """
    location_ids = tuple(locations)
    params: dict[str, Param] = {"column": ident(column)}
    if location_ids:
        params["locations"] = id_list(location_ids)
    template = _balance_template(locations=bool(location_ids), skus=skus is not None)
    if skus is not None:
        values = text_list(skus).values
        chains = [
            _Chain(
                client,
                template,
                {**params, "skus": TextList(values[start : start + MAX_IN_LIST])},
                *_ALL_IDS,
                on_page,
            )
            for start in range(0, len(values), MAX_IN_LIST)
        ]
    else:
        first = _Chain(client, template, params, *_ALL_IDS, on_page)
        await first.page()
        chains = [first]
        if not first.done and partitions > 1:
            chains += await _split(first, partitions)
    await _run_all(chains)
    return [row for chain in chains for row in chain.rows]
