"""What only the SQLite store must show: files, schema versions, locks and processes."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import anyio
import pytest

from nswoo.errors import StorageError
from nswoo.store import AlreadyLinked, Claimed, open_store
from nswoo.store._ports import StoreBinding, StoreBindingError
from nswoo.store.sqlite import SCHEMA_VERSION, SqliteStore, read_binding
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
from nswoo.store import Claimed
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


# What nswoo 1 (schema version 1) wrote: kept literally, so the migration is tested against
# real old files rather than against whatever the current code would create.
_SCHEMA_V1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE order_links (store TEXT NOT NULL, order_id INTEGER NOT NULL,
        sales_order_id TEXT, linked_by TEXT, linked_at REAL, lease_owner TEXT,
        lease_expires REAL, PRIMARY KEY (store, order_id))""",
    """CREATE TABLE inbox (item_id INTEGER PRIMARY KEY AUTOINCREMENT, store TEXT NOT NULL,
        delivery_id TEXT NOT NULL, topic TEXT NOT NULL, order_id INTEGER, body BLOB NOT NULL,
        received_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, lease_owner TEXT,
        lease_expires REAL, done_at REAL, UNIQUE (store, delivery_id))""",
    "CREATE INDEX inbox_pending ON inbox (item_id) WHERE done_at IS NULL",
    "CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL",
    """CREATE TABLE dead_letters (kind TEXT NOT NULL, store TEXT NOT NULL,
        order_id INTEGER NOT NULL, reason TEXT NOT NULL, attempts INTEGER NOT NULL,
        first_seen REAL NOT NULL, last_seen REAL NOT NULL, payload BLOB,
        PRIMARY KEY (kind, store, order_id))""",
    "CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE stock_pushes (store TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER,
        status TEXT NOT NULL, pushed_at REAL NOT NULL, PRIMARY KEY (store, sku))""",
    """CREATE TABLE reports (report_date TEXT PRIMARY KEY, payload_json TEXT NOT NULL,
        created_at REAL NOT NULL)""",
    "INSERT INTO meta (key, value) VALUES ('schema_version', '1')",
)


def _write_v1_store(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        for statement in _SCHEMA_V1:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO order_links (store, order_id, sales_order_id, linked_by, linked_at) "
            "VALUES ('main', 40001, '9001', 'old-worker', 1700000000.0)"
        )
        conn.execute(
            "INSERT INTO inbox (store, delivery_id, topic, order_id, body, received_at) "
            "VALUES ('main', 'd-1', 'order.created', 40002, x'7b7d', 1700000000.0)"
        )
        conn.execute(
            "INSERT INTO reports (report_date, payload_json, created_at) "
            "VALUES ('2025-03-01', '{}', 1700000000.0)"
        )
    # sqlite3's context manager commits but does not close.
    sqlite3.connect(path).close()


async def test_a_version_1_file_is_migrated_and_bound_at_its_first_open(tmp_path: Path) -> None:
    """An old store keeps its links, deliveries and reports, and records its binding."""
    path = tmp_path / "nswoo.db"
    _write_v1_store(path)

    store = await open_store(
        f"sqlite:///{path}", clock=FakeClock(), environment="prod", account_id="1234567"
    )
    async with store:
        claim = await store.order_links.claim("main", 40001, owner="new", lease_seconds=60)
        [item] = await store.inbox.take("main", owner="new", limit=10, lease_seconds=60)
        reports = await store.reports.recent("", 10)
    with pytest.raises(StoreBindingError, match="prod"):
        await open_store(f"sqlite:///{path}", environment="sandbox", account_id="1234567_SB1")

    assert isinstance(claim, AlreadyLinked)
    assert claim.link.sales_order_id == "9001"
    assert (item.delivery_id, item.order_id, item.body) == ("d-1", 40002, b"{}")
    assert [r.report_date.isoformat() for r in reports] == ["2025-03-01"]
    assert await read_binding(path) == StoreBinding("prod", "1234567")
    with sqlite3.connect(path) as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),)


async def test_the_binding_survives_restarts_and_other_processes(tmp_path: Path) -> None:
    """A binding recorded by one open is enforced by every later open of the file."""
    path = tmp_path / "nswoo.db"
    async with await SqliteStore.open(path) as first:
        await first.bind(StoreBinding("sandbox", "1234567_SB1"))

    async with await SqliteStore.open(path) as second:
        with pytest.raises(StoreBindingError) as refused:
            await second.bind(StoreBinding("prod", "1234567"))
        await second.bind(StoreBinding("sandbox", "1234567_SB1"))

    assert str(path) in str(refused.value)
    assert refused.value.location == str(path)


async def test_reading_the_binding_creates_and_changes_nothing(tmp_path: Path) -> None:
    """read_binding() (what `nswoo check` uses) leaves a missing file missing."""
    path = tmp_path / "nswoo.db"

    assert await read_binding(path) is None
    assert not path.exists()
    async with await SqliteStore.open(path):
        pass
    assert await read_binding(path) is None
