"""The limiter: one per system, shared by every caller, keeping nswoo under the limits."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

import attrs

__all__ = ["Limiter", "LimiterStats", "Permit"]


@attrs.frozen
class LimiterStats:
    """Counters a limiter exposes (for logs, `nswoo check`, the demo and benchmarks)."""

    in_flight: int
    max_in_flight: int
    cap: int
    configured_cap: int
    rate_limited: int
    waits: int
    paused_until: float | None


class Permit(Protocol):
    """One in-flight slot, held while a request is on the wire."""

    async def succeeded(self) -> None:
        """The request got an answer that was not a rate limit (lets the cap grow slowly)."""

    async def rate_limited(self, delay: float) -> None:
        """The service said "too many": pause every caller for `delay` s and lower the cap."""


class Limiter(Protocol):
    """Caps in-flight requests to one system and pauses every caller on 429.

    Contract: `acquire()` waits while the limiter is paused or full, then holds a slot until
    the context exits. A pause set through `Permit.rate_limited` applies to all callers of
    this limiter (and, for a shared backend such as Redis, to all processes).
    """

    def acquire(self) -> AbstractAsyncContextManager[Permit]: ...

    def stats(self) -> LimiterStats: ...
