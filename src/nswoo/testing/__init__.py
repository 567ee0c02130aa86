"""Test doubles that ship with nswoo: fakes, simulators, fault plans and payload factories.

Use them in your own integration's tests the way nswoo's tests do.
"""

from __future__ import annotations

from ._clock import FakeClock as FakeClock

__all__ = ["FakeClock"]
