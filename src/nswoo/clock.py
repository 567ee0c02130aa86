"""Time as an injected dependency: the `Clock` Protocol and the real `SystemClock`.

Clients, limiters and stores take `clock=` (default `SystemClock()`);
`nswoo.testing.FakeClock` is the test double.
"""

from __future__ import annotations

from ._clock import Clock, SystemClock

__all__ = ["Clock", "SystemClock"]
