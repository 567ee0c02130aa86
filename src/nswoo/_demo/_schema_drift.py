"""Scorecard `schema_drift`: an admin renames the order field; the diff and the pager catch it.

After the order day, against the same simulators and store: a snapshot is taken, the admin
renames the order custom field (a SuiteScript deploy), `schema diff` must report it as a
critical rename, new orders must be held (dead-lettered with the field named, no sales
order), one page must go out for the field however many orders failed, and after the
mapping is fixed each held order must import exactly once on replay. The field id is
restored at the end, so the simulators are left as the order day left them.
"""

from __future__ import annotations

import datetime as dt

import attrs

from .._settings._mapping import OfficeHours
from ..notify._outbox import MemoryPendingAlerts
from ..notify._pager import Pager
from ..notify._port import Alert
from ..orders._sync import OrderSync
from ..schema._diff import diff_snapshots, mapped_fields
from ..schema._runtime import DriftAlerts
from ..schema._snapshot import take_snapshot
from ..woocommerce._convert import structure_order
from ._types import Card, DemoRun, Scorecard

__all__ = ["SCORECARD"]

_NEW_ID = "custbody_nswoo_woo_order_ref"
_HELD = 3
_ALWAYS = OfficeHours(days=(0, 1, 2, 3, 4, 5, 6), start=dt.time(0, 0), end=dt.time(23, 59, 59))


class _Pages:
    """The demo's notification channel: counts the pages it is given."""

    channel = "demo"

    def __init__(self) -> None:
        self.sent: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        self.sent.append(alert)


async def _score(run: DemoRun) -> Card:
    netsuite_sim, old_id = run.world.netsuite, run.config.custom_field
    fixture = await take_snapshot(run.netsuite)
    netsuite_sim.rename_field("salesOrder", old_id, _NEW_ID)
    try:
        live = await take_snapshot(run.netsuite)
        changes = diff_snapshots(fixture, live, mapped=mapped_fields(run.config))
        caught = [
            c
            for c in changes
            if (c.kind, c.field, c.old_field, c.severity)
            == ("renamed", _NEW_ID, old_id, "critical")
        ]
        orders = [
            structure_order(run.world.woocommerce.place_order([("MUG-BLUE", 1)]))
            for _ in range(_HELD)
        ]
        ids = {order.id for order in orders}
        alerts, pages = DriftAlerts(live), _Pages()
        now = dt.datetime.now(dt.UTC)
        pager = Pager([pages], MemoryPendingAlerts(), _ALWAYS, now=lambda: now)

        def sync_for(field: str) -> OrderSync:
            return OrderSync(
                netsuite=run.netsuite,
                woocommerce=run.woocommerce,
                store=run.store,
                config=attrs.evolve(run.config, custom_field=field),
                clock=run.world.clock,
                on_schema_drift=alerts.record,
            )

        held = [await sync_for(old_id).import_order(order) for order in orders]
        held_ok = [r for r in held if r.outcome == "dead_lettered" and old_id in (r.reason or "")]
        created_while_held = sum(
            len(v) for k, v in netsuite_sim.sales_orders_by_woo_id(_NEW_ID).items() if int(k) in ids
        )
        await alerts.page(pager, now=now)
        fixed = sync_for(_NEW_ID)
        replay = await fixed.replay()
        imported = sum(1 for r in replay.results if r.order_id in ids and r.outcome == "imported")
        again = await fixed.replay()
        reimported = sum(1 for r in again.results if r.order_id in ids)
        by_woo = netsuite_sim.sales_orders_by_woo_id(_NEW_ID)
        sales_orders = sum(len(v) for k, v in by_woo.items() if int(k) in ids)
    finally:
        # The admin's deploy is undone: later cards see the order day's field again.
        netsuite_sim.rename_field("salesOrder", _NEW_ID, old_id)
    ok = (
        len(caught) == 1
        and len(held_ok) == _HELD
        and created_while_held == 0
        and len(pages.sent) == 1
        and imported == _HELD
        and reimported == 0
        and sales_orders == _HELD
    )
    return {
        "ok": ok,
        "injected": {"renamed_field": old_id, "new_id": _NEW_ID, "orders_after_rename": _HELD},
        "diff_changes": len(changes),
        "rename_caught": len(caught) == 1,
        "orders_held": len(held_ok),
        "sales_orders_while_held": created_while_held,
        "pages_sent": len(pages.sent),
        "imported_after_fix": imported,
        "sales_orders_after_fix": sales_orders,
        "explain": [
            f"the admin renamed {old_id} to {_NEW_ID}; schema diff reported "
            f"{len(changes)} change(s), the rename as critical: {len(caught) == 1}",
            f"{_HELD} orders placed after the rename: {len(held_ok)} held as dead letters naming "
            f"the field, {created_while_held} sales orders created while held",
            f"{len(pages.sent)} page sent for the field, not one per order",
            f"after the mapping fix, replay imported {imported} of them; a second replay "
            f"imported {reimported}; {sales_orders} sales orders, one per order",
        ],
    }


SCORECARD = Scorecard("schema_drift", _score)
