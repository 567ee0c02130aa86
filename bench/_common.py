"""Helpers shared by the benchmark scripts: the machine line, percentiles, a plain table,
and the fixed-semaphore limiter used as a baseline."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
import attrs

from nswoo.limits._local import LimiterLoad, LimiterStats, Permit


def machine() -> str:
    """One line naming the interpreter, the OS and the CPU the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"Python {sys.version.split()[0]} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}, {cpu}, {cores} cores usable"
    )


def machine_load() -> float:
    """The 1-minute load average (what other processes were doing), 0.0 where unknown."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover - platforms without getloadavg
        return 0.0


def median(values: Sequence[float]) -> float:
    """The median of `values`; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (readable in a terminal, pasteable into bench/README.md)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells[1:]
    ]
    return "\n".join(lines)


@attrs.define
class _NaivePermit:
    delay: float = 0.0

    async def load(self) -> LimiterLoad:
        return LimiterLoad(in_flight=1, cap=2)  # the baseline reads no 401 as load

    async def succeeded(self) -> None:
        return None

    async def rate_limited(self, delay: float) -> None:
        self.delay = delay  # slept by this caller alone, after it gave its slot back


class FixedLimiter:
    """The baseline: a fixed semaphore; a 429 makes only its own caller back off."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._slots = anyio.Semaphore(cap)
        self._rate_limited = 0
        self._acquired = 0

    def acquire(self) -> AbstractAsyncContextManager[Permit]:
        return self._acquire()

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[Permit]:
        permit = _NaivePermit()
        try:
            async with self._slots:
                self._acquired += 1
                yield permit
        finally:
            if permit.delay > 0:
                self._rate_limited += 1
                await anyio.sleep(permit.delay)

    async def load(self) -> LimiterLoad:
        # Never paused (only the caller backs off): the pipeline's pause check finds nothing.
        return LimiterLoad(in_flight=self._cap - int(self._slots.value), cap=self._cap)

    def stats(self) -> LimiterStats:
        return LimiterStats(
            in_flight=self._cap - int(self._slots.value),
            max_in_flight=self._cap,
            cap=self._cap,
            configured_cap=self._cap,
            rate_limited=self._rate_limited,
            waits=0,
            paused_until=None,
            min_cap_seen=self._cap,
            acquired=self._acquired,
        )
