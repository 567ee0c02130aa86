"""SuiteQL's Oracle forms return the rows of their plain equivalents; the rest is "not simulated".

Forms and their semantics, with sources, are in `nswoo.testing.netsuite._suiteql`'s docstring:
`BUILTIN.DF` (Oracle, article_1029114613), `ROWNUM` (timdietrich.me, netsuite-suiteql-
pagination: numbered after the filters, before sorting), `SYSDATE` and `TO_DATE` (Oracle SQL
Reference), `FETCH FIRST n ROWS ONLY` (Oracle row limiting clause).
"""

# SuiteQL text here is built from test constants.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from nswoo.testing._clock import FakeClock
from nswoo.testing.netsuite._sim import NetSuiteSimulator

pytestmark = pytest.mark.anyio

SUITEQL = "/services/rest/query/v1/suiteql"
TRANSIENT = {"Prefer": "transient"}
NOT_SIMULATED = "NSWOO_SIMULATOR_UNSUPPORTED"
# 2024-03-15 12:00:00 UTC
NOW = datetime(2024, 3, 15, 12, tzinfo=UTC).timestamp()


@pytest.fixture
def sim() -> NetSuiteSimulator:
    """Two locations, six items, three customers, three sales orders, clock at NOW."""
    sim = NetSuiteSimulator("1234567_SB1", clock=FakeClock(epoch=NOW))
    main = sim.add_location("Main")
    overflow = sim.add_location("Overflow")
    items = [
        sim.add_item(f"SKU-{n}", cost="1.00", locations={main: n, overflow: 1}) for n in range(6)
    ]
    customers = [sim.add_customer(company_name=f"Shop {n}") for n in range(3)]
    for n, customer in enumerate(customers):
        sim.add_sales_orders(
            [
                {
                    "entity": {"id": customer},
                    "location": {"id": main},
                    "item": {"items": [{"item": {"id": items[n]}, "quantity": 1, "rate": 5}]},
                }
            ]
        )
    return sim


@pytest.fixture
async def client(sim: NetSuiteSimulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the simulator's in-process transport with a bearer token."""
    headers = {"Authorization": f"Bearer {sim.mint_token()}", **TRANSIENT}
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.base_url, headers=headers
    ) as http:
        yield http


async def rows(client: httpx.AsyncClient, query: str, **params: int) -> list[dict[str, Any]]:
    """Every item of a query's first page, without the per-row `links`."""
    response = await client.post(SUITEQL, params=params, json={"q": query})
    assert response.status_code == 200, response.text
    return [{k: v for k, v in row.items() if k != "links"} for row in response.json()["items"]]


async def refusal(client: httpx.AsyncClient, query: str) -> tuple[int, str, str]:
    """Status, error code and detail of a refused query."""
    response = await client.post(SUITEQL, json={"q": query})
    detail = response.json()["o:errorDetails"][0]
    return response.status_code, detail["o:errorCode"], detail["detail"]


# -- BUILTIN.DF --------------------------------------------------------------------------------


async def test_builtin_df_of_references_equals_the_joined_display_columns(
    client: httpx.AsyncClient,
) -> None:
    """DF(entity), DF(location), DF(item) and DF(type) are the joined names and 'Sales Order'."""
    translated = await rows(
        client,
        "SELECT t.id, BUILTIN.DF(t.entity) AS customer, BUILTIN.DF(t.location) AS site,"
        " BUILTIN.DF(tl.item) AS sku, BUILTIN.DF(t.type) AS kind"
        " FROM transaction t JOIN transactionLine tl ON tl.transaction = t.id"
        " WHERE tl.mainline = 'F' ORDER BY t.id",
    )
    plain = await rows(
        client,
        "SELECT t.id, c.entityid AS customer, l.name AS site, i.itemid AS sku,"
        " 'Sales Order' AS kind FROM transaction t"
        " JOIN transactionLine tl ON tl.transaction = t.id"
        " JOIN customer c ON c.id = t.entity JOIN location l ON l.id = t.location"
        " JOIN item i ON i.id = tl.item WHERE tl.mainline = 'F' ORDER BY t.id",
    )
    assert translated == plain
    assert [row["customer"] for row in translated] == ["Shop 0", "Shop 1", "Shop 2"]
    assert {row["kind"] for row in translated} == {"Sales Order"}


async def test_builtin_df_of_a_plain_column_is_the_column(client: httpx.AsyncClient) -> None:
    """The display value of free text is the text itself (bare column or alias.column)."""
    assert await rows(client, "SELECT BUILTIN.DF(itemid) AS v FROM item ORDER BY id") == await rows(
        client, "SELECT itemid AS v FROM item ORDER BY id"
    )


# -- ROWNUM ------------------------------------------------------------------------------------


async def test_rownum_condition_keeps_the_first_rows(client: httpx.AsyncClient) -> None:
    """WHERE ROWNUM <= 3 (and < 4, BETWEEN 1 AND 3) keeps the first three rows."""
    plain = (await rows(client, "SELECT id FROM item WHERE cost > 0 ORDER BY id"))[:3]
    for condition in ("ROWNUM <= 3", "ROWNUM < 4", "3 >= ROWNUM", "ROWNUM BETWEEN 1 AND 3"):
        assert await rows(client, f"SELECT id FROM item WHERE cost > 0 AND {condition}") == plain
    assert await rows(client, "SELECT id FROM item WHERE ROWNUM = 1") == plain[:1]


async def test_rownum_greater_than_one_keeps_nothing_as_in_oracle(
    client: httpx.AsyncClient,
) -> None:
    """ROWNUM > 1 and ROWNUM = 2 match no row: the first candidate is always numbered 1."""
    assert await rows(client, "SELECT id FROM item WHERE ROWNUM > 1") == []
    assert await rows(client, "SELECT id FROM item WHERE ROWNUM = 2") == []


async def test_rownum_paging_idiom_equals_order_by_with_offset(client: httpx.AsyncClient) -> None:
    """The subquery idiom numbers rows of the ordered inner query, like OFFSET/FETCH does."""
    idiom = await rows(
        client,
        "SELECT * FROM (SELECT ROWNUM AS rn, x.id FROM"
        " (SELECT id FROM item ORDER BY itemid DESC) x) WHERE rn BETWEEN 3 AND 4",
    )
    plain = await rows(client, "SELECT id FROM item ORDER BY itemid DESC", limit=2, offset=2)
    assert [row["id"] for row in idiom] == [row["id"] for row in plain]
    assert [row["rn"] for row in idiom] == [3, 4]
    top = await rows(
        client, "SELECT * FROM (SELECT id FROM item ORDER BY id DESC) WHERE ROWNUM <= 2"
    )
    assert top == (await rows(client, "SELECT id FROM item ORDER BY id DESC"))[:2]


# -- FETCH FIRST -------------------------------------------------------------------------------


async def test_fetch_first_equals_the_first_page(client: httpx.AsyncClient) -> None:
    """FETCH FIRST 2 ROWS ONLY, and OFFSET 2 ROWS FETCH NEXT 2, match limit/offset paging."""
    ordered = "SELECT id, itemid FROM item ORDER BY itemid DESC"
    assert await rows(client, f"{ordered} FETCH FIRST 2 ROWS ONLY") == await rows(
        client, ordered, limit=2
    )
    assert await rows(client, f"{ordered} OFFSET 2 ROWS FETCH NEXT 2 ROWS ONLY") == await rows(
        client, ordered, limit=2, offset=2
    )
    assert await rows(client, f"{ordered} FETCH FIRST 1 ROW ONLY") == await rows(
        client, ordered, limit=1
    )


async def test_fetch_first_counts_only_the_rows_it_keeps(client: httpx.AsyncClient) -> None:
    """totalResults is the number of rows the limited query returns, and pages within it."""
    response = await client.post(
        SUITEQL,
        params={"limit": 2, "offset": 2},
        json={"q": "SELECT id FROM item ORDER BY id FETCH FIRST 3 ROWS ONLY"},
    )
    body = response.json()
    assert (body["totalResults"], body["count"], body["hasMore"]) == (3, 1, False)


# -- SYSDATE and TO_DATE -----------------------------------------------------------------------


async def test_sysdate_reads_the_simulator_clock(client: httpx.AsyncClient) -> None:
    """SYSDATE is the simulator's now; TRUNC(SYSDATE) - 1 is yesterday; unaliased keys keep
    their expression's text."""
    [row] = await rows(
        client, "SELECT SYSDATE, TRUNC(SYSDATE) - 1 AS yesterday FROM item WHERE ROWNUM = 1"
    )
    assert row == {"sysdate": "2024-03-15 12:00:00", "yesterday": "2024-03-14"}


async def test_date_filters_equal_their_iso_literals(client: httpx.AsyncClient) -> None:
    """TO_DATE and SYSDATE arithmetic filter date columns as the equivalent ISO literals do."""
    plain_after = await rows(client, "SELECT id FROM item WHERE lastmodifieddate >= '2024-03-08'")
    assert plain_after  # seeded today
    for form in (
        "TO_DATE('2024-03-08', 'YYYY-MM-DD')",
        "TO_DATE('03/08/2024', 'MM/DD/YYYY')",
        "TO_DATE('8-MAR-2024', 'DD-MON-YYYY')",
        "SYSDATE - 7.5",
        "TRUNC(SYSDATE) - 7",
    ):
        assert await rows(client, f"SELECT id FROM item WHERE lastmodifieddate >= {form}") == (
            plain_after
        )
    later = "TO_DATE('2024-03-15 00:00:01', 'YYYY-MM-DD HH24:MI:SS')"
    assert await rows(client, f"SELECT id FROM item WHERE lastmodifieddate >= {later}") == []


# -- not simulated, and user errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("SELECT id FROM item START WITH id = 100 CONNECT BY PRIOR id = id", "hierarchical"),
        ("SELECT i.id FROM item i, aggregateItemLocation a WHERE i.id = a.item(+)", "(+)"),
        ("SELECT BUILTIN.CF(itemid) FROM item", "BUILTIN.CF"),
        ("SELECT BUILTIN.DF(status) FROM transaction", "BUILTIN.DF on transaction.status"),
        ("SELECT DECODE(id, 100, 'a', 'b') FROM item", "DECODE"),
        ("SELECT TO_CHAR(id) FROM item", "TO_CHAR"),
        ("SELECT id FROM item WHERE lastmodifieddate > TO_DATE('1/2/2024')", "TO_DATE"),
        ("SELECT id FROM item WHERE ROWNUM <= 2 ORDER BY id DESC", "ORDER BY"),
        ("SELECT COUNT(*) FROM item WHERE ROWNUM <= 2", "aggregates"),
        ("SELECT id FROM item WHERE lastmodifieddate - 7 > '2024-01-01'", "date arithmetic"),
        ("SELECT id FROM item FETCH FIRST 10 PERCENT ROWS ONLY", "PERCENT"),
        ("SELECT id FROM item ORDER BY id FETCH FIRST 1 ROWS WITH TIES", "WITH TIES"),
        ("SELECT IFNULL(id, 0) FROM item", "IFNULL"),
    ],
)
async def test_unsimulated_forms_get_501_never_a_user_error(
    client: httpx.AsyncClient, query: str, named: str
) -> None:
    """Each form is answered 501 NSWOO_SIMULATOR_UNSUPPORTED naming what is not simulated."""
    status, code, detail = await refusal(client, query)
    assert (status, code) == (501, NOT_SIMULATED)
    assert named in detail
    assert detail.startswith("The nswoo NetSuite simulator does not simulate")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT nosuchcolumn FROM item",
        "SELECT id FROM nosuchtable",
        "SELECT id FROM item WHERE lastmodifieddate > TO_DATE('2024', 'YYYY-MM')",
        "SELECT id FROM item WHERE",
    ],
)
async def test_wrong_queries_stay_netsuite_user_errors(
    client: httpx.AsyncClient, query: str
) -> None:
    """A query NetSuite would refuse gets its 400 INVALID_PARAMETER, not the 501."""
    assert (await refusal(client, query))[:2] == (400, "INVALID_PARAMETER")


# -- paging ------------------------------------------------------------------------------------


async def test_paging_links_name_first_prev_next_and_last(client: httpx.AsyncClient) -> None:
    """A middle page links to the first, previous, next and last pages, and itself."""
    response = await client.post(
        SUITEQL, params={"limit": 2, "offset": 2}, json={"q": "SELECT id FROM item ORDER BY id"}
    )
    links = {link["rel"]: link["href"] for link in response.json()["links"]}
    base = "https://1234567-sb1.suitetalk.api.netsuite.com" + SUITEQL
    assert links == {
        "first": f"{base}?limit=2&offset=0",
        "prev": f"{base}?limit=2&offset=0",
        "next": f"{base}?limit=2&offset=4",
        "last": f"{base}?limit=2&offset=4",
        "self": f"{base}?limit=2&offset=2",
    }
    last = await client.post(
        SUITEQL, params={"limit": 2, "offset": 4}, json={"q": "SELECT id FROM item ORDER BY id"}
    )
    assert [link["rel"] for link in last.json()["links"]] == ["first", "prev", "self"]


async def test_offset_not_a_multiple_of_the_limit_is_refused(
    client: httpx.AsyncClient,
) -> None:
    """offset=3 with limit=2 is 400 INVALID_PARAMETER naming the offset (community report)."""
    response = await client.post(
        SUITEQL, params={"limit": 2, "offset": 3}, json={"q": "SELECT id FROM item"}
    )
    detail = response.json()["o:errorDetails"][0]
    assert response.status_code == 400
    assert (detail["o:errorCode"], detail["o:errorQueryParam"]) == ("INVALID_PARAMETER", "offset")


async def test_any_offset_when_the_rule_is_switched_off() -> None:
    """offsets_multiple_of_limit=False serves offset=3 with limit=2."""
    sim = NetSuiteSimulator(offsets_multiple_of_limit=False)
    main = sim.add_location("Main")
    for n in range(5):
        sim.add_item(f"S{n}", cost=None, locations={main: 1})
    headers = {"Authorization": f"Bearer {sim.mint_token()}", **TRANSIENT}
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.base_url, headers=headers
    ) as http:
        response = await http.post(
            SUITEQL,
            params={"limit": 2, "offset": 3},
            json={"q": "SELECT itemid FROM item ORDER BY id"},
        )
    assert [row["itemid"] for row in response.json()["items"]] == ["S3", "S4"]
