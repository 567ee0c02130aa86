"""Fixtures for the storage contract: every test runs against each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from nswoo.store import Store
from nswoo.store.memory import MemoryStore
from nswoo.store.sqlite import SqliteStore
from nswoo.testing import FakeClock

Reopen = Callable[[], Awaitable[Store]]


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock shared by the store under test and the test itself."""
    return FakeClock(start=0.0)


@pytest.fixture(params=["memory", "sqlite"])
async def store(
    request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[Store]:
    """A fresh store of each backend (SQLite on a real file in `tmp_path`)."""
    opened: Store
    if request.param == "memory":
        opened = MemoryStore(clock=clock)
    else:
        opened = await SqliteStore.open(tmp_path / "nswoo.db", clock=clock)
    async with opened:
        yield opened


@pytest.fixture
async def sqlite_store(clock: FakeClock, tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A fresh SQLite store on a real file."""
    async with await SqliteStore.open(tmp_path / "nswoo.db", clock=clock) as opened:
        yield opened
