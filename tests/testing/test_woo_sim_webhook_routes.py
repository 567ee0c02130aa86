"""The WooCommerce simulator's wc/v3 `webhooks` routes and its webhook field faults.

Facts: reference/woocommerce.md §8; WooCommerce's webhooks REST controllers (v1 routes and
checks, v2 answer shape, v3 inherits both) and webhook data store (re-ping on update).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from nswoo.testing import ErrorBurst, FakeClock, FaultPlan, WooSimulator, load_fault_plan

pytestmark = pytest.mark.anyio

KEY, SECRET = "ck_hooks", "cs_hooks"
API = "/wp-json/wc/v3"
RECEIVER = "http://receiver.test/webhooks/woocommerce"


def _sim(**kwargs: object) -> WooSimulator:
    kwargs.setdefault("clock", FakeClock())
    return WooSimulator(consumer_key=KEY, consumer_secret=SECRET, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def sim() -> WooSimulator:
    return _sim()


@pytest.fixture
async def http(sim: WooSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.url + API, auth=(KEY, SECRET)
    ) as client:
        yield client


def receiver(statuses: list[int]) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    """A client whose deliveries are answered with `statuses` in turn (the last repeats)."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(statuses[min(len(seen), len(statuses)) - 1])

    return httpx.AsyncClient(transport=httpx.MockTransport(answer)), seen


async def test_create_answers_201_active_without_the_secret_then_pings(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """POST /webhooks: 201 with `Location`, status active, the order hooks, never `secret`
    (write-only); the ping goes out with the next delivery run and clears pending_delivery."""
    response = await http.post(
        "/webhooks",
        json={"name": "nswoo", "topic": "order.created", "delivery_url": RECEIVER, "secret": "s3"},
    )
    assert response.status_code == 201
    hook = response.json()
    assert response.headers["location"] == f"{sim.url}{API}/webhooks/{hook['id']}"
    assert (hook["status"], hook["resource"], hook["event"]) == ("active", "order", "created")
    assert hook["hooks"] == ["woocommerce_new_order"]
    assert hook["delivery_url"] == RECEIVER
    assert "secret" not in hook
    assert sim.webhooks[hook["id"]].secret == "s3"
    client, seen = receiver([200])
    async with client:
        results = await sim.deliver_pending(client)
    assert [r.kind for r in results] == ["ping"]
    assert seen[0].content == f"webhook_id={hook['id']}".encode()
    assert sim.webhooks[hook["id"]].pending_delivery is False


async def test_create_refuses_bad_topic_and_url(http: httpx.AsyncClient) -> None:
    """Invalid topic and delivery URL are 400 with WooCommerce's codes and messages."""
    topic = await http.post("/webhooks", json={"topic": "order.exploded", "delivery_url": RECEIVER})
    url = await http.post("/webhooks", json={"topic": "order.created", "delivery_url": "ftp://x"})
    assert (topic.status_code, topic.json()["code"]) == (
        400,
        "woocommerce_rest_shop_webhook_invalid_topic",
    )
    assert url.json() == {
        "code": "woocommerce_rest_shop_webhook_invalid_delivery_url",
        "message": "Webhook delivery URL must be a valid URL starting with http:// or https://.",
        "data": {"status": 400},
    }


async def test_list_filters_by_status(sim: WooSimulator, http: httpx.AsyncClient) -> None:
    """GET /webhooks lists every webhook (status=all by default) and filters by status."""
    active = sim.subscribe(RECEIVER, "order.created", secret="a")
    disabled = sim.subscribe(RECEIVER, "order.updated", secret="b")
    disabled.status = "disabled"
    everything = await http.get("/webhooks", params={"orderby": "id", "order": "asc"})
    only_disabled = await http.get("/webhooks", params={"status": "disabled"})
    bad = await http.get("/webhooks", params={"status": "broken"})
    assert [w["id"] for w in everything.json()] == [active.id, disabled.id]
    assert everything.headers["x-wp-total"] == "2"
    assert [w["id"] for w in only_disabled.json()] == [disabled.id]
    assert (bad.status_code, bad.json()["code"]) == (400, "rest_invalid_param")


async def test_update_re_enables_and_keeps_the_failure_count(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """PUT status=active re-enables a disabled webhook; its failure_count is left as it is,
    so one more failure disables it again (C-webhook `failed_delivery`, count > 5)."""
    hook = sim.subscribe(RECEIVER, "order.created", secret="s")
    hook.status, hook.failure_count, hook.pending_delivery = "disabled", 6, False
    response = await http.put(f"/webhooks/{hook.id}", json={"status": "active"})
    assert (response.status_code, response.json()["status"]) == (200, "active")
    assert hook.failure_count == 6
    sim.add_product("MUG-1", price="1.00", stock_quantity=5)
    sim.place_order([("MUG-1", 1)])
    client, _ = receiver([503])
    async with client:
        await sim.deliver_pending(client)
    assert hook.status == "disabled"


async def test_changing_the_url_pings_the_new_one(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """The data store pings an active webhook whose delivery URL changed."""
    hook = sim.subscribe("http://old.test/hook", "order.created", secret="s")
    hook.pending_delivery = False
    response = await http.put(f"/webhooks/{hook.id}", json={"delivery_url": RECEIVER})
    assert response.json()["delivery_url"] == RECEIVER
    client, seen = receiver([200])
    async with client:
        results = await sim.deliver_pending(client)
    assert [(r.kind, str(seen[0].url)) for r in results] == [("ping", RECEIVER)]


async def test_update_refuses_bad_status_and_unknown_id(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """An invalid status is 400; PUT on an unknown id is 400 `ID is invalid.`"""
    hook = sim.subscribe(RECEIVER, "order.created", secret="s")
    status = await http.put(f"/webhooks/{hook.id}", json={"status": "sleeping"})
    unknown = await http.put("/webhooks/999", json={"status": "active"})
    assert status.json()["code"] == "woocommerce_rest_shop_webhook_invalid_status"
    assert unknown.json() == {
        "code": "woocommerce_rest_shop_webhook_invalid_id",
        "message": "ID is invalid.",
        "data": {"status": 400},
    }


async def test_delete_needs_force(sim: WooSimulator, http: httpx.AsyncClient) -> None:
    """§8: DELETE without force=true is 501 trash_not_supported; with it, the webhook goes."""
    hook = sim.subscribe(RECEIVER, "order.created", secret="s")
    refused = await http.delete(f"/webhooks/{hook.id}")
    deleted = await http.delete(f"/webhooks/{hook.id}", params={"force": "true"})
    assert (refused.status_code, refused.json()["code"]) == (
        501,
        "woocommerce_rest_trash_not_supported",
    )
    assert deleted.status_code == 200
    assert hook.id not in sim.webhooks


# --- field faults ---------------------------------------------------------------------------


async def test_outage_disables_the_webhook_on_the_seventh_failure() -> None:
    """FaultPlan.webhook_outages: attempts fail without reaching the receiver; with the
    default limit 5 the 7th consecutive failure disables the webhook (§8), and nothing is
    delivered after that."""
    sim = _sim(faults=FaultPlan(webhook_outages=(ErrorBurst(start=0, count=10, status=503),)))
    hook = sim.subscribe(RECEIVER, "order.created", secret="s")
    sim.add_product("MUG-1", price="1.00", stock_quantity=100)
    client, seen = receiver([200])
    async with client:
        for _ in range(8):
            sim.place_order([("MUG-1", 1)])
            await sim.deliver_pending(client)
    attempts = [r for r in sim.deliveries if r.kind == "delivery"]
    assert len(attempts) == 7
    assert {r.status_code for r in attempts} == {503}
    assert seen == []
    assert hook.status == "disabled"


async def test_outage_then_recovery_resets_the_count() -> None:
    """A success after failures resets failure_count to 0 (§8), so the webhook stays on."""
    sim = _sim(faults=FaultPlan(webhook_outages=(ErrorBurst(start=0, count=5, status=502),)))
    hook = sim.subscribe(RECEIVER, "order.created", secret="s")
    sim.add_product("MUG-1", price="1.00", stock_quantity=100)
    client, seen = receiver([200])
    async with client:
        for _ in range(6):
            sim.place_order([("MUG-1", 1)])
            await sim.deliver_pending(client)
    assert len(seen) == 1
    assert (hook.status, hook.failure_count) == ("active", 0)


async def test_duplicate_delivery_fault_sends_one_event_twice() -> None:
    """duplicate_webhook_probability=1: each event is POSTed twice with one delivery id."""
    sim = _sim(faults=FaultPlan(duplicate_webhook_probability=1.0))
    sim.subscribe(RECEIVER, "order.created", secret="s")
    sim.add_product("MUG-1", price="1.00", stock_quantity=5)
    sim.place_order([("MUG-1", 1)])
    client, seen = receiver([200])
    async with client:
        await sim.deliver_pending(client)
    assert len(seen) == 2
    assert seen[0].content == seen[1].content
    ids = {r.headers["x-wc-webhook-delivery-id"] for r in seen}
    assert len(ids) == 1


def test_webhook_outages_load_from_a_fault_file(tmp_path: Path) -> None:
    """`nswoo sim --faults FILE` reads webhook_outages like error_bursts."""
    path = tmp_path / "faults.toml"
    path.write_text("[[webhook_outages]]\nstart = 2\ncount = 7\nstatus = 502\n")
    plan = load_fault_plan(path)
    assert plan.webhook_outages == (ErrorBurst(start=2, count=7, status=502),)
