"""Hostile: two WooCommerce stores on one store file, with overlapping order ids.

Found by hostile testing: with `[orders] store = "main"` and `"outlet"`, one `webhooks serve`
each and one SQLite file, a worker took the other store's deliveries (`Inbox.take()` did not
filter by store) and booked them with its own mapping: `woo-outlet-112` carried main's goods,
`woo-main-114..117` outlet's, and the stores' own deliveries of those orders then answered
"already imported", so some orders got no sales order of their own and no dead letter.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import attrs
import httpx
import pytest
from tests.orders.receiver._support import serving

from nswoo.orders._inbox import InboxWorker
from nswoo.orders._receiver import WebhookReceiver, asgi_app
from nswoo.orders._sync import OrderSync
from nswoo.store.sqlite import SqliteStore
from nswoo.testing import FakeClock, build_world

pytestmark = pytest.mark.anyio

ORDERS = 6


async def test_two_stores_sharing_a_file_each_book_only_their_own_orders(tmp_path: Path) -> None:
    """Every order of each store gets one sales order, under its store, with its own goods."""
    clock = FakeClock()
    world = build_world(store="main", clock=clock)  # NetSuite, and the "main" shop
    outlet_shop = build_world(store="outlet", clock=clock).woocommerce  # numbers orders alike
    configs = {
        "main": world.config.orders,
        "outlet": attrs.evolve(world.config.orders, store="outlet"),
    }
    goods = {"main": "MUG-BLUE", "outlet": "CAP"}
    shops = {"main": world.woocommerce, "outlet": outlet_shop}

    async with (
        await SqliteStore.open(tmp_path / "nswoo.db", clock=clock) as store,
        world.netsuite_client() as netsuite,
    ):
        receivers = {
            name: WebhookReceiver(
                store=store,
                store_name=name,
                secret=world.webhook_secret,
                max_body_bytes=world.config.webhooks.max_body_bytes,
            )
            for name in shops
        }
        async with (
            serving(asgi_app(receivers["main"])) as main_url,
            serving(asgi_app(receivers["outlet"])) as outlet_url,
            httpx.AsyncClient() as http,
        ):
            for name, url in (("main", main_url), ("outlet", outlet_url)):
                shops[name].subscribe(f"{url}/webhooks/woocommerce", "order.created")
            placed = {
                name: [shop.place_order([(goods[name], 1)])["id"] for _ in range(ORDERS)]
                for name, shop in shops.items()
            }
            delivered = [r for shop in shops.values() for r in await shop.deliver_pending(http)]
        assert placed["main"] == placed["outlet"], "the two shops must number orders alike"
        assert [r.status_code for r in delivered] == [200] * (2 * ORDERS)

        workers = {
            name: InboxWorker(
                store=store,
                order_sync=OrderSync(
                    netsuite=netsuite, woocommerce=None, store=store, config=config, clock=clock
                ),
                owner=f"serve-{name}",
                batch=4,
                clock=clock,
            )
            for name, config in configs.items()
        }
        # Both workers drain at once, as two `webhooks serve` processes would.
        with anyio.fail_after(30):
            while await store.inbox.pending_count():
                async with anyio.create_task_group() as tg:
                    for worker in workers.values():
                        tg.start_soon(worker.drain_once)
        letters = await store.dead_letters.list()

    assert letters == []
    booked = world.netsuite.sales_orders_by_woo_id()
    item_ids = {sku: str(item) for sku, item in world.item_ids.items()}
    for name, order_ids in placed.items():
        for order_id in order_ids:
            found = [world.netsuite.sales_order(so) for so in booked[str(order_id)]]
            mine = [so for so in found if so["externalId"] == f"woo-{name}-{order_id}"]
            assert len(mine) == 1, f"{name} order {order_id}: {[so['externalId'] for so in found]}"
            lines = [line["item"]["id"] for line in mine[0]["item"]["items"]]
            assert lines == [item_ids[goods[name]]], f"{name} order {order_id} booked {lines}"
        assert len(booked[str(order_ids[0])]) == 2  # one per shop, never more


async def test_each_receivers_health_counts_its_own_stores_inbox(tmp_path: Path) -> None:
    """`/healthz` of one store's receiver reports that store's pending deliveries only."""
    world = build_world(store="main")
    body = {"main": b'{"id": 112, "status": "processing"}', "outlet": b'{"id": 112}'}
    async with await SqliteStore.open(tmp_path / "nswoo.db") as store:
        for name, count in (("main", 2), ("outlet", 3)):
            for n in range(count):
                await store.inbox.put(
                    name, f"d-{n}", topic="order.created", order_id=112, body=body[name]
                )
        pending = {}
        for name in ("main", "outlet"):
            receiver = WebhookReceiver(
                store=store,
                store_name=name,
                secret=world.webhook_secret,
                max_body_bytes=world.config.webhooks.max_body_bytes,
            )
            async with serving(asgi_app(receiver)) as url, httpx.AsyncClient() as http:
                pending[name] = (await http.get(f"{url}/healthz")).json()["inbox_pending"]

    assert pending == {"main": 2, "outlet": 3}
