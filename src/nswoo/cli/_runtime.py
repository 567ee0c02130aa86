"""The composition root for commands: settings → config, store, limiters, clients.

Commands and long-running services build what they need here, from one `Settings` and the
mapping file it names, so every entry point wires nswoo the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs

from .._clock import Clock, SystemClock
from .._settings import Config, Settings, load_config
from ..errors import ConfigurationError
from ..limits._local import Limiter, LocalLimiter
from ..netsuite._client import NetSuiteClient, open_netsuite
from ..orders._sync import OrderSync
from ..store._ports import Store, open_store
from ..woocommerce._client import WooClient

__all__ = ["Runtime", "backend_problems", "open_runtime", "require_config"]


def require_config(settings: Settings) -> Config:
    """The mapping file `NSWOO_<ENV>_CONFIG` names, loaded and validated.

    Raises:
        ConfigurationError: the variable is unset, or the file is refused.
    """
    return load_config(settings.require_config_path())


def backend_problems(settings: Settings) -> list[tuple[str, str]]:
    """Store and limiter URLs this version accepts in settings but cannot open yet.

    `check` reports them up front, so a configuration that would fail at the first real
    command fails at `check` instead.
    """
    env = settings.environment.upper()
    problems = []
    if settings.store_url.split("://", 1)[0].lower() in {"postgresql", "postgres"}:
        problems.append(
            (
                f"NSWOO_{env}_STORE",
                "the PostgreSQL store is not available in this version; use sqlite:///path.db",
            )
        )
    if settings.limiter_url != "local":
        problems.append(
            (
                f"NSWOO_{env}_LIMITER",
                "only 'local' is available in this version; "
                "a shared Redis limiter is not built yet",
            )
        )
    return problems


def _limiter(settings: Settings, cap: int, clock: Clock) -> Limiter:
    url = settings.limiter_url
    if url == "local":
        return LocalLimiter(cap, clock=clock)
    raise ConfigurationError(
        "only 'local' is available in this version; a shared Redis limiter is not built yet",
        key=f"NSWOO_{settings.environment.upper()}_LIMITER",
    )


@attrs.define
class Runtime:
    """Everything a command needs, opened from settings; close it with `aclose()`."""

    settings: Settings
    config: Config
    store: Store
    netsuite: NetSuiteClient
    woocommerce: WooClient
    clock: Clock

    def order_sync(self) -> OrderSync:
        """An `OrderSync` over this runtime's clients and store."""
        return OrderSync(
            netsuite=self.netsuite,
            woocommerce=self.woocommerce,
            store=self.store,
            config=self.config.orders,
            clock=self.clock,
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
        StorageError: the store cannot be opened.
    """
    clock = clock or SystemClock()
    config = require_config(settings)
    ns_settings, woo_settings = settings.require_netsuite(), settings.require_woocommerce()
    key = f"NSWOO_{settings.environment.upper()}_STORE"
    store = await open_store(settings.store_url, clock=clock, key=key)
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
