"""The embedded SQLite store: nswoo's default, safe for several processes on one host.

```python
from nswoo.store.sqlite import SqliteStore

async with await SqliteStore.open("nswoo-prod.db") as store:
    answer = await store.order_links.claim("main", 40001, owner="worker-1", lease_seconds=120)
```

How it stays correct with several workers and processes on one file:

- WAL journal: readers never block the writer and the writer never blocks readers.
- Every read-modify-write (claims, links, inbox leases, dead-letter upserts) runs in a
  `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock before reading, so two
  processes cannot both read "free" and both claim.
- `busy_timeout` makes a writer wait for the lock instead of failing at once; a lock held
  longer than that raises `StorageError(retryable=True)`.
- Blocking sqlite3 calls run in worker threads (`anyio.to_thread.run_sync`), on pooled
  connections: one thread uses a connection at a time.
- The schema carries its version in a `meta` table. Opening a file written by a newer nswoo
  is refused rather than guessed at; migrations run in one transaction. The same table
  records the environment and NetSuite account the file belongs to (`bind()`).
- A file it cannot write (read-only, immutable, in a read-only folder) is refused at open.
  A file deleted, moved away or replaced while open is noticed before and after every
  operation (its device and inode are compared with those seen at open) and refused with
  `StorageError`: writes into an unlinked file would be acknowledged and then lost.

WAL needs shared memory between processes, so the file must sit on a local disk, not on a
network share (https://www.sqlite.org/wal.html, "WAL does not work over a network
filesystem"). It is for processes on one host; several hosts need a shared store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

import anyio
import anyio.to_thread
import attrs
from tenacity import wait_incrementing

from .._clock import Clock, SystemClock
from .._retry import Retry
from .._settings._backends import sqlite_path
from ..errors import StorageError
from ._liveness import owner_is_gone as _owner_is_gone
from ._ports import (
    DEFAULT_INBOX_RETENTION,
    AlertRow,
    Claim,
    ClosingStore,
    Cursors,
    DeadLetter,
    DeadLetters,
    Inbox,
    InboxItem,
    Lease,
    OrderLink,
    OrderLinks,
    PendingAlerts,
    PushedStock,
    Report,
    Reports,
    StockPushes,
    StoreBinding,
)
from ._rules import (
    LinkRow,
    OwnerIsGone,
    decide_binding,
    decide_claim,
    decide_link,
    epoch,
    link_from_row,
    live_lease,
    utc,
)

__all__ = ["SCHEMA_VERSION", "SqliteStore", "open_url", "read_binding", "read_url_binding"]

_T = TypeVar("_T")
_BACKEND = "sqlite"

# Every schema change appends one step; a step is applied with the version bump in one
# transaction, so a file is always at exactly one known version.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE order_links (
            store TEXT NOT NULL,
            order_id INTEGER NOT NULL,
            sales_order_id TEXT,
            linked_by TEXT,
            linked_at REAL,
            lease_owner TEXT,
            lease_expires REAL,
            PRIMARY KEY (store, order_id)
        )""",
        """CREATE TABLE inbox (
            item_id INTEGER PRIMARY KEY AUTOINCREMENT,
            store TEXT NOT NULL,
            delivery_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            order_id INTEGER,
            body BLOB NOT NULL,
            received_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_expires REAL,
            done_at REAL,
            UNIQUE (store, delivery_id)
        )""",
        "CREATE INDEX inbox_pending ON inbox (item_id) WHERE done_at IS NULL",
        "CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL",
        """CREATE TABLE dead_letters (
            kind TEXT NOT NULL,
            store TEXT NOT NULL,
            order_id INTEGER NOT NULL,
            reason TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            first_seen REAL NOT NULL,
            last_seen REAL NOT NULL,
            payload BLOB,
            PRIMARY KEY (kind, store, order_id)
        )""",
        "CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE stock_pushes (
            store TEXT NOT NULL,
            sku TEXT NOT NULL,
            quantity INTEGER,
            status TEXT NOT NULL,
            pushed_at REAL NOT NULL,
            PRIMARY KEY (store, sku)
        )""",
        """CREATE TABLE reports (
            report_date TEXT PRIMARY KEY,
            payload_json TEXT NOT NULL,
            created_at REAL NOT NULL
        )""",
    ),
    # 2: everything keyed by WooCommerce store. Reports gain a store; version 1 wrote none
    # (no command stored reports yet), so any found are kept under the store name "".
    # Workers take one store's pending items and look for done items of the same order.
    (
        """CREATE TABLE reports_by_store (
            store TEXT NOT NULL,
            report_date TEXT NOT NULL,
            payload_json TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (store, report_date)
        )""",
        "INSERT INTO reports_by_store (store, report_date, payload_json, created_at) "
        "SELECT '', report_date, payload_json, created_at FROM reports",
        "DROP TABLE reports",
        "ALTER TABLE reports_by_store RENAME TO reports",
        "DROP INDEX inbox_pending",
        "CREATE INDEX inbox_pending ON inbox (store, item_id) WHERE done_at IS NULL",
        "CREATE INDEX inbox_done_by_order ON inbox (store, order_id, item_id) "
        "WHERE done_at IS NOT NULL",
    ),
    # 3: alerts waiting for a notification channel (schema drift pages), kept until sent.
    (
        """CREATE TABLE pending_alerts (
            key TEXT NOT NULL,
            channel TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            severity TEXT NOT NULL,
            raised_at REAL NOT NULL,
            due REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            sent_at REAL,
            PRIMARY KEY (key, channel)
        )""",
        "CREATE INDEX pending_alerts_due ON pending_alerts (due) WHERE sent_at IS NULL",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)
"""The schema version this nswoo writes; files stamped with a higher one are refused."""

# Bulk lookups pass their ids as one JSON array parameter (`json_each(?)`), so SQL text is
# never built from values; chunks keep each statement's work and memory bounded.
_CHUNK = 5000


_LOCKED_RETRY = Retry(attempts=3, wait=wait_incrementing(start=0.05, increment=0.05))
"""One operation is tried 3 times when the database stays locked past the busy timeout,
0.05 s and then 0.1 s apart."""


class _LockedError(StorageError):
    """The database stayed locked past the busy timeout (the operation was rolled back)."""

    locked = True


def _translate(exc: sqlite3.Error, path: str) -> StorageError:
    """The nswoo error for a sqlite3 error (the only place sqlite3 errors are read)."""
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return _LockedError(
            f"{path} stayed locked by another writer past the busy timeout ({text})",
            backend=_BACKEND,
            retryable=True,
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return StorageError(
            f"{path} is not an SQLite database or is corrupt ({text}); nothing was written. "
            "Point NSWOO_<ENV>_STORE at another file or restore a backup",
            backend=_BACKEND,
        )
    if isinstance(exc, sqlite3.OperationalError) and (
        "unable to open" in lowered or "readonly" in lowered or "disk" in lowered
    ):
        return StorageError(f"{path}: {text}", backend=_BACKEND, retryable="full" in lowered)
    return StorageError(f"{path}: {text}", backend=_BACKEND)


@attrs.define
class _Pool:
    """Idle connections to one file, handed to one worker thread at a time."""

    path: str
    busy_timeout: float
    idle: list[sqlite3.Connection] = attrs.field(factory=list)
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    closed: bool = False
    # Once the schema is set up the file must exist: a connection must never create an
    # empty one in place of a file deleted meanwhile.
    must_exist: bool = False

    def connect(self) -> sqlite3.Connection:
        # isolation_level=None: the module must not open transactions behind our back; each
        # operation says BEGIN IMMEDIATE (writes) or runs single statements (reads).
        target, uri = self.path, False
        if self.must_exist:
            # mode=rw: open an existing file read-write, never create one
            # (https://www.sqlite.org/uri.html, "mode=rw").
            target, uri = Path(self.path).absolute().as_uri() + "?mode=rw", True
        conn = sqlite3.connect(
            target,
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=uri,
        )
        # `timeout` above is SQLite's busy timeout: how long a writer waits for the lock.
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")  # durable in WAL mode at commit
        except BaseException:
            conn.close()
            raise
        return conn

    def borrow(self) -> sqlite3.Connection:
        with self.lock:
            if self.closed:
                raise StorageError("used after aclose()", backend=_BACKEND)
            if self.idle:
                return self.idle.pop()
        return self.connect()

    def give_back(self, conn: sqlite3.Connection, *, healthy: bool) -> None:
        with self.lock:
            if healthy and not self.closed and len(self.idle) < 8:
                self.idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()


def _refuse_unwritable(path: str) -> None:
    """Refuse a store nswoo could not write: read-only or immutable files, folder or mount.

    SQLite opens such a file read-only without a word and fails only at the first write (and
    a read-only `-shm` it must map can even end the process with SIGBUS), so this is checked
    before SQLite touches the file. `os.access` answers for the real user, and also for
    `chattr +i` (EPERM) and read-only mounts (EROFS), which bind even root.
    """
    target = Path(path).absolute()
    folder = target.parent
    if not folder.is_dir():
        raise StorageError(f"{path}: the folder {folder} does not exist", backend=_BACKEND)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(
            f"{path}: its folder {folder} is not writable (read-only, immutable, or not "
            "permitted); SQLite must create the store's -wal and -shm files beside it",
            backend=_BACKEND,
        )
    for name in (str(target), f"{target}-wal", f"{target}-shm", f"{target}-journal"):
        if os.path.lexists(name) and not os.access(name, os.R_OK | os.W_OK):
            raise StorageError(
                f"{name} is not writable (read-only, immutable, or not permitted); nswoo "
                "must write the store and its -wal and -shm files",
                backend=_BACKEND,
            )


def _file_identity(path: str) -> tuple[int, int] | None:
    """The file's (device, inode), or None when nothing is at `path`."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


@attrs.define
class _Db:
    """Runs blocking functions on a pooled connection in a worker thread."""

    path: str
    pool: _Pool
    clock: Clock
    inbox_retention: float
    owner_is_gone: OwnerIsGone = _owner_is_gone
    # More threads than this only queue on SQLite's single write lock.
    limiter: anyio.CapacityLimiter = attrs.field(factory=lambda: anyio.CapacityLimiter(4))
    ready: bool = False
    setup_lock: anyio.Lock = attrs.field(factory=anyio.Lock)
    # The file's (device, inode) when it was set up: the file every operation must still see.
    identity: tuple[int, int] | None = None

    async def run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        if not self.ready:
            await self.setup()
        return await self._call(fn)

    async def _call(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        # SQLite's busy handler is not fair: under contention from several processes a
        # writer can lose the lock race for the whole busy timeout. Every operation is one
        # transaction that was rolled back when the lock was not had, so trying it again
        # is safe; a few tries turn a rare starvation into a short delay. The waits are on
        # the wall clock whatever clock the store was given: the other writer holds the
        # lock in real time.
        return await _LOCKED_RETRY.call(
            lambda: anyio.to_thread.run_sync(self._in_thread, fn, limiter=self.limiter),
            on=lambda exc: isinstance(exc, StorageError) and exc.locked,
            clock=SystemClock(),
        )

    def _in_thread(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        self.check_file()
        try:
            conn = self.pool.borrow()
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        healthy = False
        try:
            result = fn(conn)
            healthy = True
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        finally:
            if conn.in_transaction:
                try:
                    conn.rollback()
                except sqlite3.Error:
                    healthy = False
            self.pool.give_back(conn, healthy=healthy)
        # Checked again after the work: a write committed into a file deleted meanwhile
        # must fail, not be acknowledged (the receiver answers 503 instead of 200).
        self.check_file()
        return result

    def check_file(self) -> None:
        """Refuse to go on when the file set up is gone or another file took its place."""
        if self.identity is None:
            return
        now = _file_identity(self.path)
        if now == self.identity:
            return
        if now is None:
            raise StorageError(
                f"{self.path} is gone (deleted or moved away) while nswoo had it open; "
                "nothing more is written or acknowledged. Put the file back, or restart "
                "nswoo to start a new store",
                backend=_BACKEND,
            )
        raise StorageError(
            f"{self.path} was replaced by another file while nswoo had it open; nothing "
            "more is written or acknowledged. Restart nswoo to use the new file",
            backend=_BACKEND,
        )

    async def setup(self) -> None:
        async with self.setup_lock:
            if not self.ready:
                await anyio.to_thread.run_sync(_refuse_unwritable, self.path)
                await self._call(_migrate_or_refuse(self.path))
                self.identity = await anyio.to_thread.run_sync(_file_identity, self.path)
                self.pool.must_exist = True
                self.ready = True

    def write(self, fn: Callable[[sqlite3.Connection], _T]) -> Callable[[sqlite3.Connection], _T]:
        """`fn` wrapped in BEGIN IMMEDIATE ... COMMIT (rolled back on any error)."""

        def transaction(conn: sqlite3.Connection) -> _T:
            conn.execute("BEGIN IMMEDIATE")
            result = fn(conn)
            conn.execute("COMMIT")
            return result

        return transaction


def _migrate_or_refuse(path: str) -> Callable[[sqlite3.Connection], None]:
    def migrate(conn: sqlite3.Connection) -> None:
        # Read before anything writes: a garbage file fails here, untouched.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise StorageError(
                f"{path}: could not switch to WAL journal mode (got {mode!r}); "
                "is the file on a network share?",
                backend=_BACKEND,
            )
        conn.execute("BEGIN IMMEDIATE")
        tables = {
            str(row[0])
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        version = 0
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None or not str(row[0]).isdigit():
                raise StorageError(
                    f"{path} has a meta table without a readable schema_version ({row!r}); "
                    "it was not written by nswoo",
                    backend=_BACKEND,
                )
            version = int(row[0])
        elif tables - {"sqlite_sequence"}:
            raise StorageError(
                f"{path} is an SQLite database of another application (tables: "
                f"{', '.join(sorted(tables))}); nswoo will not write into it",
                backend=_BACKEND,
            )
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{path} has schema version {version}, newer than the {SCHEMA_VERSION} this "
                "nswoo knows; upgrade nswoo (never downgrade with a newer store file)",
                backend=_BACKEND,
            )
        if version == 0:
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for step in _MIGRATIONS[version:]:
            for statement in step:
                conn.execute(statement)
        if version < SCHEMA_VERSION:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
        conn.execute("COMMIT")

    return migrate


def _binding_in(conn: sqlite3.Connection, path: str) -> StoreBinding | None:
    """The binding `meta` records (None: never bound, e.g. created before bindings)."""
    found = dict(
        conn.execute(
            "SELECT key, value FROM meta WHERE key IN ('environment', 'account_id')"
        ).fetchall()
    )
    if not found:
        return None
    if set(found) != {"environment", "account_id"}:
        raise StorageError(
            f"{path} records half a binding ({sorted(found)}); it was changed by hand",
            backend=_BACKEND,
        )
    return StoreBinding(str(found["environment"]), str(found["account_id"]))


async def read_binding(path: str | Path) -> StoreBinding | None:
    """The binding the store file at `path` records, opening it read-only.

    None when there is no file yet or it was never bound. Creates and changes nothing.

    Raises:
        StorageError: the file exists but cannot be read as an nswoo store.
    """
    name = str(path)

    def read() -> StoreBinding | None:
        if not os.path.exists(name):
            return None
        try:
            conn = sqlite3.connect(Path(name).absolute().as_uri() + "?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise _translate(exc, name) from exc
        try:
            tables = {
                str(r[0])
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            return _binding_in(conn, name) if "meta" in tables else None
        except sqlite3.Error as exc:
            raise _translate(exc, name) from exc
        finally:
            conn.close()

    return await anyio.to_thread.run_sync(read)


def _chunks(values: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


# ---------------------------------------------------------------------------------------------
# Ports


def _link_row(conn: sqlite3.Connection, store: str, order_id: int) -> LinkRow | None:
    row = conn.execute(
        "SELECT sales_order_id, linked_by, linked_at, lease_owner, lease_expires "
        "FROM order_links WHERE store = ? AND order_id = ?",
        (store, order_id),
    ).fetchone()
    if row is None:
        return None
    return LinkRow(
        sales_order_id=row[0],
        linked_by=row[1],
        linked_at=row[2],
        lease_owner=row[3],
        lease_expires=row[4],
    )


def _write_link_row(conn: sqlite3.Connection, store: str, order_id: int, row: LinkRow) -> None:
    conn.execute(
        "INSERT INTO order_links (store, order_id, sales_order_id, linked_by, linked_at, "
        "lease_owner, lease_expires) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (store, order_id) DO UPDATE SET sales_order_id = excluded.sales_order_id, "
        "linked_by = excluded.linked_by, linked_at = excluded.linked_at, "
        "lease_owner = excluded.lease_owner, lease_expires = excluded.lease_expires",
        (
            store,
            order_id,
            row.sales_order_id,
            row.linked_by,
            row.linked_at,
            row.lease_owner,
            row.lease_expires,
        ),
    )


@attrs.frozen
class _SqliteOrderLinks:
    _db: _Db

    async def claim(self, store: str, order_id: int, *, owner: str, lease_seconds: float) -> Claim:
        clock = self._db.clock

        def claim(conn: sqlite3.Connection) -> Claim:
            # Read inside the write lock: time spent waiting for it must not count as
            # lease time already granted, nor make a lapsed lease look live.
            now = clock.time()
            answer, write = decide_claim(
                _link_row(conn, store, order_id),
                store=store,
                order_id=order_id,
                owner=owner,
                now=now,
                lease_seconds=lease_seconds,
                owner_is_gone=self._db.owner_is_gone,
            )
            if write is not None:
                _write_link_row(conn, store, order_id, write)
            return answer

        return await self._db.run(self._db.write(claim))

    async def link(
        self, store: str, order_id: int, *, sales_order_id: str, owner: str
    ) -> OrderLink:
        clock = self._db.clock

        def link(conn: sqlite3.Connection) -> OrderLink:
            now = clock.time()
            answer, write = decide_link(
                _link_row(conn, store, order_id),
                store=store,
                order_id=order_id,
                sales_order_id=sales_order_id,
                owner=owner,
                now=now,
                backend=_BACKEND,
            )
            if write is not None:
                _write_link_row(conn, store, order_id, write)
            return answer

        return await self._db.run(self._db.write(link))

    async def release(self, store: str, order_id: int, *, owner: str) -> bool:
        clock = self._db.clock

        def release(conn: sqlite3.Connection) -> bool:
            now = clock.time()
            cursor = conn.execute(
                "DELETE FROM order_links WHERE store = ? AND order_id = ? "
                "AND sales_order_id IS NULL AND lease_owner = ? AND lease_expires > ?",
                (store, order_id, owner, now),
            )
            return cursor.rowcount == 1

        return await self._db.run(self._db.write(release))

    async def get(self, store: str, order_id: int) -> OrderLink | None:
        def get(conn: sqlite3.Connection) -> OrderLink | None:
            row = _link_row(conn, store, order_id)
            if row is None or row.sales_order_id is None:
                return None
            return link_from_row(row, store=store, order_id=order_id)

        return await self._db.run(get)

    async def lease(self, store: str, order_id: int) -> Lease | None:
        clock = self._db.clock

        def lease(conn: sqlite3.Connection) -> Lease | None:
            row = _link_row(conn, store, order_id)
            return live_lease(
                row,
                store=store,
                order_id=order_id,
                now=clock.time(),
                owner_is_gone=self._db.owner_is_gone,
            )

        return await self._db.run(lease)

    async def linked_ids(self, store: str, order_ids: Iterable[int]) -> Mapping[int, str]:
        wanted = list(dict.fromkeys(order_ids))

        def linked_ids(conn: sqlite3.Connection) -> Mapping[int, str]:
            found: dict[int, str] = {}
            for chunk in _chunks(wanted):
                rows = conn.execute(
                    "SELECT order_id, sales_order_id FROM order_links WHERE store = ? "
                    "AND sales_order_id IS NOT NULL "
                    "AND order_id IN (SELECT value FROM json_each(?))",
                    (store, json.dumps(chunk)),
                )
                found.update({int(r[0]): str(r[1]) for r in rows})
            return found

        return await self._db.run(linked_ids)


def _inbox_item(row: tuple[Any, ...]) -> InboxItem:
    item_id, store, delivery_id, topic, order_id, body, received_at, attempts, newer = row
    return InboxItem(
        item_id=int(item_id),
        store=str(store),
        delivery_id=str(delivery_id),
        topic=str(topic),
        order_id=None if order_id is None else int(order_id),
        body=bytes(body),
        received_at=utc(float(received_at)),
        attempts=int(attempts),
        superseded=bool(newer),
    )


@attrs.frozen
class _SqliteInbox:
    _db: _Db

    async def put(
        self,
        store: str,
        delivery_id: str,
        *,
        topic: str,
        order_id: int | None,
        body: bytes,
        received_at: datetime | None = None,
    ) -> bool:
        received = self._db.clock.time() if received_at is None else epoch(received_at)

        def put(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT INTO inbox (store, delivery_id, topic, order_id, body, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (store, delivery_id) DO NOTHING",
                (store, delivery_id, topic, order_id, bytes(body), received),
            )
            return cursor.rowcount == 1

        return await self._db.run(self._db.write(put))

    async def take(
        self, store: str, *, owner: str, limit: int, lease_seconds: float
    ) -> list[InboxItem]:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        clock = self._db.clock

        owner_is_gone = self._db.owner_is_gone

        def take(conn: sqlite3.Connection) -> list[InboxItem]:
            now = clock.time()
            # Leases of owners whose process is gone are free now, not at their expiry; the
            # owners are few (one per worker), asked inside the write lock.
            holders = conn.execute(
                "SELECT DISTINCT lease_owner FROM inbox WHERE store = ? AND done_at IS NULL "
                "AND lease_owner IS NOT NULL AND lease_expires > ?",
                (store, now),
            ).fetchall()
            gone = [owner for (owner,) in holders if owner_is_gone(owner)]
            rows = conn.execute(
                "UPDATE inbox SET lease_owner = ?, lease_expires = ?, attempts = attempts + 1 "
                "WHERE item_id IN (SELECT item_id FROM inbox WHERE store = ? "
                "AND done_at IS NULL AND (lease_expires IS NULL OR lease_expires <= ? "
                "OR lease_owner IN (SELECT value FROM json_each(?))) "
                "ORDER BY item_id LIMIT ?) "
                "RETURNING item_id, store, delivery_id, topic, order_id, body, received_at, "
                "attempts, EXISTS (SELECT 1 FROM inbox AS newer WHERE newer.store = inbox.store "
                "AND newer.order_id = inbox.order_id AND newer.item_id > inbox.item_id "
                "AND newer.done_at IS NOT NULL)",
                (owner, now + lease_seconds, store, now, json.dumps(gone), max(0, limit)),
            ).fetchall()
            # RETURNING gives rows in no promised order; the contract is oldest first.
            return sorted((_inbox_item(tuple(r)) for r in rows), key=lambda i: i.item_id)

        return await self._db.run(self._db.write(take))

    async def done(self, item_ids: Iterable[int]) -> None:
        ids = list(dict.fromkeys(item_ids))
        now = self._db.clock.time()
        horizon = now - self._db.inbox_retention

        def done(conn: sqlite3.Connection) -> None:
            for chunk in _chunks(ids):
                conn.execute(
                    "UPDATE inbox SET done_at = ?, lease_owner = NULL, lease_expires = NULL "
                    "WHERE done_at IS NULL AND item_id IN (SELECT value FROM json_each(?))",
                    (now, json.dumps(chunk)),
                )
            # Finished rows are the dedupe memory; drop them only after the retention period.
            conn.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (horizon,))

        await self._db.run(self._db.write(done))

    async def release(self, item_ids: Iterable[int], *, not_before: float | None = None) -> None:
        ids = list(dict.fromkeys(item_ids))

        def release(conn: sqlite3.Connection) -> None:
            for chunk in _chunks(ids):
                # An owner-less lease until `not_before` keeps take() off the item till then.
                conn.execute(
                    "UPDATE inbox SET lease_owner = NULL, lease_expires = ?, "
                    "attempts = MAX(0, attempts - 1) "
                    "WHERE done_at IS NULL AND lease_owner IS NOT NULL "
                    "AND item_id IN (SELECT value FROM json_each(?))",
                    (not_before, json.dumps(chunk)),
                )

        await self._db.run(self._db.write(release))

    async def pending_count(self, store: str | None = None) -> int:
        def pending_count(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT count(*) FROM inbox WHERE done_at IS NULL AND (? IS NULL OR store = ?)",
                (store, store),
            ).fetchone()
            return int(row[0])

        return await self._db.run(pending_count)


def _dead_letter(row: tuple[Any, ...]) -> DeadLetter:
    kind, store, order_id, reason, attempts, first_seen, last_seen, payload = row
    return DeadLetter(
        kind=str(kind),
        store=str(store),
        order_id=int(order_id),
        reason=str(reason),
        attempts=int(attempts),
        first_seen=utc(float(first_seen)),
        last_seen=utc(float(last_seen)),
        payload=None if payload is None else bytes(payload),
    )


@attrs.frozen
class _SqliteDeadLetters:
    _db: _Db

    async def add(
        self,
        store: str,
        order_id: int,
        *,
        reason: str,
        payload: bytes | None = None,
        kind: str = "order",
    ) -> DeadLetter:
        now = self._db.clock.time()
        blob = None if payload is None else bytes(payload)

        def add(conn: sqlite3.Connection) -> DeadLetter:
            row = conn.execute(
                "INSERT INTO dead_letters (kind, store, order_id, reason, attempts, first_seen, "
                "last_seen, payload) VALUES (?, ?, ?, ?, 1, ?, ?, ?) "
                "ON CONFLICT (kind, store, order_id) DO UPDATE SET reason = excluded.reason, "
                "attempts = attempts + 1, last_seen = excluded.last_seen, "
                "payload = coalesce(excluded.payload, payload) "
                "RETURNING kind, store, order_id, reason, attempts, first_seen, last_seen, "
                "payload",
                (kind, store, order_id, reason, now, now, blob),
            ).fetchone()
            return _dead_letter(tuple(row))

        return await self._db.run(self._db.write(add))

    async def list(self, store: str | None = None, *, kind: str = "order") -> Sequence[DeadLetter]:
        def entries(conn: sqlite3.Connection) -> Sequence[DeadLetter]:
            rows = conn.execute(
                "SELECT kind, store, order_id, reason, attempts, first_seen, last_seen, payload "
                "FROM dead_letters WHERE kind = ? "
                "AND (? IS NULL OR store = ?) ORDER BY first_seen, store, order_id",
                (kind, store, store),
            )
            return [_dead_letter(tuple(r)) for r in rows]

        return await self._db.run(entries)

    async def get(self, store: str, order_id: int, *, kind: str = "order") -> DeadLetter | None:
        def get(conn: sqlite3.Connection) -> DeadLetter | None:
            row = conn.execute(
                "SELECT kind, store, order_id, reason, attempts, first_seen, last_seen, payload "
                "FROM dead_letters WHERE kind = ? AND store = ? AND order_id = ?",
                (kind, store, order_id),
            ).fetchone()
            return None if row is None else _dead_letter(tuple(row))

        return await self._db.run(get)

    async def resolve(self, store: str, order_id: int, *, kind: str = "order") -> bool:
        def resolve(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "DELETE FROM dead_letters WHERE kind = ? AND store = ? AND order_id = ?",
                (kind, store, order_id),
            )
            return cursor.rowcount == 1

        return await self._db.run(self._db.write(resolve))


@attrs.frozen
class _SqliteCursors:
    _db: _Db

    async def get(self, name: str) -> str | None:
        def get(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
            return None if row is None else str(row[0])

        return await self._db.run(get)

    async def set(self, name: str, value: str) -> None:
        def put(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO cursors (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

        await self._db.run(self._db.write(put))


@attrs.frozen
class _SqliteStockPushes:
    _db: _Db

    async def last_pushed(self, store: str, skus: Iterable[str]) -> Mapping[str, PushedStock]:
        wanted = list(dict.fromkeys(skus))

        def last_pushed(conn: sqlite3.Connection) -> Mapping[str, PushedStock]:
            found: dict[str, PushedStock] = {}
            for chunk in _chunks(wanted):
                rows = conn.execute(
                    "SELECT sku, quantity, status, pushed_at FROM stock_pushes WHERE store = ? "
                    "AND sku IN (SELECT value FROM json_each(?))",
                    (store, json.dumps(chunk)),
                )
                for sku, quantity, status, pushed_at in rows:
                    found[str(sku)] = PushedStock(
                        store=store,
                        sku=str(sku),
                        quantity=None if quantity is None else int(quantity),
                        status=str(status),
                        pushed_at=utc(float(pushed_at)),
                    )
            return found

        return await self._db.run(last_pushed)

    async def record(self, pushes: Iterable[PushedStock]) -> None:
        rows = [(p.store, p.sku, p.quantity, p.status, epoch(p.pushed_at)) for p in pushes]

        def record(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO stock_pushes (store, sku, quantity, status, pushed_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (store, sku) DO UPDATE SET "
                "quantity = excluded.quantity, status = excluded.status, "
                "pushed_at = excluded.pushed_at",
                rows,
            )

        await self._db.run(self._db.write(record))


@attrs.frozen
class _SqliteReports:
    _db: _Db

    async def add(self, store: str, report_date: date, payload_json: str) -> Report:
        now = self._db.clock.time()

        def add(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO reports (store, report_date, payload_json, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (store, report_date) DO UPDATE SET "
                "payload_json = excluded.payload_json, created_at = excluded.created_at",
                (store, report_date.isoformat(), payload_json, now),
            )

        await self._db.run(self._db.write(add))
        return Report(
            store=store, report_date=report_date, payload_json=payload_json, created_at=utc(now)
        )

    async def recent(self, store: str, n: int) -> list[Report]:
        def recent(conn: sqlite3.Connection) -> list[Report]:
            rows = conn.execute(
                "SELECT report_date, payload_json, created_at FROM reports WHERE store = ? "
                "ORDER BY report_date DESC LIMIT ?",
                (store, max(0, n)),
            ).fetchall()
            return [
                Report(
                    store=store,
                    report_date=date.fromisoformat(str(day)),
                    payload_json=str(payload),
                    created_at=utc(float(created)),
                )
                for day, payload, created in reversed(rows)
            ]

        return await self._db.run(recent)


_ALERT_COLUMNS = (
    "key, channel, subject, body, severity, raised_at, due, attempts, last_error, sent_at"
)


def _alert_row(values: Sequence[object]) -> AlertRow:
    key, channel, subject, body, severity, raised, due, attempts, error, sent = values
    return AlertRow(
        key=str(key),
        channel=str(channel),
        subject=str(subject),
        body=str(body),
        severity=str(severity),
        raised_at=utc(float(raised)),  # type: ignore[arg-type]
        due=utc(float(due)),  # type: ignore[arg-type]
        attempts=int(attempts),  # type: ignore[call-overload]
        last_error=None if error is None else str(error),
        sent_at=None if sent is None else utc(float(sent)),  # type: ignore[arg-type]
    )


@attrs.frozen
class _SqlitePendingAlerts:
    _db: _Db

    async def add(self, rows: Sequence[AlertRow], *, quiet_since: datetime) -> bool:
        values = [
            (r.key, r.channel, r.subject, r.body, r.severity, epoch(r.raised_at), epoch(r.due))
            for r in rows
        ]
        quiet = epoch(quiet_since)

        def add(conn: sqlite3.Connection) -> bool:
            for key, channel, *_ in values:
                kept = conn.execute(
                    "SELECT sent_at FROM pending_alerts WHERE key = ? AND channel = ?",
                    (key, channel),
                ).fetchone()
                if kept is not None and (kept[0] is None or float(kept[0]) >= quiet):
                    return False
            conn.executemany(
                "INSERT OR REPLACE INTO pending_alerts (key, channel, subject, body, severity, "
                "raised_at, due, attempts, last_error, sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL)",
                values,
            )
            return bool(values)

        return await self._db.run(self._db.write(add))

    async def due(self, now: datetime) -> list[AlertRow]:
        def due(conn: sqlite3.Connection) -> list[AlertRow]:
            rows = conn.execute(
                f"SELECT {_ALERT_COLUMNS} FROM pending_alerts "  # noqa: S608 - constant columns
                "WHERE sent_at IS NULL AND due <= ? ORDER BY due, key, channel",
                (epoch(now),),
            )
            return [_alert_row(row) for row in rows]

        return await self._db.run(due)

    async def waiting(self) -> list[AlertRow]:
        def waiting(conn: sqlite3.Connection) -> list[AlertRow]:
            rows = conn.execute(
                f"SELECT {_ALERT_COLUMNS} FROM pending_alerts "  # noqa: S608 - constant columns
                "WHERE sent_at IS NULL ORDER BY due, key, channel"
            )
            return [_alert_row(row) for row in rows]

        return await self._db.run(waiting)

    async def mark_sent(self, key: str, channel: str, at: datetime) -> None:
        def mark_sent(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE pending_alerts SET sent_at = ? WHERE key = ? AND channel = ?",
                (epoch(at), key, channel),
            )

        await self._db.run(self._db.write(mark_sent))

    async def mark_failed(self, key: str, channel: str, error: str, retry_at: datetime) -> None:
        def mark_failed(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE pending_alerts SET due = ?, attempts = attempts + 1, last_error = ? "
                "WHERE key = ? AND channel = ? AND sent_at IS NULL",
                (epoch(retry_at), error, key, channel),
            )

        await self._db.run(self._db.write(mark_failed))


@attrs.frozen(init=False)
class SqliteStore(ClosingStore):
    """Every storage port in one SQLite file (WAL), shared safely by processes on one host.

    Open it with `await SqliteStore.open(path)`, which creates or migrates the schema and
    refuses a file it must not touch; close it with `aclose()` or `async with`.

    Example:
        >>> async def main() -> None:
        ...     async with await SqliteStore.open("nswoo-sandbox.db") as store:
        ...         await store.cursors.set("orders.modified_after", "2025-01-01T00:00:00")

    Args:
        path: the database file (created when missing; its directory must exist).
        clock: where leases and timestamps read time (default: the system clock).
        busy_timeout: seconds a write waits for another writer's lock before
            `StorageError(retryable=True)`.
        inbox_retention: seconds a finished delivery id is remembered for dedupe.
        owner_is_gone: tells a lease owner whose process is gone, so its order claims and
            inbox leases are taken over at once (default: owners `host:pid` of this host
            whose process no longer exists; tests inject their own).
    """

    _db: _Db

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock | None = None,
        busy_timeout: float = 10.0,
        inbox_retention: float = DEFAULT_INBOX_RETENTION,
        owner_is_gone: OwnerIsGone | None = None,
    ) -> None:
        name = str(path)
        if name in {"", ":memory:"} or name.startswith("file:"):
            raise ValueError(
                "SqliteStore needs a file path: each connection to :memory: is its own "
                "database, so claims could not exclude each other (use MemoryStore)"
            )
        db = _Db(
            path=name,
            pool=_Pool(path=name, busy_timeout=busy_timeout),
            clock=clock or SystemClock(),
            inbox_retention=inbox_retention,
            owner_is_gone=owner_is_gone or _owner_is_gone,
        )
        self.__attrs_init__(db)

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        clock: Clock | None = None,
        busy_timeout: float = 10.0,
        inbox_retention: float = DEFAULT_INBOX_RETENTION,
        owner_is_gone: OwnerIsGone | None = None,
    ) -> Self:
        """Open `path`, creating or migrating its schema.

        Raises:
            StorageError: the file is not an SQLite database, belongs to another
                application, carries a newer schema version, or stayed locked.
        """
        store = cls(
            path,
            clock=clock,
            busy_timeout=busy_timeout,
            inbox_retention=inbox_retention,
            owner_is_gone=owner_is_gone,
        )
        await store._db.setup()
        return store

    @property
    def path(self) -> str:
        """The database file."""
        return self._db.path

    @property
    def order_links(self) -> OrderLinks:
        """Order links and claims."""
        return _SqliteOrderLinks(self._db)

    @property
    def inbox(self) -> Inbox:
        """Persisted webhook deliveries."""
        return _SqliteInbox(self._db)

    @property
    def dead_letters(self) -> DeadLetters:
        """Failed work waiting for a replay."""
        return _SqliteDeadLetters(self._db)

    @property
    def cursors(self) -> Cursors:
        """Named sync positions."""
        return _SqliteCursors(self._db)

    @property
    def stock_pushes(self) -> StockPushes:
        """Last accepted stock pushes."""
        return _SqliteStockPushes(self._db)

    @property
    def reports(self) -> Reports:
        """Reconciliation history."""
        return _SqliteReports(self._db)

    @property
    def pending_alerts(self) -> PendingAlerts:
        """Alerts not yet delivered."""
        return _SqlitePendingAlerts(self._db)

    async def bind(self, binding: StoreBinding) -> None:
        """Record or check the environment and account (see `nswoo.Store.bind`).

        Raises:
            StoreBindingError: the file belongs to another environment or account.
        """
        path = self._db.path

        def bind(conn: sqlite3.Connection) -> None:
            write = decide_binding(
                _binding_in(conn, path), binding, location=path, backend=_BACKEND
            )
            if write is not None:
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("environment", write.environment), ("account_id", write.account_id)],
                )

        await self._db.run(self._db.write(bind))

    async def aclose(self) -> None:
        """Close pooled connections; later calls raise `StorageError`."""
        await anyio.to_thread.run_sync(self._db.pool.close)


# ---------------------------------------------------------------------------------------------
# Opened by URL (`nswoo.store.open_store`, registered in `nswoo._settings._backends`)


async def open_url(url: str, *, clock: Clock | None = None) -> SqliteStore:
    """Open the store `sqlite:///path.db` names (the URL was checked by the registry)."""
    return await SqliteStore.open(sqlite_path(url), clock=clock)


async def read_url_binding(url: str) -> StoreBinding | None:
    """`read_binding` of the file `sqlite:///path.db` names."""
    return await read_binding(sqlite_path(url))
