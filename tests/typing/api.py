"""Pins the public API's types: type-checked by mypy (strict) in CI, never executed.

If a public signature changes in a way users would feel, this file stops type-checking.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import nswoo
from nswoo import errors
from nswoo.clock import Clock
from nswoo.http import BearerAuth, RequestAuth, RetryPolicy, TokenSource
from nswoo.limits import Limiter, LimiterStats, LocalLimiter
from nswoo.netsuite import ExternalId, NetSuiteClient, open_netsuite
from nswoo.netsuite.suiteql import suiteql_query, text
from nswoo.orders import ImportPlan, plan_import
from nswoo.settings import NetSuiteSettings
from nswoo.testing import FakeClock, MemoryStore, build_world
from nswoo.woocommerce import Delivery, Ping, WooClient, WooOrder, structure_order, verify_delivery


async def settings_and_config(environ: dict[str, str]) -> None:
    settings: nswoo.Settings = nswoo.from_env("sandbox", environ)
    env: nswoo.Environment = settings.environment
    assert settings.netsuite is not None
    account: str = settings.netsuite.account_id
    secret: nswoo.Secret = nswoo.Secret("x")
    revealed: str = secret.reveal()
    config: nswoo.Config = nswoo.parse_config('[orders]\nstore = "main"\ncustomer = { id = 1 }')
    store_name: str = config.orders.store
    del env, account, revealed, store_name


async def limits(source: TokenSource) -> None:
    clock: Clock = FakeClock()
    limiter: Limiter = LocalLimiter(5, clock=clock)
    auth: RequestAuth = BearerAuth(source, clock=clock)
    policy = RetryPolicy(attempts=3)
    stats: LimiterStats = limiter.stats()
    cap: int = stats.cap
    del cap, auth, policy


async def clients(settings: NetSuiteSettings) -> None:
    async with open_netsuite(settings) as ns:
        client: NetSuiteClient = ns
        new_id: str = await client.create("salesOrder", {"entity": {"id": 1}})
        record: dict[str, object] = await client.get("salesOrder", ExternalId("woo-main-1"))
        query = suiteql_query("SELECT id FROM item WHERE itemid = {sku}", sku=text("A"))
        async for row in client.suiteql(query):
            value: object = row["id"]
            del value
        del new_id, record


async def orders(order: WooOrder, woo: WooClient) -> None:
    world = build_world()
    store = MemoryStore()
    sync = nswoo.OrderSync(
        netsuite=world.netsuite_client(),
        woocommerce=woo,
        store=store,
        config=world.config.orders,
    )
    result: nswoo.ImportResult = await sync.import_order(order)
    report: nswoo.SyncReport = await sync.sync(since=datetime.now().astimezone())
    plan: ImportPlan = plan_import(
        order,
        config=world.config.orders,
        items={"A": 1},
        customer_id=1,
        existing_sales_order_id=None,
    )
    total: Decimal = order.total
    structured: WooOrder = structure_order({"id": 1})
    del result, report, plan, total, structured


def webhooks(headers: dict[str, str], body: bytes, secret: nswoo.Secret) -> None:
    delivery: Delivery | Ping = verify_delivery(headers, body, secret=secret)
    del delivery


def error_tree(exc: errors.NswooError) -> None:
    if isinstance(exc, errors.ApiError):
        retryable: bool = exc.retryable
        after: float | None = exc.retry_after
        status: int | None = exc.status
        del retryable, after, status
