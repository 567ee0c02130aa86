"""Scorecard `idempotent_orders`: every importable order once, duplicates and losses absorbed."""

from __future__ import annotations

from ._types import UNKNOWN_ALWAYS, UNKNOWN_LATER, Card, DemoRun, Scorecard

__all__ = ["SCORECARD"]


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
    deliveries = world.woocommerce.deliveries
    slow = sum(1 for r in world.netsuite.stats.requests if r.outcome == "timeout")
    stats = receiver.stats
    return {
        "ok": duplicates == 0
        and not missing
        and not wrongly_created
        and expected_dead <= dead_ids
        and reasons_ok,
        "injected": {
            "orders": len(placed),
            "webhook_deliveries": sum(1 for d in deliveries if d.kind == "delivery"),
            "duplicate_deliveries": sum(1 for d in deliveries if d.kind == "duplicate"),
            "redeliveries": sum(1 for d in deliveries if d.kind == "redelivery"),
            "deliveries_lost": transport.lost,
            "slow_commits": slow,
            "orders_with_unknown_sku": sum(
                1
                for o in final.values()
                if {UNKNOWN_LATER, UNKNOWN_ALWAYS} & {line["sku"] for line in o["line_items"]}
            ),
        },
        "receiver": {"accepted": stats.accepted, "duplicates_dropped": stats.duplicate},
        "sales_orders": sum(len(ids) for ids in by_woo.values()),
        "duplicate_sales_orders": duplicates,
        "importable_orders_missing": missing,
        "non_importable_orders_created": wrongly_created,
        "dead_letters": len(dead_letters),
        "dead_letters_expected": len(expected_dead),
        "replayed_into_sales_orders": replay.count("imported"),
        "ignored_orders": sum(1 for o in final.values() if o["status"] not in config.statuses),
    }


SCORECARD = Scorecard("idempotent_orders", _score)
