"""Limits: the `Limiter` port and the in-process `LocalLimiter`, one per system, shared by
every caller, capping requests in flight and pausing on 429/503.
"""

from __future__ import annotations

from ._local import Limiter as Limiter
from ._local import LimiterStats as LimiterStats
from ._local import LocalLimiter as LocalLimiter
from ._local import Permit as Permit

__all__ = [
    "Limiter",
    "LimiterStats",
    "LocalLimiter",
    "Permit",
]
