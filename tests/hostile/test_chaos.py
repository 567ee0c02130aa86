"""Order import under chaos: real processes, killed at random, fed hostile webhooks.

Two environments side by side, as on a machine that runs both: sandbox (NetSuite
`1234567_SB1`, shops `main` and `outlet` whose order ids overlap, one SQLite store file) and
production (NetSuite `1234567`, shop `main`, its own store file). Per shop a `webhooks serve`
process drains the inbox; `orders sync` runs again and again; a monkey SIGKILLs receivers
and syncs; a sender delivers signed webhooks with duplicates, re-deliveries and misrouted
copies; production is started once on the sandbox's store file (must be refused, exit 2).
After the chaos the system settles and the simulators' own records must show exactly one
correct sales order per importable order per shop per environment, every poison order
dead-lettered with its reason, nothing lost, nothing in the wrong environment
(`_chaos_check.py` lists the invariants; `_chaos.py` the harness; `_chaos_server.py` the
simulators).

The short scenario runs in the normal suite; `pytest tests/hostile --chaos-long` (or
`NSWOO_TEST_CHAOS_LONG=1` with any pytest invocation) adds the long one. A failure lists
every broken invariant with the run's timeline; the processes' logs stay in the test's
`tmp_path` (`logs/`, `report.json`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.hostile._chaos import Outcome, Scenario, run_chaos
from tests.hostile._chaos_check import check_end_state, report, scenario_problems, summary

pytestmark = pytest.mark.slow

# Faults both simulators inject, on every request of every process. Mild enough that the
# retry policy (6 attempts) absorbs them: what must survive here is the killing, not luck.
NETSUITE_FAULTS = {
    "latency": 0.01,
    "jitter": 0.03,
    "rate_limit_probability": 0.05,
    "reset_probability": 0.01,
    # Tokens die early although the token response says 3600 s (reference §1).
    "token_lifetime": 5.0,
    # Creates that commit but answer after the client's 3 s timeout (NS_<ENV>_TIMEOUT).
    "slow_commits": {"probability": 0.1, "delay": 4.0},
}
WOO_FAULTS = {
    "latency": 0.01,
    "jitter": 0.02,
    "rate_limit_probability": 0.05,
    "retry_after": 1,
    "reset_probability": 0.01,
    "error_bursts": [{"start": 30, "count": 3, "status": 503}],
}

SHORT = Scenario(
    seed=20261203,
    importable=6,
    unknown_sku=1,
    bad_total=1,
    pending=2,
    late_paid=1,
    chaos_seconds=12.0,
    kill_every=(0.9, 2.0),
    settle_seconds=20.0,
    netsuite_faults=NETSUITE_FAULTS,
    woo_faults=WOO_FAULTS,
)
LONG = Scenario(
    seed=1203,
    importable=30,
    unknown_sku=3,
    bad_total=3,
    pending=4,
    late_paid=4,
    chaos_seconds=90.0,
    kill_every=(0.8, 2.0),
    settle_seconds=90.0,
    netsuite_faults=NETSUITE_FAULTS,
    woo_faults=WOO_FAULTS,
)


def verdict(outcome: Outcome, directory: Path) -> None:
    """Fail with every broken invariant, after checking the run was the hostile one."""
    problems = check_end_state(outcome)
    (directory / "report.json").write_text(
        json.dumps({"problems": problems, "events": outcome.events}, indent=1)
    )
    unlike = scenario_problems(outcome)
    assert not unlike, (
        "the run was not the chaos scenario: " + "; ".join(unlike) + "\n" + (summary(outcome))
    )
    assert not problems, report(outcome, problems) + f"\n--- logs: {directory / 'logs'}"


def test_order_import_survives_chaos(tmp_path: Path) -> None:
    """Short seeded chaos: one correct sales order per importable order, the rest accounted."""
    verdict(run_chaos(SHORT, tmp_path), tmp_path)


def test_order_import_survives_long_chaos(tmp_path: Path, chaos_long: bool) -> None:
    """The long scenario (more orders, more kills), with `--chaos-long`."""
    if not chaos_long:
        pytest.skip("long chaos scenario: run with --chaos-long or NSWOO_TEST_CHAOS_LONG=1")
    verdict(run_chaos(LONG, tmp_path), tmp_path)
