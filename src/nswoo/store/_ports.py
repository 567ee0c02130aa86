"""Storage ports: what nswoo remembers between runs, and the values they exchange.

Each port is a small `typing.Protocol` named after the domain, with its contract in the
docstring. Implement one without importing a base class. nswoo ships
`nswoo.store.memory.MemoryStore` (tests, and users' tests through `nswoo.testing`),
`nswoo.store.sqlite.SqliteStore` (the embedded default), and PostgreSQL later. All of them
keep the same observable contract, which `tests/store` checks against each; the decisions
they share live in `_rules.py`, so the backends cannot drift apart.

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
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

import attrs

from .._clock import Clock
from ..errors import StorageError

__all__ = [
    "DEFAULT_INBOX_RETENTION",
    "AlertRow",
    "AlreadyLinked",
    "Busy",
    "Claim",
    "Claimed",
    "ClosingStore",
    "Cursors",
    "DeadLetter",
    "DeadLetters",
    "Inbox",
    "InboxItem",
    "Lease",
    "OrderLink",
    "OrderLinks",
    "PendingAlerts",
    "PushedStock",
    "Report",
    "Reports",
    "StockPushes",
    "Store",
    "StoreBackend",
    "StoreBinding",
    "StoreBindingError",
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
        taken_over_from: the owner of the expired (or gone) lease this one replaced. A worker
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
      worker never blocks an order for longer than its lease; so is, at once, a lease whose
      owner is certainly gone (a `host:pid` of this host with no such process: see
      `nswoo.store._liveness`). The owner of a live lease claiming again renews it.
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
    worker loses nothing, and an item whose lease owner is certainly gone is taken again
    at once. `done()` marks items finished: they are never taken again.
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


@attrs.frozen
class AlertRow:
    """An alert waiting for (or, with `sent_at`, taken by) one notification channel.

    `key` identifies identical alerts (`schema-drift:salesOrder:custbody_x`); `due` is when
    it may be sent next (office hours, then retry times); times are aware UTC.
    """

    key: str
    channel: str
    subject: str
    body: str
    severity: str
    raised_at: datetime
    due: datetime
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None


class PendingAlerts(Protocol):
    """Alerts not yet delivered, kept until each channel has taken them (never lost).

    Contract: one row per (key, channel). `add()` is atomic: it queues all of its rows or
    none, and none when any (key, channel) of them is still waiting or was sent at or after
    `quiet_since` (de-duplication of identical alerts). A sent row is kept (with `sent_at`)
    so later identical alerts can be recognised; adding after the quiet time replaces it.
    """

    async def add(self, rows: Sequence[AlertRow], *, quiet_since: datetime) -> bool:
        """Queue `rows` (the same alert for several channels); False when deduplicated."""
        ...

    async def due(self, now: datetime) -> list[AlertRow]:
        """The waiting rows due at `now`, by due time, then key and channel."""
        ...

    async def waiting(self) -> list[AlertRow]:
        """Every row not yet sent, due or not, by due time, then key and channel."""
        ...

    async def mark_sent(self, key: str, channel: str, at: datetime) -> None:
        """`channel` delivered the alert `key` at `at`."""
        ...

    async def mark_failed(self, key: str, channel: str, error: str, retry_at: datetime) -> None:
        """A delivery failed: count the attempt, keep `error`, due again at `retry_at`."""
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

    @property
    def pending_alerts(self) -> PendingAlerts: ...

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


class StoreBackend(Protocol):
    """What a store backend's module offers `open_store` (its scheme is registered in
    `nswoo._settings._backends`, with the module's name).
    """

    async def open_url(self, url: str, *, clock: Clock | None = None) -> Store:
        """Open (creating if needed) the store `url` names, schema checked.

        Raises:
            StorageError: it cannot be opened.
        """
        ...

    async def read_url_binding(self, url: str) -> StoreBinding | None:
        """The binding recorded in the store `url` names, creating and changing nothing;
        None when it does not exist yet, was never bound, or keeps nothing between runs.
        """
        ...


# ---------------------------------------------------------------------------------------------
# A base for implementations


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
