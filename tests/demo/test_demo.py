"""nswoo demo: the whole job on simulators, scored by what the simulators counted."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nswoo._demo._run import DemoOptions, run_demo
from nswoo.orders._sync import OrderSync

pytestmark = pytest.mark.anyio

BEHAVIOURS = {"auth", "rate_limits", "environments", "idempotent_orders", "availability"}
NOT_SCORED = {"schema_drift", "reconciliation"}


async def test_demo_holds_every_invariant_with_every_fault_injected() -> None:
    """A small demo run injects each fault and every behaviour's invariant holds."""
    report = await run_demo(DemoOptions(orders=80, seed=3, waves=4, token_lifetime=0.4))
    cards = report["behaviours"]
    assert set(cards) == BEHAVIOURS | NOT_SCORED
    assert all(cards[name]["ok"] is None for name in NOT_SCORED)
    assert report["ok"] is True, cards
    orders = cards["idempotent_orders"]
    assert orders["duplicate_sales_orders"] == 0
    assert orders["importable_orders_missing"] == []
    assert orders["injected"]["duplicate_deliveries"] + orders["injected"]["redeliveries"] > 0
    assert orders["injected"]["slow_commits"] > 0
    assert cards["rate_limits"]["responses_429"] > 0
    assert (
        cards["rate_limits"]["limiter_lowest_cap"]
        < cards["rate_limits"]["injected"]["configured_cap"]
    )
    assert cards["environments"]["refused"] == cards["environments"]["injected"] == 5
    assert cards["auth"]["requests_refused_401"] > 0


async def test_demo_fails_when_a_duplicate_sales_order_slips_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scorecard counts NetSuite itself: a sabotaged import that creates twice fails it."""
    original = OrderSync._create_sales_order

    async def create_twice(self, draft):  # type: ignore[no-untyped-def]
        first = await original(self, draft)
        body = {
            "entity": {"id": draft.entity},
            "item": {
                "items": [
                    {"item": {"id": line.item}, "quantity": str(line.quantity)}
                    for line in draft.lines
                ]
            },
            "custbody_nswoo_woo_order_id": draft.custom_fields["custbody_nswoo_woo_order_id"],
        }
        await self.netsuite.create("salesOrder", body)
        return first

    monkeypatch.setattr(OrderSync, "_create_sales_order", create_twice)
    report = await run_demo(DemoOptions(orders=20, seed=5, waves=2))
    assert report["ok"] is False
    assert report["behaviours"]["idempotent_orders"]["ok"] is False
    assert report["behaviours"]["idempotent_orders"]["duplicate_sales_orders"] > 0


def test_demo_cli_prints_one_json_object_and_exits_0() -> None:
    """`nswoo demo --json` prints the contract's keys on stdout and progress on stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "nswoo", "demo", "--orders", "120", "--seed", "11", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert set(report["behaviours"]) == BEHAVIOURS | NOT_SCORED
    assert all(report["behaviours"][name]["ok"] is True for name in BEHAVIOURS)
    assert "wave" in done.stderr


def test_demo_rejects_a_bad_order_count() -> None:
    """`--orders 0` is a usage error: exit 2."""
    done = subprocess.run(
        [sys.executable, "-m", "nswoo", "demo", "--orders", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--orders" in done.stderr or "at least 1" in done.stderr
