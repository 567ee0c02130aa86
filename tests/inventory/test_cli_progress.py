"""`inventory sync` progress: stderr lines on long runs only, at most one every 2 s."""

from __future__ import annotations

import io

from nswoo.cli._inventory import _Progress
from nswoo.inventory import SyncProgress


def test_progress_lines_only_on_long_runs() -> None:
    """Nothing within the first 2 s; then one line with every stage's latest count, and no
    more than one per 2 s."""
    now = [100.0]
    stream = io.StringIO()
    progress = _Progress(stream, clock=lambda: now[0])
    progress(SyncProgress("balances", 1000))
    progress(SyncProgress("catalog", 500))
    assert stream.getvalue() == ""
    now[0] = 102.5
    progress(SyncProgress("balances", 2000))
    assert stream.getvalue() == "inventory sync: balances 2000, catalog 500\n"
    now[0] = 103.0
    progress(SyncProgress("push", 100, 400))
    assert stream.getvalue().count("\n") == 1
    now[0] = 104.6
    progress(SyncProgress("push", 300, 400))
    assert stream.getvalue().splitlines()[-1] == (
        "inventory sync: balances 2000, catalog 500, push 300/400"
    )
