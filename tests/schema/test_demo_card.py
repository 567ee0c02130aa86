"""The demo's `schema_drift` scorecard scores what happened, and fails when drift slips by."""

from __future__ import annotations

import pytest

from nswoo._demo import _schema_drift
from nswoo._demo._run import run_demo
from nswoo._demo._types import DemoOptions

pytestmark = pytest.mark.anyio

OPTIONS = DemoOptions(orders=12, seed=7, waves=2)


async def test_the_card_holds_the_renamed_field_pages_once_and_imports_each_once() -> None:
    card = (await run_demo(OPTIONS))["behaviours"]["schema_drift"]

    assert card["ok"] is True
    assert card["rename_caught"] is True
    assert (card["orders_held"], card["sales_orders_while_held"]) == (3, 0)
    assert card["pages_sent"] == 1
    assert (card["imported_after_fix"], card["sales_orders_after_fix"]) == (3, 3)


async def test_the_card_fails_when_the_diff_misses_the_rename(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_schema_drift, "diff_snapshots", lambda *a, **k: ())

    report = await run_demo(OPTIONS)

    assert report["behaviours"]["schema_drift"]["ok"] is False
    assert report["ok"] is False
