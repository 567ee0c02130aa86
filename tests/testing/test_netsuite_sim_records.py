"""Record collections, DELETE, references, sublists and unsimulated types on the NetSuite simulator.

Sources: Oracle's REST web services help (ns-online-help): Collection Paging
(section_156414087576), Record Collection Filtering (section_1545222128), Deleting a Record
Instance (section_1545142287), Format of Selects and References (section_1545142037),
Accessing Subresources (section_159894563219).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from nswoo.testing.netsuite._sim import ItemSeed, NetSuiteSimulator

pytestmark = pytest.mark.anyio

RECORDS = "/services/rest/record/v1"
BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
NOT_SIMULATED = "NSWOO_SIMULATOR_UNSUPPORTED"


@pytest.fixture
def sim() -> NetSuiteSimulator:
    """One location, two items, five customers."""
    sim = NetSuiteSimulator("1234567_SB1")
    main = sim.add_location("Main")
    sim.add_item("WIDGET", cost="4.00", locations={main: 10})
    sim.add_item("GADGET", cost="9.00", locations={main: 3})
    for n in range(5):
        sim.add_customer(
            company_name=f"Shop {n}", email=f"buyer{n}@example.com", external_id=f"CUS-{n}"
        )
    return sim


@pytest.fixture
async def client(sim: NetSuiteSimulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the simulator's in-process transport with a bearer token."""
    headers = {"Authorization": f"Bearer {sim.mint_token()}"}
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.base_url, headers=headers
    ) as http:
        yield http


def error(response: httpx.Response) -> tuple[int, str]:
    """Status and first o:errorCode of an error answer."""
    return response.status_code, response.json()["o:errorDetails"][0]["o:errorCode"]


async def create_order(client: httpx.AsyncClient, **body: Any) -> str:
    """POST a sales order for customer 200 with one WIDGET line at location 1; its id."""
    order = {
        "entity": {"id": 200},
        "location": {"id": 1},
        "item": {"items": [{"item": {"id": 100}, "quantity": 4, "rate": 2.5}]},
        **body,
    }
    response = await client.post(f"{RECORDS}/salesOrder", json=order)
    assert response.status_code == 204, response.text
    return response.headers["location"].rsplit("/", 1)[1]


# -- listing -----------------------------------------------------------------------------------


async def test_listing_pages_like_oracles_example(client: httpx.AsyncClient) -> None:
    """GET customer?limit=2: ids with self links, next/last/self links, counts (Oracle)."""
    response = await client.get(f"{RECORDS}/customer", params={"limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == [
        {"links": [{"rel": "self", "href": f"{BASE}{RECORDS}/customer/{n}"}], "id": str(n)}
        for n in (200, 201)
    ]
    assert (body["count"], body["hasMore"], body["offset"], body["totalResults"]) == (2, True, 0, 5)
    assert body["links"] == [
        {"rel": "next", "href": f"{BASE}{RECORDS}/customer?limit=2&offset=2"},
        {"rel": "last", "href": f"{BASE}{RECORDS}/customer?limit=2&offset=4"},
        {"rel": "self", "href": f"{BASE}{RECORDS}/customer?limit=2&offset=0"},
    ]


async def test_following_next_links_lists_every_record_once(client: httpx.AsyncClient) -> None:
    """Walking `next` from the first page yields all five customers, in id order."""
    seen: list[str] = []
    url: str | None = f"{RECORDS}/customer?limit=2"
    while url is not None:
        body = (await client.get(url)).json()
        seen += [item["id"] for item in body["items"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert seen == ["200", "201", "202", "203", "204"]


@pytest.mark.parametrize(
    ("q", "ids"),
    [
        ('email START_WITH "buyer1"', ["201"]),
        ('companyName IS_NOT "SHOP 3" AND id GREATER 202', ["204"]),
        ('companyName IS "shop 3"', ["203"]),  # strings compare without case
        ('companyName CONTAIN "op 2" OR externalId IS CUS-4', ["202", "204"]),
        ("id BETWEEN [201, 203] AND email END_WITH example.com", ["201", "202", "203"]),
        ("id ANY_OF [200, 204]", ["200", "204"]),
        ("id ANY_OF_NOT [200, 204]", ["201", "202", "203"]),
        ("(id LESS 202 OR id GREATER_OR_EQUAL 204) AND isPerson IS false", ["200", "201", "204"]),
        ("phone EMPTY", ["200", "201", "202", "203", "204"]),
        ("email EMPTY_NOT AND companyName START_WITH_NOT Shop", []),
    ],
)
async def test_q_filters_the_collection(client: httpx.AsyncClient, q: str, ids: list[str]) -> None:
    """`q` conditions per Oracle's operator table, joined with AND/OR and parentheses."""
    response = await client.get(f"{RECORDS}/customer", params={"q": q})
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == ids


async def test_q_travels_in_the_paging_links(client: httpx.AsyncClient) -> None:
    """The next page of a filtered list is filtered the same way."""
    first = (
        await client.get(f"{RECORDS}/customer", params={"q": "id GREATER 200", "limit": 2})
    ).json()
    following = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "q=id%20GREATER%20200" in following
    assert [item["id"] for item in (await client.get(following)).json()["items"]] == ["203", "204"]


@pytest.mark.parametrize(
    "q",
    [
        "nosuchfield IS x",
        "email GREATER 3",
        "id EQUAL abc",
        "(id EQUAL 1",
        "email",
        "id BETWEEN [1]",
    ],
)
async def test_bad_filters_are_the_observed_invalid_query(
    client: httpx.AsyncClient, q: str
) -> None:
    """Unknown fields, operators not for the type and bad syntax: 400 INVALID_PARAMETER on q."""
    response = await client.get(f"{RECORDS}/customer", params={"q": q})
    assert error(response) == (400, "INVALID_PARAMETER")
    assert response.json()["o:errorDetails"][0]["o:errorQueryParam"] == "q"


async def test_date_filters_are_not_simulated(client: httpx.AsyncClient) -> None:
    """A date condition (user-preference date format) gets the simulator's 501."""
    response = await client.get(
        f"{RECORDS}/customer", params={"q": 'dateCreated ON_OR_AFTER "1/1/2024"'}
    )
    assert error(response) == (501, NOT_SIMULATED)


async def test_listing_offset_must_be_a_multiple_of_the_limit(client: httpx.AsyncClient) -> None:
    """offset=1 with limit=2 is refused on record collections too."""
    response = await client.get(f"{RECORDS}/customer", params={"limit": 2, "offset": 1})
    assert error(response) == (400, "INVALID_PARAMETER")


async def test_sales_orders_list_with_custom_field_filter(
    sim: NetSuiteSimulator, client: httpx.AsyncClient
) -> None:
    """Sales orders filter on their custom body fields; customers are not listed with them."""
    first = await create_order(client, custbody_nswoo_woo_order_id="40001")
    await create_order(client, custbody_nswoo_woo_order_id="40002")
    response = await client.get(
        f"{RECORDS}/salesOrder", params={"q": "custbody_nswoo_woo_order_id IS 40001"}
    )
    assert [item["id"] for item in response.json()["items"]] == [first]


# -- DELETE ------------------------------------------------------------------------------------


async def test_delete_answers_204_and_releases_the_orders_stock(
    sim: NetSuiteSimulator, client: httpx.AsyncClient
) -> None:
    """DELETE salesOrder: 204 without a body, stock uncommitted, gone, external id free again."""
    order = await create_order(client, externalId="woo-main-1")
    assert sim.balance(100, 1) == (10, 4)
    response = await client.delete(f"{RECORDS}/salesOrder/{order}")
    assert (response.status_code, response.content) == (204, b"")
    assert sim.balance(100, 1) == (10, 0)
    assert (await client.get(f"{RECORDS}/salesOrder/{order}")).status_code == 404
    assert (await client.get(f"{RECORDS}/salesOrder/eid:woo-main-1")).status_code == 404
    again = await create_order(client, externalId="woo-main-1")
    assert again != order


async def test_a_customer_with_orders_is_not_deleted(client: httpx.AsyncClient) -> None:
    """DELETE a customer its orders refer to: 400 USER_ERROR; once they are gone, 204."""
    order = await create_order(client)
    refused = await client.delete(f"{RECORDS}/customer/200")
    assert error(refused) == (400, "USER_ERROR")
    assert (await client.get(f"{RECORDS}/customer/200")).status_code == 200
    await client.delete(f"{RECORDS}/salesOrder/{order}")
    assert (await client.delete(f"{RECORDS}/customer/200")).status_code == 204
    assert (await client.get(f"{RECORDS}/customer/eid:CUS-0")).status_code == 404


async def test_delete_of_a_missing_record_is_404(client: httpx.AsyncClient) -> None:
    """Deleting an id that does not exist is the simulator's 404, nothing else changes."""
    assert (await client.delete(f"{RECORDS}/salesOrder/999999")).status_code == 404


# -- references and sublists -------------------------------------------------------------------


async def test_references_carry_links_and_ref_names(client: httpx.AsyncClient) -> None:
    """entity and location show id, refName and a self link to the referenced record."""
    order = await create_order(client)
    body = (await client.get(f"{RECORDS}/salesOrder/{order}")).json()
    assert body["entity"] == {
        "links": [{"rel": "self", "href": f"{BASE}{RECORDS}/customer/200"}],
        "id": "200",
        "refName": "Shop 0",
    }
    assert body["location"]["refName"] == "Main"
    assert body["status"] == {"id": "B", "refName": "Pending Fulfillment"}
    customer = await client.get(body["entity"]["links"][0]["href"])
    assert customer.json()["companyName"] == "Shop 0"


async def test_sublist_links_resolve_to_the_lines(client: httpx.AsyncClient) -> None:
    """The advertised item sublist link answers 200, and each line's link its line."""
    order = await create_order(client)
    body = (await client.get(f"{RECORDS}/salesOrder/{order}")).json()
    sublist = await client.get(body["item"]["links"][0]["href"])
    assert sublist.status_code == 200
    [line_link] = sublist.json()["items"]
    line = await client.get(line_link["links"][0]["href"])
    assert line.status_code == 200
    assert line.json()["item"]["refName"] == "WIDGET"
    assert (line.json()["quantity"], line.json()["amount"]) == (4, 10)
    expanded = await client.get(f"{RECORDS}/salesOrder/{order}/item?expandSubResources=true")
    assert expanded.json()["items"] == [line.json()]
    assert (await client.get(f"{RECORDS}/salesOrder/{order}/item/7")).status_code == 404


# -- not simulated ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{RECORDS}/invoice/1"),
        ("GET", f"{RECORDS}/inventoryItem"),
        ("POST", f"{RECORDS}/vendor"),
        ("GET", f"{RECORDS}/salesOrder/1000/billingaddress"),
        ("GET", f"{RECORDS}/metadata-catalog/invoice"),
        ("GET", "/services/rest/async/v1/job/1"),
        ("GET", "/services/rest/system/v1/governanceLimits"),
        ("DELETE", f"{RECORDS}/customer"),
    ],
)
async def test_unsimulated_types_and_routes_are_501_not_404(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    """What the simulator does not hold is its own 501, never NetSuite's 404 or user error."""
    response = await client.request(method, path, json={} if method == "POST" else None)
    assert error(response) == (501, NOT_SIMULATED)


# -- bulk seeding ------------------------------------------------------------------------------


async def test_bulk_items_and_orders_are_queryable(
    sim: NetSuiteSimulator, client: httpx.AsyncClient
) -> None:
    """add_items and add_sales_orders seed what SuiteQL and GET then show, stock committed."""
    ids = sim.add_items(ItemSeed(itemid=f"BULK-{n}", cost="1", on_hand={1: n}) for n in range(500))
    assert ids == list(range(ids[0], ids[0] + 500))
    orders = sim.add_sales_orders(
        {
            "entity": {"id": 201},
            "externalId": f"bulk-{n}",
            "item": {"items": [{"item": {"id": ids[n]}, "quantity": 1, "rate": 1}]},
        }
        for n in range(1, 11)
    )
    response = await client.post(
        "/services/rest/query/v1/suiteql",
        headers={"Prefer": "transient"},
        json={"q": "SELECT COUNT(*) AS n FROM item WHERE itemid LIKE 'BULK-%'"},
    )
    assert response.json()["items"][0]["n"] == 500
    assert sim.balance(ids[7], 1) == (7, 1)
    order = (await client.get(f"{RECORDS}/salesOrder/eid:bulk-3")).json()
    assert order["id"] == str(orders[2])
    with pytest.raises(ValueError, match="no location 99"):
        sim.add_items([ItemSeed(itemid="X", on_hand={99: 1})])
    with pytest.raises(ValueError, match="already exists"):
        sim.add_sales_orders(
            [
                {
                    "entity": {"id": 201},
                    "externalId": "BULK-3",
                    "item": {"items": [{"item": {"id": 100}}]},
                }
            ]
        )


def test_lookups_use_indexes_not_scans() -> None:
    """nswoo's lookups (external id without case, custom field, SKU, e-mail) SEARCH an index:
    their cost does not grow with the number of records."""
    sim = NetSuiteSimulator()
    db = sim._store.db
    queries = [
        "SELECT t.id FROM \"transaction\" t WHERE t.type = 'SalesOrd' AND (UPPER(t.externalid)"
        " IN ('WOO-1') OR (t.custbody_nswoo_woo_order_id IN ('1') AND t.externalid IS NULL))",
        "SELECT i.id FROM item i WHERE i.isinactive = 'F' AND i.itemid IN ('A', 'B')",
        "SELECT c.id FROM customer c WHERE c.isinactive = 'F' AND LOWER(c.email) IN ('a@b.c')",
        "SELECT a.item FROM aggregateItemLocation a WHERE a.item IN (100, 101)",
    ]
    for query in queries:
        plan = " ".join(str(row[3]) for row in db.execute("EXPLAIN QUERY PLAN " + query))
        assert "SEARCH" in plan, (query, plan)
        assert "SCAN" not in plan, (query, plan)
