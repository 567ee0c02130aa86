"""The WooCommerce simulator finds products by SKU through an index, not a catalog scan.

Issue 12 item 5: per-request cost must not grow with the catalog, so neither a SKU lookup
nor a `?sku=` / `?include=` listing may walk every product. The index must also follow SKU
changes and deletions exactly as the scan did.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NoReturn

import httpx
import pytest

from nswoo.testing._clock import FakeClock
from nswoo.testing.woocommerce._sim import WooSimulator

pytestmark = pytest.mark.anyio

KEY, SECRET = "ck_test", "cs_test"
API = "/wp-json/wc/v3"


class _NoScan(dict[int, Any]):
    """The catalog, refusing to be walked: any full iteration fails the test."""

    def values(self) -> NoReturn:
        raise AssertionError("the catalog was scanned")

    def items(self) -> NoReturn:
        raise AssertionError("the catalog was scanned")

    def keys(self) -> NoReturn:
        raise AssertionError("the catalog was scanned")

    def __iter__(self) -> NoReturn:
        raise AssertionError("the catalog was scanned")


@pytest.fixture
def sim() -> WooSimulator:
    sim = WooSimulator(consumer_key=KEY, consumer_secret=SECRET, clock=FakeClock())
    for n in range(50):
        sim.add_product(f"SKU-{n}", price="5.00", stock_quantity=10)
    sim.add_variable_product("TEE", variations=[{"sku": "TEE-S", "price": "9.00"}])
    return sim


@pytest.fixture
async def client(sim: WooSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.url + API, auth=(KEY, SECRET)
    ) as http:
        yield http


def _forbid_scans(sim: WooSimulator) -> None:
    store = sim._store
    store.items = _NoScan(store.items)


async def test_sku_lookups_do_not_scan_the_catalog(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """`?sku=`, `?include=`, an order line by SKU and `id_for_sku` answer without a scan."""
    wanted = sim.id_for_sku("SKU-7")
    _forbid_scans(sim)

    listed = await client.get("/products", params={"sku": "SKU-7,TEE-S,NOPE"})
    assert listed.status_code == 200
    assert sorted(p["sku"] for p in listed.json()) == ["SKU-7", "TEE-S"]

    included = await client.get("/products", params={"include": f"{wanted}"})
    assert [p["sku"] for p in included.json()] == ["SKU-7"]

    order = await client.post(
        "/orders", json={"status": "pending", "line_items": [{"sku": "SKU-3", "quantity": 2}]}
    )
    assert order.status_code == 201
    assert order.json()["line_items"][0]["product_id"] == sim.id_for_sku("SKU-3")


async def test_the_index_follows_sku_changes_and_deletions(
    sim: WooSimulator, client: httpx.AsyncClient
) -> None:
    """A renamed SKU is found under its new name only; a deleted product's SKU is free."""
    product = sim.id_for_sku("SKU-1")
    renamed = await client.put(f"/products/{product}", json={"sku": "SKU-1-NEW"})
    assert renamed.status_code == 200
    assert sim.id_for_sku("SKU-1-NEW") == product
    assert (await client.get("/products", params={"sku": "SKU-1"})).json() == []
    with pytest.raises(KeyError):
        sim.id_for_sku("SKU-1")

    # The old SKU can be taken by another product; the renamed one keeps its own.
    other = sim.id_for_sku("SKU-2")
    moved = await client.put(f"/products/{other}", json={"sku": "SKU-1"})
    assert moved.status_code == 200
    assert sim.id_for_sku("SKU-1") == other

    deleted = await client.delete(f"/products/{product}", params={"force": "true"})
    assert deleted.status_code == 200
    assert (await client.get("/products", params={"sku": "SKU-1-NEW"})).json() == []
    sim.add_product("SKU-1-NEW", price="1.00")
    assert sim.id_for_sku("SKU-1-NEW") != product

    duplicate = await client.post("/products", json={"sku": "SKU-1", "regular_price": "1"})
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "product_invalid_sku"
    assert duplicate.json()["data"]["resource_id"] == other
