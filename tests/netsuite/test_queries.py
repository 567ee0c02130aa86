"""The named NetSuite queries, against the NetSuite simulator (its SuiteQL runs on SQLite)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nswoo.errors import SchemaDriftError
from nswoo.netsuite import CustomerDraft, ExternalId, SalesOrderDraft, SalesOrderLine
from nswoo.netsuite._queries import (
    SalesOrderKey,
    booked_totals,
    customers_by_email,
    customers_by_external_id,
    items_by_column,
    sales_order_for,
    sales_orders_for,
)
from nswoo.testing._world import SimWorld, build_world

pytestmark = pytest.mark.anyio

FIELD = "custbody_nswoo_woo_order_id"


def key(store: str, order_id: int) -> SalesOrderKey:
    return SalesOrderKey(ExternalId(f"woo-{store}-{order_id}"), str(order_id))


async def create(
    world: SimWorld, external_id: str | None, woo_id: str, amount: str = "10.00"
) -> str:
    draft = SalesOrderDraft(
        entity=world.customer_id,
        lines=(
            SalesOrderLine(
                item=world.item_ids["MUG-BLUE"], quantity=Decimal(1), amount=Decimal(amount)
            ),
        ),
        external_id=None if external_id is None else ExternalId(external_id),
        custom_fields={FIELD: woo_id},
    )
    async with world.netsuite_client() as ns:
        return await ns.create("salesOrder", draft)


async def test_a_page_of_orders_is_looked_up_in_one_query() -> None:
    """Sales orders for many keys at once: by external id (any case) or, on a sales order
    without a `woo-` external id, by the custom field; another store's N is not ours."""
    world = build_world()
    mine = await create(world, "woo-main-1", "1")
    upper = await create(world, "WOO-MAIN-2", "2")
    by_hand = await create(world, None, "3")
    await create(world, "woo-outlet-4", "4")  # another store's order 4
    before = len(world.netsuite.query_log)
    async with world.netsuite_client() as ns:
        found = await sales_orders_for(ns, [key("main", n) for n in (1, 2, 3, 4, 5)], field=FIELD)
    assert len(world.netsuite.query_log) == before + 1
    assert found == {key("main", 1): mine, key("main", 2): upper, key("main", 3): by_hand}


async def test_one_order_and_more_than_a_thousand_keys() -> None:
    """`sales_order_for` is the one-key case; 1,500 keys take two queries (IN ≤ 1000)."""
    world = build_world()
    made = await create(world, "woo-main-1200", "1200")
    before = len(world.netsuite.query_log)
    async with world.netsuite_client() as ns:
        assert await sales_order_for(ns, key("main", 1200), field=FIELD) == made
        assert await sales_order_for(ns, key("main", 1201), field=FIELD) is None
        found = await sales_orders_for(ns, [key("main", n) for n in range(1, 1501)], field=FIELD)
    assert found == {key("main", 1200): made}
    assert len(world.netsuite.query_log) == before + 4


async def test_a_missing_custom_field_is_schema_drift() -> None:
    """NetSuite refusing the column names the field (DESIGN behaviour 6)."""
    world = build_world()
    world.netsuite.rename_field("salesOrder", FIELD, "custbody_renamed")
    async with world.netsuite_client() as ns:
        with pytest.raises(SchemaDriftError, match=FIELD):
            await sales_orders_for(ns, [key("main", 1)], field=FIELD)


async def test_items_by_a_column_chunked_and_bound_as_literals() -> None:
    """Active items only; 600 SKUs take two queries of at most 500; a quote is data."""
    world = build_world()
    evil = "X' OR '1'='1"
    skus = ["MUG-BLUE", "TEE-S", evil, *(f"NONE-{n}" for n in range(597))]
    world.netsuite.set_item_inactive(world.item_ids["TEE-S"])
    before = len(world.netsuite.query_log)
    async with world.netsuite_client() as ns:
        found = await items_by_column(ns, "itemid", skus)
        with_inactive = await items_by_column(ns, "itemid", ["TEE-S"], active_only=False)
    assert found == {"MUG-BLUE": world.item_ids["MUG-BLUE"]}
    assert with_inactive == {"TEE-S": world.item_ids["TEE-S"]}
    queries = world.netsuite.query_log[before:]
    assert len(queries) == 3
    assert "'X'' OR ''1''=''1'" in queries[0] + queries[1]


async def test_customers_by_external_id_and_by_email() -> None:
    """Customers found by external id without case, and by e-mail without case."""
    world = build_world()
    draft = CustomerDraft(
        email="Ada@Example.com",
        external_id=ExternalId("woo-main-c-abc"),
        first_name="Ada",
        last_name="Lovelace",
        is_person=True,
    )
    async with world.netsuite_client() as ns:
        made = await ns.create("customer", draft)
        by_id = await customers_by_external_id(
            ns, [ExternalId("WOO-MAIN-C-ABC"), ExternalId("woo-main-c-none")]
        )
        by_email = await customers_by_email(ns, ["ada@example.COM", "nobody@example.com"])
    assert by_id == {ExternalId("WOO-MAIN-C-ABC"): made}
    assert by_email == {"ada@example.com": [made]}


async def test_booked_totals_of_many_sales_orders_in_one_query() -> None:
    """What NetSuite booked, for several sales orders at once, as exact decimals."""
    world = build_world()
    first = await create(world, "woo-main-1", "1", amount="12.50")
    second = await create(world, "woo-main-2", "2", amount="0.10")
    before = len(world.netsuite.query_log)
    async with world.netsuite_client() as ns:
        booked = await booked_totals(ns, [first, second, "999999"])
    assert len(world.netsuite.query_log) == before + 1
    assert {k: (v.total, v.tax) for k, v in booked.items()} == {
        first: (Decimal("12.5"), Decimal(0)),
        second: (Decimal("0.1"), Decimal(0)),
    }
