"""Limiter convergence: a cap configured above the account's real limit, under load.

What it measures
    N workers (default 32) send GET requests through nswoo's real `NetSuiteClient` pipeline
    (limiter slot → M2M bearer auth → httpx → classify → recover) to the in-process
    `NetSuiteSimulator`, whose account concurrency limit is 5: a request arriving while 5
    are being processed gets 429 (after the same simulated latency as any answer), without
    `Retry-After`, as NetSuite is reported to answer. Simulated latency: 5 ms ± 2 ms
    (uniform 3-7 ms, seeded). Real clock: this is about real overlapping requests.

    Four limiters, same pipeline, same retry policy (full-jitter backoff, first ceiling
    20 ms, doubling to 320 ms, 30 attempts):

    - nswoo:   `LocalLimiter(12)`: cap 12, above the real limit, adaptive (AIMD).
    - naive:   a fixed `anyio.Semaphore(12)` (`FixedLimiter` in bench/_common.py); on a 429
               only the caller sleeps its own backoff (after giving its slot back), nobody
               else pauses, the cap never moves. The usual "retry with backoff" client.
    - ideal:   the same fixed limiter with cap 5, the true limit: never a 429. The lower
               bound on time (upper bound on throughput) for a client that cannot know more.
    - control: `LocalLimiter(5)`, at the true limit, so it never sees a 429: what the
               limiter's own mechanics cost, apart from adaptation.

    Printed per limiter: requests sent, 429 count and share (overall, and after the first
    10 % of requests, i.e. once converged), successful requests/s, p50/p99 latency of a
    successful call as the caller sees it (queueing and retries included), the peak of
    requests open at the simulator, process CPU per successful call, and nswoo's
    time-weighted mean working cap. Ratios:
    nswoo/naive 429 share and throughput; nswoo/ideal throughput fraction; and the ideal's
    fraction of the analytic ceiling limit / mean latency.

How to run
    .venv/bin/python bench/limiter_convergence.py            # ~35 s: 3 rounds x 4 limiters
    .venv/bin/python bench/limiter_convergence.py --quick    # ~3 s: 1 round, 320 calls each
    Options: --workers, --calls (per worker), --rounds, --seed.

Machine
    Printed at start. The figures in bench/README.md come from a 2-core AMD EPYC VM,
    Python 3.11, Linux.
"""

from __future__ import annotations

import argparse
import logging
import random
import time

import anyio
import attrs
import httpx
from _common import FixedLimiter, machine, percentile, table

from nswoo._clock import SystemClock
from nswoo._http import RetryPolicy
from nswoo.errors import ApiError
from nswoo.limits._local import Limiter, LimiterStats, LocalLimiter
from nswoo.netsuite import NetSuiteClient, netsuite_auth
from nswoo.testing import FaultPlan, NetSuiteSimStats, build_world

ACCOUNT_LIMIT = 5
CONFIGURED_CAP = 12
LATENCY = 0.003  # + uniform jitter below: 3-7 ms, mean 5 ms
JITTER = 0.004
POLICY = RetryPolicy(attempts=30, total_seconds=30.0, initial=0.02, maximum=0.32)


@attrs.define
class Totals:
    """What one limiter did, summed over rounds."""

    sent: int = 0
    rate_limited: int = 0
    sent_late: int = 0
    rate_limited_late: int = 0
    successes: int = 0
    failures: int = 0
    wall: float = 0.0
    latencies: list[float] = attrs.field(factory=list)
    peak_open: int = 0
    cap_area: float = 0.0
    final_cap: int = 0
    min_cap: int = 0
    service_times: list[float] = attrs.field(factory=list)
    cpu: float = 0.0


def make_limiter(kind: str) -> Limiter:
    if kind == "nswoo":
        return LocalLimiter(CONFIGURED_CAP, clock=SystemClock())
    if kind == "nswoo-at-limit":
        return LocalLimiter(ACCOUNT_LIMIT, clock=SystemClock())
    if kind == "naive":
        return FixedLimiter(CONFIGURED_CAP)
    return FixedLimiter(ACCOUNT_LIMIT)


async def run_once(kind: str, *, workers: int, calls: int, seed: int, totals: Totals) -> None:
    world = build_world(
        ns_faults=FaultPlan(seed=seed, latency=LATENCY, jitter=JITTER),
        concurrency_limit=ACCOUNT_LIMIT,
        ns_concurrency=CONFIGURED_CAP,
    )
    clock = SystemClock()
    limiter = make_limiter(kind)
    http = httpx.AsyncClient(transport=world.netsuite.transport(), timeout=30.0)
    client = NetSuiteClient(
        world.ns_settings,
        http=http,
        limiter=limiter,
        auth=netsuite_auth(world.ns_settings, http=http, clock=clock),
        clock=clock,
        policy=POLICY,
        random=random.Random(seed).random,
        owns_http=True,
    )
    customer = world.customer_id
    async with client:
        await client.get("customer", customer)  # token minted, outside the timing
        first_index = len(world.netsuite.stats.requests)
        done = anyio.Event()
        cap_area = 0.0

        async def sample_cap() -> None:
            nonlocal cap_area
            last = time.perf_counter()
            while not done.is_set():
                await anyio.sleep(0.002)
                now = time.perf_counter()
                cap_area += limiter.stats().cap * (now - last)
                last = now

        async def worker() -> None:
            for _ in range(calls):
                begun = time.perf_counter()
                try:
                    await client.get("customer", customer)
                except ApiError:
                    totals.failures += 1
                    continue
                totals.latencies.append(time.perf_counter() - begun)
                totals.successes += 1

        started = time.perf_counter()
        cpu_started = time.process_time()
        async with anyio.create_task_group() as sampler:
            sampler.start_soon(sample_cap)
            async with anyio.create_task_group() as tg:
                for _ in range(workers):
                    tg.start_soon(worker)
            done.set()
        wall = time.perf_counter() - started
        totals.cpu += time.process_time() - cpu_started

    record(
        totals,
        stats=world.netsuite.stats,
        first_index=first_index,
        limiter_stats=limiter.stats(),
        wall=wall,
        cap_area=cap_area,
    )


def record(
    totals: Totals,
    *,
    stats: NetSuiteSimStats,
    first_index: int,
    limiter_stats: LimiterStats,
    wall: float,
    cap_area: float,
) -> None:
    """Add one run's simulator log and limiter counters to `totals`."""
    log = [r for r in stats.requests[first_index:] if r.endpoint != "token"]
    late = log[len(log) // 10 :]
    totals.sent += len(log)
    totals.rate_limited += sum(1 for r in log if r.status == 429)
    totals.sent_late += len(late)
    totals.rate_limited_late += sum(1 for r in late if r.status == 429)
    totals.service_times += [r.finished - r.started for r in log if r.status == 200]
    totals.wall += wall
    totals.peak_open = max(totals.peak_open, stats.max_in_flight)
    totals.cap_area += cap_area
    totals.final_cap = limiter_stats.cap
    totals.min_cap = (
        limiter_stats.min_cap_seen
        if not totals.min_cap
        else min(totals.min_cap, limiter_stats.min_cap_seen)
    )


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds: 1 small round")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--calls", type=int, default=None, help="calls per worker")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    logging.getLogger("nswoo").setLevel(logging.ERROR)  # one warning per 429 otherwise
    calls = args.calls or (10 if args.quick else 60)
    rounds = args.rounds or (1 if args.quick else 3)

    print(f"machine: {machine()}")
    print(
        f"limiter convergence: {args.workers} workers x {calls} GETs x {rounds} round(s); "
        f"account limit {ACCOUNT_LIMIT}, configured cap {CONFIGURED_CAP}, "
        f"latency {LATENCY * 1e3:.0f}-{(LATENCY + JITTER) * 1e3:.0f} ms, no Retry-After, "
        f"backoff full jitter {POLICY.initial * 1e3:.0f} ms doubling to "
        f"{POLICY.maximum * 1e3:.0f} ms"
    )
    kinds = ("nswoo", "naive", "ideal", "nswoo-at-limit")
    totals = {kind: Totals() for kind in kinds}
    for round_no in range(rounds):
        for kind in kinds:  # interleaved, so drift in the machine hits all three alike
            await run_once(
                kind,
                workers=args.workers,
                calls=calls,
                seed=args.seed + round_no,
                totals=totals[kind],
            )

    labels = {
        "nswoo": f"nswoo LocalLimiter({CONFIGURED_CAP}), adaptive",
        "naive": f"naive Semaphore({CONFIGURED_CAP}), per-call backoff",
        "ideal": f"ideal fixed cap {ACCOUNT_LIMIT} (= true limit)",
        "nswoo-at-limit": f"control: LocalLimiter({ACCOUNT_LIMIT}) at the true limit",
    }
    rows = []
    for kind in kinds:
        t = totals[kind]
        mean_cap = t.cap_area / t.wall if t.wall else 0.0
        rows.append(
            [
                labels[kind],
                t.sent,
                t.rate_limited,
                f"{share(t.rate_limited, t.sent):.1%}",
                f"{share(t.rate_limited_late, t.sent_late):.1%}",
                f"{t.successes}/{t.failures}",
                f"{t.successes / t.wall:.0f}",
                f"{percentile(t.latencies, 50) * 1e3:.1f}",
                f"{sum(t.latencies) / len(t.latencies) * 1e3:.1f}",
                f"{percentile(t.latencies, 99) * 1e3:.1f}",
                f"{max(t.latencies) * 1e3:.0f}",
                f"{t.cpu / t.successes * 1e3:.2f}",
                t.peak_open,
                f"{mean_cap:.2f}" if kind.startswith("nswoo") else "-",
                f"{t.min_cap}/{t.final_cap}" if kind.startswith("nswoo") else "-",
            ]
        )
    print()
    print(
        table(
            [
                "limiter",
                "requests",
                "429s",
                "429 share",
                "429 share after 10%",
                "ok/failed",
                "ok req/s",
                "p50 ms",
                "mean ms",
                "p99 ms",
                "max ms",
                "CPU ms/ok",
                "peak open",
                "mean cap",
                "min/final cap",
            ],
            rows,
        )
    )
    nswoo, naive, ideal, control = (totals[k] for k in kinds)

    def rate(t: Totals) -> float:
        return t.successes / t.wall

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b else "n/a (denominator 0)"

    mean_service = sum(ideal.service_times) / len(ideal.service_times)
    ceiling = ACCOUNT_LIMIT / mean_service
    print()
    print("ratios:")
    print(
        f"  nswoo / naive 429 share (overall):     "
        f"{ratio(share(nswoo.rate_limited, nswoo.sent), share(naive.rate_limited, naive.sent))}"
    )
    late_ratio = ratio(
        share(nswoo.rate_limited_late, nswoo.sent_late),
        share(naive.rate_limited_late, naive.sent_late),
    )
    print(f"  nswoo / naive 429 share (after 10%):   {late_ratio}")
    print(f"  nswoo / naive throughput:              {ratio(rate(nswoo), rate(naive))}")
    print(f"  nswoo / ideal throughput (fraction):   {ratio(rate(nswoo), rate(ideal))}")
    print(f"  naive / ideal throughput (fraction):   {ratio(rate(naive), rate(ideal))}")
    print(f"  control / ideal throughput (fraction): {ratio(rate(control), rate(ideal))}")
    print(
        f"  ideal / analytic ceiling {ACCOUNT_LIMIT} / {mean_service * 1e3:.2f} ms "
        f"= {ceiling:.0f} req/s: {ratio(rate(ideal), ceiling)}"
    )


if __name__ == "__main__":
    anyio.run(main)
