"""The NetSuite simulator validates numbers before it creates anything.

A sales order with a quantity of 10^30 used to be stored and then fail to mirror into the
simulator's SQLite tables, raising `OverflowError` into the client with the record half
made. Out-of-range and non-finite numbers now get Oracle's INVALID_CONTENT body (reference
§4: status 400, `o:errorCode`, `o:errorPath` into the request body) and nothing is created.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest

from nswoo.errors import InvalidPayload
from nswoo.netsuite import ExternalId, SalesOrderDraft, SalesOrderLine
from nswoo.testing._world import build_world

pytestmark = pytest.mark.anyio

SO = "/services/rest/record/v1/salesOrder"


@asynccontextmanager
async def raw_client(world: Any) -> AsyncIterator[httpx.AsyncClient]:
    sim = world.netsuite
    headers = {"Authorization": f"Bearer {sim.mint_token()}"}
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.base_url, headers=headers
    ) as client:
        yield client


def body(world: Any, line: str = "", order: str = "") -> bytes:
    """A sales order body as JSON text, so that numbers JSON allows but Python would not
    write (1e999999999, a 31-digit integer) can be sent literally."""
    item = world.item_ids["MUG-BLUE"]
    return (
        f'{{"entity": {{"id": {world.customer_id}}}, "externalId": "woo-sim-9",'
        f' "custbody_nswoo_woo_order_id": "9"{order},'
        f' "item": {{"items": [{{"item": {{"id": {item}}}, "quantity": 1{line}}}]}}}}'
    ).encode()


@pytest.mark.parametrize(
    ("line", "order", "path"),
    [
        (', "quantity": 1000000000000000000000000000000', "", "item.items[0].quantity"),
        (', "quantity": 10000000000', "", "item.items[0].quantity"),
        (', "quantity": -1e999999999', "", "item.items[0].quantity"),
        (', "amount": 1e999999999', "", "item.items[0].amount"),
        (', "amount": "1e999999999"', "", "item.items[0].amount"),
        (', "rate": "NaN"', "", "item.items[0].rate"),
        (', "amount": 1e16', "", "item.items[0].amount"),
        ("", ', "shippingCost": 1e999', "shippingCost"),
        ("", ', "entity": {"id": 99999999999999999999999}', "entity"),
    ],
)
async def test_out_of_range_numbers_get_invalid_content_and_create_nothing(
    line: str, order: str, path: str
) -> None:
    """400 INVALID_CONTENT naming the field's path; no sales order, no commitment."""
    world = build_world()
    mug = world.item_ids["MUG-BLUE"]
    main = world.location_ids["Main"]
    before = world.netsuite.balance(mug, main)
    async with raw_client(world) as client:
        response = await client.post(SO, content=body(world, line, order))
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == 400
    [detail] = answer["o:errorDetails"]
    assert detail["o:errorCode"] == "INVALID_CONTENT"
    assert detail["o:errorPath"] == path
    assert "Invalid Field Value" in detail["detail"]
    assert world.netsuite.stats.created["salesOrder"] == 0
    assert world.netsuite.sales_orders_by_woo_id() == {}
    assert world.netsuite.balance(mug, main) == before


async def test_a_quantity_of_ten_to_the_thirty_is_a_typed_error_in_the_client() -> None:
    """Through nswoo's client the refusal is `InvalidPayload`, not an OverflowError."""
    world = build_world()
    draft = SalesOrderDraft(
        entity=world.customer_id,
        lines=[SalesOrderLine(item=world.item_ids["CAP"], quantity=Decimal(10**30))],
        external_id=ExternalId("woo-sim-10"),
    )
    async with world.netsuite_client() as netsuite:
        with pytest.raises(InvalidPayload) as caught:
            await netsuite.create("salesOrder", draft)
    assert caught.value.status == 400
    assert caught.value.code == "INVALID_CONTENT"
    assert world.netsuite.stats.created["salesOrder"] == 0
    assert world.netsuite.sales_orders_by_woo_id() == {}


async def test_an_in_range_quantity_is_still_accepted() -> None:
    """The largest quantity below the bound is booked."""
    world = build_world()
    async with raw_client(world) as client:
        response = await client.post(SO, content=body(world, ', "quantity": 9999999999'))
    assert response.status_code == 204
    assert world.netsuite.stats.created["salesOrder"] == 1
