"""The store package's layers: ports and rules know no backend, so nothing imports in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import nswoo.store

STORE = Path(nswoo.store.__file__).parent
BACKENDS = {"memory", "sqlite", "_open", "_claim_wait"}


def store_imports(module: str) -> set[str]:
    """The sibling modules of `nswoo.store` that `module` imports (relative or absolute)."""
    tree = ast.parse((STORE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                found.update(name.split(".")[0] for name in names if name)
            elif node.module and node.module.startswith("nswoo.store."):
                found.add(node.module.split(".")[2])
    return found


@pytest.mark.parametrize("module", ["_ports", "_rules"])
def test_ports_and_rules_import_no_backend(module: str) -> None:
    """`_ports` (Protocols, values) and `_rules` (pure decisions) import no implementation."""
    assert store_imports(module) & BACKENDS == set()


def test_rules_import_only_the_ports() -> None:
    """The shared decisions depend on the value types and nothing else of the store."""
    assert store_imports("_rules") <= {"_ports"}


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_backends_do_not_import_each_other_or_the_opener(backend: str) -> None:
    """A backend imports the ports, rules and liveness check only; `open_store` finds it by
    registry."""
    assert store_imports(backend) <= {"_ports", "_rules", "_liveness"}


def test_the_liveness_check_imports_nothing_of_the_store() -> None:
    """The OS question at the edge (`_liveness`) stands alone, below every backend."""
    assert store_imports("_liveness") == set()
