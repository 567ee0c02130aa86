"""The `nswoo` command line: `main` is the console script and `python -m nswoo`."""

from __future__ import annotations

from ._main import main as main

__all__ = [
    "main",
]
