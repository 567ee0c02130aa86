"""Idempotent orders under every failure at once: a stateful model over both simulators.

Orders are placed (importable, with a SKU NetSuite does not have yet, or in a status nswoo
does not import) and then delivered, re-delivered, delivered while NetSuite's answer to the
create is lost, delivered by a worker that crashes before storing the link, delivered by two
workers at once, delivered through 429 bursts and after the access token died. Items are
added later and dead letters replayed. After every step NetSuite holds at most one sales
order per WooCommerce order; at the end, one more poll and replay leave exactly one per
importable order, and every other order is either ignored or dead-lettered naming its SKU.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from typing import Literal, TypeVar

import anyio
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from nswoo.orders._sync import ImportResult, OrderSync
from nswoo.store._ports import DeadLetter
from nswoo.testing import (
    DEFAULT_CATALOG,
    ErrorBurst,
    FakeClock,
    FaultPlan,
    MemoryStore,
    SlowCommit,
    build_world,
)
from nswoo.woocommerce._convert import structure_order

pytestmark = pytest.mark.anyio

Kind = Literal["importable", "missing", "ignored"]
T = TypeVar("T")

STORE = "sim"
KNOWN_SKUS = tuple(item.sku for item in DEFAULT_CATALOG)
MISSING_SKUS = ("LAMP-1", "LAMP-2", "DESK-1")
IGNORED_STATUSES = ("pending", "cancelled", "failed", "checkout-draft")
SETTLED = frozenset({"imported", "already_imported"})


class OrderImportMachine(RuleBasedStateMachine):
    """One world, one store, long-lived clients shared by every worker, like one process."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.world = build_world(clock=self.clock)
        self.sim = self.world.netsuite
        self.store = MemoryStore(clock=self.clock)
        self.placed: dict[int, tuple[str, ...]] = {}
        self.statuses: dict[int, str] = {}
        self.in_netsuite: set[str] = set(KNOWN_SKUS)
        self.in_woo: set[str] = set(KNOWN_SKUS)
        self._stack = ExitStack()
        self.portal = self._stack.enter_context(start_blocking_portal("asyncio"))
        self.netsuite = self.world.netsuite_client()
        self.woo = self.world.woo_client()

    # -- helpers -------------------------------------------------------------------------------

    def run(self, func: Callable[[], Awaitable[T]]) -> T:
        """Run async code on the machine's event loop, bounded in (real) time."""

        async def bounded() -> T:
            with anyio.fail_after(20):
                return await func()

        return self.portal.call(bounded)

    def worker(self, owner: str = "worker-a", store: MemoryStore | None = None) -> OrderSync:
        return OrderSync(
            netsuite=self.netsuite,
            woocommerce=self.woo,
            store=self.store if store is None else store,
            config=self.world.config.orders,
            clock=self.clock,
            owner=owner,
        )

    def kind(self, order_id: int) -> Kind:
        """What nswoo should do with the order given what NetSuite holds right now."""
        if self.statuses[order_id] not in self.world.config.orders.statuses:
            return "ignored"
        if set(self.placed[order_id]) <= self.in_netsuite:
            return "importable"
        return "missing"

    def deliver(self, order_id: int, sync: OrderSync | None = None) -> ImportResult:
        order = structure_order(self.world.woocommerce.order(order_id))
        return self.run(lambda: (sync or self.worker()).import_order(order))

    def check_result(self, order_id: int, result: ImportResult) -> None:
        """The outcome a delivery must have, whatever fault it met (they are all recoverable)."""
        assert result.order_id == order_id
        kind = self.kind(order_id)
        if kind == "importable":
            assert result.outcome in SETTLED, result
            assert result.sales_order_id is not None
            assert self.sim.sales_orders_by_woo_id()[str(order_id)] == [int(result.sales_order_id)]
        elif kind == "ignored":
            assert result.outcome == "ignored", result
        else:
            assert result.outcome == "dead_lettered", result
            missing = set(self.placed[order_id]) - self.in_netsuite
            assert any(sku in (result.reason or "") for sku in missing), result

    def with_faults(self, plan: FaultPlan, action: Callable[[], T]) -> T:
        self.sim.injector.plan = plan
        try:
            return action()
        finally:
            self.sim.injector.plan = FaultPlan()

    # -- placing orders ------------------------------------------------------------------------

    @initialize()
    def open_clients(self) -> None:
        self.run(self.netsuite.__aenter__)
        self.run(self.woo.__aenter__)

    @rule(
        target=orders,
        sku=st.sampled_from(KNOWN_SKUS),
        quantity=st.integers(1, 3),
        status=st.sampled_from(("processing", "processing", "on-hold", "completed")),
    )
    def place_importable(self, sku: str, quantity: int, status: str) -> int:
        return self._place([(sku, quantity)], status)

    @rule(target=orders, missing=st.sampled_from(MISSING_SKUS), known=st.sampled_from(KNOWN_SKUS))
    def place_with_unknown_sku(self, missing: str, known: str) -> int:
        if missing not in self.in_woo:
            self.world.woocommerce.add_product(missing, price="30.00", stock_quantity=100)
            self.in_woo.add(missing)
        return self._place([(missing, 1), (known, 1)], "processing")

    @rule(target=orders, sku=st.sampled_from(KNOWN_SKUS), status=st.sampled_from(IGNORED_STATUSES))
    def place_not_imported(self, sku: str, status: str) -> int:
        return self._place([(sku, 1)], status)

    def _place(self, lines: list[tuple[str, int]], status: str) -> int:
        body = self.world.woocommerce.place_order(lines, status=status)
        order_id = int(body["id"])
        self.placed[order_id] = tuple(sku for sku, _ in lines)
        self.statuses[order_id] = str(body["status"])
        return order_id

    # -- delivering them -----------------------------------------------------------------------

    @rule(order_id=orders)
    def deliver_once(self, order_id: int) -> None:
        self.check_result(order_id, self.deliver(order_id))

    @rule(order_id=orders)
    def redeliver(self, order_id: int) -> None:
        first = self.deliver(order_id)
        again = self.deliver(order_id)
        self.check_result(order_id, first)
        self.check_result(order_id, again)
        if first.outcome in SETTLED:
            assert again.outcome == "already_imported"
            assert again.sales_order_id == first.sales_order_id

    @rule(order_id=orders)
    def slow_commit(self, order_id: int) -> None:
        plan = FaultPlan(slow_commits=SlowCommit(every=1))
        result = self.with_faults(plan, lambda: self.deliver(order_id))
        self.check_result(order_id, result)

    @rule(order_id=orders)
    def crash_before_the_link(self, order_id: int) -> None:
        # The crashed worker's store (and with it the link) is lost; NetSuite keeps the order.
        lost = MemoryStore(clock=self.clock)
        result = self.deliver(order_id, self.worker("crashed", store=lost))
        self.check_result(order_id, result)

    @rule(order_id=orders)
    def two_workers_at_once(self, order_id: int) -> None:
        order = structure_order(self.world.woocommerce.order(order_id))
        results: list[ImportResult] = []

        async def both() -> None:
            async def one(owner: str) -> None:
                results.append(await self.worker(owner).import_order(order))

            async with anyio.create_task_group() as tg:
                tg.start_soon(one, "worker-a")
                tg.start_soon(one, "worker-b")

        self.run(both)
        for result in results:
            self.check_result(order_id, result)
        if self.kind(order_id) == "importable":
            assert sum(r.outcome == "imported" for r in results) <= 1

    @rule(order_id=orders, status=st.sampled_from((429, 429, 503)))
    def error_burst(self, order_id: int, status: int) -> None:
        burst = ErrorBurst(start=self.sim.injector.requests, count=3, status=status)
        result = self.with_faults(FaultPlan(error_bursts=(burst,)), lambda: self.deliver(order_id))
        self.check_result(order_id, result)

    @rule(order_id=orders)
    def token_death(self, order_id: int) -> None:
        self.sim.revoke_access_tokens()
        self.check_result(order_id, self.deliver(order_id))

    # -- fixing what was missing ---------------------------------------------------------------

    @precondition(lambda self: bool(self.in_woo - self.in_netsuite))
    @rule(data=st.data())
    def add_missing_item(self, data: st.DataObject) -> None:
        sku = data.draw(st.sampled_from(sorted(self.in_woo - self.in_netsuite)))
        self.sim.add_item(sku, cost="11.00", locations={self.world.location_ids["Main"]: 50})
        self.in_netsuite.add(sku)

    @rule()
    def replay(self) -> None:
        report = self.run(self.worker().replay)
        for result in report.results:
            self.check_result(result.order_id, result)

    @rule()
    def poll(self) -> None:
        letters = {letter.order_id for letter in self.run(self._dead_letters)}
        report = self.run(self.worker().sync)
        for result in report.results:
            if result.outcome == "kept_dead_letter":
                # Polling leaves what was dead-lettered before to `orders replay`.
                assert result.order_id in letters, result
            else:
                self.check_result(result.order_id, result)

    # -- what must always hold -----------------------------------------------------------------

    @invariant()
    def at_most_one_sales_order_per_order(self) -> None:
        held = self.sim.sales_orders_by_woo_id()
        assert all(len(ids) == 1 for ids in held.values()), held
        for order_id, kind in ((o, self.kind(o)) for o in self.placed):
            if kind == "ignored":
                assert str(order_id) not in held

    @invariant()
    def links_point_at_what_netsuite_holds(self) -> None:
        held = self.sim.sales_orders_by_woo_id()

        async def links() -> dict[int, str]:
            found = await self.store.order_links.linked_ids(STORE, list(self.placed))
            return dict(found)

        for order_id, sales_order_id in self.run(links).items():
            assert held.get(str(order_id)) == [int(sales_order_id)]

    def teardown(self) -> None:
        try:
            self._settle_and_check()
        finally:
            try:
                self.run(self.netsuite.aclose)
                self.run(self.woo.aclose)
            finally:
                self._stack.close()

    def _settle_and_check(self) -> None:
        self.sim.injector.plan = FaultPlan()
        self.run(self.worker().sync)
        self.run(self.worker().replay)
        held = self.sim.sales_orders_by_woo_id()
        letters = {letter.order_id: letter for letter in self.run(self._dead_letters)}
        for order_id in self.placed:
            kind = self.kind(order_id)
            if kind == "importable":
                assert len(held.get(str(order_id), [])) == 1, (order_id, held)
                assert order_id not in letters
            elif kind == "ignored":
                assert str(order_id) not in held
                assert order_id not in letters
            else:
                assert str(order_id) not in held
                missing = set(self.placed[order_id]) - self.in_netsuite
                assert order_id in letters, order_id
                assert any(sku in letters[order_id].reason for sku in missing)
        assert set(held) <= {str(o) for o in self.placed}

    async def _dead_letters(self) -> Sequence[DeadLetter]:
        return await self.store.dead_letters.list(STORE)


def test_one_sales_order_per_order_whatever_fails() -> None:
    """Across redelivery, lost answers, crashes, races, 429s and token death: one sales order."""
    run_state_machine_as_test(
        OrderImportMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            report_multiple_bugs=False,
        ),
    )


async def test_a_revoked_token_is_refreshed_while_the_clock_stands_still() -> None:
    """After token death the next import refreshes once and succeeds, even on a FakeClock."""
    clock = FakeClock()
    world = build_world(clock=clock)
    store = MemoryStore(clock=clock)
    first = structure_order(world.woocommerce.place_order([("MUG-BLUE", 1)]))
    second = structure_order(world.woocommerce.place_order([("TEE-S", 2)]))
    async with world.netsuite_client() as netsuite, world.woo_client() as woo:
        sync = OrderSync(
            netsuite=netsuite,
            woocommerce=woo,
            store=store,
            config=world.config.orders,
            clock=clock,
        )
        assert (await sync.import_order(first)).outcome == "imported"
        world.netsuite.revoke_access_tokens()
        result = await sync.import_order(second)
    assert result.outcome == "imported"
    assert world.netsuite.stats.tokens_minted == 2
    held = world.netsuite.sales_orders_by_woo_id()
    assert set(held) == {str(first.id), str(second.id)}
    assert held[str(second.id)] == [int(result.sales_order_id or 0)]
    assert all(len(ids) == 1 for ids in held.values())
