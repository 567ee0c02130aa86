"""The public API is exactly what the package namespaces export, sorted."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

PUBLIC_MODULES = [
    "nswoo",
    "nswoo.cli",
    "nswoo.clock",
    "nswoo.errors",
    "nswoo.http",
    "nswoo.inventory",
    "nswoo.limits",
    "nswoo.netsuite",
    "nswoo.netsuite.suiteql",
    "nswoo.notify",
    "nswoo.orders",
    "nswoo.schema",
    "nswoo.settings",
    "nswoo.store",
    "nswoo.testing",
    "nswoo.woocommerce",
]

# Modules that define their classes (a backend, a notifier channel) rather than re-export:
# the test pins that `__all__` is sorted and that every name it lists exists.
BACKEND_MODULES = [
    "nswoo.notify.email",
    "nswoo.notify.log",
    "nswoo.notify.webhook",
    "nswoo.store.memory",
    "nswoo.store.sqlite",
]

# What a user starts from; everything else lives in its package (see each package's `__all__`).
TOP_LEVEL = [
    "ApiError",
    "Config",
    "ConfigurationError",
    "DriftAlerts",
    "Environment",
    "ImportResult",
    "InboxWorker",
    "NetSuiteClient",
    "NswooError",
    "OrderSync",
    "Pager",
    "Secret",
    "Settings",
    "StockSync",
    "StockSyncReport",
    "StorageError",
    "SyncReport",
    "WebhookError",
    "WebhookReceiver",
    "WooClient",
    "__version__",
    "asgi_app",
    "diff_snapshots",
    "errors",
    "from_env",
    "load_config",
    "open_netsuite",
    "open_store",
    "parse_config",
    "take_snapshot",
    "verify_delivery",
]

# Machinery: reachable from its own private module, never a public name.
MACHINERY = {
    "HttpPipeline",
    "Permit",
    "claim_or_wait",
    "skus_of",
    "SqlValue",
    "Lease",
}


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
    if hasattr(module, "__version__"):  # served by a module __getattr__, not a global
        public.add("__version__")
    assert exported == sorted(exported)
    assert set(exported) == public


@pytest.mark.parametrize("name", BACKEND_MODULES)
def test_backend_all_is_sorted_and_every_name_exists(name: str) -> None:
    """A defining module's __all__ is sorted and each listed name is an attribute."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    assert [attr for attr in exported if not hasattr(module, attr)] == []


def test_top_level_is_the_entry_points_only() -> None:
    """`import nswoo` shows about thirty names a user starts from, and no machinery."""
    import nswoo

    assert nswoo.__all__ == TOP_LEVEL
    assert len(nswoo.__all__) <= 35


def test_machinery_is_not_public_anywhere() -> None:
    """No public namespace exports the pipeline, permits, claim waits, leases or raw SQL."""
    leaked = {
        (name, attr)
        for name in PUBLIC_MODULES
        for attr in importlib.import_module(name).__all__
        if attr in MACHINERY - {"Permit", "Lease"}
    }
    # `Permit` is the limiter port's own type (nswoo.limits) and `Lease` the store port's
    # (nswoo.store): public there, for backends that implement the ports, never at the top.
    import nswoo

    assert leaked == set()
    assert MACHINERY.isdisjoint(nswoo.__all__)


def test_suiteql_helpers_live_under_their_namespace() -> None:
    """`text`, `number`, `ident` are `nswoo.netsuite.suiteql.*`, not bare in nswoo.netsuite."""
    import nswoo.netsuite
    import nswoo.netsuite.suiteql

    assert {"text", "number", "ident", "SqlValue"}.isdisjoint(nswoo.netsuite.__all__)
    assert {"text", "number", "ident"} <= set(nswoo.netsuite.suiteql.__all__)
    assert "SqlValue" not in nswoo.netsuite.suiteql.__all__


def test_version_comes_from_the_package_metadata() -> None:
    """nswoo.__version__ is the installed distribution's version."""
    from importlib.metadata import version

    import nswoo

    assert nswoo.__version__ == version("nswoo")
