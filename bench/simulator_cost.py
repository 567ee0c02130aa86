"""Does the NetSuite simulator answer at the same cost per request with 100,000 records as
with 1,000?

Every benchmark of nswoo runs against the simulators: if their cost grew with the data (a
linear externalId scan per create, SuiteQL tables without indexes), a figure taken at scale
would measure the simulator, not nswoo. This script seeds two simulators, one with
`records_small` and one with `records_large` customers, items and sales orders, and sends
both the same mix of requests through the in-process transport:

- POST salesOrder with a new externalId (the duplicate check looks the id up);
- GET salesOrder/eid:<externalId> of an existing order;
- SuiteQL: nswoo's sales-order lookup (external id without case, or the custom field),
  its SKU lookup (`itemid IN (...)`), its customer lookup (`LOWER(email) IN (...)`);
- GET customer?q=email IS <address> (record collection filtering).

The cost of a request is the CPU time this process spends on it (client and simulator:
they share the process), which another process's load moves far less than wall time. Rounds
alternate small and large; each size's figure is the median of its rounds, and
`cost_ratio` = large / small (1.0: constant cost; the target is at most 1.2). The machine's
load average is recorded, and so is the bulk seeding rate (`add_items`), which the
inventory (20,000 SKUs) and reconciliation (1,000,000 SKUs) benchmarks rely on.

    .venv/bin/python bench/simulator_cost.py [--quick]

`--quick` (CI size, under a minute): 1,000 against 20,000 records, 3 rounds of 150 requests.
Full: 1,000 against 100,000 records, 5 rounds of 300 requests, and 1,000,000 items seeded.
"""

# SuiteQL here is built from the benchmark's own counters, never from input.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, table

from nswoo.testing import ItemSeed, NetSuiteSimulator

SO = "/services/rest/record/v1/salesOrder"
CUSTOMERS = "/services/rest/record/v1/customer"
SUITEQL = "/services/rest/query/v1/suiteql"
WOO_FIELD = "custbody_nswoo_woo_order_id"


def seed(records: int) -> NetSuiteSimulator:
    """A simulator with `records` items, customers and sales orders (one line each)."""
    sim = NetSuiteSimulator()
    main = sim.add_location("Main")
    items = sim.add_items(
        ItemSeed(itemid=f"SKU-{n:07d}", cost="2.00", on_hand={main: 1_000}) for n in range(records)
    )
    customers = [
        sim.add_customer(company_name=f"Shop {n}", email=f"buyer{n}@example.com")
        for n in range(records)
    ]
    sim.add_sales_orders(
        {
            "entity": {"id": customers[n]},
            "location": {"id": main},
            "externalId": f"woo-main-{n}",
            WOO_FIELD: str(n),
            "item": {"items": [{"item": {"id": items[n]}, "quantity": 1, "rate": 5}]},
        }
        for n in range(records)
    )
    return sim


async def one_round(
    sim: NetSuiteSimulator, client: httpx.AsyncClient, records: int, requests: int, salt: str
) -> float:
    """Send `requests` requests of the mix; return CPU seconds per request."""
    customer = sim._store.records["customer"].__iter__().__next__()
    step = max(1, records // requests)
    started = time.process_time()
    for n in range(requests):
        target = (n * step) % records
        kind = n % 6
        if kind == 0:
            body = {
                "entity": {"id": customer},
                "externalId": f"bench-{salt}-{n}",
                WOO_FIELD: f"{salt}{n}",
                "item": {"items": [{"item": {"id": 100 + target}, "quantity": 1, "rate": 5}]},
            }
            response = await client.post(SO, json=body)
        elif kind == 1:
            response = await client.get(f"{SO}/eid:woo-main-{target}")
        elif kind == 2:
            query = (
                f"SELECT t.id AS id, t.externalid AS externalid, t.{WOO_FIELD} AS woo_order_id"
                " FROM transaction t WHERE t.type = 'SalesOrd' AND (UPPER(t.externalid) IN"
                f" ('WOO-MAIN-{target}', 'WOO-MAIN-{target + 1}') OR (t.{WOO_FIELD} IN"
                f" ('{target}', '{target + 1}') AND (t.externalid IS NULL OR"
                " UPPER(t.externalid) NOT LIKE 'WOO-%'))) ORDER BY t.id"
            )
            response = await client.post(SUITEQL, json={"q": query})
        elif kind == 3:
            skus = ", ".join(f"'SKU-{(target + k) % records:07d}'" for k in range(20))
            query = (
                "SELECT i.id AS id, i.itemid AS value FROM item i WHERE i.isinactive = 'F'"
                f" AND i.itemid IN ({skus}) ORDER BY i.id"
            )
            response = await client.post(SUITEQL, json={"q": query})
        elif kind == 4:
            query = (
                "SELECT c.id AS id, LOWER(c.email) AS email FROM customer c WHERE"
                f" c.isinactive = 'F' AND LOWER(c.email) IN ('buyer{target}@example.com')"
                " ORDER BY c.id"
            )
            response = await client.post(SUITEQL, json={"q": query})
        else:
            response = await client.get(
                CUSTOMERS, params={"q": f"email IS buyer{target}@example.com"}
            )
        if response.status_code >= 300:
            raise SystemExit(f"request {n} failed: {response.status_code} {response.text}")
    return (time.process_time() - started) / requests


async def measure(sizes: dict[str, int], rounds: int, requests: int) -> dict[str, list[float]]:
    """Seed one simulator per size, then alternate rounds between them."""
    sims = {name: seed(records) for name, records in sizes.items()}
    costs: dict[str, list[float]] = {name: [] for name in sizes}
    clients = {}
    for name, sim in sims.items():
        headers = {"Authorization": f"Bearer {sim.mint_token()}", "Prefer": "transient"}
        clients[name] = httpx.AsyncClient(
            transport=sim.transport(), base_url=sim.base_url, headers=headers
        )
    try:
        for name, records in sizes.items():  # warm-up: caches, the first query plans
            await one_round(sims[name], clients[name], records, 30, "warm")
        for number in range(rounds):
            order = list(sizes) if number % 2 == 0 else list(reversed(sizes))
            for name in order:
                costs[name].append(
                    await one_round(sims[name], clients[name], sizes[name], requests, f"r{number}")
                )
    finally:
        for client in clients.values():
            await client.aclose()
    return costs


def seeding_rate(items: int) -> float:
    """Items per second `add_items` seeds (two locations each)."""
    sim = NetSuiteSimulator()
    main, overflow = sim.add_location("Main"), sim.add_location("Overflow")
    started = time.perf_counter()
    sim.add_items(
        ItemSeed(itemid=f"SKU-{n:07d}", cost="1", on_hand={main: n % 50, overflow: 1})
        for n in range(items)
    )
    return items / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI size, under a minute")
    args = parser.parse_args()
    small = 1_000
    large = 20_000 if args.quick else 100_000
    rounds = 3 if args.quick else 5
    requests = 150 if args.quick else 300
    seed_items = 100_000 if args.quick else 1_000_000

    print(f"machine: {machine()}")
    print(
        f"simulator cost: {small:,} vs {large:,} records (items, customers, sales orders);"
        f" {rounds} rounds x {requests} requests per size, alternating; CPU time per request"
    )
    started = time.perf_counter()
    costs = anyio.run(measure, {"small": small, "large": large}, rounds, requests)
    rate = seeding_rate(seed_items)
    medians = {name: statistics.median(values) for name, values in costs.items()}
    ratio = medians["large"] / medians["small"]
    rows = [
        [
            f"{records:,}",
            " / ".join(f"{value * 1e6:.0f}" for value in costs[name]),
            f"{medians[name] * 1e6:.0f}",
        ]
        for name, records in (("small", small), ("large", large))
    ]
    print(table(["records", "CPU us per request, each round", "median us"], rows))
    load = os.getloadavg()[0]
    print()
    print(f"cost ratio {large:,} / {small:,} records: {ratio:.2f} (target <= 1.2)")
    print(f"bulk seeding: {seed_items:,} items at {rate:,.0f} items/s (add_items)")
    print(f"load average (1 min): {load:.2f}; elapsed {time.perf_counter() - started:.1f} s")
    print(
        json.dumps(
            {
                "records_small": small,
                "records_large": large,
                "cost_ratio": round(ratio, 3),
                "load": round(load, 2),
                "us_per_request_small": round(medians["small"] * 1e6, 1),
                "us_per_request_large": round(medians["large"] * 1e6, 1),
                "seed_items_per_s": round(rate),
            }
        )
    )


if __name__ == "__main__":
    main()
