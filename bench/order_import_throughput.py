"""Order import throughput: `OrderSync` on the simulated world against a packed-pipeline bound.

What it measures
    K WooCommerce orders (default 300; 1-3 lines of the default catalog each, seeded) are
    placed on the `WooSimulator` and imported with `OrderSync.import_orders` (find-before-
    create, item lookup, create, link; in-memory store) into the `NetSuiteSimulator` of
    `build_world()`: account concurrency limit 5, nswoo configured at 5 (`LocalLimiter(5)`),
    simulated latency 5 ms +- 2 ms (uniform 3-7 ms, seeded) on every request. Real clock.
    It is run at several `OrderSync(concurrency=...)` values (orders in progress at once;
    8 is the default).

    Lower bound on time (the baseline): a perfectly packed pipeline that keeps the account's
    5 slots busy with exactly the requests an import needs:
        bound = requests per order x K x mean latency / account limit
    where requests per order is counted from the simulator's log (answered requests other
    than 429s and the token endpoint) and mean latency is the fault plan's 5 ms. A second
    bound uses the simulator's own measured service time per request (latency plus its
    processing) instead of the nominal 5 ms. The fraction achieved is bound / measured time.

    Printed per concurrency: orders/s, requests per order by endpoint, 429s, the limiter's
    peak in flight, process CPU use, and the fractions of both bounds. A control row runs the
    default concurrency with a plain fixed `anyio.Semaphore(5)` instead of `LocalLimiter(5)`
    (no 429 happens at this cap, so the two differ only in how a free slot is handed on).

How to run
    .venv/bin/python bench/order_import_throughput.py           # ~6 s: K=300, 4 runs
    .venv/bin/python bench/order_import_throughput.py --quick   # ~2 s: K=60
    Options: --orders, --concurrency (repeatable), --seed.

Machine
    Printed at start. The figures in bench/README.md come from a 2-core AMD EPYC VM,
    Python 3.11, Linux.
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from collections import Counter

import anyio
import attrs
from _common import FixedLimiter, machine, table

from nswoo._clock import SystemClock
from nswoo.limits._local import Limiter, LocalLimiter
from nswoo.orders._sync import OrderSync
from nswoo.store.memory import MemoryStore
from nswoo.testing import DEFAULT_CATALOG, FaultPlan, build_world
from nswoo.woocommerce._convert import structure_order

ACCOUNT_LIMIT = 5
LATENCY = 0.003  # + uniform jitter below: 3-7 ms
JITTER = 0.004
MEAN_LATENCY = LATENCY + JITTER / 2


@attrs.frozen
class Result:
    limiter: str
    concurrency: int
    orders: int
    outcomes: Counter[str]
    wall: float
    cpu: float
    needed: int
    by_endpoint: Counter[str]
    rate_limited: int
    service_time: float
    peak_in_flight: int
    sales_orders: int


async def run(concurrency: int, *, orders: int, seed: int, limiter_kind: str) -> Result:
    world = build_world(
        ns_faults=FaultPlan(seed=seed, latency=LATENCY, jitter=JITTER),
        concurrency_limit=ACCOUNT_LIMIT,
        ns_concurrency=ACCOUNT_LIMIT,
    )
    rng = random.Random(seed)
    skus = [item.sku for item in DEFAULT_CATALOG]
    placed = []
    for _ in range(orders):
        lines = [(sku, rng.randint(1, 2)) for sku in rng.sample(skus, rng.randint(1, 3))]
        placed.append(structure_order(world.woocommerce.place_order(lines)))
    limiter: Limiter = (
        LocalLimiter(ACCOUNT_LIMIT, clock=SystemClock())
        if limiter_kind == "nswoo"
        else FixedLimiter(ACCOUNT_LIMIT)
    )
    client = world.netsuite_client(limiter=limiter)
    sim = world.netsuite
    async with client:
        await client.get("customer", world.customer_id)  # token minted, outside the timing
        first = len(sim.stats.requests)
        sync = OrderSync(
            netsuite=client,
            woocommerce=None,
            store=MemoryStore(),
            config=world.config.orders,
            clock=world.clock,
            concurrency=concurrency,
        )
        started = time.perf_counter()
        cpu_started = time.process_time()
        report = await sync.import_orders(placed)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    log = [r for r in sim.stats.requests[first:] if r.endpoint != "token"]
    answered = [r for r in log if r.status is not None and r.status != 429]
    return Result(
        limiter=f"LocalLimiter({ACCOUNT_LIMIT})"
        if limiter_kind == "nswoo"
        else f"control: Semaphore({ACCOUNT_LIMIT})",
        concurrency=concurrency,
        orders=orders,
        outcomes=Counter(r.outcome for r in report.results),
        wall=wall,
        cpu=cpu,
        needed=len(answered),
        by_endpoint=Counter(f"{r.method} {r.endpoint}" for r in answered),
        rate_limited=sum(1 for r in log if r.status == 429),
        service_time=sum(r.finished - r.started for r in answered) / len(answered),
        peak_in_flight=limiter.stats().max_in_flight,
        sales_orders=len(sim.sales_orders_by_woo_id()),
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="60 orders")
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--concurrency", type=int, action="append", default=None)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    logging.getLogger("nswoo").setLevel(logging.ERROR)
    orders = args.orders or (60 if args.quick else 300)
    concurrencies = args.concurrency or [8, 16, 32]

    print(f"machine: {machine()}")
    print(
        f"order import: {orders} orders, account limit {ACCOUNT_LIMIT}, LocalLimiter("
        f"{ACCOUNT_LIMIT}), latency {LATENCY * 1e3:.0f}-{(LATENCY + JITTER) * 1e3:.0f} ms "
        f"(mean {MEAN_LATENCY * 1e3:.0f} ms), OrderSync concurrency {concurrencies}"
    )
    results = [
        await run(c, orders=orders, seed=args.seed, limiter_kind="nswoo") for c in concurrencies
    ]
    control = await run(concurrencies[0], orders=orders, seed=args.seed, limiter_kind="semaphore")
    rows = []
    for r in [*results, control]:
        per_order = r.needed / r.orders
        bound = per_order * r.orders * MEAN_LATENCY / ACCOUNT_LIMIT
        bound_observed = r.needed * r.service_time / ACCOUNT_LIMIT
        breakdown = ", ".join(
            f"{name} {count / r.orders:.2f}" for name, count in sorted(r.by_endpoint.items())
        )
        rows.append(
            [
                r.limiter,
                r.concurrency,
                "/".join(f"{k} {v}" for k, v in sorted(r.outcomes.items())),
                r.sales_orders,
                f"{r.wall:.2f}",
                f"{r.orders / r.wall:.0f}",
                f"{per_order:.2f} ({breakdown})",
                r.rate_limited,
                r.peak_in_flight,
                f"{r.cpu / r.wall:.0%}",
                f"{bound:.2f}",
                f"{bound / r.wall:.2f}",
                f"{r.service_time * 1e3:.2f}",
                f"{bound_observed / r.wall:.2f}",
            ]
        )
    print()
    print(
        table(
            [
                "limiter",
                "concurrency",
                "outcomes",
                "sales orders",
                "time s",
                "orders/s",
                "requests/order",
                "429s",
                "peak in flight",
                "CPU",
                "bound s",
                "fraction of bound",
                "service ms",
                "fraction, observed service",
            ],
            rows,
        )
    )
    best = max(results, key=lambda r: r.orders / r.wall)
    default = next((r for r in results if r.concurrency == 8), results[0])
    ceiling = ACCOUNT_LIMIT / (default.needed / default.orders * MEAN_LATENCY)
    print()
    print("ratios:")
    print(
        f"  packed-pipeline ceiling: {ACCOUNT_LIMIT} / ({default.needed / default.orders:.2f}"
        f" requests x {MEAN_LATENCY * 1e3:.0f} ms) = {ceiling:.0f} orders/s"
    )
    for r in [*results, control]:
        print(
            f"  {r.limiter}, concurrency {r.concurrency:>2}: {r.orders / r.wall:.0f} orders/s = "
            f"{r.orders / r.wall / ceiling:.2f} of the ceiling"
        )
    print(
        f"  LocalLimiter / semaphore control at concurrency {control.concurrency}: "
        f"{(results[0].orders / results[0].wall) / (control.orders / control.wall):.2f}"
    )
    print(
        f"  best / default (concurrency {default.concurrency}) throughput: "
        f"{(best.orders / best.wall) / (default.orders / default.wall):.2f}"
        f" (best at concurrency {best.concurrency})"
    )


if __name__ == "__main__":
    anyio.run(main)
