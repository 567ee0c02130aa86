"""Progress of long runs on stderr: only on a terminal, or when asked with `--progress`.

Command groups with long runs (`orders sync`, `inventory sync`, ...) add the option with
`add_progress_option` and report with `progress_for(args, ctx, "orders sync")`.
"""

from __future__ import annotations

import argparse
import time
from typing import TextIO

from ._types import Context

__all__ = ["Progress", "add_progress_option", "cap_list", "progress_for"]

_EVERY = 0.5  # seconds between two redraws on a terminal


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """Add `--progress`: report progress on stderr even when it is not a terminal."""
    parser.add_argument(
        "--progress",
        action="store_true",
        help="report progress on stderr (default: only when stderr is a terminal)",
    )


class Progress:
    """`label: 200/300 orders handled` on `stream`, redrawn in place on a terminal.

    On a terminal the line is rewritten at most every half second and cleared by `close`;
    elsewhere (asked for with `--progress`) each update is a line of its own, so a log file
    keeps the history.
    """

    def __init__(self, stream: TextIO, label: str, *, enabled: bool, terminal: bool) -> None:
        self.stream = stream
        self.label = label
        self.enabled = enabled
        self.terminal = terminal
        self._last = 0.0
        self._drawn = 0

    def update(self, done: int, total: int, unit: str = "handled", *, final: bool = False) -> None:
        """Report `done` of `total` so far (`total` may still grow while reading)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if self.terminal and not final and now - self._last < _EVERY:
            return
        self._last = now
        text = f"{self.label}: {done}/{total} {unit}"
        if self.terminal:
            padding = " " * max(0, self._drawn - len(text))
            self.stream.write(f"\r{text}{padding}")
            self._drawn = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Clear the progress line on a terminal (the command's report follows)."""
        if self.enabled and self.terminal and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def progress_for(args: argparse.Namespace, ctx: Context, label: str) -> Progress:
    """The progress display of a command: on stderr when it is a terminal or `--progress`."""
    terminal = _is_terminal(ctx.stderr)
    asked = bool(getattr(args, "progress", False))
    return Progress(ctx.stderr, label, enabled=asked or terminal, terminal=terminal)


def cap_list(lines: list[str], limit: int, more: str) -> list[str]:
    """At most `limit` of `lines`, then `and N more` with `more` saying where they are."""
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"  and {len(lines) - limit} more ({more})"]
