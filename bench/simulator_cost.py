"""Do the NetSuite and WooCommerce simulators answer at the same cost per request with
100,000 records as with 1,000?

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

The WooCommerce simulator is measured the same way, with `records_small` and
`records_large` products and orders:

- GET products?sku=<20 SKUs> (nswoo's SKU lookup; the filter searches products and
  variations);
- GET products/<id>; PUT products/<id> with a new `stock_quantity` (the inventory push);
- GET orders/<id>; POST orders with a line by SKU.

The cost of a request is the CPU time this process spends on it (client and simulator:
they share the process), which another process's load moves far less than wall time. Within
a round the sizes take turns every 30 requests, so a disturbance falls on both; a round's
ratio is large / small (1.0: constant cost; the target is at most 1.2), each simulator's
ratio is the median over the rounds, and `cost_ratio` is the worse of the two. The machine's
load average is recorded, and so is the bulk seeding rate (`add_items`), which the
inventory (20,000 SKUs) and reconciliation (1,000,000 SKUs) benchmarks rely on.

    .venv/bin/python bench/simulator_cost.py [--quick]

`--quick` (CI size, under a minute): 1,000 against 20,000 records, 7 rounds of 150 requests.
Full: 1,000 against 100,000 records, 7 rounds of 300 requests, and 1,000,000 items seeded.
Each round starts after a full garbage collection, so garbage left by seeding or by the
other simulator's round is not charged to it.
"""

# SuiteQL here is built from the benchmark's own counters, never from input.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import gc
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

from nswoo.testing import ItemSeed, NetSuiteSimulator, WooSimulator

SO = "/services/rest/record/v1/salesOrder"
CUSTOMERS = "/services/rest/record/v1/customer"
SUITEQL = "/services/rest/query/v1/suiteql"
WOO_FIELD = "custbody_nswoo_woo_order_id"
WOO_API = "/wp-json/wc/v3"
WOO_KEY, WOO_SECRET = "ck_bench", "cs_bench"
BLOCK = 30  # requests per turn; a multiple of both mixes' lengths (6 and 5)


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
    sim: NetSuiteSimulator,
    client: httpx.AsyncClient,
    records: int,
    requests: int,
    salt: str,
    *,
    first: int = 0,
    round_size: int = 0,
) -> float:
    """Send requests `first` .. `first + requests - 1` of the mix; return their CPU seconds."""
    customer = sim._store.records["customer"].__iter__().__next__()
    # Targets spread over the whole data set, by the size of the full round.
    step = max(1, records // (round_size or requests))
    started = time.process_time()
    for n in range(first, first + requests):
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
    return time.process_time() - started


def seed_woo(records: int) -> WooSimulator:
    """A WooCommerce simulator with `records` simple products and orders (one line each)."""
    sim = WooSimulator(consumer_key=WOO_KEY, consumer_secret=WOO_SECRET)
    for n in range(records):
        sim.add_product(f"SKU-{n:07d}", price="5.00", stock_quantity=1_000)
    for n in range(records):
        sim.place_order([(f"SKU-{n:07d}", 1)])
    return sim


async def woo_round(
    sim: WooSimulator,
    client: httpx.AsyncClient,
    records: int,
    requests: int,
    salt: str,
    *,
    first: int = 0,
    round_size: int = 0,
) -> float:
    """Send WooCommerce requests `first` .. `first + requests - 1` of the mix; return their
    CPU seconds."""
    del salt  # every request of the mix can repeat without a conflict
    # Targets spread over the whole data set, by the size of the full round.
    step = max(1, records // (round_size or requests))
    started = time.process_time()
    for n in range(first, first + requests):
        target = (n * step) % records
        sku = f"SKU-{target:07d}"
        kind = n % 5
        if kind == 0:
            skus = ",".join(f"SKU-{(target + k) % records:07d}" for k in range(20))
            response = await client.get("/products", params={"sku": skus, "per_page": 100})
        elif kind == 1:
            response = await client.get(f"/products/{sim.id_for_sku(sku)}")
        elif kind == 2:
            response = await client.put(
                f"/products/{sim.id_for_sku(sku)}", json={"stock_quantity": 500 + n}
            )
        elif kind == 3:
            response = await client.get(f"/orders/{sim.id_for_sku(sku) + records}")
        else:
            body = {"status": "pending", "line_items": [{"sku": sku, "quantity": 1}]}
            response = await client.post("/orders", json=body)
        if response.status_code >= 300:
            raise SystemExit(f"request {n} failed: {response.status_code} {response.text}")
    return time.process_time() - started


async def measure(sizes: dict[str, int], rounds: int, requests: int) -> dict[str, list[float]]:
    """Seed one simulator of each kind per size, then alternate rounds between the sizes.

    Keys are `netsuite-small`, `netsuite-large`, `woo-small`, `woo-large`.
    """
    costs: dict[str, list[float]] = {
        f"{sim}-{name}": [] for sim in ("netsuite", "woo") for name in sizes
    }
    ns = {name: seed(records) for name, records in sizes.items()}
    ns_clients = {}
    for name, sim in ns.items():
        headers = {"Authorization": f"Bearer {sim.mint_token()}", "Prefer": "transient"}
        ns_clients[name] = httpx.AsyncClient(
            transport=sim.transport(), base_url=sim.base_url, headers=headers
        )
    woo = {name: seed_woo(records) for name, records in sizes.items()}
    woo_clients = {
        name: httpx.AsyncClient(
            transport=sim.transport(), base_url=sim.url + WOO_API, auth=(WOO_KEY, WOO_SECRET)
        )
        for name, sim in woo.items()
    }
    try:
        for name, records in sizes.items():  # warm-up: caches, the first query plans
            await one_round(ns[name], ns_clients[name], records, 30, "warm")
            await woo_round(woo[name], woo_clients[name], records, 30, "warm")
        for number in range(rounds):
            # A round is cut into blocks of BLOCK requests, and the sizes take turns block
            # by block: a burst of load from another process, or a garbage collection, falls
            # on both sizes alike instead of on one size's whole round.
            gc.collect()
            totals = dict.fromkeys(costs, 0.0)
            for block, first in enumerate(range(0, requests, BLOCK)):
                order = list(sizes) if (number + block) % 2 == 0 else list(reversed(sizes))
                for name in order:
                    records, salt = sizes[name], f"r{number}"
                    totals[f"netsuite-{name}"] += await one_round(
                        ns[name],
                        ns_clients[name],
                        records,
                        BLOCK,
                        salt,
                        first=first,
                        round_size=requests,
                    )
                    totals[f"woo-{name}"] += await woo_round(
                        woo[name],
                        woo_clients[name],
                        records,
                        BLOCK,
                        salt,
                        first=first,
                        round_size=requests,
                    )
            for key, total in totals.items():
                costs[key].append(total / requests)
    finally:
        for client in [*ns_clients.values(), *woo_clients.values()]:
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
    # Seven rounds: with three, one round disturbed by another process moved the median by
    # up to 20% between two runs on a busy 2-core machine.
    rounds = 7
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
    medians = {key: statistics.median(values) for key, values in costs.items()}
    # Each round's ratio pairs sizes measured side by side; the figure is their median.
    ratios = {
        sim: statistics.median(
            large / small
            for small, large in zip(costs[f"{sim}-small"], costs[f"{sim}-large"], strict=True)
        )
        for sim in ("netsuite", "woo")
    }
    ratio = max(ratios.values())
    rows = [
        [
            sim,
            f"{records:,}",
            " / ".join(f"{value * 1e6:.0f}" for value in costs[f"{sim}-{name}"]),
            f"{medians[f'{sim}-{name}'] * 1e6:.0f}",
        ]
        for sim in ("netsuite", "woo")
        for name, records in (("small", small), ("large", large))
    ]
    print(table(["simulator", "records", "CPU us per request, each round", "median us"], rows))
    load = os.getloadavg()[0]
    print()
    for sim, value in ratios.items():
        print(f"{sim} cost ratio {large:,} / {small:,} records: {value:.2f} (target <= 1.2)")
    print(f"cost ratio (the worse of the two): {ratio:.2f}")
    print(f"bulk seeding: {seed_items:,} items at {rate:,.0f} items/s (add_items)")
    print(f"load average (1 min): {load:.2f}; elapsed {time.perf_counter() - started:.1f} s")
    print(
        json.dumps(
            {
                "records_small": small,
                "records_large": large,
                "cost_ratio": round(ratio, 3),
                "load": round(load, 2),
                "netsuite_cost_ratio": round(ratios["netsuite"], 3),
                "woo_cost_ratio": round(ratios["woo"], 3),
                "us_per_request_small": round(medians["netsuite-small"] * 1e6, 1),
                "us_per_request_large": round(medians["netsuite-large"] * 1e6, 1),
                "woo_us_per_request_small": round(medians["woo-small"] * 1e6, 1),
                "woo_us_per_request_large": round(medians["woo-large"] * 1e6, 1),
                "seed_items_per_s": round(rate),
            }
        )
    )


if __name__ == "__main__":
    main()
