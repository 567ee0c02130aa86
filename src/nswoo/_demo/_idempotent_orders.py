"""Scorecard `idempotent_orders`: every importable order once, duplicates and losses absorbed."""

from __future__ import annotations

from ._types import UNKNOWN_ALWAYS, UNKNOWN_LATER, Card, DemoRun, Scorecard

__all__ = ["SCORECARD"]

_KINDS = ("delivery", "duplicate", "redelivery")


async def _score(run: DemoRun) -> Card:
    world, placed, config = run.world, run.placed, run.config
    receiver, transport = run.receiver, run.transport
    dead_letters, replay = run.dead_letters, run.replay
    by_woo = world.netsuite.sales_orders_by_woo_id()
    known = {*world.item_ids, UNKNOWN_LATER}  # the late item exists by the end of the run
    duplicates = sum(len(ids) - 1 for ids in by_woo.values() if len(ids) > 1)
    missing: list[int] = []
    wrongly_created: list[int] = []
    expected_dead: set[int] = set()
    final = {o["id"]: world.woocommerce.order(o["id"]) for o in placed}
    for order_id, order in final.items():
        importable_status = order["status"] in config.statuses
        skus = {line["sku"] for line in order["line_items"]}
        has_sales_order = str(order_id) in by_woo
        if importable_status and skus <= known:
            if not has_sales_order:
                missing.append(order_id)
        elif importable_status:
            expected_dead.add(order_id)
            if has_sales_order:
                wrongly_created.append(order_id)
        elif has_sales_order:
            wrongly_created.append(order_id)
    dead_ids = {letter.order_id for letter in dead_letters}
    reasons_ok = all(
        UNKNOWN_ALWAYS in letter.reason
        for letter in dead_letters
        if letter.order_id in expected_dead
    )
    deliveries = [d for d in world.woocommerce.deliveries if d.kind != "ping"]
    kinds = {kind: sum(1 for d in deliveries if d.kind == kind) for kind in _KINDS}
    # A delivery attempt the simulator could not make at all (an injected outage) has no
    # status; one the lossy path answered 503 for never reached the receiver either.
    unreached = sum(1 for d in deliveries if d.status_code is None)
    arrived = len(deliveries) - unreached - transport.lost
    stats = receiver.stats
    rejected = sum(stats.rejected.values())
    answered = stats.accepted + stats.duplicate + stats.ignored + rejected
    slow = sum(1 for r in world.netsuite.stats.requests if r.outcome == "timeout")
    unknown_sku = sum(
        1
        for o in final.values()
        if {UNKNOWN_LATER, UNKNOWN_ALWAYS} & {line["sku"] for line in o["line_items"]}
    )
    ignored = sum(1 for o in final.values() if o["status"] not in config.statuses)
    importable = len(final) - ignored - len(expected_dead)
    sales_orders = sum(len(ids) for ids in by_woo.values())
    replayed = replay.count("imported")
    explain = [
        f"{len(final)} orders placed = {importable} importable + {len(expected_dead)} importable "
        f"but selling {UNKNOWN_ALWAYS}, which NetSuite never had + {ignored} in a status nswoo "
        "does not import (pending, on-hold)",
        f"{sales_orders} sales orders in NetSuite for the {importable} importable orders: "
        f"{duplicates} duplicates, {len(missing)} missing, {len(wrongly_created)} created for "
        "an order that should not have one",
        f"{len(dead_letters)} dead letters left for the {len(expected_dead)} orders selling "
        f"{UNKNOWN_ALWAYS}; {replayed} dead-lettered orders imported by the replay at the "
        f"end ({UNKNOWN_LATER} was added to NetSuite mid-run)",
        f"{len(deliveries)} webhook requests sent = {kinds['delivery']} deliveries + "
        f"{kinds['duplicate']} duplicates (same delivery id) + {kinds['redelivery']} "
        "redeliveries (same event, new delivery id)",
        f"{transport.lost + unreached} of them never reached the receiver (answered 503 on the "
        "way; WooCommerce does not retry them, so the polling backstop found those orders)",
        f"{arrived} reached the receiver = {stats.accepted} stored + {stats.duplicate} dropped "
        f"as already stored + {stats.ignored} ignored + {rejected} refused"
        + ("" if arrived == answered else f" (does not add up: the receiver answered {answered})"),
        f"{slow} sales-order or customer creates committed in NetSuite but answered too late "
        "(slow commits): each was found by its external id, never sent again",
    ]
    return {
        "ok": duplicates == 0
        and not missing
        and not wrongly_created
        and expected_dead <= dead_ids
        and reasons_ok,
        "injected": {
            "orders": len(placed),
            "webhook_deliveries": kinds["delivery"],
            "duplicate_deliveries": kinds["duplicate"],
            "redeliveries": kinds["redelivery"],
            "deliveries_lost": transport.lost + unreached,
            "slow_commits": slow,
            "orders_with_unknown_sku": unknown_sku,
        },
        "receiver": {
            "arrived": arrived,
            "accepted": stats.accepted,
            "duplicates_dropped": stats.duplicate,
            "ignored": stats.ignored,
            "refused": rejected,
        },
        "importable_orders": importable,
        "sales_orders": sales_orders,
        "duplicate_sales_orders": duplicates,
        "importable_orders_missing": missing,
        "non_importable_orders_created": wrongly_created,
        "dead_letters": len(dead_letters),
        "dead_letters_expected": len(expected_dead),
        "replayed_into_sales_orders": replayed,
        "ignored_orders": ignored,
        "explain": explain,
    }


SCORECARD = Scorecard("idempotent_orders", _score)
