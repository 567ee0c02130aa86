"""Opening the limiter a `NSWOO_<ENV>_LIMITER` setting names, through the backend registry.

`local` (the default) is a `LocalLimiter` per system in this process. Shared limiters (Redis)
register their scheme in `nswoo._settings._backends` with the module that opens them, which
offers `open_url(url, *, cap, clock)` like this one.
"""

from __future__ import annotations

from typing import Protocol, cast

from .._clock import Clock
from .._settings._backends import find_backend, load_backend
from ._local import Limiter, LocalLimiter

__all__ = ["LimiterBackend", "open_limiter", "open_url"]


class LimiterBackend(Protocol):
    """What a limiter backend's module offers `open_limiter`."""

    def open_url(self, url: str, *, cap: int, clock: Clock | None = None) -> Limiter:
        """A limiter capping requests in flight at `cap` (per system), from its URL."""
        ...


def open_limiter(
    url: str, *, cap: int, clock: Clock | None = None, key: str = "NSWOO_<ENV>_LIMITER"
) -> Limiter:
    """The limiter `url` names (`local`, `redis://…`), capped at `cap` requests in flight.

    Raises:
        ConfigurationError: the URL is malformed or of an unknown scheme (naming `key`), or
            this version does not ship its backend yet.
        MissingExtra: the backend's extra is not installed (`pip install 'nswoo[redis]'`).
    """
    module = load_backend(find_backend("limiter", url, key=key), key=key)
    return cast("LimiterBackend", module).open_url(url, cap=cap, clock=clock)


def open_url(url: str, *, cap: int, clock: Clock | None = None) -> Limiter:
    """The `local` limiter: a `LocalLimiter` in this process."""
    del url  # `local` has nothing more to say
    return LocalLimiter(cap, clock=clock)
