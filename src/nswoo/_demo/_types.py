"""What the demo run and its scorecards share: options, the finished run, the card registry type."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs
import httpx

from .._settings import OrdersConfig
from ..limits._local import LocalLimiter
from ..netsuite._client import NetSuiteClient
from ..orders._receiver import WebhookReceiver
from ..orders._sync import OrderSync, SyncReport
from ..store._ports import DeadLetter
from ..store.sqlite import SqliteStore
from ..testing._world import SimWorld
from ..woocommerce._client import WooClient

__all__ = [
    "UNKNOWN_ALWAYS",
    "UNKNOWN_LATER",
    "Card",
    "DemoOptions",
    "DemoRun",
    "FlakyReceiverTransport",
    "Scorecard",
]

UNKNOWN_LATER = "GIFT-WRAP"  # sold in the store, added to NetSuite mid-run: replayed
UNKNOWN_ALWAYS = "OLD-CATALOG-7"  # sold in the store, never in NetSuite: stays dead-lettered

Card = dict[str, Any]
"""One behaviour's scorecard (the contract's `ok` and figures), by convention:

- `ok`: True, False, or None when not scored;
- `injected`: the faults the run provoked it with, decided by the seed alone (the same
  `--seed` injects the same faults, run after run);
- `timing_dependent`: figures that depend on timing too (token deaths, 429s, requests in
  flight), which vary between runs with the same seed;
- figures the simulators counted, each under a name that says what it counts;
- `explain`: sentences saying what each figure counts and how related figures add up (the
  text scorecard prints these)."""


@attrs.frozen
class DemoOptions:
    """Knobs of the demo (the CLI exposes `orders` and `seed`).

    Attributes:
        orders: how many orders the store takes.
        seed: seeds every random choice and fault, so a run can be repeated.
        account_limit: NetSuite's real concurrency limit for the account.
        configured_cap: the cap nswoo is configured with, set too high on purpose.
        token_lifetime: seconds after which NetSuite kills each access token (it says 3600).
        waves: how many bursts the orders arrive in.
    """

    orders: int = 300
    seed: int = 7
    account_limit: int = 5
    configured_cap: int = 12
    token_lifetime: float = 1.5
    waves: int = 12


class FlakyReceiverTransport(httpx.AsyncBaseTransport):
    """The path from WooCommerce to the receiver: in-process ASGI, losing a few deliveries.

    A lost delivery (network blip, receiver restart) is answered 503 to WooCommerce, which
    never retries it (reference woocommerce.md §8): only the polling backstop can find it.
    """

    def __init__(self, app: Any, *, loss: float, rng: random.Random) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._loss = loss
        self._rng = rng
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._rng.random() < self._loss:
            self.lost += 1
            return httpx.Response(503, text="receiver restarting")
        return await self._inner.handle_async_request(request)


@attrs.define
class DemoRun:
    """The demo after the order day, handed to every scorecard while everything is open.

    The simulators (`world`), the store and both clients are still open when cards are
    scored, so a behaviour may also run its own step against them before counting.

    Attributes:
        options: the knobs of this run.
        world: both simulators; their counts are the ground truth of every card.
        store: the run's SQLite store.
        netsuite, woocommerce: the real clients, talking to the simulators.
        limiter: the NetSuite limiter the run used.
        sync: the `OrderSync` the worker and the polling backstop used.
        config: the orders configuration.
        receiver: the webhook receiver.
        transport: the lossy path from WooCommerce to the receiver.
        placed: the orders placed in the store, as placed.
        reports: the polling reports, last one the replay.
        replay: the report of the final dead-letter replay.
        dead_letters: the dead letters left after the replay.
        elapsed: seconds from the start of the run to the end of the order day.
        stamp: prints a progress line.
        started_at: the simulators' clock (`world.clock.now()`) when the run began; the
            simulators log request times on that clock.
        cap_samples: `(world.clock.now(), cap)` each time the NetSuite limiter's cap was
            seen to change, starting with the configured cap (sampled every few ms).
    """

    options: DemoOptions
    world: SimWorld
    store: SqliteStore
    netsuite: NetSuiteClient
    woocommerce: WooClient
    limiter: LocalLimiter
    sync: OrderSync
    config: OrdersConfig
    receiver: WebhookReceiver
    transport: FlakyReceiverTransport
    placed: list[dict[str, Any]]
    reports: list[SyncReport]
    replay: SyncReport
    dead_letters: Sequence[DeadLetter]
    elapsed: float
    stamp: Callable[[str], None]
    started_at: float = 0.0
    cap_samples: Sequence[tuple[float, int]] = ()


@attrs.frozen
class Scorecard:
    """One behaviour the demo scores: a module of this package exposes one as `SCORECARD`.

    Attributes:
        name: the key under `behaviours` in the report (e.g. `"idempotent_orders"`).
        score: `async (run) -> Card`, counted from the simulators, never claimed by the code
            under test.
    """

    name: str
    score: Callable[[DemoRun], Awaitable[Card]]
