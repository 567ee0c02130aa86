"""Limiter convergence: a cap configured above the account's real limit, under load.

What it measures
    W workers (default 32) send GET requests through nswoo's real `NetSuiteClient` pipeline
    (limiter slot → M2M bearer auth → httpx → classify → recover) to the in-process
    `NetSuiteSimulator`, whose account concurrency limit is 5: a request arriving while 5
    are being processed gets 429 (after the same simulated latency as any answer), without
    `Retry-After`, as NetSuite is reported to answer. Simulated latency: 15-25 ms (uniform,
    seeded, mean 20 ms). Real clock: this is about real overlapping requests.

    Each round runs these clients one after the other (interleaved, so drift in the machine
    hits all alike), all against the same simulator setup:

    - nswoo:      `LocalLimiter(12)`: cap 12, above the real limit, adaptive (AIMD), every
                  caller paused on a 429; retry policy full jitter, first ceiling 80 ms
                  doubling to 1.28 s, 30 attempts (the default 0.5 s first ceiling is sized
                  for NetSuite's real latencies, about 20 times the simulated ones).
    - sequential: **the naive baseline, what users run**: one request at a time, a 429 retried
                  after a fixed sleep, up to 15 attempts, as community clients do
                  (bench/README.md cites them: peers.md items 5-8, e.g. netsuite-php#133
                  "2 s x 15 attempts"; jacobsvante/netsuite and tap-netsuite-rest run one
                  request per call). The fixed 2 s is scaled to the simulated latency like
                  nswoo's policy (80 ms). Sequential, it never exceeds the limit, so its
                  retries never fire: its cost is throughput.
    - semaphore:  a concurrent client with a fixed `anyio.Semaphore(12)` (`FixedLimiter`),
                  where a 429 makes only its caller back off (same jitter policy): the
                  "retry with backoff" client someone writes once one request at a time is
                  too slow. Shown for its 429 share.
    - ideal:      the fixed limiter at cap 5, the true limit: never a 429. The upper bound on
                  throughput for a client that cannot know more.

    Every figure is a ratio measured within one round (nswoo against a baseline or the ideal
    run beside it) and the headline is the median over the rounds; 429 shares are pooled
    over the rounds. The machine's 1-minute load average is printed and reported as `load`.

How to run
    .venv/bin/python bench/limiter_convergence.py            # ~50 s: 5 rounds
    .venv/bin/python bench/limiter_convergence.py --quick    # ~20 s: 3 smaller rounds
    Options: --workers, --calls (per worker), --rounds, --seed.

Output
    A table per client (pooled over rounds), the per-round ratios and their medians, and as
    the last line one JSON object: `workers`, `account_limit`, `configured_cap`, `rounds`,
    `throughput_vs_sequential`, `fraction_of_ideal`, `share_429_settled`,
    `mean_cap_over_limit`, `load`. (The semaphore client's 429 share is printed, not a
    headline: it swings by a quarter with the machine's load, being about its timing.)
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time

import anyio
import attrs
import httpx
from _common import FixedLimiter, machine, machine_load, median, percentile, table

from nswoo._clock import SystemClock
from nswoo._http import RetryPolicy
from nswoo._settings import M2MCredentials
from nswoo.errors import ApiError
from nswoo.limits._local import Limiter, LocalLimiter
from nswoo.netsuite import M2MTokenSource, NetSuiteClient, netsuite_auth
from nswoo.testing import FaultPlan, SimWorld, build_world

ACCOUNT_LIMIT = 5
CONFIGURED_CAP = 12
# Simulated latency 15-25 ms (uniform, mean 20 ms): long enough that the machine's load
# (other processes on 2 shared cores) moves the figures by a few percent, not tens.
LATENCY = 0.015
JITTER = 0.010
# The default policy's first ceiling (0.5 s) is sized for NetSuite's real latencies
# (hundreds of ms); scaled down with the simulated latency.
POLICY = RetryPolicy(attempts=30, total_seconds=60.0, initial=0.08, maximum=1.28)
SEQUENTIAL_SLEEP = 0.08  # netsuite-php#133's fixed 2 s, scaled like POLICY
SEQUENTIAL_ATTEMPTS = 15
KINDS = ("nswoo", "sequential", "semaphore", "ideal")
LABELS = {
    "nswoo": f"nswoo LocalLimiter({CONFIGURED_CAP}), adaptive",
    "sequential": "naive: sequential, fixed retries",
    "semaphore": f"concurrent Semaphore({CONFIGURED_CAP}), per-call backoff",
    "ideal": f"ideal fixed cap {ACCOUNT_LIMIT} (= true limit)",
}


@attrs.define
class Run:
    """What one client did in one round."""

    sent: int = 0
    rate_limited: int = 0
    sent_late: int = 0
    rate_limited_late: int = 0
    successes: int = 0
    failures: int = 0
    wall: float = 0.0
    latencies: list[float] = attrs.field(factory=list)
    peak_open: int = 0
    mean_cap: float | None = None
    min_cap: int | None = None
    final_cap: int | None = None

    @property
    def rate(self) -> float:
        return self.successes / self.wall if self.wall else 0.0


def world_for(seed: int) -> SimWorld:
    return build_world(
        ns_faults=FaultPlan(seed=seed, latency=LATENCY, jitter=JITTER),
        concurrency_limit=ACCOUNT_LIMIT,
        ns_concurrency=CONFIGURED_CAP,
    )


def simulator_counts(world: SimWorld, first_index: int, run: Run) -> None:
    """Requests and 429s the simulator saw (tokens aside); "late" = past the first 10 %."""
    stats = world.netsuite.stats
    log = [r for r in stats.requests[first_index:] if r.endpoint != "token"]
    late = log[len(log) // 10 :]
    run.sent = len(log)
    run.rate_limited = sum(1 for r in log if r.status == 429)
    run.sent_late = len(late)
    run.rate_limited_late = sum(1 for r in late if r.status == 429)
    run.peak_open = stats.max_in_flight


async def run_pipeline(kind: str, *, workers: int, calls: int, seed: int) -> Run:
    """nswoo, the semaphore client or the ideal: W workers through the real pipeline."""
    world = world_for(seed)
    clock = SystemClock()
    limiter: Limiter
    if kind == "nswoo":
        limiter = LocalLimiter(CONFIGURED_CAP, clock=clock)
    else:
        limiter = FixedLimiter(CONFIGURED_CAP if kind == "semaphore" else ACCOUNT_LIMIT)
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
    run = Run()
    async with client:
        await client.get("customer", world.customer_id)  # token minted, outside the timing
        first_index = len(world.netsuite.stats.requests)
        done = anyio.Event()
        cap_area = 0.0

        async def sample_cap() -> None:
            nonlocal cap_area
            last = time.perf_counter()
            while not done.is_set():
                await anyio.sleep(0.002)
                now = time.perf_counter()
                cap_area += (await limiter.load()).cap * (now - last)
                last = now

        async def worker() -> None:
            for _ in range(calls):
                begun = time.perf_counter()
                try:
                    await client.get("customer", world.customer_id)
                except ApiError:
                    run.failures += 1
                    continue
                run.latencies.append(time.perf_counter() - begun)
                run.successes += 1

        started = time.perf_counter()
        async with anyio.create_task_group() as sampler:
            sampler.start_soon(sample_cap)
            async with anyio.create_task_group() as tg:
                for _ in range(workers):
                    tg.start_soon(worker)
            done.set()
        run.wall = time.perf_counter() - started
    simulator_counts(world, first_index, run)
    if kind == "nswoo":
        stats = limiter.stats()
        run.mean_cap = cap_area / run.wall
        run.min_cap, run.final_cap = stats.min_cap_seen, stats.cap
    return run


async def run_sequential(*, calls: int, seed: int) -> Run:
    """The naive baseline: one request at a time, a 429 retried after a fixed sleep."""
    world = world_for(seed)
    settings = world.ns_settings
    credentials = settings.auth
    assert isinstance(credentials, M2MCredentials)
    url = f"{settings.base_url.rstrip('/')}/services/rest/record/v1/customer/{world.customer_id}"
    run = Run()
    async with httpx.AsyncClient(transport=world.netsuite.transport(), timeout=30.0) as http:
        source = M2MTokenSource(
            credentials, token_url=settings.token_url, http=http, clock=SystemClock()
        )
        token = (await source.fetch_token()).access_token.reveal()
        headers = {"Authorization": f"Bearer {token}"}
        first_index = len(world.netsuite.stats.requests)
        started = time.perf_counter()
        for _ in range(calls):
            begun = time.perf_counter()
            for _attempt in range(SEQUENTIAL_ATTEMPTS):
                response = await http.get(url, headers=headers)
                if response.status_code != 429:
                    break
                await anyio.sleep(SEQUENTIAL_SLEEP)
            if response.status_code == 200:
                run.successes += 1
                run.latencies.append(time.perf_counter() - begun)
            else:
                run.failures += 1
        run.wall = time.perf_counter() - started
    simulator_counts(world, first_index, run)
    return run


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def pooled(runs: list[Run]) -> Run:
    total = Run()
    for run in runs:
        total.sent += run.sent
        total.rate_limited += run.rate_limited
        total.sent_late += run.sent_late
        total.rate_limited_late += run.rate_limited_late
        total.successes += run.successes
        total.failures += run.failures
        total.wall += run.wall
        total.latencies += run.latencies
        total.peak_open = max(total.peak_open, run.peak_open)
    caps = [r.mean_cap for r in runs if r.mean_cap is not None]
    if caps:
        total.mean_cap = sum(c * r.wall for c, r in zip(caps, runs, strict=True)) / total.wall
        total.min_cap = min(r.min_cap for r in runs if r.min_cap is not None)
        total.final_cap = runs[-1].final_cap
    return total


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="about 20 s: 3 smaller rounds")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--calls", type=int, default=None, help="calls per worker")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    logging.getLogger("nswoo").setLevel(logging.ERROR)  # one warning per 429 otherwise
    calls = args.calls or (10 if args.quick else 16)
    rounds = args.rounds or (3 if args.quick else 5)
    sequential_calls = max(50, args.workers * calls // 8)
    load_before = machine_load()

    print(f"machine: {machine()}")
    print(f"load average (1 min) at start: {load_before}")
    print(
        f"limiter convergence: {args.workers} workers x {calls} GETs, {rounds} round(s); "
        f"account limit {ACCOUNT_LIMIT}, configured cap {CONFIGURED_CAP}, latency "
        f"{LATENCY * 1e3:.0f}-{(LATENCY + JITTER) * 1e3:.0f} ms, no Retry-After; nswoo and "
        f"the semaphore back off with full jitter {POLICY.initial * 1e3:.0f} ms doubling to "
        f"{POLICY.maximum * 1e3:.0f} ms; the sequential baseline sends {sequential_calls} "
        f"GETs one at a time, a 429 retried after {SEQUENTIAL_SLEEP * 1e3:.0f} ms, "
        f"{SEQUENTIAL_ATTEMPTS} attempts"
    )
    runs: dict[str, list[Run]] = {kind: [] for kind in KINDS}
    for round_no in range(rounds):
        seed = args.seed + round_no
        for kind in KINDS:
            if kind == "sequential":
                run = await run_sequential(calls=sequential_calls, seed=seed)
            else:
                run = await run_pipeline(kind, workers=args.workers, calls=calls, seed=seed)
            runs[kind].append(run)

    rows = []
    for kind in KINDS:
        t = pooled(runs[kind])
        rows.append(
            [
                LABELS[kind],
                t.sent,
                t.rate_limited,
                f"{share(t.rate_limited, t.sent):.1%}",
                f"{share(t.rate_limited_late, t.sent_late):.1%}",
                f"{t.successes}/{t.failures}",
                f"{t.rate:.0f}",
                f"{percentile(t.latencies, 50) * 1e3:.1f}",
                f"{percentile(t.latencies, 99) * 1e3:.1f}",
                t.peak_open,
                f"{t.mean_cap:.2f}" if t.mean_cap is not None else "-",
                f"{t.min_cap}/{t.final_cap}" if t.min_cap is not None else "-",
            ]
        )
    print()
    print(
        table(
            [
                "client (pooled over rounds)",
                "requests",
                "429s",
                "429 share",
                "429 share after 10%",
                "ok/failed",
                "ok req/s",
                "p50 ms",
                "p99 ms",
                "peak open",
                "mean cap",
                "min/final cap",
            ],
            rows,
        )
    )

    per_round = {
        "nswoo / sequential throughput": [
            n.rate / s.rate for n, s in zip(runs["nswoo"], runs["sequential"], strict=True)
        ],
        "nswoo / ideal throughput": [
            n.rate / i.rate for n, i in zip(runs["nswoo"], runs["ideal"], strict=True)
        ],
        "semaphore / ideal throughput": [
            m.rate / i.rate for m, i in zip(runs["semaphore"], runs["ideal"], strict=True)
        ],
        "nswoo mean cap / account limit": [
            (n.mean_cap or 0.0) / ACCOUNT_LIMIT for n in runs["nswoo"]
        ],
    }
    print()
    print("ratios, each measured within one round (median of the rounds):")
    for name, values in per_round.items():
        listed = " ".join(f"{v:.2f}" for v in values)
        print(f"  {name:<32} {median(values):.2f}   (rounds: {listed})")
    nswoo, semaphore = pooled(runs["nswoo"]), pooled(runs["semaphore"])
    settled = share(nswoo.rate_limited_late, nswoo.sent_late)
    semaphore_settled = share(semaphore.rate_limited_late, semaphore.sent_late)
    print("429 shares once settled (past each round's first 10 %, pooled over rounds):")
    print(f"  nswoo {settled:.2%}, semaphore {semaphore_settled:.2%}, sequential 0 (never over)")
    load_after = machine_load()
    print(f"load average (1 min) at end: {load_after}")
    print(
        json.dumps(
            {
                "workers": args.workers,
                "account_limit": ACCOUNT_LIMIT,
                "configured_cap": CONFIGURED_CAP,
                "rounds": rounds,
                "throughput_vs_sequential": round(
                    median(per_round["nswoo / sequential throughput"]), 2
                ),
                "fraction_of_ideal": round(median(per_round["nswoo / ideal throughput"]), 2),
                "share_429_settled": round(settled, 4),
                "mean_cap_over_limit": round(
                    median(per_round["nswoo mean cap / account limit"]), 2
                ),
                "load": max(load_before, load_after),
            }
        )
    )


if __name__ == "__main__":
    anyio.run(main)
