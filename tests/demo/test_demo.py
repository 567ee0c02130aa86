"""nswoo demo: the whole job on simulators, scored by what the simulators counted."""

from __future__ import annotations

import json
import subprocess
import sys

import attrs
import pytest

from nswoo._demo._registry import NOT_IN_THIS_VERSION
from nswoo._demo._run import DemoOptions, run_demo, scorecards
from nswoo._demo._text import render_text
from nswoo.netsuite._client import NetSuiteClient
from nswoo.netsuite._records import ExternalId, RecordDraft
from nswoo.netsuite._writes import Created, create_once

pytestmark = pytest.mark.anyio

# The seven behaviours of the CLI contract: the scored ones come from the registry, so a
# behaviour joining it is tested here too.
CONTRACT = {
    "auth",
    "rate_limits",
    "environments",
    "idempotent_orders",
    "availability",
    "schema_drift",
    "reconciliation",
}
BEHAVIOURS = {card.name for card in scorecards()}
NOT_SCORED = set(NOT_IN_THIS_VERSION) - BEHAVIOURS


async def test_demo_holds_every_invariant_with_every_fault_injected() -> None:
    """A small demo run injects each fault and every behaviour's invariant holds."""
    report = await run_demo(DemoOptions(orders=80, seed=3, waves=4, token_lifetime=0.4))
    cards = report["behaviours"]
    assert set(cards) == BEHAVIOURS | NOT_SCORED == CONTRACT
    assert all(cards[name]["ok"] is None for name in NOT_SCORED)
    assert report["ok"] is True, cards
    orders = cards["idempotent_orders"]
    assert orders["duplicate_sales_orders"] == 0
    assert orders["importable_orders_missing"] == []
    assert orders["injected"]["duplicate_deliveries"] + orders["injected"]["redeliveries"] > 0
    assert orders["injected"]["slow_commits"] > 0
    assert cards["rate_limits"]["timing_dependent"]["responses_429"] > 0
    assert (
        cards["rate_limits"]["limiter_lowest_cap"]
        < cards["rate_limits"]["injected"]["configured_cap"]
    )
    assert cards["environments"]["refused"] == cards["environments"]["injected"] == 5
    assert cards["auth"]["timing_dependent"]["requests_refused_401"] > 0


async def test_demo_fails_when_a_duplicate_sales_order_slips_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scorecard counts NetSuite itself: a sabotaged import that creates twice fails it."""

    async def create_twice(
        client: NetSuiteClient, record_type: str, draft: RecordDraft, *, external_id: ExternalId
    ) -> Created:
        made = await create_once(client, record_type, draft, external_id=external_id)
        if record_type == "salesOrder":
            # The same order again, without the external id that would have refused it.
            await client.create(record_type, attrs.evolve(draft, external_id=None))
        return made

    monkeypatch.setattr("nswoo.orders._sync.create_once", create_twice)
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


async def test_the_same_seed_injects_the_same_faults() -> None:
    """Two runs with one seed inject identical faults in every behaviour (what varies with
    timing is kept apart, under `timing_dependent`); another seed injects others.
    """
    options = DemoOptions(orders=60, seed=13, waves=4, token_lifetime=0.4)
    first, second = await run_demo(options), await run_demo(options)
    other = await run_demo(DemoOptions(orders=60, seed=14, waves=4, token_lifetime=0.4))
    injected = {name: card.get("injected") for name, card in first["behaviours"].items()}
    assert injected == {name: card.get("injected") for name, card in second["behaviours"].items()}
    assert injected != {name: card.get("injected") for name, card in other["behaviours"].items()}
    faults = injected["idempotent_orders"]
    assert faults["duplicate_deliveries"] + faults["redeliveries"] + faults["slow_commits"] > 0


async def test_related_figures_add_up_and_each_is_explained() -> None:
    """The figures shown side by side account for each other: webhook requests sent, lost
    and answered; orders placed, imported, dead-lettered and ignored; and every scored card
    explains its figures in sentences (the text scorecard prints those).
    """
    report = await run_demo(DemoOptions(orders=80, seed=3, waves=4, token_lifetime=0.4))
    orders = report["behaviours"]["idempotent_orders"]
    faults, receiver = orders["injected"], orders["receiver"]
    sent = faults["webhook_deliveries"] + faults["duplicate_deliveries"] + faults["redeliveries"]
    assert sent - faults["deliveries_lost"] == receiver["arrived"]
    assert receiver["arrived"] == (
        receiver["accepted"]
        + receiver["duplicates_dropped"]
        + receiver["ignored"]
        + receiver["refused"]
    )
    assert faults["orders"] == (
        orders["importable_orders"] + orders["dead_letters_expected"] + orders["ignored_orders"]
    )
    assert orders["sales_orders"] == orders["importable_orders"]
    for name in BEHAVIOURS:
        assert report["behaviours"][name]["explain"], name
    text = "\n".join(render_text(report))
    assert f"{sent} webhook requests sent = {faults['webhook_deliveries']} deliveries" in text
    assert "timing-dependent" in text


async def test_the_adaptive_cap_is_shown_converging() -> None:
    """With the cap configured above the account limit, the card says how far and how fast
    it came down: `cap 12 → N within S s, account limit 5`, with N at most the limit.
    """
    report = await run_demo(DemoOptions(orders=80, seed=3, waves=4, token_lifetime=0.4))
    card = report["behaviours"]["rate_limits"]
    seconds = card["timing_dependent"]["seconds_to_converge"]
    assert seconds is not None
    assert 0 <= seconds <= report["seconds"]
    line = next(s for s in card["explain"] if "cap 12 → " in s)
    reached = int(line.split("cap 12 → ", 1)[1].split()[0])
    assert reached <= 5
    assert f"within {seconds:.2f} s, account limit 5" in line


@pytest.mark.parametrize(("orders", "seed"), [(1, 1), (6, 7)])
async def test_a_tiny_run_holds_every_invariant(orders: int, seed: int) -> None:
    """A run too small to fill every wave still adds the late item within the waves it
    runs (6 orders, seed 7, sells it), and an order needing no NetSuite request needs no
    token (1 pending order).
    """
    report = await run_demo(DemoOptions(orders=orders, seed=seed))
    assert report["ok"] is True, report["behaviours"]
