"""`MemoryStore`: every storage port in memory, with the same contracts as the SQLite store.

For tests (nswoo's and users', through `nswoo.testing`) and single-process demos; nothing
survives the object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

import anyio
import attrs

from .._clock import Clock, SystemClock
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
    dead_letter_order,
    decide_binding,
    decide_claim,
    decide_link,
    epoch,
    lease_lapsed,
    link_from_row,
    live_lease,
    utc,
)

__all__ = ["MemoryStore", "open_url", "read_url_binding"]

_MEMORY = "memory"


@attrs.define
class _InboxRow:
    item: InboxItem
    lease_owner: str | None = None
    lease_expires: float | None = None
    done_at: float | None = None


@attrs.define
class _MemoryState:
    """Everything a `MemoryStore` holds; each port reads and writes it under `lock`."""

    clock: Clock
    inbox_retention: float
    owner_is_gone: OwnerIsGone = _owner_is_gone
    lock: anyio.Lock = attrs.field(factory=anyio.Lock)
    links: dict[tuple[str, int], LinkRow] = attrs.field(factory=dict)
    inbox: dict[int, _InboxRow] = attrs.field(factory=dict)
    seen: dict[tuple[str, str], int] = attrs.field(factory=dict)
    next_item_id: int = 1
    dead: dict[tuple[str, str, int], DeadLetter] = attrs.field(factory=dict)
    cursors: dict[str, str] = attrs.field(factory=dict)
    pushes: dict[tuple[str, str], PushedStock] = attrs.field(factory=dict)
    reports: dict[tuple[str, date], Report] = attrs.field(factory=dict)
    alerts: dict[tuple[str, str], AlertRow] = attrs.field(factory=dict)
    binding: StoreBinding | None = None
    closed: bool = False

    def check_open(self) -> None:
        if self.closed:
            raise StorageError("used after aclose()", backend=_MEMORY)


@attrs.frozen
class _MemoryOrderLinks:
    _s: _MemoryState

    async def claim(self, store: str, order_id: int, *, owner: str, lease_seconds: float) -> Claim:
        async with self._s.lock:
            self._s.check_open()
            key = (store, order_id)
            answer, write = decide_claim(
                self._s.links.get(key),
                store=store,
                order_id=order_id,
                owner=owner,
                now=self._s.clock.time(),
                lease_seconds=lease_seconds,
                owner_is_gone=self._s.owner_is_gone,
            )
            if write is not None:
                self._s.links[key] = write
            return answer

    async def link(
        self, store: str, order_id: int, *, sales_order_id: str, owner: str
    ) -> OrderLink:
        async with self._s.lock:
            self._s.check_open()
            key = (store, order_id)
            link, write = decide_link(
                self._s.links.get(key),
                store=store,
                order_id=order_id,
                sales_order_id=sales_order_id,
                owner=owner,
                now=self._s.clock.time(),
                backend=_MEMORY,
            )
            if write is not None:
                self._s.links[key] = write
            return link

    async def release(self, store: str, order_id: int, *, owner: str) -> bool:
        async with self._s.lock:
            self._s.check_open()
            key = (store, order_id)
            row = self._s.links.get(key)
            if (
                row is None
                or row.sales_order_id is not None
                or row.lease_owner != owner
                or (row.lease_expires or 0.0) <= self._s.clock.time()
            ):
                return False
            del self._s.links[key]
            return True

    async def get(self, store: str, order_id: int) -> OrderLink | None:
        async with self._s.lock:
            self._s.check_open()
            row = self._s.links.get((store, order_id))
            if row is None or row.sales_order_id is None:
                return None
            return link_from_row(row, store=store, order_id=order_id)

    async def lease(self, store: str, order_id: int) -> Lease | None:
        async with self._s.lock:
            self._s.check_open()
            row = self._s.links.get((store, order_id))
            return live_lease(
                row,
                store=store,
                order_id=order_id,
                now=self._s.clock.time(),
                owner_is_gone=self._s.owner_is_gone,
            )

    async def linked_ids(self, store: str, order_ids: Iterable[int]) -> Mapping[int, str]:
        async with self._s.lock:
            self._s.check_open()
            found: dict[int, str] = {}
            for order_id in order_ids:
                row = self._s.links.get((store, order_id))
                if row is not None and row.sales_order_id is not None:
                    found[order_id] = row.sales_order_id
            return found


@attrs.frozen
class _MemoryInbox:
    _s: _MemoryState

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
        received = self._s.clock.time() if received_at is None else epoch(received_at)
        async with self._s.lock:
            self._s.check_open()
            if (store, delivery_id) in self._s.seen:
                return False
            item_id = self._s.next_item_id
            self._s.next_item_id += 1
            self._s.seen[(store, delivery_id)] = item_id
            self._s.inbox[item_id] = _InboxRow(
                InboxItem(
                    item_id=item_id,
                    store=store,
                    delivery_id=delivery_id,
                    topic=topic,
                    order_id=order_id,
                    body=bytes(body),
                    received_at=utc(received),
                    attempts=0,
                )
            )
            return True

    async def take(
        self, store: str, *, owner: str, limit: int, lease_seconds: float
    ) -> list[InboxItem]:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        async with self._s.lock:
            self._s.check_open()
            now = self._s.clock.time()
            taken: list[InboxItem] = []
            for item_id in sorted(self._s.inbox):
                if len(taken) >= limit:
                    break
                row = self._s.inbox[item_id]
                if (
                    row.item.store != store
                    or row.done_at is not None
                    or not lease_lapsed(
                        row.lease_owner,
                        row.lease_expires,
                        now=now,
                        owner_is_gone=self._s.owner_is_gone,
                    )
                ):
                    continue
                row.item = attrs.evolve(row.item, attempts=row.item.attempts + 1)
                row.lease_owner, row.lease_expires = owner, now + lease_seconds
                taken.append(attrs.evolve(row.item, superseded=self._newer_done(row.item)))
            return taken

    def _newer_done(self, item: InboxItem) -> bool:
        if item.order_id is None:
            return False
        return any(
            other.done_at is not None
            and other.item.store == item.store
            and other.item.order_id == item.order_id
            for other_id, other in self._s.inbox.items()
            if other_id > item.item_id
        )

    async def done(self, item_ids: Iterable[int]) -> None:
        async with self._s.lock:
            self._s.check_open()
            now = self._s.clock.time()
            for item_id in item_ids:
                row = self._s.inbox.get(item_id)
                if row is not None and row.done_at is None:
                    row.done_at = now
            # Finished rows are the dedupe memory; drop them only after the retention period.
            horizon = now - self._s.inbox_retention
            for item_id, row in list(self._s.inbox.items()):
                if row.done_at is not None and row.done_at < horizon:
                    del self._s.inbox[item_id]
                    del self._s.seen[(row.item.store, row.item.delivery_id)]

    async def release(self, item_ids: Iterable[int], *, not_before: float | None = None) -> None:
        async with self._s.lock:
            self._s.check_open()
            for item_id in item_ids:
                row = self._s.inbox.get(item_id)
                if row is None or row.done_at is not None or row.lease_owner is None:
                    continue
                row.item = attrs.evolve(row.item, attempts=max(0, row.item.attempts - 1))
                # An owner-less lease until `not_before` keeps take() off the item till then.
                row.lease_owner, row.lease_expires = None, not_before

    async def pending_count(self, store: str | None = None) -> int:
        async with self._s.lock:
            self._s.check_open()
            return sum(
                1
                for row in self._s.inbox.values()
                if row.done_at is None and (store is None or row.item.store == store)
            )


@attrs.frozen
class _MemoryDeadLetters:
    _s: _MemoryState

    async def add(
        self,
        store: str,
        order_id: int,
        *,
        reason: str,
        payload: bytes | None = None,
        kind: str = "order",
    ) -> DeadLetter:
        async with self._s.lock:
            self._s.check_open()
            now = utc(self._s.clock.time())
            key = (kind, store, order_id)
            old = self._s.dead.get(key)
            if old is None:
                letter = DeadLetter(
                    kind=kind,
                    store=store,
                    order_id=order_id,
                    reason=reason,
                    attempts=1,
                    first_seen=now,
                    last_seen=now,
                    payload=None if payload is None else bytes(payload),
                )
            else:
                letter = attrs.evolve(
                    old,
                    reason=reason,
                    attempts=old.attempts + 1,
                    last_seen=now,
                    payload=old.payload if payload is None else bytes(payload),
                )
            self._s.dead[key] = letter
            return letter

    async def list(self, store: str | None = None, *, kind: str = "order") -> Sequence[DeadLetter]:
        async with self._s.lock:
            self._s.check_open()
            letters = [
                letter
                for letter in self._s.dead.values()
                if letter.kind == kind and (store is None or letter.store == store)
            ]
            return sorted(letters, key=dead_letter_order)

    async def get(self, store: str, order_id: int, *, kind: str = "order") -> DeadLetter | None:
        async with self._s.lock:
            self._s.check_open()
            return self._s.dead.get((kind, store, order_id))

    async def resolve(self, store: str, order_id: int, *, kind: str = "order") -> bool:
        async with self._s.lock:
            self._s.check_open()
            return self._s.dead.pop((kind, store, order_id), None) is not None


@attrs.frozen
class _MemoryCursors:
    _s: _MemoryState

    async def get(self, name: str) -> str | None:
        async with self._s.lock:
            self._s.check_open()
            return self._s.cursors.get(name)

    async def set(self, name: str, value: str) -> None:
        async with self._s.lock:
            self._s.check_open()
            self._s.cursors[name] = value


@attrs.frozen
class _MemoryStockPushes:
    _s: _MemoryState

    async def last_pushed(self, store: str, skus: Iterable[str]) -> Mapping[str, PushedStock]:
        async with self._s.lock:
            self._s.check_open()
            found: dict[str, PushedStock] = {}
            for sku in skus:
                push = self._s.pushes.get((store, sku))
                if push is not None:
                    found[sku] = push
            return found

    async def record(self, pushes: Iterable[PushedStock]) -> None:
        batch = list(pushes)
        for push in batch:
            epoch(push.pushed_at)
        async with self._s.lock:
            self._s.check_open()
            for push in batch:
                # Normalised to UTC so the memory and SQL backends answer equal values.
                self._s.pushes[(push.store, push.sku)] = attrs.evolve(
                    push, pushed_at=utc(epoch(push.pushed_at))
                )


@attrs.frozen
class _MemoryReports:
    _s: _MemoryState

    async def add(self, store: str, report_date: date, payload_json: str) -> Report:
        async with self._s.lock:
            self._s.check_open()
            report = Report(
                store=store,
                report_date=report_date,
                payload_json=payload_json,
                created_at=utc(self._s.clock.time()),
            )
            self._s.reports[(store, report_date)] = report
            return report

    async def recent(self, store: str, n: int) -> list[Report]:
        async with self._s.lock:
            self._s.check_open()
            if n <= 0:
                return []
            days = sorted(day for shop, day in self._s.reports if shop == store)[-n:]
            return [self._s.reports[(store, day)] for day in days]


@attrs.frozen
class _MemoryPendingAlerts:
    _s: _MemoryState

    async def add(self, rows: Sequence[AlertRow], *, quiet_since: datetime) -> bool:
        async with self._s.lock:
            self._s.check_open()
            for row in rows:
                kept = self._s.alerts.get((row.key, row.channel))
                if kept is not None and (kept.sent_at is None or kept.sent_at >= quiet_since):
                    return False
            for row in rows:
                self._s.alerts[(row.key, row.channel)] = row
            return bool(rows)

    async def due(self, now: datetime) -> list[AlertRow]:
        return [row for row in await self.waiting() if row.due <= now]

    async def waiting(self) -> list[AlertRow]:
        async with self._s.lock:
            self._s.check_open()
            rows = [row for row in self._s.alerts.values() if row.sent_at is None]
        return sorted(rows, key=lambda row: (row.due, row.key, row.channel))

    async def mark_sent(self, key: str, channel: str, at: datetime) -> None:
        async with self._s.lock:
            self._s.check_open()
            row = self._s.alerts.get((key, channel))
            if row is not None:
                self._s.alerts[(key, channel)] = attrs.evolve(row, sent_at=at)

    async def mark_failed(self, key: str, channel: str, error: str, retry_at: datetime) -> None:
        async with self._s.lock:
            self._s.check_open()
            row = self._s.alerts.get((key, channel))
            if row is not None:
                self._s.alerts[(key, channel)] = attrs.evolve(
                    row, due=retry_at, attempts=row.attempts + 1, last_error=error
                )


@attrs.frozen(init=False)
class MemoryStore(ClosingStore):
    """Every storage port in memory: the same contracts as `SqliteStore`, for tests.

    Atomic within one event loop (one `anyio.Lock`), gone when the object is. Pass a
    `FakeClock` to move leases and retention forward without waiting.

    Example:
        >>> import anyio
        >>> from nswoo.testing import FakeClock
        >>> async def deliver_twice() -> list[bool]:
        ...     inbox = MemoryStore(clock=FakeClock()).inbox
        ...     put = lambda: inbox.put("main", "d-1", topic="order.created", order_id=1, body=b"")
        ...     return [await put(), await put()]
        >>> anyio.run(deliver_twice)
        [True, False]

    Args:
        clock: where leases and timestamps read time (default: the system clock).
        inbox_retention: seconds a finished delivery id is remembered for dedupe.
        binding: the environment and NetSuite account it belongs to (see `bind()`).
        owner_is_gone: tells a lease owner whose process is gone, so its order claims and
            inbox leases are taken over at once (default: owners `host:pid` of this host
            whose process no longer exists; tests inject their own).
    """

    _state: _MemoryState

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        inbox_retention: float = DEFAULT_INBOX_RETENTION,
        binding: StoreBinding | None = None,
        owner_is_gone: OwnerIsGone | None = None,
    ) -> None:
        state = _MemoryState(
            clock=clock or SystemClock(),
            inbox_retention=inbox_retention,
            owner_is_gone=owner_is_gone or _owner_is_gone,
            binding=binding,
        )
        self.__attrs_init__(state)

    @property
    def order_links(self) -> OrderLinks:
        """Order links and claims."""
        return _MemoryOrderLinks(self._state)

    @property
    def inbox(self) -> Inbox:
        """Persisted webhook deliveries."""
        return _MemoryInbox(self._state)

    @property
    def dead_letters(self) -> DeadLetters:
        """Failed work waiting for a replay."""
        return _MemoryDeadLetters(self._state)

    @property
    def cursors(self) -> Cursors:
        """Named sync positions."""
        return _MemoryCursors(self._state)

    @property
    def stock_pushes(self) -> StockPushes:
        """Last accepted stock pushes."""
        return _MemoryStockPushes(self._state)

    @property
    def reports(self) -> Reports:
        """Reconciliation history."""
        return _MemoryReports(self._state)

    @property
    def pending_alerts(self) -> PendingAlerts:
        """Alerts not yet delivered."""
        return _MemoryPendingAlerts(self._state)

    async def bind(self, binding: StoreBinding) -> None:
        """Record or check the environment and account (see `Store.bind`)."""
        async with self._state.lock:
            self._state.check_open()
            write = decide_binding(
                self._state.binding, binding, location="memory://", backend=_MEMORY
            )
            if write is not None:
                self._state.binding = write

    async def aclose(self) -> None:
        """Mark the store closed; later calls raise `StorageError`."""
        self._state.closed = True


# ---------------------------------------------------------------------------------------------
# Opened by URL (`memory://`, registered in `nswoo._settings._backends`)


async def open_url(url: str, *, clock: Clock | None = None) -> MemoryStore:
    """A new, empty `MemoryStore` (every `memory://` URL is its own store)."""
    del url  # nothing in the URL selects anything
    return MemoryStore(clock=clock)


async def read_url_binding(url: str) -> StoreBinding | None:
    """Always None: a memory store keeps nothing between runs."""
    del url
    return None
