"""Opening a store from its URL (`NSWOO_<ENV>_STORE`): `open_store` and `stored_binding`."""

from __future__ import annotations

from typing import cast

import anyio

from .._clock import Clock
from .._settings._backends import find_backend, load_backend
from ._ports import Store, StoreBackend, StoreBinding

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

    URL forms (the backend registry, `nswoo._settings._backends`, knows them all):

    - `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`: the embedded default
      (`nswoo.store.sqlite.SqliteStore`), safe for several processes on one host.
    - `memory://`: `nswoo.store.memory.MemoryStore`, gone at exit (tests and demos only).
    - `postgresql://...`: planned; refused for now (it will need
      `pip install 'nswoo[postgres]'`).

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
        MissingExtra: the backend's extra is not installed (an `ImportError` too).
        StoreBindingError: the store belongs to another environment or NetSuite account.
        StorageError: the store cannot be opened (corrupt, newer schema, locked, ...).
        ValueError: only one of `environment` and `account_id` was given.
    """
    binding = _binding(environment, account_id)
    store = await _backend(url, key).open_url(url, clock=clock)
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
        MissingExtra: the backend's extra is not installed.
        StorageError: the store exists but cannot be read.
    """
    return await _backend(url, key).read_url_binding(url)


def _backend(url: str, key: str) -> StoreBackend:
    module = load_backend(find_backend("store", url, key=key), key=key)
    return cast("StoreBackend", module)


def _binding(environment: str | None, account_id: str | None) -> StoreBinding | None:
    if environment is None and account_id is None:
        return None
    if environment is None or account_id is None:
        raise ValueError("give a store both environment and account_id, or neither")
    return StoreBinding(environment, account_id)
