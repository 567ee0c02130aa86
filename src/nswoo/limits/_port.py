"""The `Limiter` port: what the HTTP pipeline needs from a limiter, every method async.

A limiter may keep its state in this process (`LocalLimiter`) or in a shared store (the
Redis limiter, one per account across processes and machines). So everything the pipeline
decides on goes through an `await`: taking a slot, reporting an answer, and reading the
load (`Limiter.load`) before waiting out a pause or when a 401 may be a rate limit in
disguise. `stats()` stays synchronous because it is only ever read for reports (logs, `nswoo
check`, the demo, benchmarks), never to decide anything.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

import attrs

__all__ = ["Limiter", "LimiterLoad", "LimiterStats", "Permit"]


@attrs.frozen
class LimiterStats:
    """Counters a limiter exposes (for logs, `nswoo check`, the demo and benchmarks).

    Never used for control flow: a shared backend reports what this process last saw.

    Attributes:
        in_flight: requests holding a slot now.
        max_in_flight: the most that ever held a slot at once.
        cap: the working cap now (adapted).
        configured_cap: the cap the limiter was built with; `cap` never exceeds it.
        rate_limited: how many 429/503 answers (and 401s read as a rate limit) were reported.
        waits: how many acquisitions had to wait for a pause to end.
        paused_until: the clock time until which nobody may send, if paused.
        min_cap_seen: the lowest working cap so far.
        acquired: how many slots were handed out.
    """

    in_flight: int
    max_in_flight: int
    cap: int
    configured_cap: int
    rate_limited: int
    waits: int
    paused_until: float | None
    min_cap_seen: int
    acquired: int


@attrs.frozen
class LimiterLoad:
    """How loaded the service looks from the limiter, now: what the pipeline decides on.

    Attributes:
        in_flight: requests holding a slot now (the asking caller's own included; every
            process's for a shared backend); from `Permit.load`, the most while that
            request held its slot.
        cap: the working cap now.
        paused_for: seconds until the shared pause ends (0 when not paused).
        since_rate_limited: seconds since a rate limit was last reported (None: never).
    """

    in_flight: int
    cap: int
    paused_for: float = 0.0
    since_rate_limited: float | None = None

    def saturated(self, *, recent: float) -> bool:
        """Whether the service may be refusing for load rather than for what was sent.

        True when other requests are in flight besides the caller's (`in_flight >= 2`) and
        either every slot is taken or a rate limit was reported in the last `recent`
        seconds. A caller alone in flight is never "saturated": whatever it is refused for,
        it is not this integration's concurrency.
        """
        if self.in_flight < 2:
            return False
        if self.in_flight >= self.cap:
            return True
        return self.since_rate_limited is not None and self.since_rate_limited <= recent


class Permit(Protocol):
    """One in-flight slot, held while a request is on the wire."""

    async def load(self) -> LimiterLoad:
        """The load as this request met it: `in_flight` is the most requests in flight while
        it held its slot (itself included), not only now. A refusal that arrives late (a
        NetSuite 401 under overload is reported to take about 60 s) is judged by the load
        it was refused under, not by the quiet that may have followed."""
        ...

    async def succeeded(self) -> None:
        """The request got an answer that was not a rate limit (lets the cap grow slowly)."""

    async def rate_limited(self, delay: float) -> None:
        """The service said "too many": pause every caller for `delay` s and lower the cap."""


class Limiter(Protocol):
    """Caps in-flight requests to one system and pauses every caller on 429.

    Contract (checked for every backend by `tests/limits/test_limiter_contract.py`):

    - `acquire()` waits while the limiter is paused or full, then holds a slot until the
      context exits (also when the holder is cancelled); at most the working cap hold one.
    - `Permit.rate_limited(delay)` pauses every caller of this limiter (for a shared
      backend, of every process) for `delay` seconds and lowers the working cap; successes
      while the limiter is full raise it slowly, never above the configured cap.
    - `load()` answers what the limiter sees now (`LimiterLoad`); it never waits for a slot.
      `Permit.load()` answers the same for one request, with the most in flight while it
      held its slot.
    - `stats()` is for reports only.
    """

    def acquire(self) -> AbstractAsyncContextManager[Permit]: ...

    async def load(self) -> LimiterLoad: ...

    def stats(self) -> LimiterStats: ...
