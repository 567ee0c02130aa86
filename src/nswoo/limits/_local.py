"""The limiter: one per system, shared by every caller, keeping nswoo under the limits.

NetSuite governs concurrency per account, in one pool shared by SOAP, REST, RESTlets and
every other integration (reference netsuite.md §5); hosts in front of WooCommerce throttle
too (woocommerce.md §9). A limiter caps how many requests are in flight, pauses *every*
caller when the service says "too many", and adapts: its working cap drops on a 429 and
climbs back slowly, so a cap configured above the account's real limit converges below it
instead of living on 429s.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import anyio
import attrs

from .._clock import Clock, SystemClock

__all__ = ["Limiter", "LimiterStats", "LocalLimiter", "Permit", "UnlimitedLimiter"]


@attrs.frozen
class LimiterStats:
    """Counters a limiter exposes (for logs, `nswoo check`, the demo and benchmarks).

    Attributes:
        in_flight: requests holding a slot now.
        max_in_flight: the most that ever held a slot at once.
        cap: the working cap now (adapted).
        configured_cap: the cap the limiter was built with; `cap` never exceeds it.
        rate_limited: how many 429/503 answers were reported.
        waits: how many acquisitions had to wait for a pause to end.
        paused_until: the clock time until which nobody may send, if paused.
        min_cap_seen: the lowest working cap so far.
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


@attrs.define
class _LocalPermit:
    limiter: LocalLimiter
    epoch: int
    full_mark: int

    async def succeeded(self) -> None:
        self.limiter._on_success(self)

    async def rate_limited(self, delay: float) -> None:
        await self.limiter._on_rate_limited(self, delay)


class LocalLimiter:
    """An in-process `Limiter` on anyio: a fair cap on in-flight requests, a shared pause,
    and a cap that adapts to what the service actually allows.

    - **Fair**: waiters are served first come, first served; a released slot is handed to
      the oldest waiter, so no caller can starve behind others that keep coming back.
    - **Paused together**: `Permit.rate_limited(delay)` stops every caller from sending until
      the pause ends (a waiter handed a slot during a pause waits it out too).
    - **Adaptive** (additive increase, multiplicative decrease, with memory): the first 429
      reported by a request admitted under the current cap cuts the cap to 70 % (at least by
      one; later 429s from the same cohort say nothing new and do not cut again), and
      remembers the failing cap as a ceiling. After `increase_after` successes *while the
      limiter was full* the cap grows by one; growing back to a cap that already failed takes
      five times as long. So a cap configured above the account's limit converges just
      under it and probes the limit rarely, and a quiet period cannot talk it back up.

    Example:
        >>> limiter = LocalLimiter(5)
        >>> limiter.stats().cap
        5

    Args:
        cap: the configured maximum in flight (NetSuite default 5, WooCommerce 4).
        clock: time source for pauses (tests inject `nswoo.testing.FakeClock`).
        min_cap: the working cap never drops below this.
        increase_after: saturated successes needed to raise the cap by one.
    """

    _DECREASE = 0.7
    _PROBE_FACTOR = 5

    def __init__(
        self,
        cap: int,
        *,
        clock: Clock | None = None,
        min_cap: int = 1,
        increase_after: int = 20,
    ) -> None:
        if cap < 1:
            raise ValueError(f"cap must be at least 1, got {cap}")
        if not 1 <= min_cap <= cap:
            raise ValueError(f"min_cap must be between 1 and cap ({cap}), got {min_cap}")
        self._clock = clock or SystemClock()
        self._configured = cap
        self._cap = cap
        self._min_cap = min_cap
        self._increase_after = increase_after
        self._in_flight = 0
        self._max_in_flight = 0
        self._acquired = 0
        self._rate_limited = 0
        self._waits = 0
        self._paused_until: float | None = None
        self._epoch = 0
        self._successes = 0
        self._full_events = 0
        self._ceiling: int | None = None
        self._min_cap_seen = cap
        self._waiters: deque[anyio.Event] = deque()
        self._grant_marks: dict[anyio.Event, int] = {}

    def stats(self) -> LimiterStats:
        """A snapshot of the counters."""
        paused = self._paused_until
        if paused is not None and paused <= self._clock.now():
            paused = None
        return LimiterStats(
            in_flight=self._in_flight,
            max_in_flight=self._max_in_flight,
            cap=self._cap,
            configured_cap=self._configured,
            rate_limited=self._rate_limited,
            waits=self._waits,
            paused_until=paused,
            min_cap_seen=self._min_cap_seen,
            acquired=self._acquired,
        )

    def acquire(self) -> AbstractAsyncContextManager[Permit]:
        """Wait for the pause to end and a slot to free, then hold it."""
        return self._acquire()

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[Permit]:
        permit = await self._take_slot()
        try:
            yield permit
        finally:
            self._release()

    async def _take_slot(self) -> _LocalPermit:
        waited = await self._wait_out_pause(False)
        if self._in_flight < self._cap and not self._waiters:
            mark = self._grant()
        else:
            mark = await self._queue()
        try:
            # A pause set while this caller queued applies to it too.
            await self._wait_out_pause(waited)
        except BaseException:
            self._release()
            raise
        return _LocalPermit(self, self._epoch, mark)

    async def _queue(self) -> int:
        """Wait in line; the releaser hands the slot over (`_dispatch`) and says so."""
        event = anyio.Event()
        self._waiters.append(event)
        try:
            await event.wait()
        except BaseException:
            if event.is_set():
                # Cancelled just as the slot was handed over: give it to the next in line.
                self._grant_marks.pop(event, None)
                self._release()
            else:
                self._waiters.remove(event)
            raise
        return self._grant_marks.pop(event)

    def _grant(self) -> int:
        mark = self._full_events
        self._in_flight += 1
        self._acquired += 1
        self._max_in_flight = max(self._max_in_flight, self._in_flight)
        if self._in_flight >= self._cap:
            self._full_events += 1
        return mark

    def _release(self) -> None:
        self._in_flight -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand free slots to the oldest waiters (no await: nothing can interleave)."""
        while self._waiters and self._in_flight < self._cap:
            event = self._waiters.popleft()
            self._grant_marks[event] = self._grant()
            event.set()

    async def _wait_out_pause(self, counted: bool) -> bool:
        while (pause := self._remaining_pause()) > 0:
            if not counted:
                self._waits += 1
                counted = True
            await self._clock.sleep(pause)
        return counted

    def _remaining_pause(self) -> float:
        if self._paused_until is None:
            return 0.0
        return max(0.0, self._paused_until - self._clock.now())

    def _on_success(self, permit: _LocalPermit) -> None:
        # Only successes while the limiter was full say the service could take more.
        saturated = self._full_events > permit.full_mark
        if not saturated or permit.epoch != self._epoch or self._cap >= self._configured:
            return
        self._successes += 1
        needed = self._increase_after
        if self._ceiling is not None and self._cap + 1 >= self._ceiling:
            needed *= self._PROBE_FACTOR  # that cap failed before: probe it rarely
        if self._successes >= needed:
            self._cap += 1
            self._successes = 0
            self._epoch += 1
            if self._ceiling is not None and self._cap > self._ceiling:
                self._ceiling = None  # the limit was raised (or the 429s had another cause)
            self._dispatch()

    async def _on_rate_limited(self, permit: _LocalPermit, delay: float) -> None:
        self._rate_limited += 1
        until = self._clock.now() + max(0.0, delay)
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until
        if permit.epoch == self._epoch:
            # First 429 of this cohort: cut once; the rest of the cohort was admitted under
            # the old cap and says nothing new about the limit.
            self._ceiling = self._cap
            cut = math.ceil(self._cap * self._DECREASE)
            self._cap = max(self._min_cap, min(self._cap - 1, cut))
            self._min_cap_seen = min(self._min_cap_seen, self._cap)
            self._epoch += 1
            self._successes = 0


@attrs.define
class _NullPermit:
    async def succeeded(self) -> None:
        return None

    async def rate_limited(self, delay: float) -> None:
        return None


class UnlimitedLimiter:
    """A `Limiter` that never waits: for tests that are not about limits."""

    def __init__(self) -> None:
        self._in_flight = 0
        self._max = 0
        self._acquired = 0

    def stats(self) -> LimiterStats:
        """Counters; `cap` is reported as the most ever in flight."""
        return LimiterStats(
            in_flight=self._in_flight,
            max_in_flight=self._max,
            cap=max(self._max, 1),
            configured_cap=max(self._max, 1),
            rate_limited=0,
            waits=0,
            paused_until=None,
            min_cap_seen=max(self._max, 1),
            acquired=self._acquired,
        )

    def acquire(self) -> AbstractAsyncContextManager[Permit]:
        """Hold a slot without waiting."""
        return self._acquire()

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[Permit]:
        self._in_flight += 1
        self._acquired += 1
        self._max = max(self._max, self._in_flight)
        try:
            yield _NullPermit()
        finally:
            self._in_flight -= 1
