"""`nswoo demo`: the main job on embedded defaults, with every fault injected, and a scorecard.

Everything runs in this process: both simulators (`nswoo.testing`), a SQLite store in a
temporary folder, the real clients, pipeline, limiter, webhook receiver, inbox worker and
polling sync. The scorecard reports, per behaviour, what was injected and what happened,
counted in the simulators rather than claimed by the code under test; `ok` is true only when
every invariant holds.
"""

from __future__ import annotations

import importlib
import math
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx

from .._settings import OrdersConfig
from ..limits._local import LocalLimiter
from ..orders._inbox import InboxWorker
from ..orders._receiver import WEBHOOK_PATH, WebhookReceiver, asgi_app
from ..orders._sync import OrderSync, SyncReport
from ..store.sqlite import SqliteStore
from ..testing._faults import FaultPlan, SlowCommit
from ..testing._world import SimWorld, build_world
from ._registry import NOT_IN_THIS_VERSION, SCORECARDS
from ._types import (
    UNKNOWN_ALWAYS,
    UNKNOWN_LATER,
    Card,
    DemoOptions,
    DemoRun,
    FlakyReceiverTransport,
    Scorecard,
)

__all__ = ["DemoOptions", "run_demo", "scorecards"]

_RECEIVER_URL = f"http://receiver.nswoo.invalid{WEBHOOK_PATH}"


def scorecards() -> tuple[Scorecard, ...]:
    """The behaviours `_registry.SCORECARDS` lists, in report order."""
    found: list[Scorecard] = []
    for name in SCORECARDS:
        found.append(importlib.import_module(name, __package__).SCORECARD)
    return tuple(found)


def _place_wave(
    world: SimWorld,
    rng: random.Random,
    skus: list[str],
    placed: list[dict[str, Any]],
    count: int,
) -> None:
    """Take `count` orders in the store, and move some earlier on-hold orders to processing."""
    for _ in range(count):
        lines, status = _order_mix(rng, skus)
        placed.append(world.woocommerce.place_order(lines, status=status))
    for order in rng.sample(placed, min(len(placed), count // 5)):
        if order["status"] == "on-hold":
            world.woocommerce.set_order_status(order["id"], "processing")
            order["status"] = "processing"


async def _poll(sync: OrderSync, reports: list[SyncReport]) -> None:
    reports.append(await sync.sync())


async def _sample_cap(
    limiter: LocalLimiter, world: SimWorld, samples: list[tuple[float, int]]
) -> None:
    """Note the limiter's cap each time it changes (read every 5 ms) until cancelled."""
    while True:
        cap = limiter.stats().cap
        if cap != samples[-1][1]:
            samples.append((world.clock.now(), cap))
        await anyio.sleep(0.005)


async def _drained(store: SqliteStore, *, limit: float = 60.0) -> None:
    """Wait until the inbox worker has finished every stored delivery (at most `limit` s)."""
    with anyio.fail_after(limit):
        while await store.inbox.pending_count():  # noqa: ASYNC110 - the count is in SQLite
            await anyio.sleep(0.01)


def _order_mix(rng: random.Random, skus: list[str]) -> tuple[list[tuple[str, int]], str]:
    """One order's lines and status: mostly importable, some ignored, some unknown SKUs."""
    roll = rng.random()
    lines = [(sku, rng.randint(1, 3)) for sku in rng.sample(skus, rng.randint(1, 3))]
    if roll < 0.04:
        lines.append((UNKNOWN_LATER, 1))
    elif roll < 0.06:
        lines.append((UNKNOWN_ALWAYS, 1))
    status_roll = rng.random()
    status = "processing"
    if status_roll < 0.08:
        status = "pending"
    elif status_roll < 0.15:
        status = "on-hold"
    return lines, status


async def run_demo(  # noqa: PLR0915 - one linear script of the day, step by step
    options: DemoOptions, *, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Run the demo and return its scorecard (the `nswoo demo --json` object)."""
    say = progress or (lambda _line: None)
    started = time.monotonic()

    def stamp(line: str) -> None:
        say(f"[{time.monotonic() - started:5.1f}s] {line}")

    # One generator per source of randomness, each seeded from the seed alone, so that what
    # one draws never shifts another's draws: the same seed injects the same faults.
    rng = random.Random(f"{options.seed}:orders")  # noqa: S311 - demo traffic, not crypto
    losses = random.Random(f"{options.seed}:receiver")  # noqa: S311 - likewise
    ns_faults = FaultPlan(
        seed=options.seed,
        latency=0.002,
        jitter=0.002,
        token_lifetime=options.token_lifetime,
        slow_commits=SlowCommit(probability=0.05),
    )
    woo_faults = FaultPlan(
        seed=options.seed, duplicate_webhook_probability=0.1, redeliver_probability=0.08
    )
    world = build_world(
        store="demo",
        ns_faults=ns_faults,
        woo_faults=woo_faults,
        concurrency_limit=options.account_limit,
        ns_concurrency=options.configured_cap,
    )
    for sku in (UNKNOWN_LATER, UNKNOWN_ALWAYS):
        world.woocommerce.add_product(sku, price="3.00", stock_quantity=1000)
    skus = list(world.item_ids)
    config: OrdersConfig = world.config.orders

    with tempfile.TemporaryDirectory(prefix="nswoo-demo-") as folder:
        store = await SqliteStore.open(str(Path(folder) / "nswoo-demo.db"))
        limiter = LocalLimiter(options.configured_cap)
        async with store, world.netsuite_client(limiter=limiter) as ns, world.woo_client() as woo:
            samples: list[tuple[float, int]] = [(world.clock.now(), limiter.stats().cap)]
            async with anyio.create_task_group() as sampling:
                sampling.start_soon(_sample_cap, limiter, world, samples)
                sync = OrderSync(netsuite=ns, woocommerce=woo, store=store, config=config)
                worker = InboxWorker(
                    store=store, order_sync=sync, owner="demo-worker", poll_interval=0.02, batch=25
                )
                assert world.woo_settings.webhook_secret is not None  # noqa: S101 - build_world sets it
                receiver = WebhookReceiver(
                    store=store,
                    store_name=config.store,
                    secret=world.woo_settings.webhook_secret,
                    max_body_bytes=5_242_880,
                )
                for topic in ("order.created", "order.updated"):
                    world.woocommerce.subscribe(_RECEIVER_URL, topic)
                transport = FlakyReceiverTransport(asgi_app(receiver), loss=0.04, rng=losses)
                placed: list[dict[str, Any]] = []
                reports: list[SyncReport] = []
                stop = anyio.Event()
                async with (
                    httpx.AsyncClient(transport=transport) as webhooks,
                    anyio.create_task_group() as tg,
                ):
                    tg.start_soon(worker.run, stop)
                    per_wave = max(1, math.ceil(options.orders / options.waves))
                    # A small run fills fewer waves than asked: the mid-run events (the
                    # backstop poll, the late item) happen within the waves that do run.
                    waves = min(options.waves, math.ceil(options.orders / per_wave))
                    for wave in range(waves):
                        count = min(per_wave, options.orders - len(placed))
                        if count <= 0:
                            break
                        _place_wave(world, rng, skus, placed, count)
                        await world.woocommerce.deliver_pending(webhooks)
                        if wave == waves // 2:
                            # The polling backstop runs while the worker imports this wave: both
                            # reach for the same orders, and the claims must settle it.
                            tg.start_soon(_poll, sync, reports)
                        if wave == waves * 2 // 3:
                            world.netsuite.add_item(
                                UNKNOWN_LATER,
                                cost="0.40",
                                locations={world.location_ids["Main"]: 500},
                            )
                        await _drained(store)
                        stamp(
                            f"wave {wave + 1}/{waves}: {len(placed)} orders placed, "
                            f"{len(world.netsuite.sales_orders_by_woo_id())} with a sales order, "
                            f"{limiter.stats().rate_limited} requests answered 429 so far, "
                            f"NetSuite cap {limiter.stats().cap} at once"
                        )
                    stop.set()
                stamp("polling backstop: orders whose webhook never arrived")
                reports.append(await sync.sync())
                stamp("replaying dead letters")
                replay = await sync.replay()
                reports.append(replay)
                dead_letters = await store.dead_letters.list(config.store)
                sampling.cancel_scope.cancel()
            run = DemoRun(
                options=options,
                world=world,
                store=store,
                netsuite=ns,
                woocommerce=woo,
                limiter=limiter,
                sync=sync,
                config=config,
                receiver=receiver,
                transport=transport,
                placed=placed,
                reports=reports,
                replay=replay,
                dead_letters=dead_letters,
                elapsed=time.monotonic() - started,
                stamp=stamp,
                started_at=samples[0][0],
                cap_samples=tuple(samples),
            )
            behaviours: dict[str, Card] = {}
            for scorecard in scorecards():
                behaviours[scorecard.name] = await scorecard.score(run)
    for name, feature in NOT_IN_THIS_VERSION.items():
        behaviours.setdefault(
            name, {"ok": None, "scored": False, "detail": f"{feature} is not in this version"}
        )
    ok = all(card["ok"] for card in behaviours.values() if card["ok"] is not None)
    stamp("done: every invariant holds" if ok else "done: an invariant FAILED")
    return {
        "ok": ok,
        "seed": options.seed,
        "orders": options.orders,
        "seconds": round(time.monotonic() - started, 2),
        "behaviours": behaviours,
    }
