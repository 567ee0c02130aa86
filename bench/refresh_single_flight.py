"""Single-flight token refresh: M callers find the cached token dead at the same moment.

What it measures
    M concurrent callers (default 200) each send one GET through nswoo's real
    `NetSuiteClient` pipeline to the in-process `NetSuiteSimulator` (M2M client credentials:
    a signed ES256 JWT assertion per token request). Before each burst every live access
    token is revoked on the simulator, so the token the client cached (stated
    `expires_in: 3600`) answers 401: the "cached token is a hint" case of DESIGN behaviour 1.
    Simulated latency is 5 ms on every endpoint, the token endpoint included, so the callers
    overlap. The limiter is `UnlimitedLimiter` and the account limit is set above M, so all
    M requests really are in flight together and rate limiting plays no part.

    - nswoo: `BearerAuth`: compare-and-swap invalidation, one refresh under a lock shared by
             every caller (expected: 1 token request per burst).
    - naive: "refresh on every 401", defined below: each caller that gets a 401 drops the
             cached token and fetches a new one itself (expected: about M token requests).

    Printed per auth: token-endpoint requests per burst, 401 answers, total requests, failed
    calls, and the wall time from the burst's start until every caller has its answer
    (median and worst over the bursts). Ratio: naive / nswoo token requests, and wall times.

How to run
    .venv/bin/python bench/refresh_single_flight.py           # ~2 s: 5 bursts of 200
    .venv/bin/python bench/refresh_single_flight.py --quick   # <1 s: 1 burst of 200
    Options: --callers, --bursts, --seed.

Machine
    Printed at start. The figures in bench/README.md come from a 2-core AMD EPYC VM,
    Python 3.11, Linux.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time

import anyio
import attrs
import httpx
from _common import machine, table

from nswoo._clock import Clock, SystemClock
from nswoo._http import Credential, RequestAuth, TokenSource
from nswoo._settings import M2MCredentials, Secret
from nswoo.errors import ApiError
from nswoo.limits._local import UnlimitedLimiter
from nswoo.netsuite import M2MTokenSource, NetSuiteClient, netsuite_auth
from nswoo.testing import FaultPlan, build_world

LATENCY = 0.005


class RefreshOnEvery401:
    """The baseline: a cached bearer token, and a refresh by every caller that saw a 401."""

    def __init__(self, source: TokenSource, clock: Clock) -> None:
        self._source = source
        self._clock = clock
        self._token: tuple[Secret, Credential] | None = None
        self._generation = 0

    async def authorize(self, request: httpx.Request) -> Credential:
        if self._token is None:
            grant = await self._source.fetch_token()
            self._generation += 1
            self._token = (grant.access_token, Credential(self._generation, self._clock.now()))
        value, credential = self._token
        request.headers["Authorization"] = f"Bearer {value.reveal()}"
        return credential

    async def invalidate(self, credential: Credential) -> bool:
        self._token = None  # whatever token failed, and whoever refreshed meanwhile
        return True


@attrs.define
class Burst:
    token_requests: int
    unauthorized: int
    requests: int
    failed: int
    wall: float


async def run(kind: str, *, callers: int, bursts: int, seed: int) -> list[Burst]:
    world = build_world(
        ns_faults=FaultPlan(seed=seed, latency=LATENCY),
        concurrency_limit=callers * 2,
        ns_concurrency=callers * 2,
    )
    clock = SystemClock()
    http = httpx.AsyncClient(transport=world.netsuite.transport(), timeout=30.0)
    auth: RequestAuth
    if kind == "nswoo":
        auth = netsuite_auth(world.ns_settings, http=http, clock=clock)
    else:
        credentials = world.ns_settings.auth
        assert isinstance(credentials, M2MCredentials)
        source = M2MTokenSource(
            credentials, token_url=world.ns_settings.token_url, http=http, clock=clock
        )
        auth = RefreshOnEvery401(source, clock)
    client = NetSuiteClient(
        world.ns_settings,
        http=http,
        limiter=UnlimitedLimiter(),
        auth=auth,
        clock=clock,
        random=random.Random(seed).random,
        owns_http=True,
    )
    sim = world.netsuite
    results = []
    async with client:
        await client.get("customer", world.customer_id)  # a token is cached
        for _ in range(bursts):
            sim.revoke_access_tokens()  # the cached token now dies on first use
            first = len(sim.stats.requests)
            failed = 0

            async def call() -> None:
                nonlocal failed
                try:
                    await client.get("customer", world.customer_id)
                except ApiError:
                    failed += 1

            started = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for _ in range(callers):
                    tg.start_soon(call)
            wall = time.perf_counter() - started
            log = sim.stats.requests[first:]
            results.append(
                Burst(
                    token_requests=sum(1 for r in log if r.endpoint == "token"),
                    unauthorized=sum(1 for r in log if r.status == 401),
                    requests=len(log),
                    failed=failed,
                    wall=wall,
                )
            )
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one burst")
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument("--bursts", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    logging.getLogger("nswoo").setLevel(logging.ERROR)  # one line per 401 otherwise
    bursts = args.bursts or (1 if args.quick else 5)

    print(f"machine: {machine()}")
    print(
        f"single-flight refresh: {args.callers} concurrent callers x {bursts} burst(s), "
        f"every access token revoked before each burst, {LATENCY * 1e3:.0f} ms latency "
        "on every endpoint, no limiter"
    )
    labels = {
        "nswoo": "nswoo BearerAuth (single flight)",
        "naive": "naive refresh on every 401",
    }
    outcome = {}
    for kind in ("nswoo", "naive"):
        outcome[kind] = await run(kind, callers=args.callers, bursts=bursts, seed=args.seed)
    rows = []
    for kind, runs in outcome.items():
        walls = [b.wall * 1e3 for b in runs]
        rows.append(
            [
                labels[kind],
                "/".join(str(b.token_requests) for b in runs),
                "/".join(str(b.unauthorized) for b in runs),
                "/".join(str(b.requests) for b in runs),
                sum(b.failed for b in runs),
                f"{statistics.median(walls):.1f}",
                f"{max(walls):.1f}",
            ]
        )
    print()
    print(
        table(
            [
                "auth",
                "token requests per burst",
                "401s per burst",
                "requests per burst",
                "failed calls",
                "recover median ms",
                "recover worst ms",
            ],
            rows,
        )
    )
    nswoo, naive = outcome["nswoo"], outcome["naive"]
    tokens_nswoo = sum(b.token_requests for b in nswoo)
    tokens_naive = sum(b.token_requests for b in naive)
    wall_nswoo = statistics.median(b.wall for b in nswoo)
    wall_naive = statistics.median(b.wall for b in naive)
    print()
    print("ratios:")
    print(
        f"  naive / nswoo token requests: {tokens_naive} / {tokens_nswoo} = "
        f"{tokens_naive / tokens_nswoo:.0f}"
        if tokens_nswoo
        else f"  naive / nswoo token requests: {tokens_naive} / 0"
    )
    print(f"  nswoo token requests per burst: {tokens_nswoo / len(nswoo):.2f} (expected 1)")
    print(f"  naive / nswoo recovery wall time (median): {wall_naive / wall_nswoo:.2f}")


if __name__ == "__main__":
    anyio.run(main)
