"""The pure core does no I/O: its modules import no clock, network, OS or logging module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import nswoo

# Grows with each pure module: schema, reconcile next.
CORE = ["orders/_plan.py", "inventory/_availability.py"]
FORBIDDEN = {
    "httpx",
    "anyio",
    "os",
    "time",
    "logging",
    "random",
    "socket",
    "sqlite3",
    "asyncio",
    "subprocess",
    "tenacity",
    "urllib",
    "smtplib",
}
# Relative imports by their first part: `..store._ports` is "store", `._sync` is "_sync".
FORBIDDEN_NSWOO = {"_http", "limits", "_clock", "store", "sqlite", "_sync", "testing"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found.add(("." * node.level) + base)
    return found


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_nothing_that_does_io(module: str) -> None:
    """A core module imports no I/O, clock, randomness or logging module."""
    path = Path(nswoo.__file__).parent / module
    if not path.exists():
        pytest.fail(f"{module} is listed as core but does not exist")
    for name in _imports(path):
        top = name.lstrip(".").split(".")[0]
        if name.startswith("."):
            assert top not in FORBIDDEN_NSWOO, f"{module} imports nswoo.{top}"
        else:
            assert top not in FORBIDDEN, f"{module} imports {top}"
