"""Stock sync (shell): gather NetSuite balances, the catalog and the orders in flight, decide
with the pure calculator, push the changes in batches, remember what was accepted.

1. **Gather**, the three at once: balances per (item, location) from `aggregateItemLocation`
   (`netsuite._queries.item_balances`, pages of 1000, keyset past the 100,000-row cap); the
   WooCommerce products and variations (variations of each variable product read
   concurrently); the WooCommerce orders in an imported status modified within
   `in_flight_days`, each page of them checked against NetSuite in one query for a sales
   order carrying them (`sales_orders_for`: NetSuite is the truth, whatever nswoo's store
   remembers). Then what was last pushed, from the store.
2. **Decide**: `plan_stock` once, over all of it.
3. **Apply**: `products/batch` and `products/<id>/variations/batch`, ≤ 100 items a request,
   the requests concurrent under the WooCommerce limiter. Every item WooCommerce accepted is
   recorded; every item it refused (or a request that failed outright) is reported as
   failed and, not being recorded, is pushed again by the next run. Nothing is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import anyio
import attrs

from .._clock import Clock, SystemClock
from .._settings import Config
from ..errors import ApiError, AuthenticationError, ConfigurationError, PermissionDenied
from ..netsuite._client import NetSuiteClient
from ..netsuite._queries import SalesOrderKey, item_balances, sales_orders_for
from ..orders._plan import order_key
from ..store._ports import PushedStock, Store
from ..woocommerce._client import BATCH_LIMIT, BatchItemError, BatchResult, WooClient
from ..woocommerce._records import WooOrder, WooProduct, WooVariation
from ._availability import (
    BalanceRow,
    InFlightLine,
    LastPush,
    Listing,
    Problem,
    StockPlan,
    StockPush,
    in_flight_quantities,
    plan_stock,
)

__all__ = ["FailedPush", "StockSync", "StockSyncReport", "SyncProgress"]

_log = logging.getLogger("nswoo.inventory")

Stage = Literal["balances", "catalog", "orders", "push"]


@attrs.frozen
class SyncProgress:
    """Where a run is: `done` rows, listings, orders or pushes of `stage` so far (of `total`
    when known)."""

    stage: Stage
    done: int
    total: int | None = None


@attrs.frozen
class FailedPush:
    """A push WooCommerce did not accept this run: it is tried again by the next one."""

    sku: str
    code: str
    message: str


@attrs.frozen
class StockSyncReport:
    """What one `inventory sync` run decided and did.

    Attributes:
        plan: the decision (pushes, and every SKU left alone, by reason).
        pushed: pushes WooCommerce accepted (0 on a dry run).
        failed: pushes it refused, or whose request failed.
        problems: bad input, by name (the plan's and the in-flight orders').
        in_flight_orders: WooCommerce orders counted as in flight.
        in_flight_units: their units, over every SKU.
        dry_run: nothing was written.
    """

    plan: StockPlan
    pushed: int = 0
    failed: tuple[FailedPush, ...] = ()
    problems: tuple[Problem, ...] = ()
    in_flight_orders: int = 0
    in_flight_units: int = 0
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        """The `inventory sync --json` object (the CLI contract's keys first)."""
        plan = self.plan
        data: dict[str, Any] = {
            "considered": plan.considered,
            "changed": plan.changed,
            "pushed": self.pushed,
            "failed": len(self.failed),
            "skipped_by_owner": len(plan.skipped_by_owner),
            "parent_managed": len(plan.parent_managed),
            "missing_in_woocommerce": len(plan.missing_in_woocommerce),
            "missing_in_netsuite": len(plan.missing_in_netsuite),
            "unchanged": plan.unchanged,
            "dry_run": self.dry_run,
            "in_flight": {"orders": self.in_flight_orders, "units": self.in_flight_units},
            "failures": [{"sku": f.sku, "code": f.code, "message": f.message} for f in self.failed],
            "problems": [
                {"subject": p.subject, "kind": p.kind, "detail": p.detail} for p in self.problems
            ],
            "skus": {
                "parent_managed": list(plan.parent_managed),
                "missing_in_woocommerce": list(plan.missing_in_woocommerce),
                "missing_in_netsuite": list(plan.missing_in_netsuite),
            },
        }
        if self.dry_run:
            data["changes"] = [
                {
                    "sku": p.sku,
                    "quantity": p.target.quantity,
                    "status": p.target.status,
                    "manage_stock": p.manage_stock,
                }
                for p in plan.pushes
            ]
        return data


def check_skus(skus: Iterable[str]) -> tuple[str, ...]:
    """The SKUs named on the command line, refused when one cannot be a SKU.

    Raises:
        ConfigurationError: an empty SKU, or one with control characters (named with them
            escaped).
    """
    checked: dict[str, None] = {}
    for sku in skus:
        if not sku or not sku.strip():
            raise ConfigurationError("a SKU may not be empty", key="--sku")
        if any(ord(char) < 32 or ord(char) == 127 for char in sku):
            raise ConfigurationError(
                f"SKU {sku!r} holds control characters; no product can have it", key="--sku"
            )
        checked[sku] = None
    return tuple(checked)


def _listing(record: WooProduct | WooVariation) -> Listing | None:
    if not record.sku:
        return None  # no SKU: nothing in NetSuite can be matched to it
    if isinstance(record, WooVariation):
        return Listing(
            id=record.id,
            sku=record.sku,
            manage_stock=record.manage_stock,
            stock_quantity=record.stock_quantity,
            stock_status=record.stock_status,
            parent_id=record.parent_id,
            product_type="variation",
        )
    return Listing(
        id=record.id,
        sku=record.sku,
        manage_stock=record.manage_stock,
        stock_quantity=record.stock_quantity,
        stock_status=record.stock_status,
        product_type=record.type,
    )


async def _concurrently(*jobs: Callable[[], Awaitable[None]]) -> None:
    """Run `jobs` at once; the first error stops the others and is raised as itself
    (not wrapped in an ExceptionGroup, so callers and the CLI see what it is)."""
    errors: list[BaseException] = []

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        try:
            await job()
        except Exception as exc:
            errors.append(exc)
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for job in jobs:
            group.start_soon(run, job)
    if errors:
        raise errors[0]


class StockSync:
    """Publish NetSuite availability to WooCommerce (DESIGN behaviour 5).

    Example:
        >>> sync = StockSync(  # doctest: +SKIP
        ...     netsuite=ns, woocommerce=woo, store=store, config=config
        ... )
        >>> report = await sync.sync()  # doctest: +SKIP
        >>> report.pushed, [f.sku for f in report.failed]  # doctest: +SKIP

    Args:
        netsuite: the NetSuite client (balances, sales orders).
        woocommerce: the WooCommerce client (catalog, orders, batch writes).
        store: where the last accepted pushes are kept.
        config: the mapping settings: `[inventory]`, and `[orders]` for the store name,
            the imported statuses, the custom field and the SKU column.
        clock: time for `in_flight_days` and the pushes' timestamps.
        progress: called as the run moves on (see `SyncProgress`); keep it cheap.
        netsuite_partitions: balance id ranges read at once (default: the NetSuite
            client's concurrency cap).
    """

    def __init__(
        self,
        *,
        netsuite: NetSuiteClient,
        woocommerce: WooClient,
        store: Store,
        config: Config,
        clock: Clock | None = None,
        progress: Callable[[SyncProgress], None] | None = None,
        netsuite_partitions: int | None = None,
    ) -> None:
        self.netsuite = netsuite
        self.woocommerce = woocommerce
        self.store = store
        self.config = config
        self.clock = clock or SystemClock()
        self._progress = progress
        self._partitions = netsuite_partitions or netsuite.settings.concurrency

    def _tell(self, stage: Stage, done: int, total: int | None = None) -> None:
        if self._progress is not None:
            self._progress(SyncProgress(stage, done, total))

    # -----------------------------------------------------------------------------------------
    # The run

    async def sync(
        self, *, skus: Sequence[str] | None = None, dry_run: bool = False
    ) -> StockSyncReport:
        """Compute availability and push what changed (only `skus` when given).

        Args:
            skus: re-sync just these SKUs (e.g. right after their orders were imported).
            dry_run: decide and report, write nothing (neither WooCommerce nor the store).

        Raises:
            ConfigurationError: a SKU in `skus` cannot be one.
            AuthenticationError, PermissionDenied: credentials refused (after recording
                what was accepted before).
            ApiError: gathering failed (a system unreachable after retries, or the custom
                field gone: `SchemaDriftError`); nothing was written.
            StorageError: the store failed.
        """
        only = None if skus is None else check_skus(skus)
        balances: list[BalanceRow] = []
        listings: list[Listing] = []
        sku_by_id: dict[int, str] = {}
        lines: list[InFlightLine] = []
        counts = {"orders": 0}
        order_problems: list[Problem] = []

        async def gather_balances() -> None:
            balances.extend(await self._balances(only))

        async def gather_catalog() -> None:
            await self._catalog(only, listings, sku_by_id)

        async def gather_orders() -> None:
            counts["orders"] = await self._in_flight(lines, order_problems)

        await _concurrently(gather_balances, gather_catalog, gather_orders)
        in_flight, line_problems = in_flight_quantities(
            lines, sku_by_id=sku_by_id, report_unresolved=only is None
        )
        if only is not None:
            in_flight = {sku: units for sku, units in in_flight.items() if sku in only}
        names = {row.sku for row in balances} | {listing.sku for listing in listings}
        stored = await self.store.stock_pushes.last_pushed(self.config.orders.store, names)
        last = {sku: LastPush(push.quantity, push.status) for sku, push in stored.items()}
        plan = plan_stock(
            balances=balances,
            listings=listings,
            in_flight=in_flight,
            last_pushed=last,
            config=self.config.inventory,
            only=only,
        )
        # What the plan needed is let go before the writes: the plan is much smaller.
        balances.clear()
        listings.clear()
        sku_by_id.clear()
        lines.clear()
        problems = tuple(
            sorted(
                (*plan.problems, *line_problems, *order_problems),
                key=lambda p: (p.subject, p.kind, p.detail),
            )
        )
        report = StockSyncReport(
            plan=plan,
            problems=problems,
            in_flight_orders=counts["orders"],
            in_flight_units=sum(in_flight.values()),
            dry_run=dry_run,
        )
        if dry_run or not plan.pushes:
            return report
        pushed, failed = await self._apply(plan.pushes)
        return attrs.evolve(report, pushed=pushed, failed=failed)

    # -----------------------------------------------------------------------------------------
    # Gather

    async def _balances(self, only: Collection[str] | None) -> list[BalanceRow]:
        rows = 0

        def page(count: int) -> None:
            nonlocal rows
            rows += count
            self._tell("balances", rows)

        found = await item_balances(
            self.netsuite,
            column=self.config.orders.item_match,
            locations=self.config.inventory.locations,
            skus=only,
            partitions=self._partitions,
            on_page=page,
        )
        return list(found)

    async def _catalog(
        self, only: Collection[str] | None, listings: list[Listing], sku_by_id: dict[int, str]
    ) -> None:
        """The products and variations with a SKU, and every SKU by product/variation id."""

        def add(record: WooProduct | WooVariation) -> None:
            listing = _listing(record)
            if listing is not None:
                listings.append(listing)
                sku_by_id[record.id] = listing.sku
                if len(listings) % 500 == 0:
                    self._tell("catalog", len(listings))

        if only is not None and not any("," in sku for sku in only):
            # A few SKUs: `products?sku=` finds products and variations alike (reference §3).
            for record in (await self.woocommerce.find_by_sku(only)).values():
                add(record)
            return
        # Every product, and every variable product's variations read concurrently (the
        # WooCommerce limiter caps what runs): the products listing is paged in order, the
        # variations are one listing per parent.
        async with anyio.create_task_group() as group:

            async def variations(parent_id: int) -> None:
                async for variation in self.woocommerce.iter_variations(parent_id):
                    add(variation)

            async for record in self.woocommerce.iter_products(variations=False):
                add(record)
                if isinstance(record, WooProduct) and record.type == "variable":
                    group.start_soon(variations, record.id)
        self._tell("catalog", len(listings))

    async def _in_flight(self, lines: list[InFlightLine], problems: list[Problem]) -> int:
        """Collect the lines of orders in flight; return how many orders there were.

        In flight: an order in an imported status (`[orders] statuses`), modified within
        `in_flight_days`, that no NetSuite sales order carries, whether nswoo has seen it or
        not. Each page of orders costs one SuiteQL query (`sales_orders_for`).
        """
        orders_config = self.config.orders
        now = datetime.fromtimestamp(self.clock.time(), tz=UTC)
        since = now - timedelta(days=self.config.inventory.in_flight_days)
        page: list[WooOrder] = []
        seen = 0
        unlinked = 0

        async def check(batch: list[WooOrder]) -> int:
            keys = {order_key(orders_config.store, order.id): order for order in batch}
            linked = await sales_orders_for(
                self.netsuite,
                [SalesOrderKey(k.external_id, k.custom_field_value) for k in keys],
                field=orders_config.custom_field,
            )
            linked_ids = {int(key.custom_field_value) for key in linked}
            count = 0
            for order in batch:
                if order.id in linked_ids:
                    continue
                count += 1
                lines.extend(
                    InFlightLine(
                        order_id=order.id,
                        quantity=line.quantity,
                        sku=line.sku or None,
                        product_id=line.product_id,
                        variation_id=line.variation_id,
                    )
                    for line in order.line_items
                )
            return count

        async def unreadable(item: Any, exc: Exception) -> None:
            order_id = item.get("id") if isinstance(item, Mapping) else None
            problems.append(
                Problem(
                    subject=str(order_id),
                    kind="unreadable_order",
                    detail=(
                        f"order {order_id}: WooCommerce sent an order nswoo cannot read ({exc});"
                        " its units are not held back"
                    ),
                )
            )

        async for order in self.woocommerce.iter_orders(
            modified_after=since, statuses=orders_config.statuses, on_unreadable=unreadable
        ):
            page.append(order)
            seen += 1
            if len(page) == 100:
                unlinked += await check(page)
                page = []
                self._tell("orders", seen)
        if page:
            unlinked += await check(page)
        self._tell("orders", seen)
        return unlinked

    # -----------------------------------------------------------------------------------------
    # Apply

    async def _apply(self, pushes: Sequence[StockPush]) -> tuple[int, tuple[FailedPush, ...]]:
        """Push in batches of ≤ 100, concurrently; record what WooCommerce accepted.

        Raises:
            AuthenticationError, PermissionDenied: after the accepted pushes are recorded.
        """
        by_parent: dict[int, list[StockPush]] = {}
        for push in pushes:
            by_parent.setdefault(push.parent_id, []).append(push)
        chunks = [
            (parent, group[start : start + BATCH_LIMIT])
            for parent, group in by_parent.items()
            for start in range(0, len(group), BATCH_LIMIT)
        ]
        accepted: list[StockPush] = []
        failed: list[FailedPush] = []
        fatal: list[ApiError] = []
        store_name = self.config.orders.store

        async def send(parent: int, chunk: list[StockPush]) -> None:
            patches = [push.patch() for push in chunk]
            try:
                if parent == 0:
                    result = await self.woocommerce.batch_update_products(patches)
                else:
                    result = await self.woocommerce.batch_update_variations(parent, patches)
            except (AuthenticationError, PermissionDenied) as exc:
                fatal.append(exc)
                result = BatchResult(
                    failed=tuple(_item_error(push.listing_id, exc) for push in chunk)
                )
            except ApiError as exc:
                # The request failed as a whole (after the pipeline's retries): every item
                # in it is kept for the next run.
                _log.warning("stock push of %d items failed: %s", len(chunk), exc)
                result = BatchResult(
                    failed=tuple(_item_error(push.listing_id, exc) for push in chunk)
                )
            by_id = {push.listing_id: push for push in chunk}
            done = [by_id[i] for i in result.succeeded if i in by_id]
            accepted.extend(done)
            for error in result.failed:
                push = by_id.get(error.id)
                if push is not None:
                    failed.append(FailedPush(push.sku, error.code, error.message))
            if done:
                when = datetime.fromtimestamp(self.clock.time(), tz=UTC)
                await self.store.stock_pushes.record(
                    PushedStock(
                        store=store_name,
                        sku=push.sku,
                        quantity=push.recorded().quantity,
                        status=push.recorded().status,
                        pushed_at=when,
                    )
                    for push in done
                )
            self._tell("push", len(accepted) + len(failed), len(pushes))

        await _concurrently(*(_bind(send, parent, chunk) for parent, chunk in chunks))
        if fatal:
            raise fatal[0]
        failed.sort(key=lambda f: f.sku)
        return len(accepted), tuple(failed)


def _bind(
    send: Callable[[int, list[StockPush]], Awaitable[None]], parent: int, chunk: list[StockPush]
) -> Callable[[], Awaitable[None]]:
    async def job() -> None:
        await send(parent, chunk)

    return job


def _item_error(item_id: int, exc: ApiError) -> BatchItemError:
    return BatchItemError(
        id=item_id,
        code=exc.code or type(exc).__name__,
        message=str(exc),
        status=exc.status,
    )
