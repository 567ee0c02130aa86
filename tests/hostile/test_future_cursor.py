"""A `date_modified_gmt` in the future must not carry the polling cursor past later orders.

The cursor used to move to the newest modification date seen, whatever it was: one order
dated two days ahead (a store clock set wrong, a damaged or hostile order) moved it two days
ahead, and every order modified before that date was never polled again. The rule is now a
pure function, `next_cursor`: never past the poll's own start less a margin for clock skew.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from nswoo.limits._local import LocalLimiter
from nswoo.orders._plan import next_cursor
from nswoo.orders._sync import OrderSync
from nswoo.store.memory import MemoryStore
from nswoo.testing._clock import FakeClock
from nswoo.testing._world import SimWorld, build_world
from nswoo.woocommerce._client import WooClient

pytestmark = pytest.mark.anyio

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)


class TamperedListing(httpx.AsyncBaseTransport):
    """The WooCommerce simulator, with some orders' fields rewritten in every answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport, edits: Mapping[int, dict[str, Any]]):
        self.inner = inner
        self.edits = edits

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "/orders" not in request.url.path:
            return response
        await response.aread()
        data = json.loads(response.content)
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and item.get("id") in self.edits:
                item.update(self.edits[item["id"]])
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=json.dumps(data))


def polling_sync(
    world: SimWorld, store: MemoryStore, edits: Mapping[int, dict[str, Any]]
) -> OrderSync:
    woo = WooClient.from_settings(
        world.woo_settings,
        limiter=LocalLimiter(4, clock=world.clock),
        transport=TamperedListing(world.woocommerce.transport(), edits),
        clock=world.clock,
    )
    return OrderSync(
        netsuite=world.netsuite_client(),
        woocommerce=woo,
        store=store,
        config=world.config.orders,
        clock=world.clock,
        clock_skew=SKEW,
    )


def now_of(clock: FakeClock) -> datetime:
    return datetime.fromtimestamp(clock.time(), tz=UTC)


async def test_a_future_modification_date_loses_no_later_order() -> None:
    """An order dated two days ahead is imported, and so are the three placed after it."""
    clock = FakeClock()
    world = build_world(clock=clock)
    first = [world.woocommerce.place_order([("MUG-RED", 1)])["id"] for _ in range(5)]
    ahead = (now_of(clock) + timedelta(days=2)).replace(tzinfo=None).isoformat()
    store = MemoryStore()
    sync = polling_sync(world, store, {first[2]: {"date_modified_gmt": ahead}})

    started = now_of(clock)
    report = await sync.sync()
    assert report.count("imported") == 5
    cursor = datetime.fromisoformat(await store.cursors.get(sync.cursor_name) or "")
    assert cursor <= started - SKEW

    clock.advance(120)
    later = [world.woocommerce.place_order([("TEE-M", 1)])["id"] for _ in range(3)]
    clock.advance(60)
    report = await sync.sync()

    assert sorted(r.order_id for r in report.results if r.outcome == "imported") == later
    assert {int(k) for k in world.netsuite.sales_orders_by_woo_id()} == {*first, *later}


async def test_a_cursor_stored_in_the_future_is_brought_back() -> None:
    """A cursor an older version stored past the present is read, and stored, as the ceiling."""
    clock = FakeClock()
    world = build_world(clock=clock)
    store = MemoryStore()
    sync = polling_sync(world, store, {})
    await store.cursors.set(sync.cursor_name, "2031-01-01T00:00:00+00:00")
    placed = [world.woocommerce.place_order([("CAP", 1)])["id"] for _ in range(2)]
    clock.advance(30)

    report = await sync.sync()

    assert sorted(r.order_id for r in report.results if r.outcome == "imported") == placed
    stored = datetime.fromisoformat(await store.cursors.get(sync.cursor_name) or "")
    assert stored == now_of(clock) - SKEW


def test_cursor_moves_to_the_newest_handled_order() -> None:
    """Handled orders move it to the newest of them."""
    dates = [START - timedelta(hours=3), START - timedelta(hours=1)]
    assert next_cursor(previous=None, handled=dates, poll_started=START, skew=SKEW) == dates[1]


def test_cursor_never_passes_the_poll_start_less_the_skew() -> None:
    """An order dated in the future moves it only to the poll's start less the skew."""
    future = START + timedelta(days=400)
    moved = next_cursor(previous=None, handled=[future], poll_started=START, skew=SKEW)
    assert moved == START - SKEW


def test_cursor_never_moves_backwards() -> None:
    """Older orders than the stored cursor leave it where it is."""
    previous = START - timedelta(minutes=30)
    handled = [START - timedelta(hours=5)]
    assert next_cursor(previous=previous, handled=handled, poll_started=START, skew=SKEW) is None


def test_cursor_stops_at_the_oldest_held_order() -> None:
    """An order another worker holds keeps the cursor at or before its date."""
    held = START - timedelta(hours=2)
    handled = [START - timedelta(hours=3), START - timedelta(hours=1)]
    moved = next_cursor(previous=None, handled=handled, held=[held], poll_started=START, skew=SKEW)
    assert moved == held


def test_cursor_with_nothing_handled_stays() -> None:
    """No orders: nothing to store."""
    previous = START - timedelta(hours=1)
    assert next_cursor(previous=previous, handled=[], poll_started=START, skew=SKEW) is None
    assert next_cursor(previous=None, handled=[], poll_started=START, skew=SKEW) is None


def test_a_stored_future_cursor_is_brought_back_to_the_ceiling() -> None:
    """A cursor already past the ceiling is lowered to it, even with nothing handled."""
    previous = START + timedelta(days=2)
    moved = next_cursor(previous=previous, handled=[], poll_started=START, skew=SKEW)
    assert moved == START - SKEW
