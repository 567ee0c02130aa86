"""Storage ports: what nswoo remembers between runs, and the in-memory implementation.

Each port is a small `typing.Protocol` named after the domain, with its contract in the
docstring. Implement one without importing a base class. nswoo ships three implementations:
`MemoryStore` here (tests, and users' tests through `nswoo.testing`),
`nswoo.store.sqlite.SqliteStore` (the embedded default), and PostgreSQL later. All of them keep
the same observable contract, which `tests/store` checks against each.

Everything is keyed by the WooCommerce store name from `[orders] store`: several WooCommerce
stores of one environment may share a store, and none sees another's orders, deliveries,
dead letters, stock pushes or reports. Key for orders: `(store, order_id)`, the store name
and the WooCommerce order id. Lease expiries are epoch seconds on the injected `Clock.time()`
scale; record timestamps are aware UTC datetimes.

A store belongs to one environment and NetSuite account (DESIGN behaviour 3): `Store.bind()`
records them the first time and refuses any other afterwards (`StoreBindingError`), so a
sandbox run can never mark production's orders as imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Protocol, Self

import anyio
import attrs

from .._clock import Clock, SystemClock
from ..errors import ConfigurationError, StorageError

__all__ = [
    "AlreadyLinked",
    "Busy",
    "Claim",
    "Claimed",
    "Cursors",
    "DeadLetter",
    "DeadLetters",
    "Inbox",
    "InboxItem",
    "Lease",
    "MemoryStore",
    "OrderLink",
    "OrderLinks",
    "PushedStock",
    "Report",
    "Reports",
    "StockPushes",
    "Store",
    "StoreBinding",
    "StoreBindingError",
    "claim_or_wait",
    "decide_binding",
    "open_store",
    "stored_binding",
]

# WooCommerce never retries a delivery by itself (reference woocommerce.md §8), but it fires
# some events twice and users resend by hand; a month of seen ids covers both with room to
# spare.
DEFAULT_INBOX_RETENTION = 30 * 24 * 3600.0


# ---------------------------------------------------------------------------------------------
# Value types


@attrs.frozen
class Lease:
    """The right to create the sales order for one WooCommerce order, until `expires_at`.

    Attributes:
        store: the WooCommerce store name (`[orders] store`).
        order_id: the WooCommerce order id.
        owner: who holds the lease (a worker id: host, pid, task).
        expires_at: epoch seconds (`Clock.time()` scale) after which anyone may take it over.
        taken_over_from: the owner of the expired lease this one replaced, if any. A worker
            that crashed may have created the sales order before it could record the link,
            so the new holder must look in NetSuite before creating (it always must).
    """

    store: str
    order_id: int
    owner: str
    expires_at: float
    taken_over_from: str | None = None


@attrs.frozen
class OrderLink:
    """A WooCommerce order and the NetSuite sales order created for it.

    Attributes:
        store: the WooCommerce store name.
        order_id: the WooCommerce order id.
        sales_order_id: the NetSuite internal id of the sales order.
        linked_by: the owner that recorded the link.
        linked_at: when the link was recorded (aware UTC).
    """

    store: str
    order_id: int
    sales_order_id: str
    linked_by: str
    linked_at: datetime


@attrs.frozen
class Claimed:
    """This caller now holds the lease: look in NetSuite, create if absent, then `link()`."""

    lease: Lease


@attrs.frozen
class AlreadyLinked:
    """A sales order is already linked to this order: the caller must not create one."""

    link: OrderLink


@attrs.frozen
class Busy:
    """Another owner holds a live lease until `expires_at` (epoch seconds): wait and retry."""

    owner: str
    expires_at: float


Claim = Claimed | AlreadyLinked | Busy
"""What `OrderLinks.claim()` answers."""


@attrs.frozen
class InboxItem:
    """A persisted webhook delivery, leased to a worker by `Inbox.take()`.

    Attributes:
        item_id: the inbox's own id (arrival order), passed back to `Inbox.done()`.
        store: the WooCommerce store name the delivery came from.
        delivery_id: WooCommerce's `X-WC-Webhook-Delivery-ID`.
        topic: WooCommerce's `X-WC-Webhook-Topic` (`order.created`, ...).
        order_id: the order id read from the body, or None when it has none.
        body: the raw body, exactly as received (for replays and signature audits).
        received_at: when the receiver accepted it (aware UTC).
        attempts: how many times it has been taken, this time included. A delivery that
            keeps crashing workers shows a growing count; dead-letter it past a limit.
        superseded: when it was taken, a later delivery of the same store and order (a
            higher `item_id`) was already done. Each delivery is the order's state when it
            was sent, so applying this one would go back to an older state.
    """

    item_id: int
    store: str
    delivery_id: str
    topic: str
    order_id: int | None
    body: bytes
    received_at: datetime
    attempts: int
    superseded: bool = False


@attrs.frozen
class DeadLetter:
    """Work that failed and waits for a replay (`nswoo orders replay`) or a human.

    Attributes:
        kind: what failed (`"order"` for an order import).
        store: the WooCommerce store name.
        order_id: the WooCommerce order id (or the id of the record `kind` names).
        reason: why the last attempt failed, replaced by each new failure.
        attempts: how many times it was dead-lettered.
        first_seen, last_seen: first and last failure (aware UTC).
        payload: what is needed to replay it (the order JSON), or None.
    """

    kind: str
    store: str
    order_id: int
    reason: str
    attempts: int
    first_seen: datetime
    last_seen: datetime
    payload: bytes | None


@attrs.frozen
class PushedStock:
    """The stock last pushed to WooCommerce for one SKU, and accepted by it.

    Attributes:
        store: the WooCommerce store name.
        sku: the SKU.
        quantity: the absolute quantity pushed (`overwrite` policy), or None (`status-only`).
        status: the `stock_status` pushed (`instock`, `outofstock`, `onbackorder`).
        pushed_at: when the push succeeded (aware UTC).
    """

    store: str
    sku: str
    quantity: int | None
    status: str
    pushed_at: datetime


@attrs.frozen
class Report:
    """One day's reconciliation report of one WooCommerce store, kept for trend charts.

    Attributes:
        store: the WooCommerce store name.
        report_date: the day the report covers.
        payload_json: the report as JSON text (what `nswoo reconcile --json` prints).
        created_at: when it was stored (aware UTC).
    """

    store: str
    report_date: date
    payload_json: str
    created_at: datetime


def _environment(value: str) -> str:
    name = value.strip().lower()
    if not name:
        raise ValueError("a store binding needs an environment")
    return name


def _account(value: str) -> str:
    # The canonical form settings use (upper case, underscores: `1234567_SB1`), so `1234567-sb1`
    # and `1234567_SB1`, one account written two ways, are one binding.
    account = value.strip().upper().replace("-", "_")
    if not account:
        raise ValueError("a store binding needs a NetSuite account id")
    return account


@attrs.frozen
class StoreBinding:
    """The environment and NetSuite account a store belongs to (DESIGN behaviour 3).

    Attributes:
        environment: `prod` or `sandbox` (stored lower case).
        account_id: the NetSuite account id (stored canonical: `1234567_SB1`).
    """

    environment: str = attrs.field(converter=_environment)
    account_id: str = attrs.field(converter=_account)

    def __str__(self) -> str:
        return f"{self.environment} (NetSuite account {self.account_id})"


class StoreBindingError(StorageError):
    """The store belongs to another environment or NetSuite account and refuses this one.

    Startup is refused (exit 2): a store shared by sandbox and production would make orders
    imported in one count as imported in the other.

    Attributes:
        location: the store (its file, or `memory://`).
        bound: what the store was first opened for.
        wanted: what it was opened for now.
    """

    def __init__(
        self, *, location: str, bound: StoreBinding, wanted: StoreBinding, backend: str
    ) -> None:
        self.location = location
        self.bound = bound
        self.wanted = wanted
        setting = f"NSWOO_{wanted.environment.upper()}_STORE"
        super().__init__(
            f"{location} belongs to {bound} and refuses to be used for {wanted}: environments "
            "and NetSuite accounts never share a store (orders imported in one would count as "
            f"imported in the other); point {setting} at a store of its own",
            backend=backend,
        )


# ---------------------------------------------------------------------------------------------
# Ports


class OrderLinks(Protocol):
    """Which WooCommerce orders have a NetSuite sales order, and who may create one now.

    Contract (behaviour 4, idempotent orders):

    - `claim()` is atomic across tasks and, for shared backends, across processes: of all
      callers claiming one key at once exactly one gets `Claimed`. Later callers get
      `AlreadyLinked` once a link exists (and must not create), or `Busy` while another
      owner's lease lives. A lease whose `expires_at` has passed is taken over, so a crashed
      worker never blocks an order for longer than its lease. The owner of a live lease
      claiming again renews it.
    - `link()` records the sales order and ends the lease in the same step. Recording the
      same sales order again is a no-op; a different sales order for the same key raises
      `StorageError` (two sales orders exist: a human must look). The link is recorded even
      when the caller's lease has lapsed, because the sales order exists in NetSuite either
      way; whoever holds the key next gets `AlreadyLinked`.
    - `release()` gives up the caller's lease without a link (the order was skipped or
      dead-lettered); it returns False when the caller did not hold a live lease.
    - `lease()` tells who holds a live lease and until when, so a caller that found the
      order busy can come back when the lease ends instead of waiting for it.
    """

    async def claim(self, store: str, order_id: int, *, owner: str, lease_seconds: float) -> Claim:
        """Take the lease on `(store, order_id)`, or say why not (see the class contract)."""
        ...

    async def link(
        self, store: str, order_id: int, *, sales_order_id: str, owner: str
    ) -> OrderLink:
        """Record the sales order for `(store, order_id)` and end any lease on it.

        Raises:
            StorageError: a different sales order is already linked to this key.
        """
        ...

    async def release(self, store: str, order_id: int, *, owner: str) -> bool:
        """End `owner`'s lease without a link; False when `owner` held no lease on the key."""
        ...

    async def get(self, store: str, order_id: int) -> OrderLink | None:
        """The link for `(store, order_id)`, or None."""
        ...

    async def lease(self, store: str, order_id: int) -> Lease | None:
        """The live lease on `(store, order_id)`, or None (free, lapsed, or linked).

        `taken_over_from` is always None here: it describes a claim, not the lease itself.
        """
        ...

    async def linked_ids(self, store: str, order_ids: Iterable[int]) -> Mapping[int, str]:
        """Sales order ids by WooCommerce order id, for those of `order_ids` that are linked."""
        ...


class Inbox(Protocol):
    """Webhook deliveries persisted before the receiver answers 2xx, drained by workers.

    Contract: `put()` stores a delivery and returns True, or returns False when the same
    `(store, delivery_id)` was already put (a duplicate, dropped). Seen ids are kept for the
    store's retention period after the item is done, across restarts for durable backends.
    `take()` atomically leases up to `limit` pending items of one WooCommerce store, oldest
    first, and never an item of another store (whose worker imports it with that store's
    mapping); an item whose lease expired without `done()` is taken again, so a crashed
    worker loses nothing. `done()` marks items finished: they are never taken again.
    `release()` gives items back, at once or from a given time, without spending an attempt.
    """

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
        """Persist a delivery; False when it is a duplicate. `received_at` defaults to now."""
        ...

    async def take(
        self, store: str, *, owner: str, limit: int, lease_seconds: float
    ) -> list[InboxItem]:
        """Lease up to `limit` pending items of `store` to `owner` for `lease_seconds`.

        Oldest first; each comes with `attempts` counting this take and `superseded` telling
        whether a later delivery of its order was already done.
        """
        ...

    async def done(self, item_ids: Iterable[int]) -> None:
        """Mark items finished (unknown or already finished ids are ignored)."""
        ...

    async def release(self, item_ids: Iterable[int], *, not_before: float | None = None) -> None:
        """Give leased items back, not counting the take as an attempt.

        For work that stopped for a reason that is not the items' (credentials refused, the
        store failing, the order leased by another worker): they are taken again by a later
        `take()`, with the attempts they had before; not before `not_before` (epoch seconds,
        `Clock.time()` scale) when given, else at once. Done, unleased or unknown ids are
        ignored.
        """
        ...

    async def pending_count(self, store: str | None = None) -> int:
        """How many items of `store` (None: of every store) are not done yet, leased or not."""
        ...


class DeadLetters(Protocol):
    """Work that failed, kept with its reason and payload until a replay succeeds.

    Contract: `add()` upserts by `(kind, store, order_id)`: a new entry starts at attempts 1;
    an existing one gets attempts + 1, the new reason and payload (a None payload keeps the
    old one), `last_seen` now and its `first_seen` unchanged. `list()` is ordered by
    `first_seen`, then store, then order id, so output is stable between runs.
    """

    async def add(
        self,
        store: str,
        order_id: int,
        *,
        reason: str,
        payload: bytes | None = None,
        kind: str = "order",
    ) -> DeadLetter:
        """Record a failure (see the class contract) and return the entry as stored."""
        ...

    async def list(self, store: str | None = None, *, kind: str = "order") -> Sequence[DeadLetter]:
        """Entries of `kind`, for one store or all, by first_seen, store, order id."""
        ...

    async def get(self, store: str, order_id: int, *, kind: str = "order") -> DeadLetter | None:
        """One entry, or None."""
        ...

    async def resolve(self, store: str, order_id: int, *, kind: str = "order") -> bool:
        """Remove an entry after a successful replay; False when there was none."""
        ...


class Cursors(Protocol):
    """Named positions of polling syncs (the orders sync's `modified_after`, ...).

    Contract: `set()` replaces the value; `get()` returns the last value set, or None. A
    cursor of one WooCommerce store carries the store name in its name
    (`orders:<store>:modified_after`), so stores sharing the store never share a cursor.
    """

    async def get(self, name: str) -> str | None:
        """The value stored under `name`, or None."""
        ...

    async def set(self, name: str, value: str) -> None:
        """Store `value` under `name`."""
        ...


class StockPushes(Protocol):
    """What was last pushed to WooCommerce per `(store, SKU)`, so a sync pushes only changes.

    Contract: `record()` is called only for pushes WooCommerce accepted, and replaces the
    entry per `(store, sku)`; `last_pushed()` returns entries for the SKUs it has.
    """

    async def last_pushed(self, store: str, skus: Iterable[str]) -> Mapping[str, PushedStock]:
        """Last accepted push by SKU, for those of `skus` that were ever pushed."""
        ...

    async def record(self, pushes: Iterable[PushedStock]) -> None:
        """Remember accepted pushes (replacing earlier ones for the same store and SKU)."""
        ...


class Reports(Protocol):
    """Reconciliation history, for the trend chart in the daily report.

    Contract: one report per WooCommerce store and day; `add()` for a store and day already
    stored replaces it. A store's reports are never mixed with another's.
    """

    async def add(self, store: str, report_date: date, payload_json: str) -> Report:
        """Store `store`'s report for `report_date` and return it."""
        ...

    async def recent(self, store: str, n: int) -> list[Report]:
        """`store`'s `n` latest reports by date, oldest first (ready to plot left to right)."""
        ...


class Store(Protocol):
    """All of nswoo's storage ports behind one handle, closed with `aclose()`.

    Example:
        >>> async def main() -> None:
        ...     async with await open_store("sqlite:///nswoo-sandbox.db") as store:
        ...         await store.cursors.set("orders.modified_after", "2025-01-01T00:00:00")
    """

    @property
    def order_links(self) -> OrderLinks: ...

    @property
    def inbox(self) -> Inbox: ...

    @property
    def dead_letters(self) -> DeadLetters: ...

    @property
    def cursors(self) -> Cursors: ...

    @property
    def stock_pushes(self) -> StockPushes: ...

    @property
    def reports(self) -> Reports: ...

    async def bind(self, binding: StoreBinding) -> None:
        """Record the environment and NetSuite account this store belongs to, or check them.

        The first call records `binding`; later calls, in this process or any other, with
        an equal binding do nothing, and with another raise `StoreBindingError`, writing
        nothing. Atomic: of two callers binding a fresh store differently, one is refused.
        `open_store()` calls it when given the environment and account.

        Raises:
            StoreBindingError: the store belongs to another environment or account.
        """
        ...

    async def aclose(self) -> None:
        """Release connections; the store must not be used afterwards."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


# ---------------------------------------------------------------------------------------------
# Decisions shared by every backend, so they cannot drift apart


@attrs.frozen
class LinkRow:
    """One `(store, order_id)` row: a lease, a link, or both absent (no row)."""

    sales_order_id: str | None = None
    linked_by: str | None = None
    linked_at: float | None = None
    lease_owner: str | None = None
    lease_expires: float | None = None


def decide_claim(
    row: LinkRow | None,
    *,
    store: str,
    order_id: int,
    owner: str,
    now: float,
    lease_seconds: float,
) -> tuple[Claim, LinkRow | None]:
    """The answer to a claim, and the row to write (None: write nothing)."""
    if lease_seconds <= 0:
        raise ValueError("lease_seconds must be positive")
    if row is not None and row.sales_order_id is not None:
        return AlreadyLinked(link_from_row(row, store=store, order_id=order_id)), None
    taken_over_from = None
    if row is not None and row.lease_owner is not None and row.lease_expires is not None:
        live = row.lease_expires > now
        if live and row.lease_owner != owner:
            return Busy(owner=row.lease_owner, expires_at=row.lease_expires), None
        if not live and row.lease_owner != owner:
            taken_over_from = row.lease_owner
    lease = Lease(
        store=store,
        order_id=order_id,
        owner=owner,
        expires_at=now + lease_seconds,
        taken_over_from=taken_over_from,
    )
    return Claimed(lease), LinkRow(lease_owner=owner, lease_expires=lease.expires_at)


def decide_link(
    row: LinkRow | None,
    *,
    store: str,
    order_id: int,
    sales_order_id: str,
    owner: str,
    now: float,
    backend: str,
) -> tuple[OrderLink, LinkRow | None]:
    """The link to answer, and the row to write (None: already linked to the same order)."""
    if not sales_order_id:
        raise ValueError("sales_order_id must not be empty")
    if row is not None and row.sales_order_id is not None:
        if row.sales_order_id != sales_order_id:
            raise StorageError(
                f"order {order_id} of store {store!r} is already linked to sales order "
                f"{row.sales_order_id}, not {sales_order_id}: two sales orders may exist",
                backend=backend,
            )
        return link_from_row(row, store=store, order_id=order_id), None
    new = LinkRow(sales_order_id=sales_order_id, linked_by=owner, linked_at=now)
    return link_from_row(new, store=store, order_id=order_id), new


def link_from_row(row: LinkRow, *, store: str, order_id: int) -> OrderLink:
    """The `OrderLink` a linked row stands for."""
    if row.sales_order_id is None:
        raise ValueError("the row holds no link")
    return OrderLink(
        store=store,
        order_id=order_id,
        sales_order_id=row.sales_order_id,
        linked_by=row.linked_by or "",
        linked_at=utc(row.linked_at or 0.0),
    )


def decide_binding(
    stored: StoreBinding | None, wanted: StoreBinding, *, location: str, backend: str
) -> StoreBinding | None:
    """The binding to record (None: the store already has this one).

    Raises:
        StoreBindingError: the store was first opened for another environment or account.
    """
    if stored is None:
        return wanted
    if stored != wanted:
        raise StoreBindingError(location=location, bound=stored, wanted=wanted, backend=backend)
    return None


def live_lease(row: LinkRow | None, *, store: str, order_id: int, now: float) -> Lease | None:
    """The lease a row holds at `now`, or None (no row, linked, or lapsed)."""
    if (
        row is None
        or row.sales_order_id is not None
        or row.lease_owner is None
        or row.lease_expires is None
        or row.lease_expires <= now
    ):
        return None
    return Lease(
        store=store, order_id=order_id, owner=row.lease_owner, expires_at=row.lease_expires
    )


def utc(epoch: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch, tz=UTC)


def epoch(moment: datetime) -> float:
    """An aware datetime as epoch seconds; naive datetimes are refused (their zone is a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes given to a store must be timezone-aware")
    return moment.timestamp()


def dead_letter_order(letter: DeadLetter) -> tuple[datetime, str, int]:
    """The sort key of `DeadLetters.list()`."""
    return (letter.first_seen, letter.store, letter.order_id)


async def claim_or_wait(
    links: OrderLinks,
    store: str,
    order_id: int,
    *,
    owner: str,
    lease_seconds: float,
    clock: Clock,
    max_wait: float,
    poll: float = 1.0,
) -> Claim:
    """Claim a key, waiting while another owner's lease lives, for at most `max_wait` seconds.

    Sleeps (on `clock`) until the other lease would expire or `poll` seconds, whichever is
    sooner, then claims again: the other owner usually links or releases before its lease
    ends. Returns the last answer: `Claimed`, `AlreadyLinked`, or `Busy` when `max_wait` ran out.
    """
    deadline = clock.now() + max_wait
    while True:
        answer = await links.claim(store, order_id, owner=owner, lease_seconds=lease_seconds)
        remaining = deadline - clock.now()
        if not isinstance(answer, Busy) or remaining <= 0:
            return answer
        until_expiry = max(0.0, answer.expires_at - clock.time())
        await clock.sleep(min(poll, until_expiry, remaining))


# ---------------------------------------------------------------------------------------------
# In memory

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
    lock: anyio.Lock = attrs.field(factory=anyio.Lock)
    links: dict[tuple[str, int], LinkRow] = attrs.field(factory=dict)
    inbox: dict[int, _InboxRow] = attrs.field(factory=dict)
    seen: dict[tuple[str, str], int] = attrs.field(factory=dict)
    next_item_id: int = 1
    dead: dict[tuple[str, str, int], DeadLetter] = attrs.field(factory=dict)
    cursors: dict[str, str] = attrs.field(factory=dict)
    pushes: dict[tuple[str, str], PushedStock] = attrs.field(factory=dict)
    reports: dict[tuple[str, date], Report] = attrs.field(factory=dict)
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
            return live_lease(row, store=store, order_id=order_id, now=self._s.clock.time())

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
                    or (row.lease_expires or 0.0) > now
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


class ClosingStore:
    """`async with store:` closes it on exit; shared by the store implementations."""

    __slots__ = ()

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


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
    """

    _state: _MemoryState

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        inbox_retention: float = DEFAULT_INBOX_RETENTION,
        binding: StoreBinding | None = None,
    ) -> None:
        state = _MemoryState(
            clock=clock or SystemClock(), inbox_retention=inbox_retention, binding=binding
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
# Opening a store from its URL

_SETTING = "NSWOO_<ENV>_STORE"


async def open_store(
    url: str,
    *,
    clock: Clock | None = None,
    key: str = _SETTING,
    environment: str | None = None,
    account_id: str | None = None,
) -> Store:
    """Open the store a `NSWOO_<ENV>_STORE` URL names, ready to use (schema checked).

    URL forms:

    - `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`: the embedded default
      (`nswoo.store.sqlite.SqliteStore`), safe for several processes on one host.
    - `memory://`: `MemoryStore`, gone at exit (tests and demos only).
    - `postgresql://...`: planned; refused for now.

    Given `environment` and `account_id`, the store is bound to them (`Store.bind`): a store
    first opened for one environment and NetSuite account refuses any other. Every command
    opens its store this way (`nswoo.cli._runtime`).

    Args:
        url: the store URL. It may hold a password, so errors never repeat it.
        clock: where leases and timestamps read time (default: the system clock).
        key: the setting the URL came from, named in errors (e.g. `NSWOO_PROD_STORE`).
        environment: `prod` or `sandbox`; given together with `account_id` or not at all.
        account_id: the NetSuite account id the store serves.

    Raises:
        ConfigurationError: the URL is malformed, of an unknown scheme, or not allowed.
        StoreBindingError: the store belongs to another environment or NetSuite account.
        StorageError: the store cannot be opened (corrupt, newer schema, locked, ...).
        ValueError: only one of `environment` and `account_id` was given.
    """
    binding = _binding(environment, account_id)
    kind, path = _parse_store_url(url, key)
    store: Store
    if kind == "memory":
        store = MemoryStore(clock=clock)
    else:
        from .sqlite import SqliteStore

        store = await SqliteStore.open(path, clock=clock)
    if binding is not None:
        try:
            await store.bind(binding)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await store.aclose()
            raise
    return store


async def stored_binding(url: str, *, key: str = _SETTING) -> StoreBinding | None:
    """The binding recorded in the store `url` names, creating and changing nothing.

    For `nswoo check`, which must not create a store file. None when the store does not
    exist yet, was never bound, or keeps nothing between runs (`memory://`).

    Raises:
        ConfigurationError: the URL is malformed, of an unknown scheme, or not allowed.
        StorageError: the store exists but cannot be read.
    """
    kind, path = _parse_store_url(url, key)
    if kind == "memory":
        return None
    from .sqlite import read_binding

    return await read_binding(path)


def _binding(environment: str | None, account_id: str | None) -> StoreBinding | None:
    if environment is None and account_id is None:
        return None
    if environment is None or account_id is None:
        raise ValueError("give a store both environment and account_id, or neither")
    return StoreBinding(environment, account_id)


def _parse_store_url(url: str, key: str) -> tuple[str, str]:
    """`("memory", "")` or `("sqlite", path)` for a store URL this version can open."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ConfigurationError(
            "not a store URL; use sqlite:///path.db, memory:// or postgresql://...", key=key
        )
    if scheme == "memory":
        return "memory", ""
    if scheme == "sqlite":
        # `sqlite:///x.db` is the relative path `x.db` and `sqlite:////x.db` the absolute
        # `/x.db`, as in SQLAlchemy URLs, which users already know.
        path = rest[1:] if rest.startswith("/") else ""
        if not path:
            raise ConfigurationError(
                "an SQLite store URL needs a file path: sqlite:///path.db", key=key
            )
        if path == ":memory:" or path.startswith("file:"):
            # Each SQLite connection to :memory: is a separate, empty database, and the store
            # opens a connection per operation and is shared by several processes; every one
            # would see its own store and claims would not exclude each other.
            raise ConfigurationError(
                "sqlite:///:memory: would give every connection and process its own empty "
                "database, so claims could not exclude each other; use a file path, or "
                "memory:// for a single-process test store",
                key=key,
            )
        return "sqlite", path
    if scheme in {"postgresql", "postgres"}:
        raise ConfigurationError(
            "the PostgreSQL store is not available in this version of nswoo (when it is, it "
            "will need `pip install 'nswoo[postgres]'`); use sqlite:///path.db",
            key=key,
        )
    # Name the scheme only when it is one: in a mangled URL the text before "://" may hold
    # a user name and password.
    shown = f" {scheme!r}" if scheme.isalnum() else ""
    raise ConfigurationError(
        f"unknown store URL scheme{shown}; use sqlite:///path.db, memory:// or postgresql://...",
        key=key,
    )
