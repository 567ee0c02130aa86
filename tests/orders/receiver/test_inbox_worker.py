"""The inbox worker: drain into an order sync, retry what raised, dead-letter what keeps failing."""

from __future__ import annotations

import anyio
import pytest
from tests.orders.receiver._support import STORE, FakeOrderSync, order_body

from nswoo.errors import AuthenticationError, ServiceUnavailable
from nswoo.orders._inbox import InboxWorker
from nswoo.store.memory import MemoryStore
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio

LEASE = 60.0


def setup(sync: FakeOrderSync, **options: object) -> tuple[InboxWorker, MemoryStore, FakeClock]:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    worker = InboxWorker(
        store=store,
        order_sync=sync,
        owner="w-1",
        lease_seconds=LEASE,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )
    return worker, store, clock


async def put(
    store: MemoryStore, delivery_id: str, body: bytes, topic: str = "order.updated"
) -> None:
    order_id = 727 if b'"id": 727' in body or b'"id":727' in body else None
    await store.inbox.put(STORE, delivery_id, topic=topic, order_id=order_id, body=body)


async def test_drain_imports_each_order_and_marks_it_done() -> None:
    """A persisted delivery is structured, imported once, and removed from the pending inbox."""
    sync = FakeOrderSync()
    worker, store, _ = setup(sync)
    await put(store, "d-1", order_body())
    report = await worker.drain_once()
    assert [(r.order_id, r.outcome) for r in report.results] == [(727, "imported")]
    assert [o.id for o in sync.imported] == [727]
    assert await store.inbox.pending_count() == 0
    assert (await worker.drain_once()).results == ()


async def test_deleted_orders_are_done_without_an_import() -> None:
    """order.deleted has nothing to import: it is marked done and counted as ignored."""
    sync = FakeOrderSync()
    worker, store, _ = setup(sync)
    await store.inbox.put(STORE, "d-1", topic="order.deleted", order_id=727, body=b'{"id":727}')
    report = await worker.drain_once()
    assert report.count("ignored") == 1
    assert sync.calls == 0
    assert await store.inbox.pending_count() == 0


async def test_same_order_is_processed_in_arrival_order() -> None:
    """Deliveries of one order reach import_order in the order they arrived."""
    sync = FakeOrderSync()
    worker, store, _ = setup(sync)
    for n, status in enumerate(["pending", "processing", "completed"]):
        await put(store, f"d-{n}", order_body(status=status))
    await worker.drain_once()
    assert [o.status for o in sync.imported] == ["pending", "processing", "completed"]


async def test_an_exception_leaves_the_item_for_retry_after_its_lease() -> None:
    """An import that raises leaves the item pending; it is retried once its lease expires."""
    sync = FakeOrderSync(fail=ServiceUnavailable("netsuite down", system="netsuite"), fail_times=1)
    worker, store, clock = setup(sync)
    await put(store, "d-1", order_body())
    first = await worker.drain_once()
    assert [r.outcome for r in first.results] == ["deferred"]
    assert await store.inbox.pending_count() == 1
    assert (await worker.drain_once()).results == ()  # still leased
    clock.advance(LEASE + 1)
    second = await worker.drain_once()
    assert [r.outcome for r in second.results] == ["imported"]
    assert await store.inbox.pending_count() == 0
    assert await store.dead_letters.list() == []


async def test_max_attempts_dead_letters_the_item_with_its_body() -> None:
    """An item that fails max_attempts times is dead-lettered with its body and never looped."""
    sync = FakeOrderSync(fail=RuntimeError("bug in a mapper"))
    worker, store, clock = setup(sync, max_attempts=3)
    body = order_body()
    await put(store, "d-1", body)
    outcomes = []
    for _ in range(5):
        outcomes += [r.outcome for r in (await worker.drain_once()).results]
        clock.advance(LEASE + 1)
    assert outcomes == ["deferred", "deferred", "dead_lettered"]
    assert sync.calls == 3
    [letter] = await store.dead_letters.list()
    assert (letter.store, letter.order_id, letter.payload) == (STORE, 727, body)
    assert "bug in a mapper" in letter.reason
    assert await store.inbox.pending_count() == 0


async def test_an_item_that_crashed_the_worker_is_dead_lettered_without_another_try() -> None:
    """An item taken more than max_attempts times (the worker died each time) is set aside."""
    sync = FakeOrderSync()
    worker, store, clock = setup(sync, max_attempts=2)
    await put(store, "d-1", order_body())
    for _ in range(2):  # two workers took it and died before done()
        await store.inbox.take(STORE, owner="dead", limit=1, lease_seconds=LEASE)
        clock.advance(LEASE + 1)
    report = await worker.drain_once()
    assert [r.outcome for r in report.results] == ["dead_lettered"]
    assert sync.calls == 0
    assert len(await store.dead_letters.list()) == 1


async def test_an_older_delivery_retried_after_a_newer_one_is_superseded() -> None:
    """When a newer delivery of the order finished first, the older retried one is not applied."""
    sync = FakeOrderSync(fail=ServiceUnavailable("blip", system="netsuite"), fail_times=1)
    worker, store, clock = setup(sync)
    await put(store, "d-old", order_body(status="processing"))
    await put(store, "d-new", order_body(status="cancelled"))
    first = await worker.drain_once()
    assert [r.outcome for r in first.results] == ["deferred", "imported"]
    clock.advance(LEASE + 1)
    second = await worker.drain_once()
    assert [(r.outcome, r.reason) for r in second.results] == [
        ("ignored", "superseded by a newer delivery")
    ]
    assert [o.status for o in sync.imported] == ["cancelled"]
    assert await store.inbox.pending_count() == 0


async def test_authentication_errors_propagate_and_lose_nothing() -> None:
    """Refused credentials stop the batch; the item stays in the inbox for later."""
    sync = FakeOrderSync(fail=AuthenticationError("bad token", system="netsuite"))
    worker, store, _ = setup(sync)
    await put(store, "d-1", order_body())
    with pytest.raises(AuthenticationError):
        await worker.drain_once()
    assert await store.inbox.pending_count() == 1


async def test_deferred_orders_stay_in_the_inbox() -> None:
    """An order another worker holds is not marked done: this delivery is applied later."""
    sync = FakeOrderSync(outcome="deferred")
    worker, store, _ = setup(sync)
    await put(store, "d-1", order_body())
    report = await worker.drain_once()
    assert report.count("deferred") == 1
    assert await store.inbox.pending_count() == 1


async def test_run_drains_until_stopped() -> None:
    """run() keeps draining new deliveries and returns once stop is set."""
    sync = FakeOrderSync()
    worker, store, _ = setup(sync, poll_interval=0.01)
    stop = anyio.Event()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run, stop)
            await put(store, "d-1", order_body())
            while await store.inbox.pending_count():  # noqa: ASYNC110 - the store has no events
                await anyio.sleep(0.01)
            stop.set()
    assert [o.id for o in sync.imported] == [727]


async def test_run_survives_authentication_failures() -> None:
    """run() backs off on refused credentials instead of dying, and keeps the item unspent."""
    sync = FakeOrderSync(fail=AuthenticationError("bad token", system="netsuite"))
    worker, store, clock = setup(sync, poll_interval=0.01)
    await put(store, "d-1", order_body())
    stop = anyio.Event()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run, stop)
            while len(clock.sleeps) < 3:  # noqa: ASYNC110 - waiting on the fake clock's record
                await anyio.sleep(0.001)
            stop.set()
    # Each failure doubles the pause; the item is given back at once, its attempt not spent.
    assert clock.sleeps[:3] == [0.02, 0.04, 0.08]
    assert await store.inbox.pending_count() == 1
    (item,) = await store.inbox.take(STORE, owner="check", limit=10, lease_seconds=60)
    assert item.attempts == 1


async def test_a_worker_takes_only_its_own_stores_deliveries() -> None:
    """Another WooCommerce store's delivery on the same store is left for that store's worker."""
    sync = FakeOrderSync()
    worker, store, _ = setup(sync)
    await store.inbox.put("outlet", "d-1", topic="order.updated", order_id=727, body=order_body())

    report = await worker.drain_once()

    assert worker.store_name == STORE == sync.config.store
    assert report.results == ()
    assert sync.calls == 0
    assert await store.inbox.pending_count("outlet") == 1


async def test_an_order_held_by_another_worker_is_given_back_until_its_lease_ends() -> None:
    """A busy order is not waited for: its deliveries return when the lease ends, unspent."""
    sync = FakeOrderSync(outcome="deferred")
    worker, store, clock = setup(sync, busy_recheck=120.0)
    await store.order_links.claim(STORE, 727, owner="other", lease_seconds=90)
    for n in range(3):
        await put(store, f"d-{n}", order_body())

    report = await worker.drain_once()
    clock.advance(89)
    early = await worker.drain_once()
    clock.advance(1)
    sync.outcome = "imported"
    later = await worker.drain_once()

    assert [r.outcome for r in report.results] == ["deferred"] * 3
    assert "held by other" in (report.results[0].reason or "")
    assert sync.max_waits[0] == 0  # the importer was told not to wait for the lease
    assert sync.calls == 4  # once for the first delivery, then once each after the lease
    assert early.results == ()
    assert [r.outcome for r in later.results] == ["imported"] * 3
    assert await store.dead_letters.list() == []


async def test_a_busy_order_is_looked_at_again_after_busy_recheck_at_most() -> None:
    """A long lease is not waited out blindly: the order is rechecked every busy_recheck."""
    sync = FakeOrderSync(outcome="deferred")
    worker, store, clock = setup(sync, busy_recheck=30.0)
    await store.order_links.claim(STORE, 727, owner="other", lease_seconds=600)
    await put(store, "d-1", order_body())

    await worker.drain_once()
    clock.advance(29)
    too_soon = await worker.drain_once()
    clock.advance(1)
    again = await worker.drain_once()
    clock.advance(30)
    (item,) = await store.inbox.take(STORE, owner="check", limit=10, lease_seconds=60)

    assert too_soon.results == ()
    assert [r.outcome for r in again.results] == ["deferred"]
    assert item.attempts == 1  # two deferrals, no attempt spent


async def test_supersession_survives_a_worker_restart() -> None:
    """A fresh worker (a restart, or another process) still drops an older retried delivery."""
    sync = FakeOrderSync(fail=ServiceUnavailable("blip", system="netsuite"), fail_times=1)
    worker, store, clock = setup(sync)
    await put(store, "d-old", order_body(status="processing"))
    await put(store, "d-new", order_body(status="cancelled"))
    await worker.drain_once()
    clock.advance(LEASE + 1)
    restarted = InboxWorker(store=store, order_sync=sync, owner="w-2", clock=clock)

    report = await restarted.drain_once()

    assert [(r.outcome, r.reason) for r in report.results] == [
        ("ignored", "superseded by a newer delivery")
    ]
    assert [o.status for o in sync.imported] == ["cancelled"]
