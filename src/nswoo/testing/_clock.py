"""A fake clock for exact, instant schedule tests."""

from __future__ import annotations

import anyio.lowlevel
import attrs

__all__ = ["FakeClock"]


@attrs.define
class FakeClock:
    """A `Clock` whose `sleep` advances time instead of waiting.

    Each `sleep(d)` moves the clock to `max(now, wake)` where `wake` is when that sleeper
    asked to wake, then yields to other tasks once, so concurrent sleepers interleave in
    wake-time order closely enough for schedule assertions. `sleeps` records every request.

    Example:
        >>> clock = FakeClock(start=100.0)
        >>> clock.now()
        100.0
    """

    start: float = 0.0
    epoch: float = 1_800_000_000.0
    _now: float = attrs.field(init=False)
    sleeps: list[float] = attrs.field(init=False, factory=list)

    def __attrs_post_init__(self) -> None:
        self._now = self.start

    def now(self) -> float:
        """Monotonic seconds."""
        return self._now

    def time(self) -> float:
        """Epoch seconds, moving with `now()`."""
        return self.epoch + (self._now - self.start)

    def advance(self, seconds: float) -> None:
        """Move time forward without sleeping."""
        self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        """Advance to the wake time and let other tasks run."""
        self.sleeps.append(seconds)
        wake = self._now + max(0.0, seconds)
        await anyio.lowlevel.checkpoint()
        self._now = max(self._now, wake)
        await anyio.lowlevel.checkpoint()
