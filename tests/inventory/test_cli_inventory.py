"""`nswoo inventory sync` as a user runs it, with the variables and TOML `nswoo sim` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.acceptance._sim import cli_environ, run_nswoo, running_sim

pytestmark = pytest.mark.slow

CONTRACT_KEYS = (
    "considered",
    "changed",
    "pushed",
    "failed",
    "skipped_by_owner",
    "parent_managed",
    "missing_in_woocommerce",
    "missing_in_netsuite",
)
# `nswoo sim` seeds on hand east + west and WooCommerce stock equal to it, then places one
# processing order (MUG-BLUE x2, TEE-RED-M x1) that WooCommerce takes off its stock and no
# sales order carries yet: those units are in flight.
AVAILABLE = {"MUG-BLUE": 65 - 2, "POSTER-A2": 60, "TEE-RED-M": 25 - 1, "TEE-RED-L": 20}


def test_dry_run_json_then_sync_then_nothing_left(tmp_path: Path) -> None:
    """--dry-run --json reports the contract's integer keys and writes nothing; a real run
    pushes; the next run has nothing to change; --sku narrows the run; text output names it;
    a SKU argument that cannot be a SKU is refused with exit 2."""
    with running_sim() as exports:
        env = cli_environ(exports, tmp_path / "nswoo.db")
        dry = run_nswoo(env, "inventory", "sync", "--env", "sandbox", "--dry-run", "--json")
        real = run_nswoo(env, "inventory", "sync", "--env", "sandbox", "--json")
        again = run_nswoo(env, "inventory", "sync", "--env", "sandbox", "--json")
        named = run_nswoo(env, "inventory", "sync", "--env", "sandbox", "--sku", "POSTER-A2")
        bad = run_nswoo(env, "inventory", "sync", "--env", "sandbox", "--sku", "A\tB")

    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert all(type(report[key]) is int for key in CONTRACT_KEYS)
    assert report["dry_run"] is True
    assert report["pushed"] == 0
    assert report["in_flight"] == {"orders": 1, "units": 3}
    assert {c["sku"]: c["quantity"] for c in report["changes"]} == AVAILABLE
    assert report["considered"] == 5  # the four SKUs and the variable parent TEE-RED

    assert real.returncode == 0, real.stderr
    pushed = json.loads(real.stdout)
    assert (pushed["changed"], pushed["pushed"], pushed["failed"]) == (4, 4, 0)

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["changed"] == 0

    assert named.returncode == 0, named.stderr
    assert "1 considered, 0 changed (0 pushed, 0 failed)" in named.stdout

    # A SKU with a control character is a usage problem: exit 2, named, no traceback.
    assert bad.returncode == 2
    assert "--sku" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_failed_pushes_exit_3_and_are_named(tmp_path: Path) -> None:
    """Every batch item refused: exit 3, each SKU named with WooCommerce's error."""
    faults = tmp_path / "faults.toml"
    faults.write_text("batch_item_failure_probability = 1.0\n")
    with running_sim("--faults", str(faults)) as exports:
        env = cli_environ(exports, tmp_path / "nswoo.db")
        done = run_nswoo(env, "inventory", "sync", "--env", "sandbox", "--json")
        text = run_nswoo(env, "inventory", "sync", "--env", "sandbox")
    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    assert (report["pushed"], report["failed"]) == (0, 4)
    assert sorted(f["sku"] for f in report["failures"]) == sorted(AVAILABLE)
    assert text.returncode == 3, text.stderr
    assert "failed MUG-BLUE" in text.stdout
