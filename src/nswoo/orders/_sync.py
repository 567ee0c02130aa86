"""Order sync: WooCommerce orders → NetSuite sales orders, exactly once per order.

The shell around the pure planner (`nswoo.orders._plan`), for a batch of orders at a time (a
WooCommerce page when polling, one order for a webhook delivery), in three visible steps:

1. **gather**: the stored links of the whole batch (one store read: a linked order costs no
   NetSuite request); ask the plan what each other order needs (`lookups`: nothing for an
   order in a status nswoo does not import, so it costs no NetSuite request); then, for the
   whole batch at once, one SuiteQL query for sales orders already carrying the keys
   (custom field and `externalId`), one for the SKUs' items (matches cached), and with
   customers by e-mail one for the customers;
2. **decide**: `plan_import(...)` once per order → `AlreadyImported | CreateSalesOrder
   (ExistingCustomer | CreateCustomer) | IgnoreOrder | DeadLetterOrder`;
3. **apply**: in waves of 25, claim the orders to create (a lease in storage: a second
   worker waits, or finds the link), create the customers and sales orders the plans ask
   for (`create_once`: never twice, even when an answer is lost), read back what NetSuite
   booked for the wave in one SuiteQL query, then store the links.

A bulk import so costs one POST per order, two queries per page of 100 and one per wave.

Recovery (DESIGN behaviours 2 and 4):

- a create that times out (`OutcomeUnknown`) is never re-sent blindly: the record is read by
  its external id first; a duplicate `externalId` (another worker won) is read and linked;
- a crash between create and link leaves a lease that expires; the next worker finds the
  sales order in NetSuite before it would create one (a claim that takes over an expired
  lease always looks again);
- **transient is not dead**: an order that fails because a system is unreachable, answers
  5xx, stays rate-limited past the retry budget, or whose write's outcome stays unknown is
  kept (`retrying`): `sync` does not move its cursor past it and tries again on its next run,
  the inbox worker within a minute. Only after `RetryPolicy.attempts` failures over at least
  `RetryPolicy.window` is it dead-lettered, with that history. Credentials refused stop the
  run (`AuthenticationError`) and leave every order for the next one;
- what a person must fix (unknown SKU or customer, totals that do not add up, schema drift,
  refused content) is dead-lettered with its reason, and `sync` tries each dead letter again
  on its own schedule (`DEAD_LETTER_BACKOFF`: 5 min, 30 min, 2 h, 12 h, then daily), so an
  order whose SKU is created later imports without anyone running `replay()`;
- one order's unexpected failure (a bug) is that order's dead letter, never the end of a run.

What NetSuite booked is read back whenever nswoo links a sales order it did not reach
through its own stored link (it created it, or found it in NetSuite), and when retrying a
linked order whose dead letter is still open. A total that differs from WooCommerce's beyond
the order's rounding tolerance (`booked_total_discrepancy`: NetSuite rounds every amount to 0
or 2 decimal places) leaves the sales order linked, never creates a second one, and is
reported as `total_differs` and dead-lettered with both amounts until a person corrects it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import anyio
import attrs

from .._clock import Clock, SystemClock
from .._settings import OrdersConfig
from ..errors import (
    ApiError,
    AuthenticationError,
    OutcomeUnknown,
    RateLimited,
    ResponseInvalid,
    SchemaDriftError,
    ServiceUnavailable,
    StorageError,
)
from ..netsuite._client import NetSuiteClient
from ..netsuite._queries import (
    BookedTotal,
    SalesOrderKey,
    booked_totals,
    customers_by_external_id,
    items_by_column,
    sales_orders_for,
)
from ..netsuite._records import ExternalId
from ..netsuite._writes import create_once
from ..store import AlreadyLinked, Claimed, DeadLetter, Store
from ..store._claim_wait import claim_or_wait
from ..woocommerce._client import WooClient
from ..woocommerce._convert import dumps, loads, structure_order, unstructure_order
from ..woocommerce._records import MAX_NUMBER_PLACES, WooOrder, amount_problem, integer_problem
from ._plan import (
    AlreadyImported,
    CreateCustomer,
    CreateSalesOrder,
    DeadLetterOrder,
    ExistingCustomer,
    IgnoreOrder,
    Lookups,
    RetryPolicy,
    booked_total_discrepancy,
    dead_letter_due,
    lookups,
    next_cursor,
    order_key,
    plan_import,
)

__all__ = ["ImportResult", "Outcome", "OrderSync", "SyncReport"]

_log = logging.getLogger("nswoo.orders")

Outcome = Literal[
    "imported",
    "already_imported",
    "total_differs",
    "ignored",
    "dead_lettered",
    "deferred",
    "retrying",
    "kept_dead_letter",
]

_DEAD_LETTERED: frozenset[Outcome] = frozenset({"dead_lettered", "total_differs"})
"""Outcomes that leave the order in the dead-letter store (counted as dead-lettered)."""

_LINKED: frozenset[Outcome] = frozenset({"imported", "already_imported", "total_differs"})
"""Outcomes that end with a sales order linked to the order."""

RETRY_KIND = "order-retry"
"""The `DeadLetters` kind under which an order's transient failures are counted (not a dead
letter: `orders dead-letters` lists kind `order` only) until it succeeds or is given up."""

_KEPT = "dead-lettered before this run; retried on its schedule, or by orders replay"

_BATCH = 100
"""Orders gathered and decided together: a WooCommerce page (`per_page=100`)."""

_WAVE = 25
"""Orders claimed, created and read back together: short leases, one read-back query each."""

_WAVES_AT_ONCE = 2

_SMALL_BATCH = 10
"""Up to this many orders, each one's dead letter is read alone; above, the store's list."""


@attrs.frozen
class ImportResult:
    """What happened to one WooCommerce order.

    Attributes:
        order_id: the WooCommerce order id.
        outcome: `imported` (a sales order was created now), `already_imported` (one existed
            and is linked), `total_differs` (a sales order exists and is linked, but NetSuite
            booked a total WooCommerce did not charge, or it could not be read back to
            check: kept as a dead letter with both amounts in `reason`), `ignored` (not an
            order nswoo imports: status, draft), `dead_lettered` (kept with `reason` for a
            person; retried on a schedule), `deferred` (another worker holds the order right
            now; it will finish it), `retrying` (a transient failure: kept, tried again by
            the next run or inbox pass), or `kept_dead_letter` (dead-lettered before this
            run and still failing, or not yet due for its automatic retry).
        sales_order_id: the NetSuite internal id, when linked.
        reason: why it was ignored, dead-lettered, kept or flagged (the order id is not
            repeated in it: it is `order_id`).
    """

    order_id: int
    outcome: Outcome
    sales_order_id: str | None = None
    reason: str | None = None


@attrs.frozen
class SyncReport:
    """Counts for one run of `sync`, `replay` or the inbox worker (CLI contract keys)."""

    results: tuple[ImportResult, ...] = ()

    def count(self, outcome: Outcome) -> int:
        """How many orders ended with `outcome`."""
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def dead_letters(self) -> tuple[ImportResult, ...]:
        """The orders this run dead-lettered, `total_differs` ones included (they are in the
        dead-letter store too, with their sales order linked)."""
        return tuple(r for r in self.results if r.outcome in _DEAD_LETTERED)

    def to_dict(self) -> dict[str, object]:
        """The `orders sync|replay --json` object of the CLI contract.

        `dead_lettered` counts every order this run left in the dead-letter store;
        `total_differs` says how many of them have a sales order whose booked total differs
        from WooCommerce's (their `dead_letters` entries carry `sales_order_id`);
        `retrying` counts orders kept after a transient failure, for the next run.
        """
        letters: list[dict[str, object]] = []
        for r in self.dead_letters:
            entry: dict[str, object] = {"order_id": r.order_id, "reason": r.reason}
            if r.sales_order_id is not None:
                entry["sales_order_id"] = r.sales_order_id
            letters.append(entry)
        return {
            "imported": self.count("imported"),
            "already_imported": self.count("already_imported"),
            "ignored": self.count("ignored"),
            "dead_lettered": len(self.dead_letters),
            "total_differs": self.count("total_differs"),
            "deferred": self.count("deferred"),
            "retrying": self.count("retrying"),
            "kept_dead_letters": self.count("kept_dead_letter"),
            "dead_letters": letters,
        }

    def to_json(self) -> str:
        """`to_dict()` as JSON text (what `orders sync --json` prints)."""
        return json.dumps(self.to_dict())


def default_owner() -> str:
    """A worker id unique on this host: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _transient(exc: BaseException) -> bool:
    """A failure that is not the order's: the same import may succeed later as it is."""
    if isinstance(exc, RateLimited | ServiceUnavailable | OutcomeUnknown):
        return True
    return isinstance(exc, ApiError) and exc.retryable


@attrs.define
class _Job:
    """One order in a batch, from its claim to its result."""

    order: WooOrder
    claimed: bool = False
    stored_link: bool = False
    letter: DeadLetter | None = None
    retry: DeadLetter | None = None
    lookups: Lookups | None = None
    outcome: Outcome | None = None
    sales_order_id: str | None = None
    reason: str | None = None
    error: Exception | None = None
    check: bool = False
    create: CreateSalesOrder | None = None
    recheck: bool = False

    def fail(self, exc: Exception) -> None:
        """The order failed with `exc` (made an outcome by `OrderSync._failed`)."""
        self.error = exc

    def done(
        self, outcome: Outcome, sales_order_id: str | None = None, reason: str | None = None
    ) -> None:
        """The order's outcome is decided."""
        self.outcome, self.sales_order_id, self.reason = outcome, sales_order_id, reason

    @property
    def open(self) -> bool:
        """Still undecided: no outcome and no failure yet."""
        return self.outcome is None and self.error is None


class OrderSync:
    """Imports WooCommerce orders into NetSuite idempotently.

    Example:
        >>> sync = OrderSync(netsuite=ns, woocommerce=woo, store=store, config=cfg.orders)
        >>> report = await sync.sync()  # doctest: +SKIP
        >>> report.to_dict()["imported"]  # doctest: +SKIP

    Args:
        netsuite: the NetSuite client (its limiter is shared by every caller).
        woocommerce: the WooCommerce client (for polling and replay; None for a worker that
            only drains webhook deliveries).
        store: order links, dead letters, cursors and the inbox.
        config: the `[orders]` settings.
        clock: time for leases, waits and retry schedules.
        owner: this worker's id in leases (default `host:pid`).
        lease_seconds: how long a claim lasts before another worker may take it over; longer
            than one batch takes, retries included.
        max_wait: how long to wait for another worker's lease on the same order.
        concurrency: writes sent at once within a batch (HTTP concurrency is the limiter's
            business; this bounds tasks and memory).
        overlap: how far before the stored cursor `sync` starts, so orders modified while the
            last run was paging are seen again (re-seeing is free: imports are idempotent).
        clock_skew: how far this host's clock and WooCommerce's may disagree: `sync` never
            moves its cursor past its own start time less this (see `next_cursor`).
        item_cache_seconds: how long a SKU → item id match found in NetSuite is reused
            (matches only; a SKU not found is asked again every time, so an item added
            later is seen at once). 0 turns the cache off.
        retry_policy: when an order failing for transient reasons is dead-lettered.
        batch_size: orders gathered and decided together (1-1000; a SuiteQL `IN` list).
        progress: called as `progress(handled, read)` after each batch of a run, with the
            orders handled and the orders read so far (for a progress display; keep it cheap).
        on_schema_drift: called with each `SchemaDriftError` that dead-letters an order
            (e.g. `nswoo.schema.DriftAlerts.record`, which pages once per field).
    """

    def __init__(
        self,
        *,
        netsuite: NetSuiteClient,
        woocommerce: WooClient | None,
        store: Store,
        config: OrdersConfig,
        clock: Clock | None = None,
        owner: str | None = None,
        lease_seconds: float = 300.0,
        max_wait: float = 30.0,
        concurrency: int = 8,
        overlap: timedelta = timedelta(minutes=10),
        clock_skew: timedelta = timedelta(minutes=5),
        item_cache_seconds: float = 300.0,
        retry_policy: RetryPolicy | None = None,
        batch_size: int = _BATCH,
        progress: Callable[[int, int], None] | None = None,
        on_schema_drift: Callable[[SchemaDriftError], None] | None = None,
    ) -> None:
        if not 0 < batch_size <= 1000:
            raise ValueError("batch_size must be between 1 and 1000")
        self.netsuite = netsuite
        self.woocommerce = woocommerce
        self.store = store
        self.config = config
        # Told of every order dead-lettered for schema drift (the pager's collector).
        self.on_schema_drift = on_schema_drift
        self.clock = clock or SystemClock()
        self.owner = owner or default_owner()
        self.lease_seconds = lease_seconds
        self.max_wait = max_wait
        self.concurrency = concurrency
        self.overlap = overlap
        self.clock_skew = clock_skew
        self.item_cache_seconds = item_cache_seconds
        self.retry_policy = retry_policy or RetryPolicy()
        self.batch_size = batch_size
        self.progress = progress
        self._items: dict[str, tuple[int, float]] = {}

    @property
    def cursor_name(self) -> str:
        """The cursor `sync` keeps: `orders:<store>:modified_after`."""
        return f"orders:{self.config.store}:modified_after"

    def _utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), tz=UTC)

    # -----------------------------------------------------------------------------------------
    # One order, and one batch

    async def import_order(self, order: WooOrder, *, max_wait: float | None = None) -> ImportResult:
        """Import one order: at most one sales order per WooCommerce order, ever.

        Args:
            order: the WooCommerce order.
            max_wait: seconds to wait for another worker's lease on the order before
                answering `deferred` (default: the `max_wait` given at construction; 0: do
                not wait, as the inbox worker does, which comes back to the delivery later).

        Returns:
            What happened (`ImportResult`). A transient failure answers `retrying` (the
            order is kept for the next attempt); see the module docstring.

        Raises:
            AuthenticationError: credentials refused (a run-wide problem, not the order's).
            StorageError: the store failed.
        """
        (result,) = await self._import_batch([order], max_wait=max_wait)
        return result

    async def _import_batch(
        self, orders: Sequence[WooOrder], *, max_wait: float | None = None, scheduled: bool = False
    ) -> list[ImportResult]:
        """Gather, decide and apply for `orders` together; one result per distinct order id.

        Leases are taken only around writes: an order is claimed just before its sales order
        is created, in waves of `_WAVE`, and linked (which ends the lease) once its wave's
        booked totals are read back. A process killed mid-run so blocks at most a wave of
        orders until their leases expire. Looking up before claiming is safe: a live lease
        makes the claim wait or find the link; a claim that takes over an expired lease
        (its holder may have created the sales order after the look-up, then died) looks
        again first; and the sales order's external id is unique in NetSuite, so any other
        create in between makes ours fail as a duplicate, which is read and linked.

        `scheduled`: an automatic retry of dead letters (by `sync`): an order that had a dead
        letter and still fails is reported as `kept_dead_letter`, not dead-lettered anew.
        """
        wait = self.max_wait if max_wait is None else max_wait
        jobs = [_Job(order) for order in {order.id: order for order in orders}.values()]
        linked = await self.store.order_links.linked_ids(
            self.config.store, [job.order.id for job in jobs]
        )
        for job in jobs:
            if job.order.id in linked:
                job.stored_link = True
                job.done("already_imported", linked[job.order.id])
        await self._read_letters(jobs)
        await self._gather_and_decide([job for job in jobs if job.open])
        # Sales orders found already linked or in NetSuite: read back, then link.
        found = [job for job in jobs if job.check]
        await self._check_booked(found)
        results = {job.order.id: await self._finish(job, scheduled=scheduled) for job in found}
        creates = [job for job in jobs if job.create is not None]
        waves = anyio.Semaphore(_WAVES_AT_ONCE)
        fatal: list[BaseException] = []

        async def wave(batch: Sequence[_Job]) -> None:
            try:
                await self._claim(batch, max_wait=wait)
                await self._apply([job for job in batch if job.claimed])
                await self._check_booked([job for job in batch if job.check])
                for job in batch:
                    results[job.order.id] = await self._finish(job, scheduled=scheduled)
            except BaseException as exc:
                # A run-wide failure (credentials, store) or a cancellation: give back the
                # leases this wave holds, so the next run or worker takes the orders at once.
                with anyio.CancelScope(shield=True):
                    for job in batch:
                        if job.claimed and job.order.id not in results:
                            # On failure the lease simply expires on its own.
                            with contextlib.suppress(StorageError):
                                await self.store.order_links.release(
                                    self.config.store, job.order.id, owner=self.owner
                                )
                if isinstance(exc, Exception):
                    fatal.append(exc)
                    tg.cancel_scope.cancel()
                else:
                    raise
            finally:
                waves.release()

        # Two waves at once: one's store work (claims, links) overlaps the other's creates.
        async with anyio.create_task_group() as tg:
            for start in range(0, len(creates), _WAVE):
                await waves.acquire()
                tg.start_soon(wave, creates[start : start + _WAVE])
        if fatal:
            raise fatal[0]  # as itself, never wrapped in an ExceptionGroup
        for job in jobs:
            if job.order.id not in results:
                results[job.order.id] = await self._finish(job, scheduled=scheduled)
        return [results[job.order.id] for job in jobs]

    async def _claim(self, jobs: Sequence[_Job], *, max_wait: float) -> None:
        """Claim each order about to be created (concurrently, each waiting up to `max_wait`
        on a busy lease): `AlreadyLinked` and `Busy` end its plan."""
        slots = anyio.Semaphore(max(1, self.concurrency))

        async def claim(job: _Job) -> None:
            async with slots:
                answer = await claim_or_wait(
                    self.store.order_links,
                    self.config.store,
                    job.order.id,
                    owner=self.owner,
                    lease_seconds=self.lease_seconds,
                    clock=self.clock,
                    max_wait=max_wait,
                )
            if isinstance(answer, Claimed):
                job.claimed = True
                # Taken over from a worker whose lease expired: it may have created the
                # sales order after this batch's look-up and died before linking it.
                job.recheck = answer.lease.taken_over_from is not None
                return
            job.create = None
            if isinstance(answer, AlreadyLinked):
                # Another worker imported it since the look-up: nothing to create. Its
                # letter, if any, is left to that worker's check and this order's next
                # scheduled retry, which reads the booked total again.
                job.stored_link = True
                job.letter = None
                job.done("already_imported", answer.link.sales_order_id)
            else:
                job.done("deferred", reason=f"held by {answer.owner}")

        async with anyio.create_task_group() as tg:
            for job in jobs:
                tg.start_soon(claim, job)

    async def _read_letters(self, jobs: Sequence[_Job]) -> None:
        """Attach each order's dead letter and transient-failure record, if any."""
        store_name = self.config.store
        wanted = list(jobs)
        if len(wanted) <= _SMALL_BATCH:
            for job in wanted:
                job.letter = await self.store.dead_letters.get(store_name, job.order.id)
                job.retry = await self.store.dead_letters.get(
                    store_name, job.order.id, kind=RETRY_KIND
                )
        else:
            letters = {x.order_id: x for x in await self.store.dead_letters.list(store_name)}
            retries = {
                x.order_id: x
                for x in await self.store.dead_letters.list(store_name, kind=RETRY_KIND)
            }
            for job in wanted:
                job.letter = letters.get(job.order.id)
                job.retry = retries.get(job.order.id)
        for job in wanted:
            if job.stored_link and job.letter is not None:
                # Linked before, with a letter still open (a `total_differs` being retried,
                # or one left by a delivery that failed while another path imported the
                # order): check the booked total again; the letter goes only when it agrees.
                job.check = True

    async def _gather_and_decide(self, jobs: Sequence[_Job]) -> None:
        """Screen, look up for the whole batch at once, and plan each order."""
        pending: list[_Job] = []
        for job in jobs:
            try:
                job.lookups = lookups(job.order, config=self.config)
            except ValueError as exc:
                job.fail(exc)
                continue
            if job.lookups.ignore is not None:
                # Statuses are screened before any NetSuite request.
                job.done("ignored", reason=job.lookups.ignore.reason)
            else:
                pending.append(job)
        if not pending:
            return
        keys = {
            job.order.id: SalesOrderKey(
                job.lookups.key.external_id, job.lookups.key.custom_field_value
            )
            for job in pending
            if job.lookups is not None
        }
        try:
            existing = await sales_orders_for(
                self.netsuite, keys.values(), field=self.config.custom_field
            )
        except (AuthenticationError, StorageError):
            raise
        except Exception as exc:  # the batch's look-up failed: every order of it did
            for job in pending:
                job.fail(exc)
            return
        to_plan: list[_Job] = []
        for job in pending:
            found = existing.get(keys[job.order.id])
            if found is not None:
                # Found in NetSuite, not through the stored link: a run that crashed before
                # linking, a sales order made by hand or by an older setup. Check it.
                job.done("already_imported", found)
                job.check = True
            else:
                to_plan.append(job)
        if not to_plan:
            return
        try:
            items = await self.resolve_items(
                sku for job in to_plan if job.lookups is not None for sku in job.lookups.skus
            )
            customers = await self._find_customers(to_plan)
        except (AuthenticationError, StorageError):
            raise
        except Exception as exc:
            for job in to_plan:
                job.fail(exc)
            return
        for job in to_plan:
            try:
                self._decide(job, items, customers)
            except Exception as exc:  # one order's bug is that order's failure
                job.fail(exc)

    async def _find_customers(self, jobs: Sequence[_Job]) -> Mapping[ExternalId, str]:
        wanted = {
            job.lookups.customer_external_id
            for job in jobs
            if job.lookups is not None and job.lookups.customer_external_id is not None
        }
        if not wanted:
            return {}
        return await customers_by_external_id(self.netsuite, wanted)

    def _decide(
        self, job: _Job, items: Mapping[str, int], customers: Mapping[ExternalId, str]
    ) -> None:
        assert job.lookups is not None  # noqa: S101 - set for every job reaching here
        external = job.lookups.customer_external_id
        customer_id: int | None = None
        if external is not None and external in customers:
            customer_id = int(customers[external])
        wanted = {sku: items[sku] for sku in job.lookups.skus if sku in items}
        try:
            plan = plan_import(
                job.order,
                config=self.config,
                items=wanted,
                existing_sales_order_id=None,
                customer_id=customer_id,
            )
        except ValueError as exc:
            job.fail(exc)
            return
        match plan:
            case AlreadyImported(sales_order_id):
                job.done("already_imported", sales_order_id)
                job.check = True
            case CreateSalesOrder():
                job.create = plan
            case IgnoreOrder(rejection):
                job.done("ignored", reason=rejection.reason)
            case DeadLetterOrder(rejection):
                job.done("dead_lettered", reason=rejection.reason)

    # -----------------------------------------------------------------------------------------
    # Apply

    async def _recheck(self, jobs: Sequence[_Job]) -> None:
        """Look again, in one query, for the sales orders of orders taken over from an
        expired lease: found ones are linked (and read back), never created again."""
        if not jobs:
            return
        keys = {
            job.order.id: SalesOrderKey(
                job.lookups.key.external_id, job.lookups.key.custom_field_value
            )
            for job in jobs
            if job.lookups is not None
        }
        try:
            found = await sales_orders_for(
                self.netsuite, keys.values(), field=self.config.custom_field
            )
        except (AuthenticationError, StorageError):
            raise
        except Exception as exc:
            for job in jobs:
                job.create = None
                job.fail(exc)
            return
        for job in jobs:
            sales_order_id = found.get(keys[job.order.id])
            if sales_order_id is not None:
                job.create = None
                job.done("already_imported", sales_order_id)
                job.check = True

    async def _apply(self, jobs: Sequence[_Job]) -> None:
        """Create the customers, then the sales orders, the plans asked for."""
        await self._recheck([job for job in jobs if job.recheck])
        plans = {job.order.id: job.create for job in jobs if job.create is not None}
        for job in jobs:
            job.create = None
        if not plans:
            return
        new_customers: dict[ExternalId, CreateCustomer] = {}
        for plan in plans.values():
            if isinstance(plan.customer, CreateCustomer):
                external = plan.customer.draft.external_id
                assert external is not None  # noqa: S101 - customer_draft always sets it
                new_customers.setdefault(external, plan.customer)
        customer_ids: dict[ExternalId, int | Exception] = {}
        slots = anyio.Semaphore(max(1, self.concurrency))

        async def create_customer(external: ExternalId, step: CreateCustomer) -> None:
            async with slots:
                try:
                    made = await create_once(
                        self.netsuite, "customer", step.draft, external_id=external
                    )
                    customer_ids[external] = int(made.record_id)
                except (AuthenticationError, StorageError):
                    raise
                except Exception as exc:
                    customer_ids[external] = exc

        async with anyio.create_task_group() as tg:
            # One create per new customer, however many orders of the batch share it.
            for external, step in new_customers.items():
                tg.start_soon(create_customer, external, step)

        async def create_sales_order(job: _Job, plan: CreateSalesOrder) -> None:
            customer = plan.customer
            if isinstance(customer, ExistingCustomer):
                entity: int | Exception = customer.customer_id
            else:
                assert customer.draft.external_id is not None  # noqa: S101 - always set
                entity = customer_ids[customer.draft.external_id]
            if isinstance(entity, Exception):
                job.fail(entity)
                return
            draft = plan.draft_for(entity)
            assert draft.external_id is not None  # noqa: S101 - the template always sets it
            async with slots:
                try:
                    made = await create_once(
                        self.netsuite, "salesOrder", draft, external_id=draft.external_id
                    )
                except (AuthenticationError, StorageError):
                    raise
                except Exception as exc:
                    job.fail(exc)
                    return
            job.done("imported" if made.created else "already_imported", made.record_id)
            job.check = True

        async with anyio.create_task_group() as tg:
            for job in jobs:
                if job.order.id in plans:
                    tg.start_soon(create_sales_order, job, plans[job.order.id])

    # -----------------------------------------------------------------------------------------
    # What NetSuite booked

    async def _check_booked(self, jobs: Sequence[_Job]) -> None:
        """Read back what NetSuite booked for these sales orders (one query) and compare.

        A failure to read is reported per order as `total_differs` ("could not be checked";
        the sales order exists and stays linked; a retry checks again), never raised: only
        credentials refused end the run.
        """
        if not jobs:
            return
        try:
            booked = await booked_totals(
                self.netsuite, [job.sales_order_id for job in jobs if job.sales_order_id]
            )
        except (AuthenticationError, StorageError):
            raise
        except ApiError as exc:
            for job in jobs:
                job.done("total_differs", job.sales_order_id, self._unchecked(job, f" ({exc})"))
            return
        for job in jobs:
            assert job.sales_order_id is not None  # noqa: S101 - set with every check
            problem = self._booked_problem(job, booked.get(job.sales_order_id))
            if problem is not None:
                job.done("total_differs", job.sales_order_id, problem)

    @staticmethod
    def _unchecked(job: _Job, detail: str) -> str:
        return (
            f"sales order {job.sales_order_id} is linked, but its total could not be checked "
            f"against WooCommerce's{detail}; it is checked again on the next retry"
        )

    def _booked_problem(self, job: _Job, booked: BookedTotal | None) -> str | None:
        """Why the sales order's booked total cannot be trusted, or None when it matches."""
        if booked is None:
            return self._unchecked(job, ": NetSuite did not return it")
        total = _booked_amount(booked.total)
        tax = _booked_amount(booked.tax)
        if total is None or tax is None:
            return self._unchecked(job, ": NetSuite's total or tax is not a number")
        discrepancy = booked_total_discrepancy(
            job.order,
            config=self.config,
            sales_order_id=booked.sales_order_id,
            booked_total=total,
            booked_tax=tax,
        )
        return None if discrepancy is None else discrepancy.reason

    # -----------------------------------------------------------------------------------------
    # Finish: links, dead letters, transient failures

    async def _finish(self, job: _Job, *, scheduled: bool) -> ImportResult:
        store_name = self.config.store
        order = job.order
        if job.error is not None:
            self._failed(job, job.error)
        outcome = job.outcome
        assert outcome is not None  # noqa: S101 - every path sets one
        if outcome == "deferred":
            return ImportResult(order.id, outcome, reason=job.reason)
        if outcome == "retrying":
            result = await self._retrying(job)
        elif outcome in _LINKED:
            assert job.sales_order_id is not None  # noqa: S101 - set on every linked path
            if not job.stored_link:
                # Ends this worker's lease when it holds one; a sales order found in NetSuite
                # is linked without one (it exists either way; the same link twice is a
                # no-op, a different one raises: two sales orders need a person).
                await self.store.order_links.link(
                    store_name, order.id, sales_order_id=job.sales_order_id, owner=self.owner
                )
            if outcome == "total_differs":
                await self._keep(order, job.reason or "")
            elif job.letter is not None:
                await self.store.dead_letters.resolve(store_name, order.id)
            result = ImportResult(order.id, outcome, job.sales_order_id, job.reason)
        else:
            if job.claimed:
                await self.store.order_links.release(store_name, order.id, owner=self.owner)
            if outcome == "ignored" and job.letter is not None:
                await self.store.dead_letters.resolve(store_name, order.id)
            elif outcome == "dead_lettered":
                await self._keep(order, job.reason or "")
            result = ImportResult(order.id, outcome, reason=job.reason)
        if result.outcome != "retrying" and job.retry is not None:
            await self.store.dead_letters.resolve(store_name, order.id, kind=RETRY_KIND)
        if scheduled and job.letter is not None and result.outcome in _DEAD_LETTERED:
            # An automatic retry of a dead letter that still fails: it stays what it was.
            result = attrs.evolve(result, outcome="kept_dead_letter")
        _log.info(
            "order %s: %s%s%s",
            order.id,
            result.outcome,
            f" as sales order {result.sales_order_id}" if result.sales_order_id else "",
            f": {result.reason}" if result.reason else "",
        )
        return result

    def _failed(self, job: _Job, exc: Exception) -> None:
        """Turn a failure into an outcome: `retrying` when transient, else a dead letter."""
        if _transient(exc):
            assert isinstance(exc, ApiError)  # noqa: S101 - _transient is true only for these
            job.done("retrying", reason=_transient_reason(exc))
        elif isinstance(exc, ApiError):
            job.done("dead_lettered", reason=_reason_for(exc))
            if isinstance(exc, SchemaDriftError) and self.on_schema_drift is not None:
                self.on_schema_drift(exc)
        else:
            _log.error("order %s: unexpected %s", job.order.id, type(exc).__name__)
            # The traceback is for whoever fixes the bug; the report says what happened.
            _log.debug("order %s: unexpected failure", job.order.id, exc_info=exc)
            job.done(
                "dead_lettered",
                reason=f"import failed unexpectedly ({type(exc).__name__}: {exc})",
            )
        job.sales_order_id = None

    async def _retrying(self, job: _Job) -> ImportResult:
        """Count a transient failure; dead-letter the order once the policy gives up."""
        store_name = self.config.store
        order = job.order
        if job.claimed:
            await self.store.order_links.release(store_name, order.id, owner=self.owner)
        reason = job.reason or ""
        if job.letter is not None:
            # Already a dead letter for a reason a person must fix: an outage does not
            # replace that reason; its schedule tries it again.
            return ImportResult(order.id, "retrying", reason=reason)
        record = await self.store.dead_letters.add(
            store_name, order.id, reason=reason, payload=_payload(order), kind=RETRY_KIND
        )
        if not self.retry_policy.gives_up(
            attempts=record.attempts, first_failed=record.first_seen, now=self._utcnow()
        ):
            return ImportResult(
                order.id, "retrying", reason=f"{reason} (attempt {record.attempts})"
            )
        history = (
            f"{reason}; failed {record.attempts} times for transient reasons from "
            f"{_when(record.first_seen)} to {_when(record.last_seen)}, so kept for a person"
        )
        await self._keep(order, history)
        await self.store.dead_letters.resolve(store_name, order.id, kind=RETRY_KIND)
        job.retry = None
        return ImportResult(order.id, "dead_lettered", reason=history)

    async def _keep(self, order: WooOrder, reason: str) -> None:
        """Add (or update) the order's dead letter, with the order as its payload."""
        await self.store.dead_letters.add(
            self.config.store, order.id, reason=reason, payload=_payload(order)
        )

    # -----------------------------------------------------------------------------------------
    # NetSuite look-ups

    async def find_sales_order(self, order_id: int) -> str | None:
        """The internal id of a sales order carrying this order's key, or None.

        See `nswoo.netsuite._queries.sales_orders_for` (external id `woo-<store>-<id>`
        without case, or the custom field on a sales order without a `woo-` external id).

        Raises:
            SchemaDriftError: the custom field is gone (renamed or removed).
        """
        key = order_key(self.config.store, order_id)
        found = await sales_orders_for(
            self.netsuite,
            [SalesOrderKey(key.external_id, key.custom_field_value)],
            field=self.config.custom_field,
        )
        return next(iter(found.values()), None)

    async def resolve_items(self, skus: Iterable[str]) -> dict[str, int]:
        """SKU → NetSuite item internal id, matching the configured `item_match` column.

        Inactive items are not matched. SKUs are bound as quoted literals, never pasted.
        Matches are reused for `item_cache_seconds`: most orders repeat a few SKUs. An item
        made inactive within that window makes the create fail (NetSuite refuses the line),
        which dead-letters the order rather than creating it wrong.
        """
        now = self.clock.now()
        found: dict[str, int] = {}
        wanted: list[str] = []
        for sku in sorted(set(skus)):
            hit = self._items.get(sku)
            if hit is not None and hit[1] > now:
                found[sku] = hit[0]
            else:
                wanted.append(sku)
        if wanted:
            matched = await items_by_column(self.netsuite, self.config.item_match, wanted)
            for sku, item_id in matched.items():
                found[sku] = item_id
                if self.item_cache_seconds > 0:
                    self._items[sku] = (item_id, now + self.item_cache_seconds)
        return found

    # -----------------------------------------------------------------------------------------
    # Many orders

    async def import_orders(
        self, orders: AsyncIterable[WooOrder] | Iterable[WooOrder]
    ) -> SyncReport:
        """Import orders in batches of `batch_size`, the next batch read while one imports.

        Only run-wide failures stop the run: credentials refused (`AuthenticationError`),
        the store failing (`StorageError`), or reading `orders` failing, each raised as
        itself (never wrapped in an ExceptionGroup). Anything one order's import raises is
        that order's result (`retrying` or dead-lettered), and the other orders go on.

        Raises:
            AuthenticationError: credentials refused.
            StorageError: the store failed.
            Exception: what iterating `orders` raised (e.g. `ServiceUnavailable` while
                paging WooCommerce), as itself.
        """
        return await self._import_all(orders, scheduled=False)

    async def _import_all(
        self, orders: AsyncIterable[WooOrder] | Iterable[WooOrder], *, scheduled: bool
    ) -> SyncReport:
        results: dict[int, ImportResult] = {}
        fatal: list[BaseException] = []
        send, receive = anyio.create_memory_object_stream[list[WooOrder]](1)
        read_so_far = 0

        async def read() -> None:
            nonlocal read_so_far
            # Reads (pages) ahead of the import, one batch in hand at most.
            try:
                async with send:
                    batch: list[WooOrder] = []
                    async for order in _aiter(orders):
                        read_so_far += 1
                        batch.append(order)
                        if len(batch) >= self.batch_size:
                            await send.send(batch)
                            batch = []
                    if batch:
                        await send.send(batch)
            except Exception as exc:
                fatal.append(exc)
                tg.cancel_scope.cancel()

        async def work() -> None:
            try:
                async with receive:
                    async for batch in receive:
                        fresh = [order for order in batch if order.id not in results]
                        for result in await self._import_batch(fresh, scheduled=scheduled):
                            results[result.order_id] = result
                        if self.progress is not None:
                            self.progress(len(results), read_so_far)
            except Exception as exc:
                fatal.append(exc)
                tg.cancel_scope.cancel()

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            tg.start_soon(work)
        if fatal:
            # Run-wide: raised as itself, not an ExceptionGroup, so callers (and the CLI's
            # exit codes) see what it is.
            raise fatal[0]
        return SyncReport(tuple(sorted(results.values(), key=lambda r: r.order_id)))

    async def sync(self, *, since: datetime | None = None) -> SyncReport:
        """Poll WooCommerce for orders modified since the cursor, import each, and retry the
        dead letters that are due.

        The cursor (the newest `date_modified_gmt` handled) advances only when the whole run
        finished, and only past orders that were handled (imported, linked, ignored or
        dead-lettered): never past one left `retrying` or `deferred`, so the next run sees
        it again. It never passes this poll's own start time less `clock_skew` (see
        `next_cursor`). Orders are paged with `orderby=id` from `since` (default: the stored
        cursor minus `overlap`; everything when there is no cursor).

        Dead letters are tried again when due (`dead_letter_due`: 5 min, 30 min, 2 h, 12 h,
        then daily after each failure), with their current WooCommerce state; those not due
        and seen by the poll are reported as `kept_dead_letter`.
        """
        if self.woocommerce is None:
            raise ValueError("sync needs a WooCommerce client")
        started = self._utcnow()
        previous_text = await self.store.cursors.get(self.cursor_name)
        previous = None if previous_text is None else datetime.fromisoformat(previous_text)
        if since is None and previous is not None:
            # A cursor stored past this poll's start (by an older version) is read as the
            # ceiling, so this very poll already sees what it skipped.
            since = min(previous, started - self.clock_skew) - self.overlap
        letters = {x.order_id: x for x in await self.store.dead_letters.list(self.config.store)}
        due = {
            order_id
            for order_id, letter in letters.items()
            if dead_letter_due(attempts=letter.attempts, last_seen=letter.last_seen, now=started)
        }
        seen: list[WooOrder] = []
        kept: list[ImportResult] = []

        async def unreadable(item: Any, exc: ResponseInvalid) -> None:
            # Keep it, with what WooCommerce sent, rather than stop every later poll on it.
            order_id = item.get("id") if isinstance(item, dict) else None
            if (
                not isinstance(order_id, int)
                or isinstance(order_id, bool)
                or integer_problem(order_id) is not None
            ):
                # Nothing can key it (the store holds 64-bit ids): say so, and go on.
                _log.error("WooCommerce listed an order without a usable id: %s", exc)
                return
            due.discard(order_id)
            if order_id in letters:
                kept.append(ImportResult(order_id, "kept_dead_letter", reason=_KEPT))
                return
            reason = f"WooCommerce sent an order nswoo cannot read: {exc}"
            await self.store.dead_letters.add(
                self.config.store, order_id, reason=reason, payload=dumps(item)
            )
            kept.append(ImportResult(order_id, "dead_lettered", reason=reason))

        async def orders() -> AsyncIterator[WooOrder]:
            assert self.woocommerce is not None  # noqa: S101 - checked above
            async for order in self.woocommerce.iter_orders(
                modified_after=since, on_unreadable=unreadable
            ):
                seen.append(order)
                if order.id in letters and order.id not in due:
                    kept.append(ImportResult(order.id, "kept_dead_letter", reason=_KEPT))
                    continue
                due.discard(order.id)
                yield order

        polled = await self._import_all(orders(), scheduled=True)
        # Due dead letters the poll did not list (older than its window): read and retry.
        retried = await self._retry_letters(
            [letters[order_id] for order_id in sorted(due)], scheduled=True
        )
        report = SyncReport(
            tuple(
                sorted(
                    (*polled.results, *retried.results, *kept),
                    key=lambda r: r.order_id,
                )
            )
        )
        outcomes = {r.order_id: r.outcome for r in polled.results}
        held = {i for i, outcome in outcomes.items() if outcome in ("deferred", "retrying")}
        cursor = next_cursor(
            previous=previous,
            handled=[o.date_modified_gmt for o in seen if o.id not in held],
            held=[o.date_modified_gmt for o in seen if o.id in held],
            poll_started=started,
            skew=self.clock_skew,
        )
        if cursor is not None:
            await self.store.cursors.set(self.cursor_name, cursor.astimezone(UTC).isoformat())
        return report

    async def replay(self) -> SyncReport:
        """Try every dead-lettered order of this store again, now, with its current state.

        The order is read again from WooCommerce (its status or lines may have changed);
        when WooCommerce cannot be asked, the stored payload is used.
        """
        letters = await self.store.dead_letters.list(self.config.store)
        return await self._retry_letters(letters, scheduled=False)

    async def _retry_letters(self, letters: Sequence[DeadLetter], *, scheduled: bool) -> SyncReport:
        orders: list[WooOrder] = []
        unreadable: list[ImportResult] = []
        for letter in letters:
            order = None
            if self.woocommerce is not None:
                try:
                    order = await self.woocommerce.get_order(letter.order_id)
                except AuthenticationError:
                    raise
                except ApiError as exc:
                    # Gone (404) or unreachable: the stored payload is the best we have.
                    _log.info("order %s: retrying the stored payload (%s)", letter.order_id, exc)
            if order is None and letter.payload:
                try:
                    order = structure_order(loads(letter.payload))
                except (ValueError, ApiError) as exc:
                    # One unreadable letter must not block every other retry: say why, keep
                    # it for a person, and go on.
                    reason = "cannot be retried: the order is not in WooCommerce and the "
                    reason += f"stored payload is not an order ({exc})"
                    await self.store.dead_letters.add(
                        self.config.store, letter.order_id, reason=reason, payload=letter.payload
                    )
                    outcome: Outcome = "kept_dead_letter" if scheduled else "dead_lettered"
                    unreadable.append(ImportResult(letter.order_id, outcome, reason=reason))
                    continue
            if order is not None:
                orders.append(order)
        report = await self._import_all(orders, scheduled=scheduled)
        return SyncReport(tuple(sorted((*report.results, *unreadable), key=lambda r: r.order_id)))


async def _aiter(orders: AsyncIterable[WooOrder] | Iterable[WooOrder]) -> AsyncIterator[WooOrder]:
    if isinstance(orders, AsyncIterable):
        async for order in orders:
            yield order
    else:
        for order in orders:
            yield order


def _payload(order: WooOrder) -> bytes | None:
    """The order as JSON for a dead letter's payload, or None when it cannot be written."""
    try:
        return dumps(unstructure_order(order))
    except (TypeError, ValueError) as exc:
        # An order that cannot be written back as JSON is still kept, with its reason; a
        # retry reads it from WooCommerce again.
        _log.warning("order %s: its payload cannot be stored (%s)", order.id, exc)
        return None


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _booked_amount(value: Decimal | None) -> Decimal | None:
    """An amount NetSuite sent, within nswoo's bounds, or None."""
    if value is None or not value.is_finite():
        return None
    return value if amount_problem(value, places=MAX_NUMBER_PLACES) is None else None


def _transient_reason(exc: ApiError) -> str:
    if isinstance(exc, OutcomeUnknown):
        return f"{exc}; not found by externalId afterwards: tried again later"
    tries = f" after {exc.attempts} tries" if exc.attempts > 1 else ""
    return f"{exc}{tries}; a transient failure: tried again later"


def _reason_for(exc: ApiError) -> str:
    if isinstance(exc, SchemaDriftError):
        return f"schema drift: {exc}"
    return str(exc)
