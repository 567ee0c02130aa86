"""End to end on the simulators: WooCommerce delivers over HTTP, the worker imports once."""

from __future__ import annotations

import httpx
import pytest
from tests.orders.receiver._support import serving

from nswoo.orders._inbox import InboxWorker
from nswoo.orders._receiver import WebhookReceiver, asgi_app
from nswoo.orders._sync import OrderSync
from nswoo.store.memory import MemoryStore
from nswoo.testing import build_world
from nswoo.woocommerce._webhooks import sign_body

pytestmark = pytest.mark.anyio


async def test_webhook_deliveries_become_exactly_one_sales_order() -> None:
    """Created, updated and a resent duplicate delivery of one order end as one sales order."""
    world = build_world()
    store = MemoryStore()
    store_name = world.config.orders.store
    receiver = WebhookReceiver(
        store=store,
        store_name=store_name,
        secret=world.webhook_secret,
        max_body_bytes=world.config.webhooks.max_body_bytes,
    )
    async with world.netsuite_client() as netsuite:
        sync = OrderSync(
            netsuite=netsuite,
            woocommerce=None,
            store=store,
            config=world.config.orders,
            clock=world.clock,
        )
        worker = InboxWorker(store=store, order_sync=sync, owner="e2e")
        async with serving(asgi_app(receiver)) as base, httpx.AsyncClient() as http:
            for topic in ("order.created", "order.updated"):
                world.woocommerce.subscribe(f"{base}/webhooks/woocommerce", topic)
            order = world.woocommerce.place_order([("MUG-BLUE", 2), ("TEE-S", 1)])
            first = await world.woocommerce.deliver_pending(http)
            world.woocommerce.modify_order(order["id"], customer_note="leave at the door")
            second = await world.woocommerce.deliver_pending(http)
            resent = first[0]
            duplicate = await http.post(
                f"{base}/webhooks/woocommerce",
                content=resent.body,
                headers={
                    "X-WC-Webhook-Topic": resent.topic,
                    "X-WC-Webhook-Delivery-ID": resent.delivery_id or "",
                    "X-WC-Webhook-Signature": sign_body(resent.body, world.webhook_secret),
                },
            )
        report = await worker.drain_once()
    assert [r.status_code for r in (*first, *second)] == [200] * len(first + second)
    assert duplicate.json()["status"] == "duplicate"
    assert receiver.stats.accepted == len(first + second) >= 2
    assert report.count("imported") == 1
    assert report.count("already_imported") == len(report.results) - 1
    [sales_order] = world.netsuite.sales_orders_by_woo_id()[str(order["id"])]
    link = await store.order_links.get(store_name, order["id"])
    assert link is not None
    assert link.sales_order_id == str(sales_order)
    assert await store.inbox.pending_count() == 0
