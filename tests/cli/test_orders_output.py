"""What `orders sync|replay` print: the library's JSON, a capped text report saying each
thing once, progress on stderr only when asked or on a terminal, and the exit codes.
"""

from __future__ import annotations

import io
import json

import pytest

from nswoo.cli._orders import _print_report
from nswoo.cli._progress import Progress
from nswoo.cli._types import Context
from nswoo.orders import ImportResult, SyncReport

_REASON = "no NetSuite item whose itemid matches SKU 'LAMP-1'"


def _context(*, as_json: bool = False) -> tuple[Context, io.StringIO]:
    out = io.StringIO()
    return Context(environ={}, stdout=out, stderr=io.StringIO(), json=as_json), out


def _report(dead: int, retrying: int = 0, imported: int = 3) -> SyncReport:
    results = [ImportResult(i, "imported", sales_order_id=str(i)) for i in range(imported)]
    results += [ImportResult(100 + i, "dead_lettered", reason=_REASON) for i in range(dead)]
    results += [
        ImportResult(500 + i, "retrying", reason="NetSuite: unreachable (ConnectError)")
        for i in range(retrying)
    ]
    return SyncReport(tuple(results))


def test_json_is_the_reports_own_serialisation() -> None:
    """`--json` prints exactly `SyncReport.to_json()`: one serialisation for both."""
    report = _report(dead=2)
    ctx, out = _context(as_json=True)
    assert _print_report(ctx, report, "orders sync") == 3
    assert out.getvalue() == report.to_json() + "\n"
    assert json.loads(out.getvalue())["dead_lettered"] == 2


def test_a_long_list_of_dead_letters_is_capped_and_each_says_its_order_once() -> None:
    """25 dead letters: 20 listed, then `and 5 more` pointing at `orders dead-letters`;
    each line names its order once (not `order 109: order 109: ...`).
    """
    ctx, out = _context()
    assert _print_report(ctx, _report(dead=25), "orders sync") == 3
    lines = out.getvalue().splitlines()
    assert lines[0] == "orders sync: 3 imported, 0 already imported, 0 ignored, 25 dead-lettered"
    listed = [line for line in lines if line.startswith("  order ")]
    assert len(listed) == 20
    assert all(line.count("order ") == 1 for line in listed)
    assert lines[-1] == "  and 5 more (nswoo orders dead-letters lists them all)"


@pytest.mark.parametrize(("dead", "retrying", "code"), [(0, 0, 0), (1, 0, 3), (0, 2, 4), (1, 2, 3)])
def test_exit_codes(dead: int, retrying: int, code: int) -> None:
    """Dead letters (a person must look): 3; orders kept because a system could not be
    reached (the next run retries them): 4; otherwise 0.
    """
    ctx, out = _context()
    assert _print_report(ctx, _report(dead=dead, retrying=retrying), "orders sync") == code
    if retrying:
        assert f"{retrying} kept for the next run" in out.getvalue().splitlines()[0]


def test_progress_on_a_terminal_redraws_one_line_and_clears_it() -> None:
    """On a terminal the line is rewritten in place (every update here: final ones are
    always drawn) and cleared at the end, so the report starts on a clean line.
    """
    stream = io.StringIO()
    progress = Progress(stream, "orders sync", enabled=True, terminal=True)
    progress.update(100, 300, "orders handled", final=True)
    progress.update(300, 300, "orders handled", final=True)
    progress.close()
    text = stream.getvalue()
    assert text.startswith("\rorders sync: 100/300 orders handled")
    assert "\rorders sync: 300/300 orders handled" in text
    assert text.endswith("\r")
    assert "\n" not in text


def test_progress_asked_for_off_a_terminal_prints_lines_and_is_silent_otherwise() -> None:
    """`--progress` into a file: one line per update. Neither asked nor a terminal: nothing."""
    stream = io.StringIO()
    progress = Progress(stream, "orders sync", enabled=True, terminal=False)
    progress.update(100, 300)
    progress.update(300, 300)
    progress.close()
    assert stream.getvalue().splitlines() == [
        "orders sync: 100/300 handled",
        "orders sync: 300/300 handled",
    ]
    quiet = io.StringIO()
    Progress(quiet, "orders sync", enabled=False, terminal=False).update(1, 1)
    assert quiet.getvalue() == ""
