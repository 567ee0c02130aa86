"""The demo scorecard as text (`nswoo demo` without `--json`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["render_text"]


def _plain(value: object) -> str:
    """A card value as text: mappings as `name value` pairs, lists joined, else `str`."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def render_text(report: Mapping[str, Any]) -> list[str]:
    """The scorecard as text lines: what was injected, then what the simulators counted."""
    lines = [f"nswoo demo: {report['orders']} orders, seed {report['seed']}, {report['seconds']}s"]
    for name, card in report["behaviours"].items():
        if card["ok"] is None:
            lines.append(f"  [n/a ] {name.replace('_', ' ')}: {card.get('detail', 'not scored')}")
            continue
        mark = "ok  " if card["ok"] else "FAIL"
        lines.append(f"  [{mark}] {name.replace('_', ' ')}")
        if "injected" in card:
            lines.append(f"         injected: {_plain(card['injected'])}")
        for key, value in card.items():
            if key in ("ok", "attempts", "injected"):
                continue
            lines.append(f"         {key.replace('_', ' ')}: {_plain(value)}")
    lines.append("all invariants hold" if report["ok"] else "an invariant FAILED")
    return lines
