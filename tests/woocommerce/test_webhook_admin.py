"""Webhooks that stay on: the client's webhook calls, `check_webhooks` and `ensure_webhooks`.

Run against the WooCommerce simulator, whose webhooks routes and auto-disable follow
reference/woocommerce.md §8 and WooCommerce's webhooks controllers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from nswoo._settings import Secret, WooSettings
from nswoo.errors import ConfigurationError, WebhookError
from nswoo.orders._receiver import WEBHOOK_PATH
from nswoo.testing import ErrorBurst, FakeClock, FaultPlan, WooSimulator
from nswoo.woocommerce import (
    WooClient,
    check_webhooks,
    ensure_webhooks,
    verify_delivery,
)
from nswoo.woocommerce._webhook_admin import RECEIVER_PATH

pytestmark = pytest.mark.anyio

KEY, SECRET = "ck_admin", "cs_admin"
URL = "http://127.0.0.1:8000/webhooks/woocommerce"
HOOK_SECRET = "whsec-ensure"


def make_sim(**kwargs: object) -> WooSimulator:
    sim = WooSimulator(
        consumer_key=KEY,
        consumer_secret=SECRET,
        clock=FakeClock(),
        **kwargs,  # type: ignore[arg-type]
    )
    sim.add_product("MUG-1", price="9.50", stock_quantity=100)
    return sim


@pytest.fixture
def sim() -> WooSimulator:
    return make_sim()


@pytest.fixture
async def woo(sim: WooSimulator) -> AsyncIterator[WooClient]:
    settings = WooSettings(
        environment="sandbox",
        url=sim.url,
        consumer_key=Secret(KEY),
        consumer_secret=Secret(SECRET),
    )
    async with WooClient.from_settings(settings, transport=sim.transport()) as client:
        yield client


def verifying_receiver(secret: str) -> tuple[httpx.AsyncClient, list[int]]:
    """A receiver that answers 200 to deliveries signed with `secret` and 401 otherwise,
    recording the order ids it accepted."""
    accepted: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        try:
            delivery = verify_delivery(request.headers, request.content, secret=Secret(secret))
        except WebhookError:
            return httpx.Response(401)
        order_id = getattr(delivery, "order_id", None)
        if order_id is not None:
            accepted.append(order_id)
        return httpx.Response(200)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer)), accepted


async def test_receiver_path_is_the_receivers() -> None:
    """The path check_webhooks recognises is the one the receiver serves."""
    assert RECEIVER_PATH == WEBHOOK_PATH


async def test_ensure_creates_both_order_webhooks_that_then_deliver(
    sim: WooSimulator, woo: WooClient
) -> None:
    """On a store without webhooks, ensure creates active order.created and order.updated
    webhooks to URL, signed with the secret: an order placed next reaches the receiver."""
    result = await ensure_webhooks(woo, url=URL, secret=HOOK_SECRET)
    assert sorted(h.topic for h in result.created) == ["order.created", "order.updated"]
    assert {(h.status, h.delivery_url, h.name.split()[0]) for h in result.created} == {
        ("active", URL, "nswoo")
    }
    assert result.problems == ()
    order = sim.place_order([("MUG-1", 1)])
    client, accepted = verifying_receiver(HOOK_SECRET)
    async with client:
        results = await sim.deliver_pending(client)
    assert sorted(r.kind for r in results) == ["delivery", "ping", "ping"]
    assert accepted == [order["id"]]
    assert (await check_webhooks(woo, url=URL)).ok


async def test_ensure_twice_changes_nothing_more(sim: WooSimulator, woo: WooClient) -> None:
    """A second run creates nothing and re-points nothing: the same two webhooks remain."""
    await ensure_webhooks(woo, url=URL, secret=HOOK_SECRET)
    before = {h.id: (h.topic, h.status, h.delivery_url) for h in sim.webhooks.values()}
    again = await ensure_webhooks(woo, url=URL, secret=HOOK_SECRET)
    assert (again.created, again.updated, again.changed) == ((), (), False)
    assert len(again.rekeyed) == 2
    after = {h.id: (h.topic, h.status, h.delivery_url) for h in sim.webhooks.values()}
    assert after == before


async def test_webhook_disabled_by_failures_is_reported_and_re_enabled() -> None:
    """After an outage WooCommerce disables the webhook (7th failure, §8): check names it
    as disabled, ensure re-enables it, and the next order is delivered again."""
    sim = make_sim(faults=FaultPlan(webhook_outages=(ErrorBurst(start=0, count=7),)))
    hook = sim.subscribe(URL, "order.created", secret=HOOK_SECRET)
    hook.name = "nswoo order.created"
    client, accepted = verifying_receiver(HOOK_SECRET)
    settings = WooSettings(
        environment="sandbox", url=sim.url, consumer_key=Secret(KEY), consumer_secret=Secret(SECRET)
    )
    async with client, WooClient.from_settings(settings, transport=sim.transport()) as woo:
        for _ in range(7):
            sim.place_order([("MUG-1", 1)])
            await sim.deliver_pending(client)
        assert hook.status == "disabled"
        report = await check_webhooks(woo, url=URL, topics=["order.created"])
        assert [(p.kind, p.webhook.id if p.webhook else None) for p in report.problems] == [
            ("disabled", hook.id)
        ]
        assert report.problems[0].message() == (
            f'order.created webhook {hook.id} "nswoo order.created" is disabled '
            "(WooCommerce turns a webhook off after repeated failed deliveries)"
        )
        result = await ensure_webhooks(woo, url=URL, secret=HOOK_SECRET, topics=["order.created"])
        assert [h.id for h in result.updated] == [hook.id]
        assert sim.webhooks[hook.id].status == "active"
        order = sim.place_order([("MUG-1", 1)])
        await sim.deliver_pending(client)
    assert accepted == [order["id"]]


async def test_ensure_repoints_its_own_webhook_and_leaves_others_alone(
    sim: WooSimulator, woo: WooClient
) -> None:
    """nswoo's webhook posting to an old URL is re-pointed and re-keyed; another
    integration's webhook on the same topic is not touched."""
    old = sim.subscribe("https://old.example/webhooks/woocommerce", "order.created", secret="x")
    old.name = "nswoo order.created"
    foreign = sim.subscribe("https://zapier.example/hook", "order.created", secret="z")
    foreign.name = "Zapier"
    report = await check_webhooks(woo, url=URL, topics=["order.created"])
    assert [p.kind for p in report.problems] == ["elsewhere"]
    assert "delivers to https://old.example/webhooks/woocommerce" in report.problems[0].message()
    result = await ensure_webhooks(woo, url=URL, secret=HOOK_SECRET, topics=["order.created"])
    assert [h.id for h in result.updated] == [old.id]
    assert (old.delivery_url, old.secret) == (URL, HOOK_SECRET)
    assert (foreign.delivery_url, foreign.secret, foreign.status) == (
        "https://zapier.example/hook",
        "z",
        "active",
    )
    assert result.created == ()


async def test_ensure_replaces_a_wrong_secret(sim: WooSimulator, woo: WooClient) -> None:
    """A webhook signing with a stale secret (which REST never shows) signs with the
    configured one after ensure: the receiver that refused its deliveries accepts them."""
    hook = sim.subscribe(URL, "order.created", secret="stale-secret")
    client, accepted = verifying_receiver(HOOK_SECRET)
    async with client:
        sim.place_order([("MUG-1", 1)])
        refused = await sim.deliver_pending(client)
        assert [r.status_code for r in refused] == [401]
        result = await ensure_webhooks(woo, url=URL, secret=HOOK_SECRET, topics=["order.created"])
        assert [h.id for h in result.rekeyed] == [hook.id]
        order = sim.place_order([("MUG-1", 1)])
        await sim.deliver_pending(client)
    assert accepted == [order["id"]]


async def test_check_without_url_knows_nswoo_webhooks_by_path_and_name(
    sim: WooSimulator, woo: WooClient
) -> None:
    """Without a URL, nswoo's webhooks are those posting to .../webhooks/woocommerce or named
    nswoo: a paused one is reported, a missing topic is reported, a foreign one ignored."""
    paused = sim.subscribe(
        "https://hooks.example/shop/webhooks/woocommerce", "order.created", secret="s"
    )
    paused.status = "paused"
    sim.subscribe("https://zapier.example/hook", "order.updated", secret="z")
    report = await check_webhooks(woo)
    assert [(p.topic, p.kind) for p in report.problems] == [
        ("order.created", "paused"),
        ("order.updated", "missing"),
    ]
    assert report.problems[1].message() == (
        "no order.updated webhook delivers to nswoo: orders arrive only by polling"
    )
    assert [h.id for h in report.webhooks] == [paused.id]


async def test_check_reports_duplicates(sim: WooSimulator, woo: WooClient) -> None:
    """Two active webhooks of one topic to the same URL deliver every event twice."""
    first = sim.subscribe(URL, "order.created", secret="s")
    second = sim.subscribe(URL, "order.created", secret="s")
    report = await check_webhooks(woo, url=URL, topics=["order.created"])
    assert [(p.kind, p.webhook.id if p.webhook else None) for p in report.problems] == [
        ("duplicate", second.id)
    ]
    assert first.id != second.id


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/webhooks/woocommerce",
        "ftp://127.0.0.1/webhooks/woocommerce",
        "https://user:pw@hooks.example.com/webhooks/woocommerce",
    ],
)
async def test_ensure_refuses_a_url_orders_must_not_go_to(woo: WooClient, url: str) -> None:
    """Plain http:// off this machine, other schemes and credentials in the URL are refused
    before anything is changed, naming --url."""
    with pytest.raises(ConfigurationError) as caught:
        await ensure_webhooks(woo, url=url, secret=HOOK_SECRET)
    assert caught.value.key == "--url"
    assert "pw" not in str(caught.value)


async def test_ensure_refuses_an_empty_secret(sim: WooSimulator, woo: WooClient) -> None:
    """An empty secret would make every signature forgeable: refused, nothing created."""
    with pytest.raises(ConfigurationError):
        await ensure_webhooks(woo, url=URL, secret="")
    assert sim.webhooks == {}


async def test_client_webhook_calls_round_trip(sim: WooSimulator, woo: WooClient) -> None:
    """create_webhook, update_webhook and list_webhooks go through wc/v3 webhooks."""
    created = await woo.create_webhook(
        topic="order.updated", delivery_url=URL, secret=HOOK_SECRET, name="mine"
    )
    paused = await woo.update_webhook(created.id, status="paused")
    listed = await woo.list_webhooks()
    assert (created.status, paused.status) == ("active", "paused")
    assert [(h.id, h.name, h.status) for h in listed] == [(created.id, "mine", "paused")]
    assert sim.webhooks[created.id].secret == HOOK_SECRET
