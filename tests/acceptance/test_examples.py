"""The examples in examples/ run as documented, against `nswoo sim`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from tests.acceptance._sim import ROOT, cli_environ, running_sim, sales_order_counts

pytestmark = pytest.mark.slow


def test_sync_orders_example_imports_the_seeded_order(tmp_path: Path) -> None:
    """examples/sync_orders.py polls the simulated store and NetSuite ends up with the order."""
    with running_sim() as exports:
        env = cli_environ(exports, tmp_path / "example.db")
        done = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(ROOT / "examples" / "sync_orders.py"), "sandbox"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        report = ast.literal_eval(done.stdout.strip())
        assert report["imported"] >= 1
        assert report["dead_lettered"] == 0
        counts = sales_order_counts(exports)
        assert counts
        assert set(counts.values()) == {1}
