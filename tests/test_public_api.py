"""The public API is exactly what the package namespaces export, sorted."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

PUBLIC_MODULES = [
    "nswoo",
    "nswoo.testing",
    "nswoo.netsuite",
    "nswoo.woocommerce",
    "nswoo.errors",
    "nswoo.limits",
    "nswoo.store",
    "nswoo.orders",
    "nswoo.inventory",
    "nswoo.cli",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_names_every_public_member(name: str) -> None:
    """__all__ lists every non-underscore name of the namespace, and nothing else."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    own_definitions = name == "nswoo.errors"  # a module that defines, not re-exports
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and attr != "annotations"
        and (not own_definitions or getattr(value, "__module__", None) == name or attr == "System")
        # A submodule imported elsewhere (nswoo.store, nswoo.testing) becomes an attribute
        # of the package; it is public as a module, not as a re-export.
        and not (isinstance(value, ModuleType) and attr not in exported)
    }
    assert exported == sorted(exported)
    assert set(exported) == public


def test_version_comes_from_the_package_metadata() -> None:
    """nswoo.__version__ is the installed distribution's version."""
    from importlib.metadata import version

    import nswoo

    assert nswoo.__version__ == version("nswoo")
