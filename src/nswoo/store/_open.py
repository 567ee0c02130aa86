"""Opening a store from its URL (`NSWOO_<ENV>_STORE`): `open_store` and `stored_binding`."""

from __future__ import annotations

import anyio

from .._clock import Clock
from ..errors import ConfigurationError
from ._ports import Store, StoreBinding
from .memory import MemoryStore

__all__ = ["open_store", "stored_binding"]

_SETTING = "NSWOO_<ENV>_STORE"


async def open_store(
    url: str,
    *,
    clock: Clock | None = None,
    key: str = _SETTING,
    environment: str | None = None,
    account_id: str | None = None,
) -> Store:
    """Open the store a `NSWOO_<ENV>_STORE` URL names, ready to use (schema checked).

    URL forms:

    - `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`: the embedded default
      (`nswoo.store.sqlite.SqliteStore`), safe for several processes on one host.
    - `memory://`: `MemoryStore`, gone at exit (tests and demos only).
    - `postgresql://...`: planned; refused for now.

    Given `environment` and `account_id`, the store is bound to them (`Store.bind`): a store
    first opened for one environment and NetSuite account refuses any other. Every command
    opens its store this way (`nswoo.cli._runtime`).

    Args:
        url: the store URL. It may hold a password, so errors never repeat it.
        clock: where leases and timestamps read time (default: the system clock).
        key: the setting the URL came from, named in errors (e.g. `NSWOO_PROD_STORE`).
        environment: `prod` or `sandbox`; given together with `account_id` or not at all.
        account_id: the NetSuite account id the store serves.

    Raises:
        ConfigurationError: the URL is malformed, of an unknown scheme, or not allowed.
        StoreBindingError: the store belongs to another environment or NetSuite account.
        StorageError: the store cannot be opened (corrupt, newer schema, locked, ...).
        ValueError: only one of `environment` and `account_id` was given.
    """
    binding = _binding(environment, account_id)
    kind, path = _parse_store_url(url, key)
    store: Store
    if kind == "memory":
        store = MemoryStore(clock=clock)
    else:
        from .sqlite import SqliteStore

        store = await SqliteStore.open(path, clock=clock)
    if binding is not None:
        try:
            await store.bind(binding)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await store.aclose()
            raise
    return store


async def stored_binding(url: str, *, key: str = _SETTING) -> StoreBinding | None:
    """The binding recorded in the store `url` names, creating and changing nothing.

    For `nswoo check`, which must not create a store file. None when the store does not
    exist yet, was never bound, or keeps nothing between runs (`memory://`).

    Raises:
        ConfigurationError: the URL is malformed, of an unknown scheme, or not allowed.
        StorageError: the store exists but cannot be read.
    """
    kind, path = _parse_store_url(url, key)
    if kind == "memory":
        return None
    from .sqlite import read_binding

    return await read_binding(path)


def _binding(environment: str | None, account_id: str | None) -> StoreBinding | None:
    if environment is None and account_id is None:
        return None
    if environment is None or account_id is None:
        raise ValueError("give a store both environment and account_id, or neither")
    return StoreBinding(environment, account_id)


def _parse_store_url(url: str, key: str) -> tuple[str, str]:
    """`("memory", "")` or `("sqlite", path)` for a store URL this version can open."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ConfigurationError(
            "not a store URL; use sqlite:///path.db, memory:// or postgresql://...", key=key
        )
    if scheme == "memory":
        return "memory", ""
    if scheme == "sqlite":
        # `sqlite:///x.db` is the relative path `x.db` and `sqlite:////x.db` the absolute
        # `/x.db`, as in SQLAlchemy URLs, which users already know.
        path = rest[1:] if rest.startswith("/") else ""
        if not path:
            raise ConfigurationError(
                "an SQLite store URL needs a file path: sqlite:///path.db", key=key
            )
        if path == ":memory:" or path.startswith("file:"):
            # Each SQLite connection to :memory: is a separate, empty database, and the store
            # opens a connection per operation and is shared by several processes; every one
            # would see its own store and claims would not exclude each other.
            raise ConfigurationError(
                "sqlite:///:memory: would give every connection and process its own empty "
                "database, so claims could not exclude each other; use a file path, or "
                "memory:// for a single-process test store",
                key=key,
            )
        return "sqlite", path
    if scheme in {"postgresql", "postgres"}:
        raise ConfigurationError(
            "the PostgreSQL store is not available in this version of nswoo (when it is, it "
            "will need `pip install 'nswoo[postgres]'`); use sqlite:///path.db",
            key=key,
        )
    # Name the scheme only when it is one: in a mangled URL the text before "://" may hold
    # a user name and password.
    shown = f" {scheme!r}" if scheme.isalnum() else ""
    raise ConfigurationError(
        f"unknown store URL scheme{shown}; use sqlite:///path.db, memory:// or postgresql://...",
        key=key,
    )
