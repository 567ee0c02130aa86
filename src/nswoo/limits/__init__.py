"""Limits: the `Limiter` port and the in-process `LocalLimiter`, one per system, shared by
every caller, capping requests in flight and pausing on 429/503.

The port (`Limiter`, `Permit`, `LimiterLoad`, `LimiterStats`) is async wherever the HTTP
pipeline decides something, so a limiter shared across processes (Redis) fits it; the
adaptive cap is a pure rule every backend shares.
"""

from __future__ import annotations

from ._local import LocalLimiter as LocalLimiter
from ._port import Limiter as Limiter
from ._port import LimiterLoad as LimiterLoad
from ._port import LimiterStats as LimiterStats
from ._port import Permit as Permit

__all__ = [
    "Limiter",
    "LimiterLoad",
    "LimiterStats",
    "LocalLimiter",
    "Permit",
]
