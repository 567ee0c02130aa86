"""The local limiter: one per system in this process, shared by every caller.

NetSuite governs concurrency per account, in one pool shared by SOAP, REST, RESTlets and
every other integration (reference netsuite.md §5); hosts in front of WooCommerce throttle
too (woocommerce.md §9). A limiter caps how many requests are in flight, pauses *every*
caller when the service says "too many", and adapts: its working cap drops on a 429 and
climbs back slowly (the pure rule in `_adaptive.py`), so a cap configured above the
account's real limit converges below it instead of living on 429s.

This module is the slot queue around that rule: a fair (first come, first served) queue of
waiters, the shared pause, and the bookkeeping that tells whether the limiter was full
while a request was in flight.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
import attrs

from .._clock import Clock, SystemClock
from ._adaptive import AdaptiveRule, initial_cap

# The port's names stay importable from here, where they lived before the port had its module.
from ._port import Limiter, LimiterLoad, LimiterStats, Permit

__all__ = [
    "Limiter",
    "LimiterLoad",
    "LimiterStats",
    "LocalLimiter",
    "Permit",
    "UnlimitedLimiter",
]


@attrs.define
class _LocalPermit:
    limiter: LocalLimiter
    epoch: int
    full_mark: int
    granted_in_flight: int

    async def load(self) -> LimiterLoad:
        return self.limiter._load_for(self)

    async def succeeded(self) -> None:
        self.limiter._on_success(self)

    async def rate_limited(self, delay: float) -> None:
        self.limiter._on_rate_limited(self, delay)


class LocalLimiter:
    """An in-process `Limiter` on anyio: a fair cap on in-flight requests, a shared pause,
    and a cap that adapts to what the service actually allows.

    - **Fair**: waiters are served first come, first served; a released slot is handed to
      the oldest waiter, so no caller can starve behind others that keep coming back.
    - **Paused together**: `Permit.rate_limited(delay)` stops every caller from sending until
      the pause ends (a waiter handed a slot during a pause waits it out too).
    - **Adaptive** (additive increase, multiplicative decrease, with memory; the rule is
      `nswoo.limits._adaptive.AdaptiveRule`): the first 429 reported by a request admitted
      under the current cap cuts the cap to 70 % (at least by one; later 429s from the same
      cohort say nothing new and do not cut again), and remembers the failing cap as a
      ceiling. After `increase_after` successes *while the limiter was full* the cap grows
      by one; growing back to a cap that already failed takes five times as long. So a cap
      configured above the account's limit converges just under it and probes the limit
      rarely, and a quiet period cannot talk it back up.

    Example:
        >>> limiter = LocalLimiter(5)
        >>> limiter.stats().cap
        5

    Args:
        cap: the configured maximum in flight (NetSuite default 5, WooCommerce 4).
        clock: time source for pauses (tests inject `nswoo.testing.FakeClock`).
        min_cap: the working cap never drops below this.
        increase_after: saturated successes needed to raise the cap by one.

    Raises:
        ValueError: `cap` below 1, or `min_cap` outside [1, cap].
    """

    def __init__(
        self,
        cap: int,
        *,
        clock: Clock | None = None,
        min_cap: int = 1,
        increase_after: int = 20,
    ) -> None:
        self._state = initial_cap(cap, min_cap=min_cap)
        self._rule = AdaptiveRule(increase_after=increase_after)
        self._clock = clock or SystemClock()
        self._in_flight = 0
        self._max_in_flight = 0
        self._acquired = 0
        self._rate_limited = 0
        self._last_rate_limited: float | None = None
        self._waits = 0
        self._paused_until: float | None = None
        self._full_events = 0
        self._waiters: deque[anyio.Event] = deque()
        self._grant_marks: dict[anyio.Event, int] = {}

    def stats(self) -> LimiterStats:
        """A snapshot of the counters (for reports; `load()` is what decisions read)."""
        paused = self._paused_until
        if paused is not None and paused <= self._clock.now():
            paused = None
        return LimiterStats(
            in_flight=self._in_flight,
            max_in_flight=self._max_in_flight,
            cap=self._state.cap,
            configured_cap=self._state.configured,
            rate_limited=self._rate_limited,
            waits=self._waits,
            paused_until=paused,
            min_cap_seen=self._state.min_seen,
            acquired=self._acquired,
        )

    async def load(self) -> LimiterLoad:
        """In flight, the working cap, the pause left and the time since the last 429."""
        return self._load_now()

    def _load_now(self) -> LimiterLoad:
        now = self._clock.now()
        since = None if self._last_rate_limited is None else now - self._last_rate_limited
        return LimiterLoad(
            in_flight=self._in_flight,
            cap=self._state.cap,
            paused_for=self._remaining_pause(),
            since_rate_limited=since,
        )

    def _load_for(self, permit: _LocalPermit) -> LimiterLoad:
        load = attrs.evolve(
            self._load_now(), in_flight=max(permit.granted_in_flight, self._in_flight)
        )
        if self._full_events > permit.full_mark:
            # Every slot was taken at some point while this request held its own.
            load = attrs.evolve(load, in_flight=max(load.in_flight, load.cap))
        return load

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
        if self._in_flight < self._state.cap and not self._waiters:
            mark = self._grant()
        else:
            mark = await self._queue()
        try:
            # A pause set while this caller queued applies to it too.
            await self._wait_out_pause(waited)
        except BaseException:
            self._release()
            raise
        return _LocalPermit(self, self._state.epoch, mark, self._in_flight)

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
        if self._in_flight >= self._state.cap:
            self._full_events += 1
        return mark

    def _release(self) -> None:
        self._in_flight -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand free slots to the oldest waiters (no await: nothing can interleave)."""
        while self._waiters and self._in_flight < self._state.cap:
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
        # The limiter filled up while this request held its slot: it ran saturated.
        saturated = self._full_events > permit.full_mark
        before = self._state.cap
        self._state = self._rule.succeeded(self._state, admitted=permit.epoch, saturated=saturated)
        if self._state.cap > before:
            self._dispatch()

    def _on_rate_limited(self, permit: _LocalPermit, delay: float) -> None:
        self._rate_limited += 1
        now = self._clock.now()
        self._last_rate_limited = now
        until = now + max(0.0, delay)
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until
        self._state = self._rule.rate_limited(self._state, admitted=permit.epoch)


@attrs.define
class _NullPermit:
    async def load(self) -> LimiterLoad:
        return LimiterLoad(in_flight=1, cap=2)  # never saturated

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

    async def load(self) -> LimiterLoad:
        """Never paused and never full: no 401 is ever read as a rate limit here."""
        return LimiterLoad(in_flight=self._in_flight, cap=self._in_flight + 1)

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
