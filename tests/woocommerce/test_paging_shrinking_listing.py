"""WooCommerce order paging: an order leaving the listing mid-pass must not hide others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from nswoo._settings import Secret, WooSettings
from nswoo.limits._local import LocalLimiter
from nswoo.testing import FakeClock
from nswoo.testing.woocommerce._sim import WooSimulator
from nswoo.woocommerce import WooClient

pytestmark = pytest.mark.anyio

KEY, SECRET = "ck_edge", "cs_edge"


class TrashAfterFirstPage(httpx.AsyncBaseTransport):
    """Forwards to the simulator; after the first orders page, an early order is trashed."""

    def __init__(self, sim: WooSimulator, victim: int) -> None:
        self.sim = sim
        self.victim = victim
        self.inner = sim.transport()
        self.pages = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/orders"):
            self.pages += 1
            if self.pages == 1:
                # A store admin trashes an order while the poll is between pages.
                self.sim.set_order_status(self.victim, "trash")
        return response


async def test_an_order_trashed_mid_poll_does_not_hide_an_untouched_order() -> None:
    """Every order that stays in the filter for the whole pass is yielded exactly once."""
    clock = FakeClock()
    sim = WooSimulator(consumer_key=KEY, consumer_secret=SECRET, clock=clock)
    sim.add_product(sku="MUG-1", price="10.00", stock_quantity=10_000)
    since = datetime.fromtimestamp(clock.time(), UTC) - timedelta(minutes=1)
    ids = [sim.place_order([("MUG-1", 1)])["id"] for _ in range(150)]
    victim = ids[4]  # on page 1
    settings = WooSettings(
        environment="sandbox",
        url=sim.url,
        consumer_key=Secret(KEY),
        consumer_secret=Secret(SECRET),
    )
    transport = TrashAfterFirstPage(sim, victim)
    async with httpx.AsyncClient(transport=transport) as http:
        woo = WooClient(settings, http=http, limiter=LocalLimiter(4, clock=clock), clock=clock)
        seen = [order.id async for order in woo.iter_orders(modified_after=since)]
    untouched = [order_id for order_id in ids if order_id != victim]
    missing = sorted(set(untouched) - set(seen))
    # Today page 2 starts at what was position 101 *after* the removal, so the order that
    # slid from page 2 onto page 1 (ids[100]) is never seen; the sync cursor then moves past it.
    assert missing == [], f"never yielded: {missing}"
