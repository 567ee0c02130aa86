"""The demo scorecard as text (`nswoo demo` without `--json`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["render_text"]


def render_text(report: Mapping[str, Any]) -> list[str]:
    """The scorecard as text lines: per behaviour, whether its invariant held, then what
    each figure counts (the card's `explain` sentences).
    """
    lines = [f"nswoo demo: {report['orders']} orders, seed {report['seed']}, {report['seconds']} s"]
    for name, card in report["behaviours"].items():
        title = name.replace("_", " ")
        if card["ok"] is None:
            lines.append(f"  [n/a ] {title}: {card.get('detail', 'not scored')}")
            continue
        lines.append(f"  [{'ok  ' if card['ok'] else 'FAIL'}] {title}")
        lines.extend(f"         {sentence}" for sentence in card.get("explain", ()))
    lines.append(
        "the injected faults are the same for every run with this seed; figures marked "
        "timing-dependent vary from run to run"
    )
    lines.append("all invariants hold" if report["ok"] else "an invariant FAILED")
    return lines
