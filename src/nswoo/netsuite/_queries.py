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

from collections.abc import Iterable
from decimal import Decimal

import attrs

from ..errors import InvalidPayload, SchemaDriftError
from ._client import NetSuiteClient
from ._records import ExternalId
from ._suiteql import MAX_IN_LIST, id_list, ident, suiteql_queries, suiteql_query, text_list

__all__ = [
    "BookedTotal",
    "SalesOrderKey",
    "booked_totals",
    "customers_by_email",
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


_BOOKED_TOTALS = (
    "SELECT t.id AS id, t.foreigntotal AS total, t.taxtotal AS tax "
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
# Balances per location (inventory): the inventory capability adds `balances` here.
