"""The chaos test's verdict: the simulators' records against what each shop's orders demand.

`check_end_state` reads only the simulators' own records (every sales order in each NetSuite
account, every order in each shop) and what nswoo's CLI reports about its dead letters, and
returns one line per broken invariant, tagged with the invariant:

- `[refusal]` production opened on the sandbox's store must exit 2 naming the variable;
- `[missing]`, `[duplicate]`, `[wrong]` exactly one correct sales order per importable
  order, per shop, per environment (right `externalId` `woo-<store>-<id>`, custom field,
  customer, items, quantities, amounts, total of *that* shop's order);
- `[stray]` no other sales order: none for another shop's or environment's order, none for
  a poison or pending order;
- `[dead-letter]` every poison order dead-lettered with its reason, nothing else;
- `[lost]` no order in an imported status that is neither imported nor dead-lettered;
- `[inbox]` the inboxes drained within the settling bound;
- `[process]` no traceback, no unexpected exit code, receivers exit 0 on SIGTERM;
- `[settle]` the settling commands finish within their bound;
- `[receiver]` every well-signed delivery answered 200 while the receiver was up, every
  misrouted one 401, every ping 200.

`scenario_problems` says whether the run was the hostile one it claims to be (both kinds of
process killed, order ids shared by the shops, the refusal attempts made), so the test
cannot pass vacuously.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import closing
from decimal import Decimal
from typing import Any

from tests.hostile._chaos import ENVS, IMPORTED_STATUSES, SHOPS, Outcome, Run, env_of

MAX_SHOWN = 80
_POISON = {"unknown_sku", "bad_total"}
_TRACEBACK = "Traceback (most recent call last)"

Line = tuple[int, Decimal, Decimal]


def _key(store: str, order_id: int) -> str:
    return f"woo-{store}-{order_id}"


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def expected_lines(order: Mapping[str, Any], netsuite: Mapping[str, Any]) -> Counter[Line]:
    """(item id, quantity, amount) of the sales order `order` must become.

    The shops' configs set `shipping_item`, no discount, fee or tax item (tax rate 0): one
    line per WooCommerce line at its total, one shipping line when shipping was charged.
    """
    items = netsuite["items"]
    lines: Counter[Line] = Counter()
    for line in order["line_items"]:
        item = int(items.get(line["sku"], 0))  # 0: a SKU NetSuite lacks (no line can match)
        lines[(item, _decimal(line["quantity"]), _decimal(line["total"]))] += 1
    shipping = _decimal(order["shipping_total"])
    if shipping:
        lines[(int(netsuite["shipping_item"]), Decimal(1), shipping)] += 1
    return lines


def actual_lines(sales_order: Mapping[str, Any]) -> Counter[Line]:
    lines: Counter[Line] = Counter()
    for line in sales_order.get("item", {}).get("items", []):
        lines[
            (int(line["item"]["id"]), _decimal(line.get("quantity")), _decimal(line.get("amount")))
        ] += 1
    return lines


def _differences(
    sales_order: Mapping[str, Any],
    order: Mapping[str, Any],
    store: str,
    netsuite: Mapping[str, Any],
) -> list[str]:
    wrong = []
    if sales_order.get("externalId") != _key(store, order["id"]):
        wrong.append(f"externalId {sales_order.get('externalId')!r}")
    if sales_order.get("custbody_nswoo_woo_order_id") != str(order["id"]):
        wrong.append(f"custom field {sales_order.get('custbody_nswoo_woo_order_id')!r}")
    entity = sales_order.get("entity", {}).get("id")
    if str(entity) != str(netsuite["customer"]):
        wrong.append(f"customer {entity!r}, expected {netsuite['customer']}")
    want, got = expected_lines(order, netsuite), actual_lines(sales_order)
    if want != got:
        wrong.append(f"lines {sorted(got.elements())} expected {sorted(want.elements())}")
    total = _decimal(order["total"]) - _decimal(order["total_tax"])
    if _decimal(sales_order.get("total")) != total:
        wrong.append(f"total {sales_order.get('total')} expected {total}")
    return wrong


def _letters(run: Run) -> dict[int, str] | str:
    """`orders dead-letters --json` → {order id: reason}, or why it could not be read."""
    if run.code != 0:
        return f"exit {run.code}: {(run.stdout + run.stderr)[-500:]}"
    try:
        return {
            int(d["order_id"]): str(d["reason"]) for d in json.loads(run.stdout)["dead_letters"]
        }
    except (ValueError, KeyError, TypeError) as exc:
        return f"unreadable output ({exc}): {run.stdout[-500:]}"


def check_end_state(outcome: Outcome) -> list[str]:
    """Every broken invariant, one tagged line each (empty: the end state is right)."""
    problems: list[str] = []
    problems += _refusals(outcome)
    leases = Leases(outcome)
    kinds = {(p.plan.shop, p.order_id): p.plan.kind for p in outcome.placed}
    letters = {shop: _letters(run) for shop, run in outcome.dead_letters.items()}
    for shop, listed in letters.items():
        if isinstance(listed, str):
            problems.append(f"[dead-letter] {shop}: `orders dead-letters --json` failed: {listed}")
    for env in ENVS:
        netsuite = outcome.world.netsuite(env)
        by_key: dict[str, list[dict[str, Any]]] = {}
        for sales_order in outcome.sales_orders[env]:
            by_key.setdefault(str(sales_order.get("externalId", "")).lower(), []).append(
                sales_order
            )
        expected: set[str] = set()
        for shop in (s for s in SHOPS if env_of(s) == env):
            store = outcome.world.shop(shop)["store"]
            listed = letters[shop]
            # Unreadable: reported once above; the checks that need it are left out.
            readable = isinstance(listed, dict)
            shop_letters = listed if isinstance(listed, dict) else {}
            for order in outcome.shop_orders[shop]:
                order_id, status = int(order["id"]), order["status"]
                kind = kinds.get((shop, order_id), "unplanned")
                key = _key(store, order_id)
                found = by_key.get(key, [])
                where = f"{env} {shop} order {order_id} ({kind}, {status})"
                letter = shop_letters.get(order_id)
                if status in IMPORTED_STATUSES and kind not in _POISON:
                    expected.add(key)
                    if not found:
                        problems.append(
                            f"[missing] {where}: no sales order"
                            + (f"; dead-lettered instead: {letter}" if letter else "")
                            + leases.explain(env, store, order_id)
                        )
                    elif len(found) > 1:
                        ids = [so["id"] for so in found]
                        problems.append(f"[duplicate] {where}: {len(found)} sales orders {ids}")
                    for sales_order in found:
                        wrong = _differences(sales_order, order, store, netsuite)
                        if wrong:
                            problems.append(
                                f"[wrong] {where}: sales order {sales_order['id']}: "
                                + "; ".join(wrong)
                                + _whose(outcome, env, sales_order)
                            )
                    if letter is not None and found:
                        problems.append(f"[dead-letter] {where}: imported but still dead-lettered")
                elif not readable:
                    pass
                elif kind in _POISON and status in IMPORTED_STATUSES:
                    if letter is None:
                        problems.append(
                            f"[dead-letter] {where}: not dead-lettered"
                            + (f" (sales order {[s['id'] for s in found]})" if found else "")
                        )
                    elif not _reason_fits(kind, letter, outcome.world.unknown_sku):
                        problems.append(f"[dead-letter] {where}: reason does not say why: {letter}")
                elif letter is not None:
                    problems.append(f"[dead-letter] {where}: not importable, yet dead-lettered")
                if status in IMPORTED_STATUSES and not found and letter is None and readable:
                    problems.append(
                        f"[lost] {where}: neither imported nor dead-lettered"
                        + leases.explain(env, store, order_id)
                    )
        for key, held in sorted(by_key.items()):
            if key in expected:
                continue
            for sales_order in held:
                problems.append(
                    f"[stray] {env}: sales order {sales_order['id']} {key or '(no externalId)'}: "
                    + _stray_reason(outcome, env, key, kinds)
                    + _whose(outcome, env, sales_order)
                )
    for shop, pending in outcome.inbox_pending.items():
        if pending != 0:
            problems.append(
                f"[inbox] {shop}: "
                + ("/healthz unanswered" if pending is None else f"{pending} item(s) pending")
                + f" after {outcome.scenario.settle_seconds:.0f}s of settling"
                + leases.explain_inbox(env_of(shop), outcome.world.shop(shop)["store"])
            )
    problems += _processes(outcome, leases)
    problems += _receivers(outcome)
    return problems


class Leases:
    """Diagnosis only (never the verdict): what nswoo's own store files say is held, and by
    which of the processes the harness killed.

    Best effort: the store's tables are nswoo's internals, so any surprise gives no
    diagnosis rather than an error.
    """

    def __init__(self, outcome: Outcome) -> None:
        self.killed = outcome.killed
        self.links: dict[tuple[str, str, int], tuple[str, float]] = {}
        self.inbox: dict[str, list[tuple[str, int, str, float]]] = {}
        for env, path in outcome.store_files.items():
            try:
                with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                    for store, order_id, owner, expires in db.execute(
                        "SELECT store, order_id, lease_owner, lease_expires FROM order_links "
                        "WHERE sales_order_id IS NULL AND lease_owner IS NOT NULL"
                    ):
                        self.links[(env, str(store), int(order_id))] = (str(owner), float(expires))
                    self.inbox[env] = [
                        (str(store), int(order_id or 0), str(owner), float(expires or 0))
                        for store, order_id, owner, expires in db.execute(
                            "SELECT store, order_id, lease_owner, lease_expires FROM inbox "
                            "WHERE done_at IS NULL"
                        )
                    ]
            except (sqlite3.Error, TypeError, ValueError):
                continue

    def _owner(self, owner: str, expires: float) -> str:
        pid = owner.rsplit(":", 1)[-1]
        who = self.killed.get(int(pid)) if pid.isdigit() else None
        left = expires - time.time()
        whose = f"{who}, killed by the harness" if who else "a process not killed"
        lease = f"lease ends in {left:.0f}s" if left > 0 else "lease lapsed"
        return f"{owner} ({whose}), {lease}"

    def explain(self, env: str, store: str, order_id: int) -> str:
        held = self.links.get((env, store, order_id))
        return f" [store: claimed by {self._owner(*held)}]" if held else ""

    def explain_claims(self, name: str) -> str:
        """The claims in the store of the process `name` (its shop's) held by killed ones."""
        shop = name.rsplit(" ", 1)[-1]
        if shop not in SHOPS:
            return ""
        env = env_of(shop)
        held = [
            f"{store} order {order_id} by {self._owner(owner, expires)}"
            for (e, store, order_id), (owner, expires) in sorted(self.links.items())
            if e == env
            and owner.rsplit(":", 1)[-1].isdigit()
            and int(owner.rsplit(":", 1)[-1]) in self.killed
        ]
        return f" [store: claims held: {'; '.join(held[:5])}]" if held else ""

    def explain_inbox(self, env: str, store: str) -> str:
        items = [item for item in self.inbox.get(env, []) if item[0] == store]
        if not items:
            return ""
        shown = [
            f"{store} order {order_id} leased to {self._owner(owner, expires)}"
            if owner != "None"
            else f"{store} order {order_id} not leased"
            for store, order_id, owner, expires in items[:5]
        ]
        return " [store: " + "; ".join(shown) + "]"


def _reason_fits(kind: str, reason: str, unknown_sku: str) -> bool:
    if kind == "unknown_sku":
        return unknown_sku in reason
    return "total" in reason.lower()


def _stray_reason(outcome: Outcome, env: str, key: str, kinds: Mapping[Any, str]) -> str:
    for shop in SHOPS:
        store = outcome.world.shop(shop)["store"]
        for order in outcome.shop_orders[shop]:
            if _key(store, order["id"]) != key:
                continue
            if env_of(shop) != env:
                continue
            kind = kinds.get((shop, order["id"]), "unplanned")
            return f"for {shop} order {order['id']}, {kind} and {order['status']}: must not exist"
    return "matches no order of this environment's shops (another shop's or environment's?)"


def _whose(outcome: Outcome, env: str, sales_order: Mapping[str, Any]) -> str:
    """Which shops' orders (of any environment) a sales order's lines are those of."""
    got = actual_lines(sales_order)
    owners = [
        f"{shop} order {order['id']}"
        for shop in SHOPS
        for order in outcome.shop_orders[shop]
        if expected_lines(order, outcome.world.netsuite(env)) == got
    ]
    return f" (its lines are those of {', '.join(owners)})" if owners else ""


def _refusals(outcome: Outcome) -> list[str]:
    problems = []
    for special in outcome.refusals:
        run = special.run
        if run is None:
            problems.append(f"[refusal] {special.name}: never ran")
            continue
        said = run.stdout + run.stderr
        if run.code != 2:
            problems.append(
                f"[refusal] {special.name}: exit {run.code}, expected 2 (startup refused): "
                f"{said.strip()[-400:]}"
            )
        elif "NSWOO_PROD_STORE" not in said:
            problems.append(
                f"[refusal] {special.name}: exit 2 but the message does not name "
                f"NSWOO_PROD_STORE: {said.strip()[-400:]}"
            )
        if _TRACEBACK in said:
            problems.append(f"[refusal] {special.name}: printed a traceback")
    return problems


def _processes(outcome: Outcome, leases: Leases) -> list[str]:
    problems = []
    for run in outcome.runs:
        if _TRACEBACK in run.stdout + run.stderr:
            tail = run.stderr[run.stderr.rfind(_TRACEBACK) :][-800:]
            problems.append(f"[process] {run.name} printed a traceback: {tail}")
        if run.timed_out is not None:
            problems.append(
                f"[settle] {run.name} still ran {run.timed_out:.0f}s into the settling, "
                f"stopped at {run.ended:.1f}s{leases.explain_claims(run.name)}"
            )
            continue
        if run.killed:
            continue
        kind = run.name.split(" ", 1)[0]
        ok = {"sync": (0, 3), "final": (0, 3), "dead-letters": (0,), "serve": (0,)}.get(kind)
        if ok is not None and run.code not in ok:
            problems.append(
                f"[process] {run.name} exited {run.code} at {run.ended:.1f}s (expected "
                f"{' or '.join(map(str, ok))}): {(run.stdout + run.stderr).strip()[-600:]}"
            )
    for shop, stop in outcome.serve_stops.items():
        if stop is None:
            problems.append(f"[process] serve {shop} was not running at the end")
    return problems


def _receivers(outcome: Outcome) -> list[str]:
    problems = []
    for shop, status in outcome.pings.items():
        if status != 200:
            problems.append(f"[receiver] {shop}: ping answered {status}, expected 200")
    bad: Counter[str] = Counter()
    for sent in outcome.sent:
        if sent.status is None:
            continue  # the receiver was down (killed): WooCommerce counts a failure, polls cover
        if sent.kind == "misrouted":
            if sent.status != 401:
                bad[
                    f"{sent.shop} delivery sent to {sent.target} answered {sent.status}, "
                    "expected 401 (another shop's signature)"
                ] += 1
        elif sent.status != 200:
            bad[f"{sent.shop} {sent.kind} {sent.topic} answered {sent.status}"] += 1
    problems += [f"[receiver] {text} (x{n})" for text, n in sorted(bad.items())]
    return problems


def scenario_problems(outcome: Outcome) -> list[str]:
    """Why this run was not the hostile scenario it claims to be (empty: it was)."""
    problems = []
    killed = [run.name for run in outcome.runs if run.killed]
    for kind in ("serve", "sync"):
        if not any(name.startswith(kind) for name in killed):
            problems.append(f"no {kind} process was killed")
    ids = {shop: {int(o["id"]) for o in orders} for shop, orders in outcome.shop_orders.items()}
    if not ids["sandbox-main"] & ids["sandbox-outlet"]:
        problems.append("the two sandbox shops share no order id")
    for special in outcome.refusals:
        if special.run is None:
            problems.append(f"{special.name} never ran")
    if not any(s.status == 200 and s.kind == "first" for s in outcome.sent):
        problems.append("no webhook delivery was accepted")
    if not any(r.name.startswith("sync ") and not r.killed for r in outcome.runs):
        problems.append("no `orders sync` ran to its end during the chaos")
    injected = sum(
        n
        for side in outcome.stats.values()
        for status, n in side["by_status"].items()
        if status not in {"200", "201", "204", "401"}
    )
    if not injected:
        problems.append("the simulators injected no fault (no 429, 5xx or reset)")
    if outcome.max_live > 6:
        problems.append(f"{outcome.max_live} nswoo processes ran at once (at most 6 wanted)")
    return problems


def summary(outcome: Outcome) -> str:
    """A few lines on what the run did: counts, kills, faults, deliveries."""
    runs: Counter[str] = Counter()
    for run in outcome.runs:
        runs[f"{run.name.split(' ', 1)[0]} {'killed' if run.killed else run.code}"] += 1
    sent = Counter(f"{s.kind}:{s.status or s.error}" for s in outcome.sent)
    faults = {
        name: {
            **{k: v for k, v in side["by_status"].items() if k not in {"200", "201", "204"}},
            **{k: v for k, v in side.get("outcomes", {}).items() if k != "answered"},
        }
        for name, side in outcome.stats.items()
    }
    orders = Counter(f"{p.plan.shop}:{p.plan.kind}" for p in outcome.placed)
    lines = [
        f"{outcome.seconds:.1f}s, seed {outcome.scenario.seed}, "
        f"{outcome.max_live} nswoo processes at most at once",
        f"orders placed: {dict(sorted(orders.items()))}",
        f"sales orders: { {env: len(sos) for env, sos in outcome.sales_orders.items()} }",
        f"processes: {dict(sorted(runs.items()))}",
        f"deliveries: {dict(sorted(sent.items()))}",
        f"faults answered by the simulators: {faults}",
    ]
    return "\n".join(lines)


def report(outcome: Outcome, problems: Iterable[str]) -> str:
    """The failure message: the broken invariants, then the run's summary and timeline."""
    shown = list(problems)
    head = shown[:MAX_SHOWN]
    more = len(shown) - len(head)
    counts = Counter(p.split("]", 1)[0] + "]" for p in shown)
    return "\n".join(
        [
            f"{len(shown)} broken invariant(s): {dict(sorted(counts.items()))}",
            *head,
            *([f"... and {more} more"] if more else []),
            "--- run",
            summary(outcome),
            "--- timeline",
            *outcome.events,
        ]
    )
