"""The storage contract, checked against MemoryStore and SqliteStore alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from nswoo.errors import StorageError
from nswoo.store import (
    AlreadyLinked,
    Busy,
    Claim,
    Claimed,
    Lease,
    PushedStock,
    Store,
)
from nswoo.store._claim_wait import claim_or_wait
from nswoo.store._ports import AlertRow, StoreBinding, StoreBindingError
from nswoo.store.memory import MemoryStore
from nswoo.store.sqlite import SqliteStore
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio


# ---------------------------------------------------------------------------------------------
# Order links and claims


async def test_first_claim_wins_and_second_is_busy(store: Store, clock: FakeClock) -> None:
    """The first caller holds the lease; another caller is told who holds it and until when."""
    first = await store.order_links.claim("main", 40001, owner="a", lease_seconds=60)
    second = await store.order_links.claim("main", 40001, owner="b", lease_seconds=60)

    assert isinstance(first, Claimed)
    assert first.lease.owner == "a"
    assert first.lease.expires_at == clock.time() + 60
    assert second == Busy(owner="a", expires_at=first.lease.expires_at)


async def test_keys_are_store_and_order_id(store: Store) -> None:
    """The same order id in another store is another key."""
    await store.order_links.claim("main", 1, owner="a", lease_seconds=60)
    other = await store.order_links.claim("outlet", 1, owner="b", lease_seconds=60)
    assert isinstance(other, Claimed)


async def test_after_link_everyone_gets_already_linked(store: Store, clock: FakeClock) -> None:
    """Once linked, every caller (the linker too, even after the lease time) must not create."""
    await store.order_links.claim("main", 40001, owner="a", lease_seconds=60)
    link = await store.order_links.link("main", 40001, sales_order_id="9001", owner="a")
    clock.advance(3600)

    for owner in ("a", "b"):
        answer = await store.order_links.claim("main", 40001, owner=owner, lease_seconds=60)
        assert answer == AlreadyLinked(link)
    assert link.sales_order_id == "9001"
    assert link.linked_at == datetime.fromtimestamp(clock.time() - 3600, tz=UTC)
    assert await store.order_links.get("main", 40001) == link


async def test_expired_lease_is_taken_over(store: Store, clock: FakeClock) -> None:
    """A crashed worker's lease lapses and another worker takes the key, told whose it was."""
    await store.order_links.claim("main", 40001, owner="crashed", lease_seconds=30)
    clock.advance(29)
    assert isinstance(
        await store.order_links.claim("main", 40001, owner="b", lease_seconds=30), Busy
    )
    clock.advance(1)

    answer = await store.order_links.claim("main", 40001, owner="b", lease_seconds=30)

    assert isinstance(answer, Claimed)
    assert answer.lease.taken_over_from == "crashed"
    assert not await store.order_links.release("main", 40001, owner="crashed")


async def test_release_lets_another_claim(store: Store) -> None:
    """Releasing a lease without a link frees the key at once; others cannot release it."""
    await store.order_links.claim("main", 7, owner="a", lease_seconds=600)
    assert not await store.order_links.release("main", 7, owner="b")
    assert await store.order_links.release("main", 7, owner="a")

    answer = await store.order_links.claim("main", 7, owner="b", lease_seconds=600)

    assert isinstance(answer, Claimed)
    assert answer.lease.taken_over_from is None


async def test_owner_claiming_again_renews(store: Store, clock: FakeClock) -> None:
    """The holder of a live lease may extend it."""
    await store.order_links.claim("main", 7, owner="a", lease_seconds=60)
    clock.advance(50)
    renewed = await store.order_links.claim("main", 7, owner="a", lease_seconds=60)
    assert isinstance(renewed, Claimed)
    assert renewed.lease.expires_at == clock.time() + 60


async def test_link_is_idempotent_and_refuses_a_second_sales_order(store: Store) -> None:
    """Linking the same sales order again is fine; a different one is a StorageError."""
    first = await store.order_links.link("main", 5, sales_order_id="100", owner="a")
    again = await store.order_links.link("main", 5, sales_order_id="100", owner="b")
    with pytest.raises(StorageError, match="already linked to sales order 100"):
        await store.order_links.link("main", 5, sales_order_id="200", owner="b")

    assert again == first
    assert await store.order_links.linked_ids("main", [5]) == {5: "100"}


async def test_linked_ids_returns_only_linked_orders(store: Store) -> None:
    """The bulk lookup answers linked orders of that store only, ignoring leases."""
    await store.order_links.link("main", 1, sales_order_id="11", owner="a")
    await store.order_links.link("main", 3, sales_order_id="33", owner="a")
    await store.order_links.link("outlet", 2, sales_order_id="22", owner="a")
    await store.order_links.claim("main", 2, owner="a", lease_seconds=60)

    found = await store.order_links.linked_ids("main", [1, 2, 3, 4, 3])

    assert dict(found) == {1: "11", 3: "33"}
    assert await store.order_links.linked_ids("main", []) == {}
    assert await store.order_links.get("main", 2) is None


async def test_lease_tells_who_holds_a_live_lease_until_when(
    store: Store, clock: FakeClock
) -> None:
    """lease() answers the live lease; a lapsed, released or linked key has none."""
    links = store.order_links
    assert await links.lease("main", 1) is None
    await links.claim("main", 1, owner="a", lease_seconds=30)
    await links.claim("main", 2, owner="a", lease_seconds=30)
    await links.claim("main", 3, owner="a", lease_seconds=30)

    live = await links.lease("main", 1)
    other_store = await links.lease("outlet", 1)
    await links.release("main", 2, owner="a")
    await links.link("main", 3, sales_order_id="33", owner="a")
    released, linked = await links.lease("main", 2), await links.lease("main", 3)
    clock.advance(30)
    lapsed = await links.lease("main", 1)

    assert live == Lease(store="main", order_id=1, owner="a", expires_at=clock.time())
    assert (other_store, released, linked, lapsed) == (None, None, None, None)


async def test_twenty_concurrent_claimers_one_wins(store: Store) -> None:
    """Of 20 tasks claiming one key at once, exactly one gets the lease."""
    answers: list[Claim] = []

    async def claim(n: int) -> None:
        answers.append(
            await store.order_links.claim("main", 40001, owner=f"w{n}", lease_seconds=60)
        )

    async with anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(claim, n)

    winners = [a for a in answers if isinstance(a, Claimed)]
    assert len(answers) == 20
    assert len(winners) == 1
    assert all(
        a == Busy(winners[0].lease.owner, winners[0].lease.expires_at)
        for a in answers
        if a not in winners
    )


async def test_claim_or_wait_waits_out_a_lease(store: Store, clock: FakeClock) -> None:
    """A waiting caller gets the key when the other lease lapses, within its patience."""
    await store.order_links.claim("main", 9, owner="a", lease_seconds=10)

    gave_up = await claim_or_wait(
        store.order_links, "main", 9, owner="b", lease_seconds=10, clock=clock, max_wait=3
    )
    got = await claim_or_wait(
        store.order_links, "main", 9, owner="b", lease_seconds=10, clock=clock, max_wait=30
    )

    assert isinstance(gave_up, Busy)
    assert isinstance(got, Claimed)
    assert got.lease.taken_over_from == "a"
    assert clock.now() == pytest.approx(10.0)


# ---------------------------------------------------------------------------------------------
# Inbox


async def test_duplicate_delivery_is_dropped(store: Store) -> None:
    """The same delivery id twice is stored once; the same id from another store is not a dup."""
    put = store.inbox.put
    assert await put("main", "d-1", topic="order.created", order_id=1, body=b"{}")
    assert not await put("main", "d-1", topic="order.created", order_id=1, body=b"{}")
    assert await put("outlet", "d-1", topic="order.created", order_id=1, body=b"{}")
    assert await store.inbox.pending_count() == 2


async def test_take_hands_out_only_the_named_stores_deliveries(store: Store) -> None:
    """Two WooCommerce stores with overlapping order ids: each take() sees its own store only."""
    put = store.inbox.put
    await put("main", "d-1", topic="order.created", order_id=112, body=b"main 112")
    await put("outlet", "d-1", topic="order.created", order_id=112, body=b"outlet 112")
    await put("outlet", "d-2", topic="order.created", order_id=108, body=b"outlet 108")
    await put("main", "d-2", topic="order.created", order_id=114, body=b"main 114")

    main = await store.inbox.take("main", owner="w-main", limit=10, lease_seconds=60)
    outlet = await store.inbox.take("outlet", owner="w-outlet", limit=10, lease_seconds=60)

    assert [(i.store, i.body) for i in main] == [("main", b"main 112"), ("main", b"main 114")]
    assert [(i.store, i.body) for i in outlet] == [
        ("outlet", b"outlet 112"),
        ("outlet", b"outlet 108"),
    ]
    assert await store.inbox.take("elsewhere", owner="w", limit=10, lease_seconds=60) == []


async def test_pending_count_per_store_and_in_all(store: Store) -> None:
    """pending_count(store) counts one store's unfinished items; without a store, all of them."""
    put = store.inbox.put
    await put("main", "d-1", topic="order.created", order_id=1, body=b"")
    await put("outlet", "d-1", topic="order.created", order_id=1, body=b"")
    await put("outlet", "d-2", topic="order.created", order_id=2, body=b"")
    [item] = await store.inbox.take("main", owner="w", limit=10, lease_seconds=60)
    await store.inbox.done([item.item_id])

    counts = [await store.inbox.pending_count(s) for s in ("main", "outlet", "elsewhere")]

    assert counts == [0, 2, 0]
    assert await store.inbox.pending_count() == 2


async def test_an_item_taken_after_a_newer_one_of_its_order_was_done_is_superseded(
    store: Store, clock: FakeClock
) -> None:
    """take() flags an item whose order has a later delivery already done (same store only)."""
    put = store.inbox.put
    await put("main", "old", topic="order.updated", order_id=5, body=b"processing")
    await put("outlet", "other", topic="order.updated", order_id=5, body=b"outlet")
    await put("main", "new", topic="order.updated", order_id=5, body=b"cancelled")
    await put("main", "none", topic="order.updated", order_id=None, body=b"?")
    taken = await store.inbox.take("main", owner="w", limit=10, lease_seconds=30)
    assert [i.superseded for i in taken] == [False, False, False]
    old, new, _ = taken
    await store.inbox.done([new.item_id])
    clock.advance(30)

    again = await store.inbox.take("main", owner="w", limit=10, lease_seconds=30)
    outlet = await store.inbox.take("outlet", owner="w", limit=10, lease_seconds=30)

    assert [(i.delivery_id, i.superseded) for i in again] == [("old", True), ("none", False)]
    assert again[0].item_id == old.item_id
    assert [(i.delivery_id, i.superseded) for i in outlet] == [("other", False)]


async def test_release_with_not_before_holds_the_item_back_without_spending_an_attempt(
    store: Store, clock: FakeClock
) -> None:
    """An item given back until a time is not taken before it, then comes with its attempts."""
    await store.inbox.put("main", "d-1", topic="order.created", order_id=1, body=b"")
    await store.inbox.put("main", "d-2", topic="order.created", order_id=2, body=b"")
    first, second = await store.inbox.take("main", owner="w", limit=10, lease_seconds=300)
    await store.inbox.release([first.item_id], not_before=clock.time() + 45)
    await store.inbox.release([second.item_id])
    await store.inbox.release([first.item_id, 999])  # not leased any more: ignored

    soon = await store.inbox.take("main", owner="w", limit=10, lease_seconds=300)
    clock.advance(44)
    still = await store.inbox.take("main", owner="w", limit=10, lease_seconds=300)
    clock.advance(1)
    later = await store.inbox.take("main", owner="w", limit=10, lease_seconds=300)

    assert [(i.delivery_id, i.attempts) for i in soon] == [("d-2", 1)]
    assert still == []
    assert [(i.delivery_id, i.attempts) for i in later] == [("d-1", 1)]
    assert await store.inbox.pending_count("main") == 2


async def test_take_leases_oldest_first_and_done_items_never_return(
    store: Store, clock: FakeClock
) -> None:
    """Items come out in arrival order, up to the limit, and finished ones are gone."""
    for n in range(5):
        await store.inbox.put(
            "main", f"d-{n}", topic="order.updated", order_id=100 + n, body=b"%d" % n
        )

    first = await store.inbox.take("main", owner="w1", limit=3, lease_seconds=60)
    second = await store.inbox.take("main", owner="w2", limit=10, lease_seconds=60)
    await store.inbox.done([i.item_id for i in first + second])
    clock.advance(3600)

    assert [i.delivery_id for i in first] == ["d-0", "d-1", "d-2"]
    assert [i.delivery_id for i in second] == ["d-3", "d-4"]
    assert first[1].order_id == 101
    assert first[1].body == b"1"
    assert first[1].attempts == 1
    assert await store.inbox.take("main", owner="w3", limit=10, lease_seconds=60) == []
    assert await store.inbox.pending_count() == 0


async def test_expired_inbox_lease_is_taken_again(store: Store, clock: FakeClock) -> None:
    """A worker that crashed holding items does not lose them: they come back after the lease."""
    received = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    await store.inbox.put(
        "main", "d-1", topic="order.created", order_id=1, body=b"x", received_at=received
    )
    taken = await store.inbox.take("main", owner="crashed", limit=10, lease_seconds=30)
    clock.advance(29)
    assert await store.inbox.take("main", owner="w2", limit=10, lease_seconds=30) == []
    clock.advance(1)

    again = await store.inbox.take("main", owner="w2", limit=10, lease_seconds=30)

    assert [i.item_id for i in again] == [i.item_id for i in taken]
    assert again[0].attempts == 2
    assert again[0].received_at == received
    assert await store.inbox.pending_count() == 1


async def test_seen_ids_are_forgotten_only_after_retention(store: Store, clock: FakeClock) -> None:
    """A finished delivery id still dedupes for the retention period (30 days by default)."""
    await store.inbox.put("main", "d-1", topic="order.created", order_id=1, body=b"x")
    [item] = await store.inbox.take("main", owner="w", limit=1, lease_seconds=30)
    await store.inbox.done([item.item_id])
    clock.advance(29 * 24 * 3600)
    await store.inbox.done([])
    assert not await store.inbox.put("main", "d-1", topic="order.created", order_id=1, body=b"x")

    clock.advance(2 * 24 * 3600)
    await store.inbox.done([])

    assert await store.inbox.put("main", "d-1", topic="order.created", order_id=1, body=b"x")


async def test_naive_received_at_is_refused(store: Store) -> None:
    """A datetime without a zone is refused rather than guessed."""
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.inbox.put(
            "main", "d", topic="t", order_id=None, body=b"", received_at=datetime(2025, 1, 1)
        )


# ---------------------------------------------------------------------------------------------
# Dead letters


async def test_dead_letter_upsert_keeps_first_seen(store: Store, clock: FakeClock) -> None:
    """Each failure adds an attempt, replaces the reason, moves last_seen and keeps first_seen."""
    first = await store.dead_letters.add("main", 40001, reason="totals differ", payload=b"{1}")
    clock.advance(90)
    second = await store.dead_letters.add("main", 40001, reason="schema drift")

    assert first.attempts == 1
    assert first.first_seen == first.last_seen
    assert first.first_seen.tzinfo is UTC
    assert second.attempts == 2
    assert second.reason == "schema drift"
    assert second.first_seen == first.first_seen
    assert second.last_seen == first.last_seen + timedelta(seconds=90)
    assert second.payload == b"{1}"
    assert await store.dead_letters.get("main", 40001) == second


async def test_dead_letters_list_is_stable_and_resolve_removes(
    store: Store, clock: FakeClock
) -> None:
    """The list is ordered by first_seen then order id; resolve removes exactly one entry."""
    await store.dead_letters.add("main", 30, reason="r")
    await store.dead_letters.add("main", 20, reason="r")
    clock.advance(1)
    await store.dead_letters.add("main", 10, reason="r")
    await store.dead_letters.add("outlet", 5, reason="r")
    await store.dead_letters.add("main", 30, reason="again")
    await store.dead_letters.add("main", 99, reason="stock", kind="stock")

    listed = await store.dead_letters.list()
    main_only = await store.dead_letters.list("main")
    resolved = await store.dead_letters.resolve("main", 20)

    assert [(d.store, d.order_id) for d in listed] == [
        ("main", 20),
        ("main", 30),
        ("main", 10),
        ("outlet", 5),
    ]
    assert [d.order_id for d in main_only] == [20, 30, 10]
    assert resolved
    assert not await store.dead_letters.resolve("main", 20)
    assert await store.dead_letters.get("main", 20) is None
    assert [d.order_id for d in await store.dead_letters.list(kind="stock")] == [99]


# ---------------------------------------------------------------------------------------------
# Cursors, stock pushes, reports, closing


async def test_cursor_keeps_the_last_value(store: Store) -> None:
    """A cursor answers what was last set, and None before."""
    assert await store.cursors.get("orders.modified_after") is None
    await store.cursors.set("orders.modified_after", "2025-01-01T00:00:00")
    await store.cursors.set("orders.modified_after", "2025-01-02T00:00:00")
    assert await store.cursors.get("orders.modified_after") == "2025-01-02T00:00:00"


async def test_stock_pushes_replace_per_store_and_sku(store: Store) -> None:
    """The last accepted push per (store, SKU) is kept; unknown SKUs are absent."""
    at = datetime(2025, 3, 1, tzinfo=UTC)
    await store.stock_pushes.record(
        [
            PushedStock(store="main", sku="A", quantity=5, status="instock", pushed_at=at),
            PushedStock(store="main", sku="B", quantity=None, status="outofstock", pushed_at=at),
            PushedStock(store="outlet", sku="A", quantity=1, status="instock", pushed_at=at),
        ]
    )
    later = at + timedelta(minutes=5)
    await store.stock_pushes.record(
        [PushedStock(store="main", sku="A", quantity=0, status="outofstock", pushed_at=later)]
    )

    found = await store.stock_pushes.last_pushed("main", ["A", "B", "C"])

    assert set(found) == {"A", "B"}
    assert found["A"] == PushedStock(
        store="main", sku="A", quantity=0, status="outofstock", pushed_at=later
    )
    assert found["B"].quantity is None


async def test_reports_one_per_day_recent_oldest_first(store: Store) -> None:
    """A rerun replaces the day's report; recent(n) gives the n latest days, oldest first."""
    for day in (3, 1, 2, 4):
        await store.reports.add("main", date(2025, 3, day), f'{{"day": {day}}}')
    await store.reports.add("main", date(2025, 3, 2), '{"day": "2 again"}')

    recent = await store.reports.recent("main", 3)

    assert [r.report_date.day for r in recent] == [2, 3, 4]
    assert recent[0].payload_json == '{"day": "2 again"}'
    assert recent[0].store == "main"
    assert await store.reports.recent("main", 0) == []


async def test_reports_are_kept_per_store(store: Store) -> None:
    """Two WooCommerce stores reconciled on the same day keep one report each."""
    await store.reports.add("main", date(2025, 3, 1), '{"store": "main"}')
    await store.reports.add("outlet", date(2025, 3, 1), '{"store": "outlet"}')
    await store.reports.add("outlet", date(2025, 3, 2), '{"store": "outlet", "day": 2}')

    main = await store.reports.recent("main", 10)
    outlet = await store.reports.recent("outlet", 10)

    assert [(r.store, r.payload_json) for r in main] == [("main", '{"store": "main"}')]
    assert [r.report_date.day for r in outlet] == [1, 2]
    assert await store.reports.recent("elsewhere", 10) == []


# ---------------------------------------------------------------------------------------------
# Pending alerts (schema drift pages): kept until each channel took them, deduplicated

_T0 = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)


def _alert(key: str, channel: str, due: datetime = _T0) -> AlertRow:
    return AlertRow(key, channel, "field renamed", "details", "critical", _T0, due)


async def test_pending_alerts_wait_until_due_and_are_kept_until_sent(store: Store) -> None:
    monday = _T0 + timedelta(days=2, hours=6)
    rows = [_alert("drift:x", "email", monday), _alert("drift:x", "webhook", monday)]

    assert await store.pending_alerts.add(rows, quiet_since=_T0 - timedelta(days=1)) is True
    assert await store.pending_alerts.due(_T0) == []
    due = await store.pending_alerts.due(monday)
    await store.pending_alerts.mark_sent("drift:x", "webhook", monday)
    await store.pending_alerts.mark_failed(
        "drift:x", "email", "smtp unreachable", monday + timedelta(minutes=15)
    )

    assert [(r.key, r.channel) for r in due] == [("drift:x", "email"), ("drift:x", "webhook")]
    [kept] = await store.pending_alerts.waiting()
    assert (kept.channel, kept.attempts, kept.last_error) == ("email", 1, "smtp unreachable")
    assert kept.due == monday + timedelta(minutes=15)
    assert (kept.subject, kept.body, kept.severity, kept.raised_at) == (
        "field renamed",
        "details",
        "critical",
        _T0,
    )


async def test_identical_pending_alerts_are_added_once(store: Store) -> None:
    alerts = store.pending_alerts
    quiet = _T0 - timedelta(hours=24)

    first = await alerts.add([_alert("drift:x", "email")], quiet_since=quiet)
    again = await alerts.add([_alert("drift:x", "email")], quiet_since=quiet)
    other = await alerts.add([_alert("drift:y", "email")], quiet_since=quiet)
    await alerts.mark_sent("drift:x", "email", _T0)
    within_quiet = await alerts.add([_alert("drift:x", "email")], quiet_since=quiet)
    after_quiet = await alerts.add(
        [_alert("drift:x", "email")], quiet_since=_T0 + timedelta(seconds=1)
    )

    assert (first, again, other, within_quiet, after_quiet) == (True, False, True, False, True)
    assert [(r.key, r.attempts) for r in await alerts.waiting()] == [("drift:x", 0), ("drift:y", 0)]


# ---------------------------------------------------------------------------------------------
# Binding to an environment and NetSuite account


async def test_a_store_keeps_the_binding_it_was_first_given(store: Store) -> None:
    """Binding again to the same environment and account (however spelled) is a no-op."""
    await store.bind(StoreBinding("sandbox", "1234567_SB1"))
    await store.bind(StoreBinding("SANDBOX", "1234567-sb1"))
    await store.cursors.set("orders:main:modified_after", "2025-01-01")
    assert await store.cursors.get("orders:main:modified_after") == "2025-01-01"


@pytest.mark.parametrize(
    ("environment", "account_id"), [("prod", "1234567"), ("sandbox", "1234567_SB2")]
)
async def test_a_store_refuses_another_environment_or_account(
    store: Store, environment: str, account_id: str
) -> None:
    """A store bound to sandbox refuses production, and another account, naming both."""
    await store.bind(StoreBinding("sandbox", "1234567_SB1"))

    with pytest.raises(StoreBindingError) as refused:
        await store.bind(StoreBinding(environment, account_id))

    message = str(refused.value)
    assert "sandbox (NetSuite account 1234567_SB1)" in message
    assert f"{environment} (NetSuite account {account_id})" in message
    assert f"NSWOO_{environment.upper()}_STORE" in message
    assert isinstance(refused.value, StorageError)
    assert not refused.value.retryable
    assert refused.value.bound == StoreBinding("sandbox", "1234567_SB1")
    # Nothing changed: the first binding still holds.
    await store.bind(StoreBinding("sandbox", "1234567_SB1"))


async def test_of_two_concurrent_bindings_one_is_refused(store: Store) -> None:
    """Bindings race on a fresh store: exactly one wins, the other is refused."""
    outcomes: list[str] = []

    async def bind(environment: str, account_id: str) -> None:
        try:
            await store.bind(StoreBinding(environment, account_id))
            outcomes.append("bound")
        except StoreBindingError:
            outcomes.append("refused")

    async with anyio.create_task_group() as tg:
        tg.start_soon(bind, "prod", "1234567")
        tg.start_soon(bind, "sandbox", "1234567_SB1")

    assert sorted(outcomes) == ["bound", "refused"]


async def test_closed_store_refuses_use(store: Store) -> None:
    """After aclose() every call raises StorageError instead of silently working."""
    await store.aclose()
    with pytest.raises(StorageError, match=r"aclose\(\)"):
        await store.cursors.get("x")


# ---------------------------------------------------------------------------------------------
# Leases of owners whose process is gone


@pytest.fixture
def gone() -> set[str]:
    """The owners the injected liveness predicate reports gone (tests add to it)."""
    return set()


@pytest.fixture(params=["memory", "sqlite"])
async def watched_store(
    request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path, gone: set[str]
) -> AsyncIterator[Store]:
    """A store of each backend whose liveness predicate is the `gone` set."""
    opened: Store
    if request.param == "memory":
        opened = MemoryStore(clock=clock, owner_is_gone=gone.__contains__)
    else:
        opened = await SqliteStore.open(
            tmp_path / "nswoo.db", clock=clock, owner_is_gone=gone.__contains__
        )
    async with opened:
        yield opened


async def test_a_gone_owners_claim_is_taken_over_at_once(
    watched_store: Store, clock: FakeClock, gone: set[str]
) -> None:
    """A killed worker's claim frees the order long before its lease ends, told whose it was."""
    links = watched_store.order_links
    await links.claim("main", 40001, owner="vm:101", lease_seconds=300)
    busy = await links.claim("main", 40001, owner="vm:202", lease_seconds=300)
    gone.add("vm:101")
    clock.advance(1)

    held = await links.lease("main", 40001)
    answer = await links.claim("main", 40001, owner="vm:202", lease_seconds=300)

    assert isinstance(busy, Busy)
    assert held is None  # nobody holds it: callers that found it busy need not wait
    assert isinstance(answer, Claimed)
    assert answer.lease.taken_over_from == "vm:101"  # so find-before-create runs
    assert answer.lease.expires_at == clock.time() + 300


async def test_a_live_owners_claim_is_kept_until_expiry(
    watched_store: Store, clock: FakeClock, gone: set[str]
) -> None:
    """Only the gone owner's lease ends early; another owner's live lease still excludes."""
    links = watched_store.order_links
    start = clock.time()
    await links.claim("main", 1, owner="vm:101", lease_seconds=300)
    await links.claim("main", 2, owner="vm:303", lease_seconds=300)
    gone.add("vm:101")

    taken = await links.claim("main", 1, owner="vm:202", lease_seconds=300)
    kept = await links.claim("main", 2, owner="vm:202", lease_seconds=300)
    clock.advance(300)
    lapsed = await links.claim("main", 2, owner="vm:202", lease_seconds=300)

    assert isinstance(taken, Claimed)
    assert kept == Busy(owner="vm:303", expires_at=start + 300)
    assert isinstance(lapsed, Claimed)
    assert lapsed.lease.taken_over_from == "vm:303"


async def test_a_gone_owners_link_still_wins(watched_store: Store, gone: set[str]) -> None:
    """A link recorded before the owner died stays: nobody may create again."""
    links = watched_store.order_links
    await links.claim("main", 1, owner="vm:101", lease_seconds=300)
    link = await links.link("main", 1, sales_order_id="9001", owner="vm:101")
    gone.add("vm:101")

    answer = await links.claim("main", 1, owner="vm:202", lease_seconds=300)

    assert answer == AlreadyLinked(link)


async def test_a_gone_owners_inbox_items_are_taken_again_at_once(
    watched_store: Store, clock: FakeClock, gone: set[str]
) -> None:
    """Items leased to a killed worker drain at once; a live worker's and held-back ones wait."""
    inbox = watched_store.inbox
    for n in (1, 2, 3):
        await inbox.put("main", f"d-{n}", topic="order.created", order_id=n, body=b"x")
    dead = await inbox.take("main", owner="vm:101", limit=1, lease_seconds=300)
    live = await inbox.take("main", owner="vm:303", limit=1, lease_seconds=300)
    held_back = await inbox.take("main", owner="vm:404", limit=1, lease_seconds=300)
    await inbox.release([i.item_id for i in held_back], not_before=clock.time() + 60)
    before = await inbox.take("main", owner="vm:202", limit=10, lease_seconds=300)
    gone.update({"vm:101", "vm:404"})
    clock.advance(1)

    again = await inbox.take("main", owner="vm:202", limit=10, lease_seconds=300)

    assert before == []
    assert [i.item_id for i in again] == [i.item_id for i in dead]
    assert again[0].attempts == 2
    assert [i.item_id for i in live] != [i.item_id for i in again]
    assert await inbox.pending_count("main") == 3
