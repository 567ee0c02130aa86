"""What only the SQLite store must show: files, schema versions, locks and processes."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import anyio
import pytest

from nswoo.errors import StorageError
from nswoo.store._ports import AlreadyLinked, Claimed
from nswoo.store.sqlite import SCHEMA_VERSION, SqliteStore
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio


async def test_reopening_keeps_data_and_dedupe(tmp_path: Path, clock: FakeClock) -> None:
    """Links, dead letters, cursors and seen delivery ids survive a restart."""
    path = tmp_path / "nswoo.db"
    async with await SqliteStore.open(path, clock=clock) as store:
        await store.order_links.link("main", 1, sales_order_id="11", owner="a")
        await store.dead_letters.add("main", 2, reason="totals differ", payload=b"{}")
        await store.cursors.set("orders", "2025-01-01")
        await store.inbox.put("main", "d-1", topic="order.created", order_id=1, body=b"x")

    async with await SqliteStore.open(path, clock=clock) as store:
        claim = await store.order_links.claim("main", 1, owner="b", lease_seconds=60)
        duplicate = await store.inbox.put(
            "main", "d-1", topic="order.created", order_id=1, body=b"x"
        )
        letter = await store.dead_letters.get("main", 2)
        cursor = await store.cursors.get("orders")

    assert isinstance(claim, AlreadyLinked)
    assert claim.link.sales_order_id == "11"
    assert not duplicate
    assert letter is not None
    assert letter.payload == b"{}"
    assert cursor == "2025-01-01"


async def test_file_is_in_wal_mode_and_stamped(sqlite_store: SqliteStore) -> None:
    """The file uses the WAL journal and records its schema version in `meta`."""
    with sqlite3.connect(sqlite_store.path) as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert mode == "wal"
    assert version == (str(SCHEMA_VERSION),)


async def test_future_schema_version_is_refused(tmp_path: Path) -> None:
    """A file written by a newer nswoo is refused, naming its version, and left as it was."""
    path = tmp_path / "nswoo.db"
    async with await SqliteStore.open(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")

    with pytest.raises(StorageError, match="schema version 99") as caught:
        await SqliteStore.open(path)

    assert not caught.value.retryable
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == ("99",)


async def test_garbage_file_is_refused_untouched(tmp_path: Path) -> None:
    """A file that is not SQLite is refused with a clear StorageError and not written to."""
    path = tmp_path / "nswoo.db"
    garbage = b"this is not a database, it is a shopping list\n" * 100
    path.write_bytes(garbage)

    with pytest.raises(StorageError, match="not an SQLite database or is corrupt"):
        await SqliteStore.open(path)

    assert path.read_bytes() == garbage
    assert not (tmp_path / "nswoo.db-wal").exists()


async def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    """An SQLite file with foreign tables and no nswoo stamp is not written into."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")

    with pytest.raises(StorageError, match="another application"):
        await SqliteStore.open(path)

    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"customers"}


async def test_lock_past_busy_timeout_is_retryable(tmp_path: Path) -> None:
    """A write lock held longer than the busy timeout gives a retryable StorageError."""
    path = tmp_path / "nswoo.db"
    store = await SqliteStore.open(path, busy_timeout=0.05)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError, match="locked") as caught:
            await store.order_links.claim("main", 1, owner="a", lease_seconds=60)
        assert caught.value.retryable
        blocker.execute("ROLLBACK")
        after = await store.order_links.claim("main", 1, owner="a", lease_seconds=60)
        assert isinstance(after, Claimed)
    finally:
        blocker.close()
        await store.aclose()


async def test_memory_path_is_refused(tmp_path: Path) -> None:
    """`:memory:` would give each pooled connection its own database, so it is refused."""
    with pytest.raises(ValueError, match="own database"):
        SqliteStore(":memory:")


# Each process claims every key with four tasks, one process from the lowest key up and the
# other from the highest down, after a file barrier: they meet in the middle and contend for
# the same keys at the same moment, and each must win some keys (or the test proved nothing).
_CLAIMER = """
import json, sys
from pathlib import Path
import anyio
from nswoo.store._ports import Claimed
from nswoo.store.sqlite import SqliteStore

async def main(path, owner, go, n, descending):
    keys = iter(range(n - 1, -1, -1) if descending else range(n))
    won = []
    async with await SqliteStore.open(path) as store:
        async def worker():
            for key in keys:
                answer = await store.order_links.claim(
                    "main", key, owner=owner, lease_seconds=600
                )
                if isinstance(answer, Claimed):
                    won.append(key)

        Path(f"{go}.{owner}").touch()
        while not Path(go).exists():
            await anyio.sleep(0.002)
        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(worker)
    print(json.dumps(won))

anyio.run(main, sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "down")
"""


@pytest.mark.slow
async def test_two_processes_never_claim_the_same_key(tmp_path: Path) -> None:
    """Two OS processes racing over the same keys on one file: each key has one winner."""
    path, go, keys = tmp_path / "nswoo.db", tmp_path / "go", 1000
    async with await SqliteStore.open(path):
        pass  # create the schema first, so both processes race on claims, not on setup
    outputs: dict[str, bytes] = {}

    async def run(owner: str, direction: str) -> None:
        command = [sys.executable, "-c", _CLAIMER, str(path), owner, str(go), str(keys), direction]
        done = await anyio.run_process(command)
        outputs[owner] = done.stdout

    async def start_together() -> None:
        with anyio.fail_after(30):
            # Another process touches these files; no anyio.Event can cross that boundary.
            while not all((tmp_path / f"go.{o}").exists() for o in ("p1", "p2")):  # noqa: ASYNC110
                await anyio.sleep(0.01)
        go.touch()

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run, "p1", "up")
            tg.start_soon(run, "p2", "down")
            tg.start_soon(start_together)

    won = {owner: set(json.loads(out)) for owner, out in outputs.items()}
    assert won["p1"].isdisjoint(won["p2"])
    assert won["p1"] | won["p2"] == set(range(keys))
    assert won["p1"]
    assert won["p2"]
