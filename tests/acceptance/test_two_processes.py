"""Two `nswoo orders sync` processes at once on one SQLite store: one sales order per order."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.acceptance._sim import (
    CLI_TIMEOUT,
    ROOT,
    add_product,
    cli_environ,
    nswoo_command,
    place_order,
    product_id,
    running_sim,
    sales_order_counts,
    woo_http,
)

pytestmark = pytest.mark.slow

IMPORTABLE = 12
PENDING = 2


def test_two_sync_processes_on_one_store_import_each_order_once(tmp_path: Path) -> None:
    """Two concurrent `orders sync` runs share the work: every order imported exactly once."""
    # Some latency on every simulated request, so that both runs are importing at once
    # rather than one finishing before the other has started.
    faults = tmp_path / "latency.toml"
    faults.write_text("seed = 3\nlatency = 0.015\njitter = 0.015\n")
    with running_sim("--faults", str(faults)) as exports:
        with woo_http(exports) as woo:
            mug, poster = product_id(woo, "MUG-BLUE"), product_id(woo, "POSTER-A2")
            lamp = add_product(woo, "LAMP-NOT-IN-NETSUITE")
            importable = [
                place_order(woo, [(mug, 1 + n % 3), (poster, 1)])["id"] for n in range(IMPORTABLE)
            ]
            bad = place_order(woo, [(lamp, 1)])["id"]
            for _ in range(PENDING):
                place_order(woo, [(poster, 1)], status="pending")
            everything = woo.get("/orders", params={"per_page": 100}).json()
        # nswoo sim seeds one processing order of its own.
        mine = {*importable, bad}
        importable += [
            o["id"] for o in everything if o["id"] not in mine and o["status"] == "processing"
        ]
        env = cli_environ(exports, tmp_path / "shared.db")
        argv = nswoo_command("orders", "sync", "--env", "sandbox", "--json")
        procs = [
            subprocess.Popen(  # noqa: S603 - our own interpreter and module
                argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        outputs: list[tuple[int, str, str]] = []
        try:
            for proc in procs:
                out, err = proc.communicate(timeout=CLI_TIMEOUT)
                outputs.append((proc.returncode, out, err))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate(timeout=5)
        held = sales_order_counts(exports)

    reports = []
    for code, out, err in outputs:
        assert code in (0, 3), f"exit {code}: {out} {err}"
        report = json.loads(out)
        reports.append(report)
        if code == 3:
            assert report["dead_lettered"] >= 1
            assert report["dead_letters"], "exit 3 without a reason"
        for letter in report["dead_letters"]:
            assert letter["order_id"] == bad
            assert "LAMP-NOT-IN-NETSUITE" in letter["reason"]
        # Each process saw every order; the importable ones it imported, found or left to
        # the other process.
        assert report["imported"] + report["already_imported"] + report.get("deferred", 0) == len(
            importable
        ), report
        assert report["ignored"] == PENDING
    assert sum(r["imported"] for r in reports) == len(importable)
    assert held == {str(order_id): 1 for order_id in importable}
