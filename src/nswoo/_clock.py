"""Time as an injected dependency, so retry and pause schedules can be tested exactly."""

from __future__ import annotations

import time
from typing import Protocol

import anyio

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    """Where nswoo's I/O shell reads time and sleeps.

    `now()` is monotonic seconds (for pauses, deadlines and token lifetimes); `time()` is
    Unix epoch seconds (for JWT `iat`/`exp`, OAuth timestamps and HTTP-date `Retry-After`).
    """

    def now(self) -> float: ...

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: `time.monotonic`, `time.time` and `anyio.sleep`."""

    def now(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))
