"""`item_balances`: every (item, location) row once, past page and query caps, filtered."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from nswoo._settings import NetSuiteSettings, Secret, TbaCredentials
from nswoo.inventory import StockSync
from nswoo.limits._local import UnlimitedLimiter
from nswoo.netsuite import NetSuiteClient, TbaAuth
from nswoo.netsuite._queries import ItemBalance, item_balances
from nswoo.store import open_store
from nswoo.testing import CatalogItem, FakeClock, build_world

pytestmark = pytest.mark.anyio


def big_world(items: int, *, max_results: int = 100_000) -> Any:
    world = build_world(catalog=())
    world.netsuite.suiteql_max_results = max_results
    east = world.netsuite.add_location("East")
    west = world.netsuite.add_location("West")
    for n in range(items):
        stock = {east: n % 7, west: n % 5} if n % 10 else {}  # every tenth: no balance row
        world.netsuite.add_item(f"SKU-{n:05d}", cost=None, locations=stock)
    world.netsuite.add_item("SERVICE", cost=None, item_type="NonInvtPart", locations={east: 3})
    world.netsuite.add_item("GONE", cost=None, inactive=True, locations={east: 3})
    return world, east, west


def expected(items: int, east: int, west: int, locations: tuple[int, ...] = ()) -> set[Any]:
    rows: set[Any] = set()
    for n in range(items):
        sku = f"SKU-{n:05d}"
        if n % 10 == 0:
            rows.add((sku, None, None))
            continue
        for location, qty in ((east, n % 7), (west, n % 5)):
            if not locations or location in locations:
                rows.add((sku, location, Decimal(qty)))
    return rows


def shape(rows: list[ItemBalance]) -> list[Any]:
    return [(row.sku, row.location, row.on_hand) for row in rows]


@pytest.mark.parametrize("partitions", [1, 4])
async def test_every_row_once_past_the_page_and_query_caps(partitions: int) -> None:
    """2,200 items x 2 locations: 4,000 rows in pages of 1000, past a 1,000-result cap per
    query (keyset, never an offset), one row per item without a balance, non-stock and
    inactive items left out; the same with the id range split in parallel."""
    world, east, west = big_world(2200, max_results=1000)
    async with world.netsuite_client() as ns:
        rows = await item_balances(ns, partitions=partitions)
    got = shape(rows)
    assert len(got) == len(set(got))
    assert set(got) == expected(2200, east, west)
    # The simulator refuses offset + limit past 1,000 results: only keyset pages get here.
    queries = [q for q in world.netsuite.query_log if "aggregateItemLocation" in q]
    assert len(queries) >= 5
    split = [q for q in world.netsuite.query_log if "MAX(i.id)" in q]
    assert len(split) == (1 if partitions > 1 else 0)


async def test_location_filter_and_named_skus() -> None:
    """Only the locations asked for are read; with SKUs, only those items."""
    world, east, west = big_world(30)
    async with world.netsuite_client() as ns:
        only_east = await item_balances(ns, locations=[east])
        named = await item_balances(ns, skus=["SKU-00003", "SKU-00010", "NOPE"])
    assert set(shape(only_east)) == expected(30, east, west, (east,))
    assert sorted(shape(named), key=str) == sorted(
        [
            ("SKU-00003", east, Decimal(3)),
            ("SKU-00003", west, Decimal(3)),
            ("SKU-00010", None, None),
        ],
        key=str,
    )


async def test_the_sku_column_is_the_configured_one() -> None:
    """`column` picks the item column matched to WooCommerce SKUs (`[orders] item_match`)."""
    world, east, _ = big_world(3)
    async with world.netsuite_client() as ns:
        rows = await item_balances(ns, column="displayname", locations=[east])
    assert {row.sku for row in rows} == {"SKU-00000", "SKU-00001", "SKU-00002"}


SUITEQL = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql"


def fake_netsuite(items: list[dict[str, Any]]) -> tuple[NetSuiteClient, list[str]]:
    """A client whose SuiteQL answers `items` on one page (shapes NetSuite may send)."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["q"])
        return httpx.Response(
            200,
            json={"links": [], "count": len(items), "hasMore": False, "items": items},
        )

    tba = TbaCredentials(
        consumer_key="ck", consumer_secret=Secret("cs"), token_id="t", token_secret=Secret("s")
    )
    settings = NetSuiteSettings(
        environment="sandbox",
        account_id="1234567_SB1",
        auth=tba,
        base_url="https://1234567-sb1.suitetalk.api.netsuite.com",
    )
    clock = FakeClock()
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = NetSuiteClient(
        settings,
        http=http,
        limiter=UnlimitedLimiter(),
        auth=TbaAuth(tba, realm=settings.realm, clock=clock),
        clock=clock,
        owns_http=True,
    )
    return client, seen


async def test_null_missing_and_odd_quantities_are_read_as_unknown() -> None:
    """NetSuite may leave a NULL column out of a row or send numbers as text: a missing or
    unreadable quantity is None (reported by the calculator), a textual number is read."""
    client, _ = fake_netsuite(
        [
            {"links": [], "item_id": 5, "sku": "A", "location": 1, "quantityonhand": "7.5"},
            {"links": [], "item_id": 6, "sku": "B", "location": "2", "quantitycommitted": 1},
            {
                "links": [],
                "item_id": 7,
                "sku": "C",
                "location": 1,
                "quantityonhand": "lots",
                "quantitycommitted": None,
            },
            {"links": [], "item_id": 8, "location": 1, "quantityonhand": 3},
        ]
    )
    async with client:
        rows = await item_balances(client)
    assert [(r.sku, r.location, r.on_hand, r.committed) for r in rows] == [
        ("A", 1, Decimal("7.5"), None),
        ("B", 2, None, Decimal(1)),
        ("C", 1, None, None),
    ]


async def test_null_quantities_reach_the_report_by_name() -> None:
    """End to end: a balance row without numbers is counted as 0 and named in the report."""
    world = build_world(catalog=(CatalogItem("A", Decimal(1), None, {"Main": 1}, woo_stock=5),))
    client, _ = fake_netsuite(
        [{"links": [], "item_id": 100, "sku": "A", "location": 1, "quantityonhand": 4}]
    )
    async with client, world.woo_client() as woo, await open_store("memory://") as store:
        sync = StockSync(netsuite=client, woocommerce=woo, store=store, config=world.config)
        report = await sync.sync()
    assert [(p.subject, p.kind) for p in report.problems] == [("A", "null_quantity")]
    assert world.woocommerce.stock_of("A") == 4
