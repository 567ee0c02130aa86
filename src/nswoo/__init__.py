"""nswoo: keep NetSuite and WooCommerce in sync, and keep it working in month two."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import errors as errors

__all__ = ["errors"]


def __getattr__(name: str) -> str:
    if name == "__version__":
        try:
            return version("nswoo")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    raise AttributeError(f"module 'nswoo' has no attribute {name!r}")
