"""The inbox worker: import the webhook deliveries the receiver persisted, one batch at a time.

The receiver answers WooCommerce as soon as a delivery is stored; this worker does the slow
part (NetSuite) afterwards. Guarantees:

- **nothing is lost**: an item is marked done only after its order was linked, ignored or
  dead-lettered. An item whose processing raised (or whose worker crashed) stays in the inbox
  and is taken again when its lease expires.
- **nothing loops forever**: an item taken more than `max_attempts` times is dead-lettered
  with its body (so `nswoo orders replay` can retry it) and marked done. This also stops a
  delivery that kills the worker process outright from crashing it on every start.
- **arrival order per order**: WooCommerce builds the body at delivery time (reference §8),
  so each delivery is the order's state at that moment. Items of one order are processed in
  arrival order, and an older item retried after a newer one of the same order was finished
  is dropped as superseded rather than applied over the newer state.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import anyio
import attrs

from .._clock import Clock, SystemClock
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
    holds is reported as `deferred`; `AuthenticationError` propagates.
    """

    async def import_order(self, order: WooOrder) -> ImportResult:
        """Import `order`, creating at most one sales order for it."""
        ...


class InboxWorker:
    """Drains the webhook inbox into an `OrderSync`.

    Example:
        >>> worker = InboxWorker(store=store, order_sync=sync, owner="web-1")  # doctest: +SKIP
        >>> report = await worker.drain_once()  # doctest: +SKIP
        >>> report.count("imported")  # doctest: +SKIP

    Args:
        store: the store holding the inbox (and the dead letters).
        order_sync: imports one order (an `OrderSync`, or anything with `import_order`).
        owner: this worker's id in inbox leases (default `host:pid`).
        lease_seconds: how long a taken batch is reserved; an item not done by then is
            taken again (by any worker). Longer than a batch takes, NetSuite retries included.
        batch: items taken at once. Distinct orders in a batch are imported concurrently
            (the NetSuite limiter bounds the HTTP side).
        poll_interval: seconds `run` waits when the inbox was empty.
        max_attempts: takes after which an item that keeps failing is dead-lettered.
        clock: time for the back-off after a run-wide failure.

    Raises:
        ValueError: a non-positive `lease_seconds`, `batch`, `poll_interval` or `max_attempts`.
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
        clock: Clock | None = None,
    ) -> None:
        if lease_seconds <= 0 or batch <= 0 or poll_interval <= 0 or max_attempts <= 0:
            raise ValueError("lease_seconds, batch, poll_interval and max_attempts must be > 0")
        self.store = store
        self.order_sync = order_sync
        self.owner = owner or default_owner()
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self.clock = clock or SystemClock()
        # Orders with an item left for retry → the newest item id finished for that order
        # since (0: none yet). Only such orders are tracked, so the map stays small.
        self._retrying: dict[tuple[str, int], _Retry] = {}

    async def drain_once(self) -> SyncReport:
        """Take one batch from the inbox and process it.

        Returns:
            One `ImportResult` per item taken: `order.deleted` and superseded items as
            `ignored`; items left for retry as `deferred` (with the error as `reason`);
            items over `max_attempts` as `dead_lettered`. Empty when the inbox was.

        Raises:
            AuthenticationError: NetSuite refused the credentials; the batch's unfinished
                items stay in the inbox for their leases to expire.
            StorageError: the store failed.
        """
        items = await self.store.inbox.take(
            owner=self.owner, limit=self.batch, lease_seconds=self.lease_seconds
        )
        if not items:
            return SyncReport()
        # One chain per order, in arrival order (take() answers oldest first); distinct
        # orders run concurrently.
        chains: dict[tuple[str, int | None], list[InboxItem]] = {}
        for item in items:
            chains.setdefault((item.store, item.order_id), []).append(item)
        results: dict[int, ImportResult] = {}
        fatal: list[AuthenticationError | StorageError] = []

        async def run_chain(chain: Sequence[InboxItem]) -> None:
            try:
                for item in chain:
                    results[item.item_id] = await self._process(item)
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

    async def _process(self, item: InboxItem) -> ImportResult:
        order_id = item.order_id if item.order_id is not None else 0
        key = (item.store, order_id)
        retry = self._retrying.get(key)
        if retry is not None and retry.newest_done > item.item_id:
            # A newer delivery of this order was finished while this one waited for retry:
            # its state is the later one, so applying this older state would go backwards.
            await self._finish(item, key)
            return ImportResult(order_id, "ignored", reason="superseded by a newer delivery")
        if item.topic == _DELETED or item.order_id is None:
            # A trashed order has nothing to import (its body is only {"id": N}, §8); a
            # sales order already created stays for a human to cancel in NetSuite.
            await self._finish(item, key)
            return ImportResult(order_id, "ignored", reason=f"{item.topic}: nothing to import")
        if item.attempts > self.max_attempts:
            # Taken again after max_attempts failures, or after as many crashes of the whole
            # worker: do not try again here, keep it for `orders replay` and a human.
            return await self._give_up(
                item,
                key,
                f"taken {item.attempts} times without finishing "
                "(a worker crashed on it, or the order stayed busy)",
            )
        try:
            order = structure_order(loads(item.body))
        except (ValueError, ResponseInvalid) as exc:
            # The receiver checked the body, so this is a model the body no longer fits
            # (nswoo upgraded between receipt and import): retrying cannot help.
            return await self._give_up(item, key, f"stored delivery cannot be read: {exc}")
        try:
            result = await self.order_sync.import_order(order)
        except AuthenticationError:
            self._left(key, item)
            raise
        except Exception as exc:  # any failure of one item must leave it for a retry, not lose it
            return await self._failed(item, key, exc)
        if result.outcome == "deferred":
            # Another worker holds this order, possibly applying an older state: keep this
            # delivery and apply it after them.
            self._left(key, item)
            return result
        await self._finish(item, key)
        return result

    async def _failed(self, item: InboxItem, key: tuple[str, int], exc: Exception) -> ImportResult:
        if item.attempts >= self.max_attempts:
            return await self._give_up(
                item, key, f"failed {item.attempts} times; last error: {exc}"
            )
        _log.warning(
            "inbox item %s (order %s) failed, attempt %s of %s, retried after its lease: %s",
            item.item_id,
            item.order_id,
            item.attempts,
            self.max_attempts,
            exc,
        )
        self._left(key, item)
        return ImportResult(key[1], "deferred", reason=f"will retry: {exc}")

    async def _give_up(self, item: InboxItem, key: tuple[str, int], reason: str) -> ImportResult:
        full = f"webhook delivery {item.delivery_id} ({item.topic}): {reason}"
        await self.store.dead_letters.add(item.store, key[1], reason=full, payload=item.body)
        await self._finish(item, key)
        _log.error("inbox item %s (order %s) dead-lettered: %s", item.item_id, key[1], reason)
        return ImportResult(key[1], "dead_lettered", reason=full)

    async def _finish(self, item: InboxItem, key: tuple[str, int]) -> None:
        await self.store.inbox.done([item.item_id])
        retry = self._retrying.get(key)
        if retry is None:
            return
        retry.waiting.discard(item.item_id)
        if retry.waiting:
            retry.newest_done = max(retry.newest_done, item.item_id)
        else:
            del self._retrying[key]

    def _left(self, key: tuple[str, int], item: InboxItem) -> None:
        self._retrying.setdefault(key, _Retry()).waiting.add(item.item_id)


@attrs.define
class _Retry:
    """Items of one order left for retry, and the newest item of it finished since."""

    waiting: set[int] = attrs.field(factory=set)
    newest_done: int = 0
