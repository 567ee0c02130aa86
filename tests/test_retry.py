"""`Retry`: the one retry helper outside the HTTP pipeline, on tenacity, on an injected clock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from tenacity import wait_exponential, wait_fixed

from nswoo._retry import Retry
from nswoo.errors import StorageError
from nswoo.store import Busy, Claimed
from nswoo.store._claim_wait import claim_or_wait
from nswoo.store.memory import MemoryStore
from nswoo.store.sqlite import SqliteStore
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio


class Flaky:
    """Fails with `error` the first `failures` calls, then answers the call count."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return self.calls


async def test_errors_it_is_told_about_are_tried_again_on_the_schedule() -> None:
    """Two failures, then success: exactly the waits of the strategy, on the fake clock."""
    clock = FakeClock()
    flaky = Flaky(2, ConnectionError("down"))
    retry = Retry(attempts=5, wait=wait_exponential(multiplier=1, min=1, max=60))

    result = await retry.call(flaky, on=lambda e: isinstance(e, ConnectionError), clock=clock)

    assert result == 3
    assert clock.sleeps == [1.0, 2.0]


async def test_other_errors_propagate_at_once() -> None:
    """An error `on` does not accept is not tried again."""
    flaky = Flaky(5, ValueError("a bug, not an outage"))
    with pytest.raises(ValueError, match="a bug"):
        await Retry(attempts=5).call(flaky, on=lambda e: isinstance(e, ConnectionError))
    assert flaky.calls == 1


async def test_attempts_bound_the_tries_and_the_last_error_is_raised() -> None:
    """After `attempts` tries the last error itself is raised (not a tenacity RetryError)."""
    clock = FakeClock()
    flaky = Flaky(10, ConnectionError("still down"))
    with pytest.raises(ConnectionError, match="still down"):
        await Retry(attempts=3, wait=wait_fixed(5)).call(flaky, on=lambda _e: True, clock=clock)
    assert flaky.calls == 3
    assert clock.sleeps == [5.0, 5.0]


async def test_time_bounds_the_tries_and_the_last_wait_is_cut_to_what_is_left() -> None:
    """Bounded by 12 s on the injected clock: waits of 5, 5, then 2 (not 5), then stop."""
    clock = FakeClock()
    flaky = Flaky(10, ConnectionError("down"))
    with pytest.raises(ConnectionError):
        await Retry(attempts=None, seconds=12, wait=wait_fixed(5)).call(
            flaky, on=lambda _e: True, clock=clock
        )
    assert clock.sleeps == [5.0, 5.0, 2.0]
    assert flaky.calls == 4


async def test_results_it_is_told_about_are_tried_again_and_the_last_is_returned() -> None:
    """A result worth another try (a busy answer) is retried; when time runs out it is the
    answer, not an error.
    """
    clock = FakeClock()
    answers = iter(["busy", "busy", "busy", "busy"])

    async def ask() -> str:
        return next(answers)

    result = await Retry(attempts=None, seconds=2, wait=wait_fixed(1)).call(
        ask, again=lambda answer: answer == "busy", clock=clock
    )
    assert result == "busy"
    assert clock.sleeps == [1.0, 1.0]


def test_a_retry_must_be_bounded() -> None:
    """Neither attempts nor seconds would retry forever: refused."""
    with pytest.raises(ValueError, match="bounded"):
        Retry(attempts=None, seconds=None)


async def test_claim_or_wait_comes_back_when_the_lease_ends() -> None:
    """A busy order is claimed again when the other lease ends (poll permitting), and the
    wait stops at `max_wait` with the last answer.
    """
    clock = FakeClock()
    links = MemoryStore(clock=clock).order_links
    await links.claim("main", 1, owner="a", lease_seconds=2.5)

    gave_up = await claim_or_wait(
        links, "main", 1, owner="b", lease_seconds=60, clock=clock, max_wait=1.5, poll=1.0
    )
    assert isinstance(gave_up, Busy)
    assert clock.sleeps == [1.0, 0.5]

    got = await claim_or_wait(
        links, "main", 1, owner="b", lease_seconds=60, clock=clock, max_wait=10, poll=5.0
    )
    assert isinstance(got, Claimed)
    assert got.lease.taken_over_from == "a"
    assert clock.sleeps[2:] == [1.0]


async def test_a_write_the_sqlite_lock_kept_out_is_tried_again(tmp_path: Path) -> None:
    """A write that found the file locked past the busy timeout is tried again and lands
    once the other writer lets go (real file, a real second connection holding the lock).
    """
    path = tmp_path / "nswoo.db"
    async with await SqliteStore.open(path, busy_timeout=0.05) as store:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        threading.Timer(0.08, other.rollback).start()
        try:
            await store.cursors.set("orders:main:modified_after", "2025-01-01T00:00:00")
        finally:
            other.close()
        assert await store.cursors.get("orders:main:modified_after") == "2025-01-01T00:00:00"


async def test_a_lock_held_past_every_try_is_a_retryable_storage_error(tmp_path: Path) -> None:
    """Three tries, then `StorageError(retryable=True)`: the caller keeps the work."""
    path = tmp_path / "nswoo.db"
    async with await SqliteStore.open(path, busy_timeout=0.02) as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StorageError) as caught:
                await store.cursors.set("c", "v")
        finally:
            other.rollback()
            other.close()
    assert caught.value.retryable
    assert caught.value.locked
