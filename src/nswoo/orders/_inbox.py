"""The inbox worker: import the webhook deliveries the receiver persisted, one batch at a time.

The receiver answers WooCommerce as soon as a delivery is stored; this worker does the slow
part (NetSuite) afterwards. Guarantees:

- **one WooCommerce store**: a worker takes only the deliveries of the store its importer
  books for (`order_sync.config.store`). Several stores may share one store file, and
  their order ids overlap: store A's order 112 is not store B's.
- **nothing is lost**: an item is marked done only after its order was linked, ignored or
  dead-lettered. An item whose processing raised (or whose worker crashed) stays in the inbox
  and is taken again when its lease expires.
- **transient is not dead**: an order whose import failed for a transient reason (NetSuite
  unreachable, 5xx, rate-limited past the retry budget; `OrderSync` answers `retrying`) is
  given back to the inbox and taken again after `retry_after` seconds (30 by default),
  without spending one of the item's attempts; `OrderSync` counts those failures and
  dead-letters the order only when its `RetryPolicy` gives up. A credentials outage gives
  the whole batch back the same way.
- **nothing loops forever**: an item taken more than `max_attempts` times is dead-lettered
  with its body (so `nswoo orders replay` can retry it) and marked done. This also stops a
  delivery that kills the worker process outright from crashing it on every start.
- **nothing stalls the rest**: an order leased by another worker (alive, or dead with a
  lease still running) is not waited for. Its deliveries in the batch go back to the inbox
  until that lease ends (checked again every `busy_recheck` seconds at most), without
  spending an attempt, and the worker goes on with other orders.
- **arrival order per order**: WooCommerce builds the body at delivery time (reference §8),
  so each delivery is the order's state at that moment. Items of one order are processed in
  arrival order, and an item taken after a newer delivery of the same order was finished is
  dropped as superseded rather than applied over the newer state. The inbox says so
  (`InboxItem.superseded`), so this holds across restarts and between workers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import anyio

from .._clock import Clock, SystemClock
from .._settings import OrdersConfig
from ..errors import AuthenticationError, ResponseInvalid, StorageError
from ..store._ports import InboxItem, Store
from ..woocommerce._convert import loads, structure_order
from ..woocommerce._records import WooOrder
from ._sync import ImportResult, SyncReport, default_owner

__all__ = ["InboxWorker", "OrderImporter"]

_log = logging.getLogger("nswoo.webhooks.worker")

_DELETED = "order.deleted"
_MAX_BACKOFF = 60.0


class OrderImporter(Protocol):
    """What the worker needs from `OrderSync`: import one order idempotently.

    Contract (as `OrderSync.import_order`): an order that cannot be imported is
    dead-lettered by the importer and reported as `dead_lettered`; an order another worker
    holds is reported as `deferred` (at once when `max_wait` is 0); `AuthenticationError`
    propagates. `config.store` is the WooCommerce store it books orders for.
    """

    @property
    def config(self) -> OrdersConfig:
        """The `[orders]` settings; `store` names the WooCommerce store."""
        ...

    async def import_order(self, order: WooOrder, *, max_wait: float | None = None) -> ImportResult:
        """Import `order`, creating at most one sales order for it."""
        ...


class InboxWorker:
    """Drains one WooCommerce store's webhook deliveries into an `OrderSync`.

    Example:
        >>> worker = InboxWorker(store=store, order_sync=sync, owner="web-1")  # doctest: +SKIP
        >>> report = await worker.drain_once()  # doctest: +SKIP
        >>> report.count("imported")  # doctest: +SKIP

    Args:
        store: the store holding the inbox (and the dead letters).
        order_sync: imports one order (an `OrderSync`, or anything with `import_order`);
            the worker takes only deliveries of its `config.store` (see `store_name`).
        owner: this worker's id in inbox leases (default `host:pid`).
        lease_seconds: how long a taken batch is reserved; an item not done by then is
            taken again (by any worker). Longer than a batch takes, NetSuite retries included.
        batch: items taken at once. Distinct orders in a batch are imported concurrently
            (the NetSuite limiter bounds the HTTP side).
        poll_interval: seconds `run` waits when the inbox was empty.
        max_attempts: takes after which an item that keeps failing is dead-lettered.
        busy_recheck: at most this many seconds before deliveries of an order leased by
            another worker are looked at again (sooner when that lease ends sooner). The
            holder is usually alive and done in moments, so this is short; each look costs
            one inbox take and one claim, never a NetSuite request.
        retry_after: seconds before the deliveries of an order that failed for a transient
            reason are taken again.
        clock: time for the back-off after a run-wide failure, and for deferrals.

    Raises:
        ValueError: a non-positive `lease_seconds`, `batch`, `poll_interval`,
            `max_attempts`, `busy_recheck` or `retry_after`.
    """

    def __init__(
        self,
        *,
        store: Store,
        order_sync: OrderImporter,
        owner: str | None = None,
        lease_seconds: float = 300.0,
        batch: int = 20,
        poll_interval: float = 0.5,
        max_attempts: int = 5,
        busy_recheck: float = 5.0,
        retry_after: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        if min(lease_seconds, batch, poll_interval, max_attempts, busy_recheck, retry_after) <= 0:
            raise ValueError(
                "lease_seconds, batch, poll_interval, max_attempts, busy_recheck and "
                "retry_after must be > 0"
            )
        self.store = store
        self.order_sync = order_sync
        self.owner = owner or default_owner()
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self.busy_recheck = busy_recheck
        self.retry_after = retry_after
        self.clock = clock or SystemClock()

    @property
    def store_name(self) -> str:
        """The WooCommerce store whose deliveries this worker takes: its importer's store."""
        return self.order_sync.config.store

    async def drain_once(self) -> SyncReport:
        """Take one batch of this store's deliveries from the inbox and process it.

        Returns:
            One `ImportResult` per item taken: `order.deleted` and superseded items as
            `ignored`; an item whose order failed for a transient reason as `retrying`;
            items left for retry, later deliveries of a `retrying` order, and items of an
            order another worker holds, as `deferred` (with the reason); items over
            `max_attempts` as `dead_lettered`. Empty when the inbox was.

        Raises:
            AuthenticationError: NetSuite refused the credentials; the batch's unfinished
                items are given back to the inbox without spending an attempt.
            StorageError: the store failed.
        """
        items = await self.store.inbox.take(
            self.store_name, owner=self.owner, limit=self.batch, lease_seconds=self.lease_seconds
        )
        if not items:
            return SyncReport()
        # One chain per order, in arrival order (take() answers oldest first); distinct
        # orders run concurrently.
        chains: dict[int | None, list[InboxItem]] = {}
        for item in items:
            chains.setdefault(item.order_id, []).append(item)
        results: dict[int, ImportResult] = {}
        fatal: list[AuthenticationError | StorageError] = []

        async def run_chain(chain: Sequence[InboxItem]) -> None:
            try:
                for index, item in enumerate(chain):
                    result, handled = await self._process(item)
                    if result.outcome == "deferred" and not handled:
                        # Another worker holds the order: its later deliveries wait too, so
                        # they are still applied in arrival order, after this one.
                        results.update(await self._defer(chain[index:]))
                        return
                    if result.outcome == "retrying":
                        results.update(await self._retry_later(chain[index:], result))
                        return
                    results[item.item_id] = result
            except (AuthenticationError, StorageError) as exc:
                # Run-wide: stop the other chains too; their items stay leased and return.
                fatal.append(exc)
                tg.cancel_scope.cancel()

        async with anyio.create_task_group() as tg:
            for chain in chains.values():
                tg.start_soon(run_chain, chain)
        if fatal:
            # Not these items' fault: give back the unfinished ones without spending an
            # attempt, so a long credentials outage never dead-letters waiting deliveries.
            unfinished = [i.item_id for i in items if i.item_id not in results]
            with anyio.CancelScope(shield=True):
                await self.store.inbox.release(unfinished)
            raise fatal[0]
        return SyncReport(tuple(results[i.item_id] for i in items if i.item_id in results))

    async def run(self, stop: anyio.Event) -> None:
        """Drain until `stop` is set, then return after finishing the batch in hand.

        Run-wide failures (credentials refused, store unavailable) are logged and retried
        with a growing pause, never fatal: deliveries keep arriving in the inbox meanwhile
        and nothing is lost.
        """
        failures = 0
        while not stop.is_set():
            try:
                report = await self.drain_once()
            except (AuthenticationError, StorageError) as exc:
                failures += 1
                pause = min(_MAX_BACKOFF, self.poll_interval * 2**failures)
                _log.error("inbox worker paused %.1fs: %s", pause, exc)
                await self._pause(pause, stop)
                continue
            failures = 0
            if not report.results:
                await self._pause(self.poll_interval, stop)

    async def _pause(self, seconds: float, stop: anyio.Event) -> None:
        """Sleep on the clock, waking early when `stop` is set."""
        async with anyio.create_task_group() as tg:

            async def wake() -> None:
                await stop.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(wake)
            await self.clock.sleep(seconds)
            tg.cancel_scope.cancel()

    # -----------------------------------------------------------------------------------------
    # One item

    async def _process(self, item: InboxItem) -> tuple[ImportResult, bool]:
        """Process one item; with True when this is the item's last word for this take.

        False comes with `deferred` (its order leased by another worker) and `retrying` (a
        transient failure): the item is untouched, for the caller to give back. An item
        whose import raised is `deferred` with True: it stays leased (the take counted as
        an attempt) and comes back when its lease ends.
        """
        order_id = item.order_id if item.order_id is not None else 0
        if item.superseded:
            # A newer delivery of this order was finished before this one was taken: its
            # state is the later one, so applying this older state would go backwards.
            await self._finish(item)
            return ImportResult(order_id, "ignored", reason="superseded by a newer delivery"), True
        if item.topic == _DELETED or item.order_id is None:
            # A trashed order has nothing to import (its body is only {"id": N}, §8); a
            # sales order already created stays for a human to cancel in NetSuite.
            await self._finish(item)
            return ImportResult(
                order_id, "ignored", reason=f"{item.topic}: nothing to import"
            ), True
        if item.attempts > self.max_attempts:
            # Taken again after max_attempts failures, or after as many crashes of the whole
            # worker: do not try again here, keep it for `orders replay` and a human.
            return await self._give_up(
                item,
                f"taken {item.attempts} times without finishing (a worker crashed on it)",
            ), True
        try:
            order = structure_order(loads(item.body))
        except (ValueError, ResponseInvalid) as exc:
            # The receiver checked the body, so this is a model the body no longer fits
            # (nswoo upgraded between receipt and import): retrying cannot help.
            return await self._give_up(item, f"stored delivery cannot be read: {exc}"), True
        try:
            # max_wait=0: never sit on another worker's lease (a dead worker's runs for
            # minutes); the delivery goes back to the inbox until that lease ends instead.
            result = await self.order_sync.import_order(order, max_wait=0)
        except AuthenticationError:
            raise
        except Exception as exc:  # any failure of one item must leave it for a retry, not lose it
            return await self._failed(item, exc), True
        if result.outcome in ("deferred", "retrying"):
            return result, False
        await self._finish(item)
        return result, True

    async def _retry_later(
        self, items: Sequence[InboxItem], result: ImportResult
    ) -> dict[int, ImportResult]:
        """Give an order's items back for `retry_after` seconds after a transient failure;
        its later deliveries wait with it, so they still apply in arrival order."""
        first = items[0]
        until = self.clock.time() + self.retry_after
        await self.store.inbox.release([i.item_id for i in items], not_before=until)
        _log.info(
            "order %s: %d deliveries back in the inbox for %.0fs: %s",
            result.order_id,
            len(items),
            self.retry_after,
            result.reason,
        )
        behind = f"behind delivery {first.delivery_id} of the same order, retried with it"
        later = {i.item_id: ImportResult(result.order_id, "deferred", reason=behind) for i in items}
        return {**later, first.item_id: result}

    async def _defer(self, items: Sequence[InboxItem]) -> dict[int, ImportResult]:
        """Give an order's items back until the other worker's lease on it ends."""
        first = items[0]
        order_id = first.order_id if first.order_id is not None else 0
        now = self.clock.time()
        lease = await self.store.order_links.lease(self.store_name, order_id)
        if lease is None:
            # Released or linked in the meantime: look again after a short pause.
            until, holder = now + self.poll_interval, "another worker"
        else:
            until = min(lease.expires_at, now + self.busy_recheck)
            holder = lease.owner
        await self.store.inbox.release([i.item_id for i in items], not_before=until)
        reason = f"order held by {holder}; back in the inbox for {max(0.0, until - now):.0f}s"
        _log.info("order %s: %d deliveries deferred: %s", order_id, len(items), reason)
        return {i.item_id: ImportResult(order_id, "deferred", reason=reason) for i in items}

    async def _failed(self, item: InboxItem, exc: Exception) -> ImportResult:
        order_id = item.order_id if item.order_id is not None else 0
        if item.attempts >= self.max_attempts:
            return await self._give_up(item, f"failed {item.attempts} times; last error: {exc}")
        _log.warning(
            "inbox item %s (order %s) failed, attempt %s of %s, retried after its lease: %s",
            item.item_id,
            item.order_id,
            item.attempts,
            self.max_attempts,
            exc,
        )
        return ImportResult(order_id, "deferred", reason=f"will retry: {exc}")

    async def _give_up(self, item: InboxItem, reason: str) -> ImportResult:
        order_id = item.order_id if item.order_id is not None else 0
        full = f"webhook delivery {item.delivery_id} ({item.topic}): {reason}"
        await self.store.dead_letters.add(item.store, order_id, reason=full, payload=item.body)
        await self._finish(item)
        _log.error("inbox item %s (order %s) dead-lettered: %s", item.item_id, order_id, reason)
        return ImportResult(order_id, "dead_lettered", reason=full)

    async def _finish(self, item: InboxItem) -> None:
        await self.store.inbox.done([item.item_id])
