"""The composition root for commands: settings → config, store, limiters, clients.

Commands and long-running services build what they need here, from one `Settings` and the
mapping file it names, so every entry point wires nswoo the same way. The store is opened
bound to the settings' environment and NetSuite account (DESIGN behaviour 3), so one store
can never serve both sandbox and production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import attrs

from .._clock import Clock, SystemClock
from .._settings import Config, Settings, load_config, redact_url
from .._settings._backends import BackendKind, find_backend, unavailable
from ..errors import SchemaDriftError, StorageError
from ..limits._local import Limiter
from ..limits._open import open_limiter
from ..netsuite._client import NetSuiteClient, open_netsuite
from ..notify._outbox import StorePendingAlerts
from ..notify._pager import Pager
from ..notify._wiring import configured_notifiers
from ..orders._sync import OrderSync
from ..store._open import open_store, stored_binding
from ..store._ports import Store, StoreBinding
from ..store._rules import decide_binding
from ..woocommerce._client import WooClient

__all__ = [
    "Runtime",
    "backend_problems",
    "inspect_store",
    "open_runtime",
    "require_config",
    "store_binding",
    "store_key",
]


def require_config(settings: Settings) -> Config:
    """The mapping file `NSWOO_<ENV>_CONFIG` names, loaded and validated.

    Raises:
        ConfigurationError: the variable is unset, or the file is refused.
    """
    return load_config(settings.require_config_path())


def backend_problems(settings: Settings) -> list[tuple[str, str]]:
    """Store and limiter URLs this installation accepts in settings but cannot open.

    `check` reports them up front (a backend this version does not ship yet, or whose extra
    is not installed), so a configuration that would fail at the first real command fails
    at `check` instead. The backend registry (`nswoo._settings._backends`) knows why.
    """
    env = settings.environment.upper()
    problems = []
    urls: dict[BackendKind, str] = {"store": settings.store_url, "limiter": settings.limiter_url}
    for kind, url in urls.items():
        key = f"NSWOO_{env}_{kind.upper()}"
        reason = unavailable(find_backend(kind, url, key=key))
        if reason is not None:
            problems.append((key, reason))
    return problems


def store_key(settings: Settings) -> str:
    """The variable the store URL comes from: `NSWOO_<ENV>_STORE`."""
    return f"NSWOO_{settings.environment.upper()}_STORE"


def store_binding(settings: Settings) -> StoreBinding:
    """The environment and NetSuite account the store of `settings` must belong to.

    Raises:
        ConfigurationError: NetSuite is not configured (no account to bind to).
    """
    return StoreBinding(settings.environment, settings.require_netsuite().account_id)


async def inspect_store(settings: Settings) -> StoreBinding | None:
    """What `nswoo check` reports about the store: the binding it records, if any.

    Creates and changes nothing (a store not created yet, or not bound yet, is bound at
    its first real use).

    Returns:
        The recorded binding, equal to `store_binding(settings)`; None when not bound yet.

    Raises:
        StoreBindingError: the store belongs to another environment or NetSuite account.
        StorageError: the store exists but cannot be read.
        ConfigurationError: the store URL is refused, or NetSuite is not configured.
    """
    wanted = store_binding(settings)
    url = settings.store_url
    bound = await stored_binding(url, key=store_key(settings))
    if bound is not None:
        scheme = url.split("://", 1)[0].lower()
        decide_binding(bound, wanted, location=redact_url(url), backend=scheme)
    return bound


def _limiter(settings: Settings, cap: int, clock: Clock) -> Limiter:
    key = f"NSWOO_{settings.environment.upper()}_LIMITER"
    return open_limiter(settings.limiter_url, cap=cap, clock=clock, key=key)


def _unopenable(exc: StorageError, key: str) -> StorageError:
    """A store that cannot be opened, named with the variable its URL comes from.

    The store's own error says which path and why (missing folder, read-only, corrupt);
    the variable to change is what only the caller knows. Errors of their own kind (a store
    bound elsewhere, a locked one) already say what to do and are kept as they are.
    """
    if type(exc) is not StorageError or key in str(exc):
        return exc
    detail = str(exc).removeprefix(f"{exc.backend} store: ")
    return StorageError(f"{detail} (set by {key})", backend=exc.backend)


@attrs.define
class Runtime:
    """Everything a command needs, opened from settings; close it with `aclose()`."""

    settings: Settings
    config: Config
    store: Store
    netsuite: NetSuiteClient
    woocommerce: WooClient
    clock: Clock

    def order_sync(
        self,
        *,
        progress: Callable[[int, int], None] | None = None,
        on_schema_drift: Callable[[SchemaDriftError], None] | None = None,
    ) -> OrderSync:
        """An `OrderSync` over this runtime's clients and store (arguments: see OrderSync)."""
        return OrderSync(
            netsuite=self.netsuite,
            woocommerce=self.woocommerce,
            store=self.store,
            config=self.config.orders,
            clock=self.clock,
            progress=progress,
            on_schema_drift=on_schema_drift,
        )

    def pager(self) -> Pager:
        """The `[notify]` channels, with office hours and the store's pending alerts."""
        notify = self.config.notify
        return Pager(
            configured_notifiers(notify),
            StorePendingAlerts(self.store.pending_alerts),
            notify.office_hours,
        )

    async def aclose(self) -> None:
        """Close the clients and the store."""
        try:
            await self.netsuite.aclose()
            await self.woocommerce.aclose()
        finally:
            await self.store.aclose()


@asynccontextmanager
async def open_runtime(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    """Open config, store and both clients for `settings`; close them on exit.

    Raises:
        ConfigurationError: a system or the mapping file is missing or refused.
        StoreBindingError: the store belongs to another environment or NetSuite account.
        StorageError: the store cannot be opened.
    """
    clock = clock or SystemClock()
    config = require_config(settings)
    ns_settings, woo_settings = settings.require_netsuite(), settings.require_woocommerce()
    binding = store_binding(settings)
    key = store_key(settings)
    try:
        store = await open_store(
            settings.store_url,
            clock=clock,
            key=key,
            environment=binding.environment,
            account_id=binding.account_id,
        )
    except StorageError as exc:
        raise _unopenable(exc, key) from exc
    try:
        netsuite = open_netsuite(
            ns_settings, limiter=_limiter(settings, ns_settings.concurrency, clock), clock=clock
        )
        woocommerce = WooClient.from_settings(
            woo_settings, limiter=_limiter(settings, woo_settings.concurrency, clock), clock=clock
        )
    except BaseException:
        await store.aclose()
        raise
    runtime = Runtime(settings, config, store, netsuite, woocommerce, clock)
    try:
        yield runtime
    finally:
        await runtime.aclose()
