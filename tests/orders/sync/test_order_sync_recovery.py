"""OrderSync recovery: multi-store keys, run-wide errors, replay fallback."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from nswoo.errors import AuthenticationError
from nswoo.netsuite import SalesOrderDraft, SalesOrderLine
from nswoo.orders._sync import OrderSync
from nswoo.store.memory import MemoryStore
from nswoo.testing._clock import FakeClock
from nswoo.testing._faults import ErrorBurst, FaultPlan
from nswoo.testing._world import SimWorld, build_world
from nswoo.woocommerce._convert import dumps, structure_order, unstructure_order

pytestmark = pytest.mark.anyio


def make_sync(world: SimWorld, store: MemoryStore, **kwargs: object) -> OrderSync:
    config = kwargs.pop("config", world.config.orders)
    return OrderSync(
        netsuite=world.netsuite_client(),
        woocommerce=world.woo_client(),
        store=store,
        config=config,  # type: ignore[arg-type]
        clock=world.clock,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_same_order_id_in_two_stores_gets_its_own_sales_order() -> None:
    """Order N of store B is not taken for store A's order N: the key is (store, order id).

    Two WooCommerce stores sharing a NetSuite account both number their orders from 1, so
    order ids collide. The look-up must not link store B's order to the sales order of
    store A (externalId woo-<A>-N) just because the custom field holds the same "N".
    """
    clock = FakeClock()
    world = build_world(clock=clock)
    order = structure_order(world.woocommerce.place_order([("MUG-BLUE", 1)]))
    first = await make_sync(world, MemoryStore(clock=clock)).import_order(order)
    assert first.outcome == "imported"

    other_store = attrs.evolve(world.config.orders, store="outlet")
    second = await make_sync(world, MemoryStore(clock=clock), config=other_store).import_order(
        order
    )

    assert second.outcome == "imported"
    assert second.sales_order_id != first.sales_order_id
    assert len(world.netsuite.sales_orders_by_woo_id()[str(order.id)]) == 2


async def test_sync_raises_authentication_error_itself_not_an_exception_group() -> None:
    """sync() stops on refused credentials with AuthenticationError (CLI exit 4, not 3).

    `import_orders` documents "stop on auth errors" and the CLI maps AuthenticationError to
    exit code 4; an ExceptionGroup wrapping it is neither caught by callers nor mapped.
    """
    clock = FakeClock()
    world = build_world(clock=clock)
    store = MemoryStore(clock=clock)
    world.woocommerce.place_order([("MUG-BLUE", 1)])
    world.netsuite.refresh_sandbox()  # every NetSuite credential is gone
    with pytest.raises(AuthenticationError):
        await make_sync(world, store).sync()


async def test_replay_falls_back_to_the_stored_payload_when_woocommerce_is_down() -> None:
    """replay() uses the dead letter's stored payload when WooCommerce cannot be asked.

    The method's own contract: "when WooCommerce cannot be asked, the stored payload is
    used". A WooCommerce outage must not abort the replay of every dead letter.
    """
    clock = FakeClock()
    world = build_world(
        clock=clock,
        woo_faults=FaultPlan(error_bursts=(ErrorBurst(start=0, count=10_000, status=503),)),
    )
    store = MemoryStore(clock=clock)
    order = structure_order(world.woocommerce.place_order([("TEE-S", 1)]))
    await store.dead_letters.add(
        world.config.orders.store,
        order.id,
        reason="earlier failure",
        payload=dumps(unstructure_order(order)),
    )
    report = await make_sync(world, store).replay()
    assert report.count("imported") == 1
    assert await store.dead_letters.list() == []


async def test_one_unreadable_dead_letter_does_not_block_every_replay() -> None:
    """replay() retries the other dead letters when one can be neither fetched nor read.

    The inbox worker dead-letters an `order.deleted` delivery with its body `{"id": N}` as
    payload once it was taken too often; when that order is gone from WooCommerce (404) the
    payload is not an order. That letter must be reported or skipped, not abort the replay
    of every other dead letter on every run.
    """
    clock = FakeClock()
    world = build_world(clock=clock)
    store = MemoryStore(clock=clock)
    name = world.config.orders.store
    await store.dead_letters.add(
        name,
        999_999,
        reason="webhook delivery d-9 (order.deleted): taken 6 times without finishing",
        payload=b'{"id":999999}',
    )
    clock.advance(1)
    order = structure_order(world.woocommerce.place_order([("TEE-S", 1)]))
    await store.dead_letters.add(
        name, order.id, reason="earlier failure", payload=dumps(unstructure_order(order))
    )
    report = await make_sync(world, store).replay()
    assert [(r.order_id, r.outcome) for r in report.results if r.order_id == order.id] == [
        (order.id, "imported")
    ]
    assert await store.dead_letters.get(name, order.id) is None


async def test_a_sales_order_made_by_an_expired_lease_holder_after_the_look_up_is_linked() -> None:
    """Looked up, then a worker (whose lease then expires) creates the sales order and dies
    before linking: taking its lease over, nswoo looks again instead of creating a second.

    The dead worker's sales order carries only the custom field (as an older setup wrote
    them), so NetSuite's external-id uniqueness would not have caught a second create.
    """
    clock = FakeClock()
    world = build_world(clock=clock)
    store = MemoryStore(clock=clock)
    order = structure_order(world.woocommerce.place_order([("MUG-RED", 1)]))
    sync = make_sync(world, store)
    real_suiteql = sync.netsuite.suiteql
    state = {"raced": False}

    def suiteql_then_a_worker_dies(query, **kwargs):  # type: ignore[no-untyped-def]
        async def rows():  # type: ignore[no-untyped-def]
            async for row in real_suiteql(query, **kwargs):
                yield row
            if "FROM transaction" in str(query) and not state["raced"]:
                state["raced"] = True
                await store.order_links.claim("sim", order.id, owner="dead", lease_seconds=5)
                draft = SalesOrderDraft(
                    entity=world.customer_id,
                    lines=(
                        SalesOrderLine(
                            item=world.item_ids["MUG-RED"],
                            quantity=Decimal(1),
                            amount=order.total - order.total_tax - order.shipping_total,
                        ),
                    ),
                    custom_fields={"custbody_nswoo_woo_order_id": str(order.id)},
                    shipping_cost=order.shipping_total,
                )
                async with world.netsuite_client() as other:
                    await other.create("salesOrder", draft)
                clock.advance(10)  # the dead worker's lease expires

        return rows()

    sync.netsuite.suiteql = suiteql_then_a_worker_dies  # type: ignore[method-assign]
    result = await sync.import_order(order)
    assert state["raced"]
    assert result.outcome == "already_imported"
    assert len(world.netsuite.sales_orders_by_woo_id()[str(order.id)]) == 1
    link = await store.order_links.get("sim", order.id)
    assert link is not None
    assert link.sales_order_id == result.sales_order_id
