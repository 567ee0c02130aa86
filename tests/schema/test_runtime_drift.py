"""Schema drift at run time (issue 14, "Must show"), against the NetSuite simulator.

An admin adds a mandatory field, then renames the order custom field: orders are
dead-lettered with the field named, one alert per field (not per order), no sales order is
created; once fixed, each held order imports exactly once.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from nswoo._settings._mapping import OfficeHours
from nswoo.notify import Alert, MemoryPendingAlerts, Pager
from nswoo.orders._sync import OrderSync
from nswoo.schema import take_snapshot
from nswoo.schema._runtime import DriftAlerts
from nswoo.testing import MemoryStore, build_world

pytestmark = pytest.mark.anyio

ALWAYS = OfficeHours(days=(0, 1, 2, 3, 4, 5, 6), start=dt.time(0, 0), end=dt.time(23, 59, 59))
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


class Recorder:
    channel = "recorder"

    def __init__(self) -> None:
        self.sent: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        self.sent.append(alert)


async def test_a_new_mandatory_field_holds_orders_pages_once_and_the_fix_imports_each_once() -> (
    None
):
    world = build_world()
    for _ in range(3):
        world.woocommerce.place_order([("MUG-BLUE", 1)])
    world.netsuite.define_custom_field("salesOrder", "custbody_region", "Region", mandatory=True)
    store = MemoryStore()
    recorder = Recorder()
    pager = Pager([recorder], MemoryPendingAlerts(), ALWAYS, now=lambda: NOW)
    async with world.netsuite_client() as netsuite:
        alerts = DriftAlerts(await take_snapshot(netsuite))
        sync = OrderSync(
            netsuite=netsuite,
            woocommerce=world.woo_client(),
            store=store,
            config=world.config.orders,
            clock=world.clock,
            on_schema_drift=alerts.record,
        )
        held = await sync.sync()
        raised = await alerts.page(pager, now=NOW)
        created_while_held = world.netsuite.sales_orders_by_woo_id()

        world.netsuite.make_mandatory("salesOrder", "custbody_region", mandatory=False)
        replayed = await sync.replay()
        replayed_again = await sync.replay()

    assert [r.outcome for r in held.results] == ["dead_lettered"] * 3
    assert all("Region" in (r.reason or "") for r in held.results)
    assert created_while_held == {}
    assert alerts.fields == {("salesOrder", "custbody_region"): 3}
    assert raised == 1
    [alert] = recorder.sent
    assert "custbody_region (Region)" in alert.subject
    assert "3 order(s)" in alert.body
    assert [r.outcome for r in replayed.results] == ["imported"] * 3
    assert replayed_again.results == ()
    assert sorted(len(ids) for ids in world.netsuite.sales_orders_by_woo_id().values()) == [1] * 3


async def test_a_renamed_order_field_holds_orders_and_the_mapping_fix_imports_each_once() -> None:
    world = build_world()
    for _ in range(2):
        world.woocommerce.place_order([("MUG-BLUE", 1)])
    old = world.config.orders.custom_field
    world.netsuite.rename_field("salesOrder", old, "custbody_woo_order_ref")
    store = MemoryStore()
    recorder = Recorder()
    pager = Pager([recorder], MemoryPendingAlerts(), ALWAYS, now=lambda: NOW)
    async with world.netsuite_client() as netsuite:
        alerts = DriftAlerts(await take_snapshot(netsuite))

        def sync_with(field: str) -> OrderSync:
            return OrderSync(
                netsuite=netsuite,
                woocommerce=world.woo_client(),
                store=store,
                config=attrs.evolve(world.config.orders, custom_field=field),
                clock=world.clock,
                on_schema_drift=alerts.record,
            )

        held = await sync_with(old).sync()
        raised = await alerts.page(pager, now=NOW)
        created_while_held = world.netsuite.sales_orders_by_woo_id("custbody_woo_order_ref")
        fixed = sync_with("custbody_woo_order_ref")
        replayed = await fixed.replay()
        replayed_again = await fixed.replay()

    assert [r.outcome for r in held.results] == ["dead_lettered"] * 2
    assert all(old in (r.reason or "") for r in held.results)
    assert created_while_held == {}
    assert raised == 1
    assert [a.subject for a in recorder.sent] == [f"NetSuite salesOrder writes fail on field {old}"]
    assert [r.outcome for r in replayed.results] == ["imported"] * 2
    assert replayed_again.results == ()
    by_woo = world.netsuite.sales_orders_by_woo_id("custbody_woo_order_ref")
    assert sorted(len(ids) for ids in by_woo.values()) == [1, 1]
