"""Order sync: WooCommerce orders → NetSuite sales orders, exactly once per order.

The shell around the pure planner (`nswoo.orders._plan.plan_import`), in three visible steps:

1. **gather**: claim the order key in storage (a lease; a second worker waits or gets the
   existing link), look for a sales order already carrying the key in NetSuite (SuiteQL on
   the custom field and `externalId`), resolve SKUs and the customer;
2. **decide**: `plan_import(...)` → `AlreadyImported | CreateSalesOrder | IgnoreOrder |
   DeadLetterOrder`;
3. **apply**: create only when the plan says so, then store the link.

Recovery (DESIGN behaviour 4):

- a create that times out (`OutcomeUnknown`: NetSuite may have committed it) is never
  re-sent blindly: nswoo reads `salesOrder/eid:<externalId>` first and links what it finds;
- a duplicate `externalId` (another worker won) is read by `eid:` and linked;
- a crash between create and link leaves a lease that expires; the next worker finds the
  sales order in NetSuite before it would create one;
- anything that cannot be imported now goes to the dead-letter store with its reason;
  `replay()` tries again. Nothing is dropped;
- one order's unexpected failure (a bug, an exception nobody foresaw) is that order's dead
  letter, never the end of a `sync` or `replay` run.

What NetSuite booked is read back (one GET) whenever nswoo links a sales order it did not
reach through its own stored link (it created it, or found it in NetSuite), and when
replaying a linked order whose dead letter is still open. A total that differs from
WooCommerce's beyond the order's rounding tolerance (`booked_total_discrepancy`: NetSuite
rounds every amount to 0 or 2 decimal places, so a 3-decimal currency's order cannot be
booked exactly) leaves the sales order linked, never creates a second one, and is reported
as `total_differs` and dead-lettered with both amounts until a person corrects it and
`replay()` finds it matching.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterable, Iterable, Mapping
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
    DuplicateRecord,
    InvalidPayload,
    NotFound,
    OutcomeUnknown,
    ResponseInvalid,
    SchemaDriftError,
    StorageError,
)
from ..netsuite._client import NetSuiteClient
from ..netsuite._records import CustomerDraft, ExternalId, SalesOrderDraft
from ..netsuite._suiteql import SqlValue, ident, suiteql_query, text
from ..store import AlreadyLinked, Busy, Claimed, Store, claim_or_wait
from ..woocommerce._client import WooClient
from ..woocommerce._convert import dumps, loads, structure_order, unstructure_order
from ..woocommerce._records import MAX_NUMBER_PLACES, WooOrder, amount_problem, integer_problem
from ._plan import (
    AlreadyImported,
    CreateSalesOrder,
    DeadLetterOrder,
    IgnoreOrder,
    booked_total_discrepancy,
    customer_draft,
    next_cursor,
    order_key,
    plan_import,
    screen_order,
    skus_of,
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
    "kept_dead_letter",
]

_DEAD_LETTERED: frozenset[Outcome] = frozenset({"dead_lettered", "total_differs"})
"""Outcomes that leave the order in the dead-letter store (counted as dead-lettered)."""

_LINKED: frozenset[Outcome] = frozenset({"imported", "already_imported", "total_differs"})
"""Outcomes that end with a sales order linked to the order."""

_CUSTOMER_TO_RESOLVE = 1
"""The stand-in entity a draft carries until its by-e-mail customer is resolved."""

_KEPT = "dead-lettered before this run; orders replay retries it"

_SKU_CHUNK = 500
"""SKUs per item lookup query: far below the `IN` list limit, short enough to read in logs."""


@attrs.frozen
class ImportResult:
    """What happened to one WooCommerce order.

    Attributes:
        order_id: the WooCommerce order id.
        outcome: `imported` (a sales order was created now), `already_imported` (one existed
            and is linked), `total_differs` (a sales order exists and is linked, but NetSuite
            booked a total WooCommerce did not charge, or it could not be read back to
            check: kept as a dead letter with both amounts in `reason`), `ignored` (not an
            order nswoo imports: status, draft), `dead_lettered` (kept with `reason` for
            replay), `deferred` (another worker holds the order right now; it will finish
            it), or `kept_dead_letter` (polling found an order dead-lettered before this
            run: `replay()` retries those).
        sales_order_id: the NetSuite internal id, when linked.
        reason: why it was ignored, dead-lettered or flagged.
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

    def to_json(self) -> dict[str, object]:
        """The `orders sync|replay --json` object of the CLI contract.

        `dead_lettered` counts every order this run left in the dead-letter store;
        `total_differs` says how many of them have a sales order whose booked total differs
        from WooCommerce's (their `dead_letters` entries carry `sales_order_id`).
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
            "kept_dead_letters": self.count("kept_dead_letter"),
            "dead_letters": letters,
        }


def default_owner() -> str:
    """A worker id unique on this host: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


class OrderSync:
    """Imports WooCommerce orders into NetSuite idempotently.

    Example:
        >>> sync = OrderSync(netsuite=ns, woocommerce=woo, store=store, config=cfg.orders)
        >>> report = await sync.sync()  # doctest: +SKIP
        >>> report.to_json()["imported"]  # doctest: +SKIP

    Args:
        netsuite: the NetSuite client (its limiter is shared by every caller).
        woocommerce: the WooCommerce client (for polling and replay; None for a worker that
            only drains webhook deliveries).
        store: order links, dead letters, cursors and the inbox.
        config: the `[orders]` settings.
        clock: time for leases and waits.
        owner: this worker's id in leases (default `host:pid`).
        lease_seconds: how long a claim lasts before another worker may take it over; longer
            than one import takes, retries included.
        max_wait: how long to wait for another worker's lease on the same order.
        concurrency: orders imported at once by `sync`/`replay` (HTTP concurrency is the
            limiter's business; this bounds memory and lease count).
        overlap: how far before the stored cursor `sync` starts, so orders modified while the
            last run was paging are seen again (re-seeing is free: imports are idempotent).
        clock_skew: how far this host's clock and WooCommerce's may disagree: `sync` never
            moves its cursor past its own start time less this (see `next_cursor`).
        item_cache_seconds: how long a SKU → item id match found in NetSuite is reused
            (matches only; a SKU not found is asked again every time, so an item added
            later is seen at once). 0 turns the cache off.
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
    ) -> None:
        self.netsuite = netsuite
        self.woocommerce = woocommerce
        self.store = store
        self.config = config
        self.clock = clock or SystemClock()
        self.owner = owner or default_owner()
        self.lease_seconds = lease_seconds
        self.max_wait = max_wait
        self.concurrency = concurrency
        self.overlap = overlap
        self.clock_skew = clock_skew
        self.item_cache_seconds = item_cache_seconds
        self._items: dict[str, tuple[int, float]] = {}

    @property
    def cursor_name(self) -> str:
        """The cursor `sync` keeps: `orders:<store>:modified_after`."""
        return f"orders:{self.config.store}:modified_after"

    # -----------------------------------------------------------------------------------------
    # One order

    async def import_order(self, order: WooOrder, *, max_wait: float | None = None) -> ImportResult:
        """Import one order: at most one sales order per WooCommerce order, ever.

        Args:
            order: the WooCommerce order.
            max_wait: seconds to wait for another worker's lease on the order before
                answering `deferred` (default: the `max_wait` given at construction; 0: do
                not wait, as the inbox worker does, which comes back to the delivery later).

        Returns:
            What happened (`ImportResult`). A sales order nswoo links without having reached
            it through its own stored link is read back, and a total NetSuite booked beyond
            the order's tolerance gives `total_differs`: linked, and dead-lettered with both
            amounts. An order already linked is checked again only while it has a dead
            letter (a replay), which is resolved once the totals agree.

        Raises:
            AuthenticationError: credentials refused (a run-wide problem, not the order's).
            StorageError: the store failed.
        """
        store_name = self.config.store
        claim = await claim_or_wait(
            self.store.order_links,
            store_name,
            order.id,
            owner=self.owner,
            lease_seconds=self.lease_seconds,
            clock=self.clock,
            max_wait=self.max_wait if max_wait is None else max_wait,
        )
        if isinstance(claim, AlreadyLinked):
            return await self._already_linked(order, claim.link.sales_order_id)
        if isinstance(claim, Busy):
            return ImportResult(order.id, "deferred", reason=f"held by {claim.owner}")
        assert isinstance(claim, Claimed)  # noqa: S101 - Claim is a closed union
        try:
            result = await self._import_claimed(order)
        except AuthenticationError:
            await self.store.order_links.release(store_name, order.id, owner=self.owner)
            raise
        except ApiError as exc:
            result = await self._dead_letter(order, _reason_for(exc))
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.store.order_links.release(store_name, order.id, owner=self.owner)
            raise
        if result.outcome in _LINKED:
            assert result.sales_order_id is not None  # noqa: S101 - set on every linked path
            await self.store.order_links.link(
                store_name, order.id, sales_order_id=result.sales_order_id, owner=self.owner
            )
            if result.outcome == "total_differs":
                await self._keep(order, result.reason or "")
            else:
                await self.store.dead_letters.resolve(store_name, order.id)
        else:
            await self.store.order_links.release(store_name, order.id, owner=self.owner)
            if result.outcome == "ignored":
                await self.store.dead_letters.resolve(store_name, order.id)
        _log.info(
            "order %s: %s%s",
            order.id,
            result.outcome,
            f" as sales order {result.sales_order_id}" if result.sales_order_id else "",
        )
        return result

    async def _import_claimed(self, order: WooOrder) -> ImportResult:
        # gather
        existing = await self.find_sales_order(order.id)
        items: Mapping[str, int] = {}
        if existing is None and screen_order(order, self.config) is None:
            # Only an order that will be imported is worth its SKU look-up.
            items = await self.resolve_items(skus_of(order))
        single = self.config.customer.strategy == "single"
        # decide: with customers by e-mail the customer is found or created only once the
        # plan says to create the sales order, so an order that is dead-lettered leaves no
        # customer behind; until then the draft carries a stand-in entity, replaced below.
        plan = plan_import(
            order,
            config=self.config,
            items=items,
            customer_id=(self.config.customer.id or 0) if single else _CUSTOMER_TO_RESOLVE,
            existing_sales_order_id=existing,
        )
        # apply
        match plan:
            case AlreadyImported(sales_order_id):
                # Found in NetSuite, not through the stored link: a run that crashed before
                # checking it, a sales order made by hand or by an older setup. Check it.
                return await self._checked(order, sales_order_id, "already_imported")
            case CreateSalesOrder(draft):
                if not single:
                    draft = attrs.evolve(draft, entity=await self._customer_for(order))
                sales_order_id, created = await self._create_sales_order(draft)
                outcome: Outcome = "imported" if created else "already_imported"
                return await self._checked(order, sales_order_id, outcome)
            case IgnoreOrder(rejection):
                return ImportResult(order.id, "ignored", reason=rejection.reason)
            case DeadLetterOrder(rejection):
                return await self._dead_letter(order, rejection.reason)

    async def _dead_letter(self, order: WooOrder, reason: str) -> ImportResult:
        await self._keep(order, reason)
        _log.warning("order %s dead-lettered: %s", order.id, reason)
        return ImportResult(order.id, "dead_lettered", reason=reason)

    async def _keep(self, order: WooOrder, reason: str) -> None:
        """Add (or update) the order's dead letter, with the order as its payload."""
        try:
            payload: bytes | None = dumps(unstructure_order(order))
        except (TypeError, ValueError) as exc:
            # An order that cannot be written back as JSON is still kept, with its reason;
            # replay reads it from WooCommerce again.
            _log.warning("order %s: its payload cannot be stored (%s)", order.id, exc)
            payload = None
        await self.store.dead_letters.add(
            self.config.store, order.id, reason=reason, payload=payload
        )

    # -----------------------------------------------------------------------------------------
    # What NetSuite booked

    async def _already_linked(self, order: WooOrder, sales_order_id: str) -> ImportResult:
        """The fast path for an order linked before: no NetSuite request, unless it still
        has a dead letter (a `total_differs` being replayed, or one left by a delivery
        that failed while another path imported the order): then the booked total is
        checked again, and the letter resolved only when it agrees."""
        store_name = self.config.store
        if await self.store.dead_letters.get(store_name, order.id) is None:
            return ImportResult(order.id, "already_imported", sales_order_id)
        result = await self._checked(order, sales_order_id, "already_imported")
        if result.outcome == "total_differs":
            await self._keep(order, result.reason or "")
            _log.warning("order %s: %s", order.id, result.reason)
        else:
            await self.store.dead_letters.resolve(store_name, order.id)
        return result

    async def _checked(
        self, order: WooOrder, sales_order_id: str, outcome: Outcome
    ) -> ImportResult:
        """`outcome` when what NetSuite booked matches WooCommerce, else `total_differs`."""
        reason = await self._booked_total_problem(order, sales_order_id)
        if reason is None:
            return ImportResult(order.id, outcome, sales_order_id)
        return ImportResult(order.id, "total_differs", sales_order_id, reason=reason)

    async def _booked_total_problem(self, order: WooOrder, sales_order_id: str) -> str | None:
        """Why the sales order's booked total cannot be trusted, or None when it matches.

        One GET of the sales order. A failure to read it is reported too (the sales order
        exists and stays linked; `replay()` checks again), never raised: only credentials
        refused end the run.
        """
        unchecked = (
            f"order {order.id}: sales order {sales_order_id} is linked, but its total could "
            "not be checked against WooCommerce's"
        )
        try:
            body = await self.netsuite.get("salesOrder", sales_order_id)
        except AuthenticationError:
            raise
        except ApiError as exc:
            return f"{unchecked} ({exc}); orders replay checks it again"
        total = _booked_amount(body.get("total"))
        # NetSuite's own tax (when it computes tax) is in its `total`; `tax2Total` is the
        # second tax of Canadian accounts. Absent fields count as no tax.
        taxes = [_booked_amount(body.get(name, 0)) for name in ("taxTotal", "tax2Total")]
        if total is None or None in taxes:
            return f"{unchecked}: NetSuite's total or tax is not a number it could have booked"
        tax = sum((t for t in taxes if t is not None), Decimal(0))
        discrepancy = booked_total_discrepancy(
            order,
            config=self.config,
            sales_order_id=sales_order_id,
            booked_total=total,
            booked_tax=tax,
        )
        return None if discrepancy is None else discrepancy.reason

    # -----------------------------------------------------------------------------------------
    # NetSuite look-ups and writes

    async def find_sales_order(self, order_id: int) -> str | None:
        """The internal id of a sales order carrying this order's key, or None.

        One SuiteQL query matches the external id `woo-<store>-<order id>` (compared without
        case, as NetSuite compares external ids), or the custom field holding the order id on
        a sales order without a `woo-` external id (created by hand or by an older setup), so
        a sales order from a crashed run is found. The custom field alone is not trusted on
        sales orders with a `woo-` external id: another store sharing the NetSuite account
        numbers its orders the same way, and its order N is not this store's order N.

        Raises:
            SchemaDriftError: the custom field is gone (renamed or removed): the query
                names a column NetSuite no longer has.
        """
        key = order_key(self.config.store, order_id)
        query = suiteql_query(
            "SELECT t.id AS id FROM transaction t WHERE t.type = 'SalesOrd' "
            "AND (UPPER(t.externalid) = UPPER({external_id}) "
            "OR (t.{field} = {value} "
            "AND (t.externalid IS NULL OR UPPER(t.externalid) NOT LIKE 'WOO-%'))) "
            "ORDER BY t.id",
            field=ident(self.config.custom_field),
            value=text(key.custom_field_value),
            external_id=text(key.external_id.value),
        )
        try:
            async for row in self.netsuite.suiteql(query, page_size=10, booleans=False):
                return str(row["id"])
        except SchemaDriftError:
            raise
        except InvalidPayload as exc:
            # The query is nswoo's own and valid but for the configured column: NetSuite
            # refusing it means the custom field no longer exists (DESIGN behaviour 6).
            raise SchemaDriftError(
                f"looking up orders by {self.config.custom_field} failed: {exc.detail}",
                field=self.config.custom_field,
                record="salesOrder",
                system="netsuite",
                status=exc.status,
                code=exc.code,
            ) from exc
        return None

    async def _read_by_external_id(self, external_id: ExternalId, record: str) -> str | None:
        try:
            body = await self.netsuite.get(record, external_id)
        except NotFound:
            return None
        return str(body["id"]) if "id" in body else None

    async def _create_sales_order(self, draft: SalesOrderDraft) -> tuple[str, bool]:
        """Create once; after an unknown outcome or a duplicate, read before writing again."""
        assert draft.external_id is not None  # noqa: S101 - map_order always sets it
        for attempt in (1, 2):
            try:
                return await self.netsuite.create("salesOrder", draft), True
            except DuplicateRecord:
                found = await self._read_by_external_id(draft.external_id, "salesOrder")
                if found is not None:
                    return found, False
                raise
            except OutcomeUnknown:
                found = await self._read_by_external_id(draft.external_id, "salesOrder")
                if found is not None:
                    return found, True  # our own write committed; the answer was lost
                if attempt == 2:
                    raise
                # Not there: the write did not happen (or is still committing, in which case
                # the externalId makes a second create fail as a duplicate, read above).
        raise AssertionError("unreachable")  # pragma: no cover

    async def resolve_items(self, skus: Iterable[str]) -> dict[str, int]:
        """SKU → NetSuite item internal id, matching the configured `item_match` column.

        Inactive items are not matched. SKUs are bound as quoted literals, never pasted.
        Matches are reused for `item_cache_seconds`: most orders repeat a few SKUs, and a
        lookup per order would cost a third of the account's concurrency. An item made
        inactive within that window makes the create fail (NetSuite refuses the line), which
        dead-letters the order for replay rather than creating it wrong.
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
        column = ident(self.config.item_match)
        for start in range(0, len(wanted), _SKU_CHUNK):
            chunk = wanted[start : start + _SKU_CHUNK]
            query = suiteql_query(
                "SELECT i.id AS id, i.{column} AS sku FROM item i "
                "WHERE i.isinactive = 'F' AND i.{column} IN {skus}",
                column=column,
                skus=_text_list(chunk),
            )
            async for row in self.netsuite.suiteql(query, booleans=False):
                matched = row.get("sku")
                if isinstance(matched, str) and matched in chunk and matched not in found:
                    found[matched] = int(row["id"])
                    if self.item_cache_seconds > 0:
                        self._items[matched] = (found[matched], now + self.item_cache_seconds)
        return found

    async def _customer_for(self, order: WooOrder) -> int:
        draft = customer_draft(order, config=self.config)
        if not isinstance(draft, CustomerDraft):
            raise InvalidPayload(draft.reason, problems=(draft.reason,), system="woocommerce")
        return int(await self._find_or_create_customer(draft))

    async def _find_or_create_customer(self, draft: CustomerDraft) -> str:
        assert draft.external_id is not None  # noqa: S101 - customer_draft always sets it
        found = await self._read_by_external_id(draft.external_id, "customer")
        if found is not None:
            return found
        for attempt in (1, 2):
            try:
                return await self.netsuite.create("customer", draft)
            except (DuplicateRecord, OutcomeUnknown):
                found = await self._read_by_external_id(draft.external_id, "customer")
                if found is not None:
                    return found
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -----------------------------------------------------------------------------------------
    # Many orders

    async def import_orders(
        self, orders: AsyncIterable[WooOrder] | Iterable[WooOrder]
    ) -> SyncReport:
        """Import orders concurrently (at most `concurrency` at once).

        Only run-wide failures stop the run: credentials refused (`AuthenticationError`) or
        the store failing (`StorageError`), raised as themselves. Anything else one order's
        import raises (a bug, an exception nobody foresaw) is that order's problem: it is
        dead-lettered with the error as its reason, and the other orders go on.

        Raises:
            AuthenticationError: credentials refused.
            StorageError: the store failed.
            Exception: what iterating `orders` raised (e.g. `ServiceUnavailable` while
                paging WooCommerce), as itself, never wrapped in an ExceptionGroup.
        """
        results: list[ImportResult] = []
        fatal: list[Exception] = []
        slots = anyio.Semaphore(self.concurrency)

        async def one(order: WooOrder) -> None:
            try:
                try:
                    result = await self.import_order(order)
                except (AuthenticationError, StorageError):
                    raise
                except Exception as exc:  # one order's failure must not end the run
                    result = await self._unexpected(order, exc)
                results.append(result)
            except (AuthenticationError, StorageError) as exc:
                # Run-wide: stop the other imports and raise this error itself, not an
                # ExceptionGroup, so callers (and the CLI's exit codes) see what it is.
                fatal.append(exc)
                tg.cancel_scope.cancel()
            finally:
                slots.release()

        async with anyio.create_task_group() as tg:
            try:
                if isinstance(orders, AsyncIterable):
                    async for order in orders:
                        await slots.acquire()
                        tg.start_soon(one, order)
                else:
                    for order in orders:
                        await slots.acquire()
                        tg.start_soon(one, order)
            except Exception as exc:
                # Listing the orders failed (WooCommerce unreachable, credentials refused):
                # run-wide too. Raised from here it would reach the caller wrapped in the
                # task group's ExceptionGroup; stop the imports and raise it as itself.
                fatal.append(exc)
                tg.cancel_scope.cancel()
        if fatal:
            raise fatal[0]
        return SyncReport(tuple(sorted(results, key=lambda r: r.order_id)))

    async def _unexpected(self, order: WooOrder, exc: Exception) -> ImportResult:
        """Keep an order whose import failed in a way nothing handled, with the error."""
        reason = (
            f"order {order.id}: import failed unexpectedly ({type(exc).__name__}: {exc}); "
            "kept for orders replay"
        )
        _log.error("order %s: unexpected %s, dead-lettered", order.id, type(exc).__name__)
        # The traceback is for whoever fixes the bug; the report and the letter say what.
        _log.debug("order %s: unexpected failure", order.id, exc_info=exc)
        return await self._dead_letter(order, reason)

    async def sync(self, *, since: datetime | None = None) -> SyncReport:
        """Poll WooCommerce for orders modified since the cursor and import each.

        The cursor (the newest `date_modified_gmt` handled) advances only when the whole run
        finished, and only past orders that were handled (imported, linked, ignored or
        dead-lettered): a crash mid-run repeats work, never skips it. It never passes this
        poll's own start time less `clock_skew`, so an order dated in the future cannot
        make later polls skip the orders modified before that date (`next_cursor`). Orders
        are paged with `orderby=id` (stable under concurrent edits) from `since` (default:
        the stored cursor minus `overlap`; everything when there is no cursor).
        """
        if self.woocommerce is None:
            raise ValueError("sync needs a WooCommerce client")
        started = datetime.fromtimestamp(self.clock.time(), tz=UTC)
        previous_text = await self.store.cursors.get(self.cursor_name)
        previous = None if previous_text is None else datetime.fromisoformat(previous_text)
        if since is None and previous is not None:
            # A cursor stored past this poll's start (by an older version) is read as the
            # ceiling, so this very poll already sees what it skipped.
            since = min(previous, started - self.clock_skew) - self.overlap
        seen: list[WooOrder] = []
        # DESIGN: polling does not retry old dead letters (`replay` does), so a poison order
        # costs one lookup per replay, not one per poll.
        old_letters = {
            letter.order_id for letter in await self.store.dead_letters.list(self.config.store)
        }
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
            if order_id in old_letters:
                # Already kept by an earlier run; like any old dead letter, `replay` retries
                # it, and polling does not count it again.
                kept.append(ImportResult(order_id, "kept_dead_letter", reason=_KEPT))
                return
            reason = f"WooCommerce sent an order nswoo cannot read: {exc}"
            await self.store.dead_letters.add(
                self.config.store, order_id, reason=reason, payload=dumps(item)
            )
            kept.append(ImportResult(order_id, "dead_lettered", reason=reason))

        async def orders() -> AsyncIterable[WooOrder]:
            assert self.woocommerce is not None  # noqa: S101 - checked above
            async for order in self.woocommerce.iter_orders(
                modified_after=since, on_unreadable=unreadable
            ):
                seen.append(order)
                if order.id in old_letters:
                    kept.append(ImportResult(order.id, "kept_dead_letter", reason=_KEPT))
                    continue
                yield order

        imported = await self.import_orders(orders())
        report = SyncReport(tuple(sorted((*imported.results, *kept), key=lambda r: r.order_id)))
        deferred = {r.order_id for r in report.results if r.outcome == "deferred"}
        cursor = next_cursor(
            previous=previous,
            handled=[o.date_modified_gmt for o in seen if o.id not in deferred],
            held=[o.date_modified_gmt for o in seen if o.id in deferred],
            poll_started=started,
            skew=self.clock_skew,
        )
        if cursor is not None:
            await self.store.cursors.set(self.cursor_name, cursor.astimezone(UTC).isoformat())
        return report

    async def replay(self) -> SyncReport:
        """Try every dead-lettered order of this store again, with its current WooCommerce state.

        The order is read again from WooCommerce (its status or lines may have changed);
        when WooCommerce cannot be asked, the stored payload is used.
        """
        letters = await self.store.dead_letters.list(self.config.store)
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
                    _log.info("order %s: replaying the stored payload (%s)", letter.order_id, exc)
            if order is None and letter.payload:
                try:
                    order = structure_order(loads(letter.payload))
                except (ValueError, ApiError) as exc:
                    # One unreadable letter must not block every other replay: say why, keep
                    # it for a human, and go on.
                    reason = "cannot be replayed: the order is not in WooCommerce and the "
                    reason += f"stored payload is not an order ({exc})"
                    await self.store.dead_letters.add(
                        self.config.store, letter.order_id, reason=reason, payload=letter.payload
                    )
                    unreadable.append(ImportResult(letter.order_id, "dead_lettered", reason=reason))
                    continue
            if order is not None:
                orders.append(order)
        report = await self.import_orders(orders)
        return SyncReport(tuple(sorted((*report.results, *unreadable), key=lambda r: r.order_id)))


def _booked_amount(value: object) -> Decimal | None:
    """An amount NetSuite sent as a JSON number (int or exact Decimal), within nswoo's bounds."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    amount = Decimal(value)
    return amount if amount_problem(amount, places=MAX_NUMBER_PLACES) is None else None


def _text_list(values: Iterable[str]) -> SqlValue:
    """`('a', 'b')`: each value a quoted literal built by `text()` (quotes doubled)."""
    literals = [text(value).sql for value in values]
    if not literals:
        raise ValueError("an IN list needs at least one value")
    return SqlValue("(" + ", ".join(literals) + ")")


def _reason_for(exc: ApiError) -> str:
    if isinstance(exc, SchemaDriftError):
        return f"schema drift: {exc}"
    if exc.retryable:
        return f"{exc} (gave up after {exc.attempts} attempts; orders replay tries again)"
    if isinstance(exc, OutcomeUnknown):
        return f"{exc}; not found by externalId afterwards"
    return str(exc)
