"""The order-import chaos harness: real processes, a hostile sender, a chaos monkey.

Everything nswoo runs as here is a real OS process started with this interpreter
(`python -m nswoo ...`): `webhooks serve` per shop, `orders sync` run again and again. The
simulators run in one more process (`_chaos_server.py`). From the test process:

- a **shopper** places orders in the shops (importable, poison and pending ones) and pays
  some pending ones later;
- a **sender** delivers signed webhooks for them the way WooCommerce does (reference §8:
  the body is the order's REST representation at delivery time, signed with base64
  HMAC-SHA256 of the raw body; delivery ids from the webhook id and the current second,
  so they collide), round-robin over the shops, with duplicates, re-deliveries, misrouted
  deliveries (another shop's receiver: must be 401) and one unsigned ping per receiver;
- a **monkey** SIGKILLs random nswoo processes; keepers restart the receivers;
- once, mid-chaos, production is started on the sandbox's store file (must exit 2).

Then the chaos stops, the system settles (one more `orders sync` per shop, inboxes drained
within a bound), and `check_end_state` compares the simulators' own records (the control
app of `_chaos_server.py`) with what each shop's orders say must be there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import attrs
import httpx

ROOT = Path(__file__).parents[2]
SERVER = Path(__file__).with_name("_chaos_server.py")
ENVS = ("sandbox", "prod")
SHOPS = ("sandbox-main", "sandbox-outlet", "prod-main")
IMPORTED_STATUSES = frozenset({"processing", "on-hold", "completed"})
START_TIMEOUT = 30.0
FINAL_SYNC_SECONDS = 45.0
"""How long a final `orders sync` may take before it counts as stuck: more than nswoo's
30 s wait for an order another worker holds."""
KILLABLE = ("serve ", "sync ")
"""The processes the monkey may kill: receivers and the repeated syncs, not the probes."""
_OURS = ("NS_", "WOO_", "NSWOO_")
# What WooCommerce's webhook requests carry (reference §8); the versions are the simulator's.
_USER_AGENT = "WooCommerce/9.3.3 Hookshot (WordPress/6.6.2)"

Kind = Literal["importable", "unknown_sku", "bad_total", "pending", "late_paid"]
SendKind = Literal["first", "duplicate", "redelivery", "misrouted"]


class ThreadErrors:
    """Failures of the harness's own threads, raised in the test's thread at the end."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.errors: list[str] = []

    def thread(self, target: Any, *args: Any, name: str) -> threading.Thread:
        """A daemon thread running `target(*args)` whose exception is kept, not printed."""

        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:  # any failure: reported by raise_any()
                with self.lock:
                    self.errors.append(f"{name}: {type(exc).__name__}: {exc}")

        return threading.Thread(target=run, name=name, daemon=True)

    def raise_any(self) -> None:
        with self.lock:
            errors = list(self.errors)
        if errors:
            raise AssertionError("the harness itself failed: " + "; ".join(errors))


@attrs.frozen(kw_only=True)
class Scenario:
    """How much chaos, seeded.

    Attributes:
        seed: drives the orders, the sender, the monkey and the simulators' faults.
        importable: importable orders per shop (processing, on-hold or completed).
        unknown_sku: poison orders per shop with a SKU NetSuite does not have.
        bad_total: poison orders per shop whose total does not add up.
        pending: orders per shop left pending (never imported).
        late_paid: orders per shop placed pending and paid during the chaos.
        chaos_seconds: how long orders arrive and processes get killed.
        kill_every: the monkey's pause between kills, drawn uniformly in this range.
        restart_after: how long a killed receiver stays down.
        duplicate: chance a delivery is sent again with the same id and bytes.
        redeliver: chance a delivery is sent again later, new id, body built anew.
        misroute: chance a delivery is also sent to another shop's receiver.
        settle_seconds: how long after the chaos the inboxes may take to drain (at least
            until the final syncs are done).
        netsuite_faults: the NetSuite simulators' fault plan (`nswoo sim --faults` keys).
        woo_faults: the WooCommerce simulators' fault plan.
    """

    seed: int
    importable: int
    unknown_sku: int
    bad_total: int
    pending: int
    late_paid: int
    chaos_seconds: float
    kill_every: tuple[float, float]
    restart_after: tuple[float, float] = (0.2, 1.0)
    duplicate: float = 0.25
    redeliver: float = 0.2
    misroute: float = 0.05
    settle_seconds: float = 30.0
    netsuite_faults: Mapping[str, Any] = attrs.field(factory=dict)
    woo_faults: Mapping[str, Any] = attrs.field(factory=dict)


# ---------------------------------------------------------------------------------------------
# The simulators' process


@attrs.frozen
class World:
    """What `_chaos_server.py` described: URLs, credentials, files and seeded ids."""

    raw: Mapping[str, Any]

    @property
    def control(self) -> str:
        return str(self.raw["control"])

    def shop(self, shop: str) -> Mapping[str, Any]:
        return self.raw["shops"][shop]  # type: ignore[no-any-return]

    def netsuite(self, env: str) -> Mapping[str, Any]:
        return self.raw["netsuite"][env]  # type: ignore[no-any-return]

    @property
    def unknown_sku(self) -> str:
        return str(self.raw["unknown_sku"])


@contextmanager
def running_simulators(scenario: Scenario, directory: Path) -> Iterator[World]:
    """Start the simulators' process, yield what it serves; SIGTERM it on exit."""
    spec = directory / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "seed": scenario.seed,
                "directory": str(directory),
                "netsuite_faults": dict(scenario.netsuite_faults),
                "woo_faults": dict(scenario.woo_faults),
            }
        )
    )
    err = (directory / "simulators.log").open("w")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(SERVER), str(spec)],
        cwd=ROOT,
        env=base_environ(),
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        reader = threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        try:
            first = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            raise AssertionError("the simulators printed nothing in time") from None
        if not first.strip():
            proc.wait(5)
            log = (directory / "simulators.log").read_text()
            raise AssertionError(f"the simulators exited {proc.returncode}: {log}")
        yield World(json.loads(first))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()
        err.close()


class Control:
    """The test's door into the simulators (the control app): shoppers' actions, the truth."""

    def __init__(self, world: World) -> None:
        self._http = httpx.Client(base_url=world.control, timeout=30.0)

    def close(self) -> None:
        self._http.close()

    def _json(self, answer: httpx.Response) -> Any:
        assert answer.status_code in (200, 201), f"control: {answer.status_code} {answer.text}"
        return answer.json()

    def place(self, shop: str, order: Mapping[str, Any]) -> dict[str, Any]:
        return self._json(self._http.post(f"/shops/{shop}/orders", json=dict(order)))  # type: ignore[no-any-return]

    def set_status(self, shop: str, order_id: int, status: str) -> dict[str, Any]:
        answer = self._http.put(f"/shops/{shop}/orders/{order_id}", json={"status": status})
        return self._json(answer)  # type: ignore[no-any-return]

    def order_bytes(self, shop: str, order_id: int) -> bytes:
        """The order's REST body now, as bytes (what WooCommerce signs and sends)."""
        answer = self._http.get(f"/shops/{shop}/orders/{order_id}")
        assert answer.status_code == 200, f"control: {answer.status_code} {answer.text}"
        # WooCommerce sends `trim(wp_json_encode($payload))` (reference §8): compact JSON.
        return json.dumps(answer.json(), separators=(",", ":")).encode()

    def orders(self, shop: str) -> list[dict[str, Any]]:
        return self._json(self._http.get(f"/shops/{shop}/orders"))  # type: ignore[no-any-return]

    def sales_orders(self, env: str) -> list[dict[str, Any]]:
        return self._json(self._http.get(f"/netsuite/{env}/sales-orders"))  # type: ignore[no-any-return]

    def stats(self) -> dict[str, Any]:
        return self._json(self._http.get("/stats"))  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# nswoo processes


def base_environ() -> dict[str, str]:
    """The process environment without any nswoo variable (each process gets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}


def store_url(path: Path) -> str:
    return f"sqlite:///{path}"


def environment(
    world: World,
    shop: str,
    stores: Mapping[str, str],
    *,
    both: bool = True,
) -> dict[str, str]:
    """The variables of a process serving `shop`: its environment points at that shop.

    With `both`, the other environment is configured too (at its `main` shop), as on a
    machine that runs both: every command must pick its own by `--env`.
    """
    env = base_environ()
    own = world.shop(shop)["env"]
    for name in ENVS:
        if name != own and not both:
            continue
        target = shop if name == own else f"{name}-main"
        ns, woo = world.netsuite(name), world.shop(target)
        up = name.upper()
        env.update(
            {
                f"NS_{up}_ACCOUNT_ID": ns["account_id"],
                f"NS_{up}_BASE_URL": ns["url"],
                f"NS_{up}_AUTH": "m2m",
                f"NS_{up}_CLIENT_ID": ns["client_id"],
                f"NS_{up}_CERTIFICATE_ID": ns["certificate_id"],
                f"NS_{up}_PRIVATE_KEY_FILE": ns["key_file"],
                f"NS_{up}_JWT_ALGORITHM": "ES256",
                # Below a slow commit's delay (the scenario's fault plan), so some creates
                # time out after NetSuite committed them.
                f"NS_{up}_TIMEOUT": "3",
                # Several processes share each account's limit of 5 (netsuite.md §5).
                f"NS_{up}_CONCURRENCY": "2",
                f"WOO_{up}_URL": woo["url"],
                f"WOO_{up}_CONSUMER_KEY": woo["consumer_key"],
                f"WOO_{up}_CONSUMER_SECRET": woo["consumer_secret"],
                f"WOO_{up}_WEBHOOK_SECRET": woo["webhook_secret"],
                f"WOO_{up}_TIMEOUT": "5",
                f"NSWOO_{up}_STORE": stores[name],
                f"NSWOO_{up}_CONFIG": woo["config"],
            }
        )
    return env


def nswoo(*args: str) -> list[str]:
    return [sys.executable, "-m", "nswoo", *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@attrs.define
class Run:
    """One finished nswoo process."""

    name: str
    code: int | None
    stdout: str
    stderr: str
    killed: bool
    started: float
    ended: float
    timed_out: float | None = None  # the bound it ran past (then the harness killed it)


class Fleet:
    """Every nswoo process the harness starts: logs, kills, exit codes. Thread-safe."""

    def __init__(self, logs: Path, epoch: float) -> None:
        self.logs = logs
        self.epoch = epoch
        self.lock = threading.Lock()
        self.live: dict[int, tuple[str, subprocess.Popen[str]]] = {}
        self.killed: dict[int, str] = {}  # pid → name, of the processes the harness killed
        self.stuck: dict[int, float] = {}  # pid → the bound it ran past (then stopped)
        self.runs: list[Run] = []
        self.events: list[str] = []
        self.max_live = 0
        self._serial = 0

    def note(self, text: str) -> None:
        with self.lock:
            self.events.append(f"{time.monotonic() - self.epoch:6.2f}s {text}")

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
        with self.lock:
            self._serial += 1
            stem = self.logs / f"{self._serial:03d}-{name.replace(' ', '_')}"
            out, err = stem.with_suffix(".out").open("w+"), stem.with_suffix(".err").open("w+")
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                argv, cwd=ROOT, env=dict(env), stdout=out, stderr=err, text=True
            )
            proc._chaos_files = (out, err, name, time.monotonic())  # type: ignore[attr-defined]
            self.live[proc.pid] = (name, proc)
            self.max_live = max(self.max_live, len(self.live))
        return proc

    def finish(self, proc: subprocess.Popen[str], timeout: float | None = None) -> Run:
        """Wait for `proc` (killed past `timeout`), record and return its run."""
        timed_out = self.stuck.get(proc.pid)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.note(f"{self.name_of(proc)} still running after {timeout:.0f}s: killed")
            timed_out = timeout
            proc.kill()
            proc.wait(10)
        out, err, name, started = proc._chaos_files  # type: ignore[attr-defined]
        out.seek(0)
        err.seek(0)
        run = Run(
            name=name,
            code=proc.returncode,
            stdout=out.read(),
            stderr=err.read(),
            killed=proc.pid in self.killed,
            started=started - self.epoch,
            ended=time.monotonic() - self.epoch,
            timed_out=timed_out,
        )
        out.close()
        err.close()
        with self.lock:
            self.live.pop(proc.pid, None)
            self.runs.append(run)
        return run

    def name_of(self, proc: subprocess.Popen[str]) -> str:
        return str(proc._chaos_files[2])  # type: ignore[attr-defined]

    def kill_one(self, rng: random.Random, prefer: str) -> str | None:
        """SIGKILL one live process chosen by `rng`, one whose name starts with `prefer` if
        any is running (else any killable one); returns its name.
        """
        with self.lock:
            killable = sorted(
                (pid, name)
                for pid, (name, proc) in self.live.items()
                if proc.poll() is None and name.startswith(KILLABLE)
            )
            candidates = [c for c in killable if c[1].startswith(prefer)] or killable
            if not candidates:
                return None
            pid, name = rng.choice(candidates)
            self.killed[pid] = name
            os.kill(pid, signal.SIGKILL)
        self.note(f"SIGKILL {name} (pid {pid})")
        return name

    def kill_all(self) -> None:
        with self.lock:
            procs = [proc for _, proc in self.live.values()]
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for proc in procs:
            self.finish(proc, 10)


class Receiver:
    """One shop's `webhooks serve`, kept running on a fixed port across kills."""

    def __init__(
        self,
        fleet: Fleet,
        shop: str,
        *,
        errors: ThreadErrors,
        env_name: str,
        env: Mapping[str, str],
        rng: random.Random,
        restart_after: tuple[float, float],
    ) -> None:
        self.fleet = fleet
        self.shop = shop
        self.env_name = env_name
        self.env = dict(env)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.rng = rng
        self.stopping = threading.Event()
        self.restart_after = restart_after
        self.proc: subprocess.Popen[str] | None = None
        self.exits: list[Run] = []
        self.thread = errors.thread(self._keep, name=f"keeper {shop}")

    def _spawn(self) -> subprocess.Popen[str]:
        argv = nswoo("webhooks", "serve", "--env", self.env_name, "--port", str(self.port))
        return self.fleet.start(f"serve {self.shop}", argv, self.env)

    def start(self) -> None:
        self.proc = self._spawn()
        self.wait_healthy(START_TIMEOUT)
        self.thread.start()

    def _keep(self) -> None:
        while not self.stopping.is_set():
            proc = self.proc
            assert proc is not None
            while proc.poll() is None and not self.stopping.is_set():
                time.sleep(0.05)
            if self.stopping.is_set():
                return
            self.exits.append(self.fleet.finish(proc))
            time.sleep(self.rng.uniform(*self.restart_after))
            if self.stopping.is_set():
                self.proc = None
                return
            self.fleet.note(f"restart serve {self.shop}")
            self.proc = self._spawn()

    def health(self) -> dict[str, Any] | None:
        try:
            answer = httpx.get(f"{self.url}/healthz", timeout=2.0)
        except httpx.HTTPError:
            return None
        if answer.status_code != 200:
            return None
        health: dict[str, Any] = answer.json()
        return health

    def wait_healthy(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.health()
            if health is not None:
                return health
            proc = self.proc
            if proc is not None and proc.poll() is not None and proc.pid not in self.fleet.killed:
                run = self.fleet.finish(proc)
                raise AssertionError(f"{run.name} exited {run.code}: {run.stderr[-2000:]}")
            time.sleep(0.1)
        raise AssertionError(f"serve {self.shop} not healthy within {timeout}s")

    def stop(self) -> Run | None:
        """Stop restarting; SIGTERM the receiver and return its run (exit code expected 0)."""
        self.stopping.set()
        self.thread.join(10)
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        run = self.fleet.finish(proc, 20)
        self.exits.append(run)
        return run


# ---------------------------------------------------------------------------------------------
# The shoppers


@attrs.frozen
class PlannedOrder:
    shop: str
    kind: Kind
    lines: tuple[tuple[str, int], ...]
    status: str
    shipping_total: str
    skew_total: str | None
    at: float  # seconds into the chaos
    paid_at: float | None = None


def plan_orders(scenario: Scenario, world: World) -> list[PlannedOrder]:
    """The orders each shop takes, in waves: one order per shop per wave, so ids overlap."""
    rng = random.Random(f"{scenario.seed}:orders")
    kinds: dict[str, list[Kind]] = {}
    for shop in SHOPS:
        counts: tuple[tuple[Kind, int], ...] = (
            ("importable", scenario.importable),
            ("unknown_sku", scenario.unknown_sku),
            ("bad_total", scenario.bad_total),
            ("pending", scenario.pending),
            ("late_paid", scenario.late_paid),
        )
        mix = [kind for kind, n in counts for _ in range(n)]
        rng.shuffle(mix)
        kinds[shop] = mix
    waves = max(len(k) for k in kinds.values())
    window = scenario.chaos_seconds * 0.6
    catalog = ("MUG-BLUE", "POSTER-A2", "TEE-RED-M", "TEE-RED-L")
    planned: list[PlannedOrder] = []
    for wave in range(waves):
        at = window * wave / max(1, waves - 1)
        for shop in SHOPS:
            kind = kinds[shop][wave]
            picks = rng.sample(catalog, rng.randint(1, 3))
            lines = [(sku, rng.randint(1, 4)) for sku in picks]
            if kind == "unknown_sku":
                lines.append((world.unknown_sku, 1))
            status = {
                "pending": "pending",
                "late_paid": "pending",
            }.get(kind, rng.choice(("processing", "processing", "on-hold", "completed")))
            planned.append(
                PlannedOrder(
                    shop=shop,
                    kind=kind,
                    lines=tuple(lines),
                    status=status,
                    shipping_total=rng.choice(("0.00", "4.95", "7.50")),
                    skew_total=rng.choice(("5.00", "11.37")) if kind == "bad_total" else None,
                    at=at,
                    paid_at=(
                        rng.uniform(at + 1.0, max(at + 1.5, scenario.chaos_seconds * 0.8))
                        if kind == "late_paid"
                        else None
                    ),
                )
            )
    return planned


# ---------------------------------------------------------------------------------------------
# The sender


@attrs.define
class Delivery:
    shop: str
    order_id: int
    topic: str
    due: float  # monotonic
    delivery_id: str | None = None  # None: a new one at send time
    body: bytes | None = None  # None: the order's state at send time
    target: str | None = None  # another shop's receiver (misrouted); None: its own


@attrs.define
class Sent:
    shop: str
    target: str
    order_id: int
    topic: str
    delivery_id: str
    status: int | None
    error: str | None
    kind: SendKind


class Sender:
    """Delivers webhooks as WooCommerce does, with the faults it is known for (reference §8).

    Never retries a failed delivery (WooCommerce does not). Round-robin over the shops.
    """

    WEBHOOK_IDS: Mapping[str, int] = {"sandbox-main": 11, "sandbox-outlet": 12, "prod-main": 13}

    def __init__(
        self,
        scenario: Scenario,
        world: World,
        control: Control,
        receivers: Mapping[str, Receiver],
        errors: ThreadErrors,
    ) -> None:
        self.scenario = scenario
        self.world = world
        self.control = control
        self.receivers = receivers
        self.rng = random.Random(f"{scenario.seed}:sender")
        self.queues: dict[str, deque[tuple[Delivery, SendKind]]] = {s: deque() for s in SHOPS}
        self._turn = 0
        self.lock = threading.Lock()
        self.sent: list[Sent] = []
        self.pings: dict[str, int | str] = {}
        self.closing = threading.Event()
        self.http = httpx.Client(timeout=15.0)
        self.thread = errors.thread(self._run, name="sender")

    def enqueue(self, delivery: Delivery, kind: SendKind) -> None:
        with self.lock:
            self.queues[delivery.shop].append((delivery, kind))

    def pending(self) -> int:
        with self.lock:
            return sum(len(q) for q in self.queues.values())

    def start(self) -> None:
        for shop, receiver in self.receivers.items():
            # WooCommerce's ping: unsigned, only a User-Agent, body `webhook_id=<id>` (§8).
            try:
                answer = self.http.post(
                    f"{receiver.url}/webhooks/woocommerce",
                    content=f"webhook_id={self.WEBHOOK_IDS[shop]}".encode(),
                    headers={"User-Agent": _USER_AGENT},
                )
                self.pings[shop] = answer.status_code
            except httpx.HTTPError as exc:
                self.pings[shop] = f"{type(exc).__name__}"
        self.thread.start()

    def close(self, timeout: float) -> None:
        """Send what is queued (due or not), then stop."""
        self.closing.set()
        self.thread.join(timeout)
        self.http.close()

    def _next(self) -> tuple[Delivery, SendKind] | None:
        now = time.monotonic()
        with self.lock:
            for _ in range(len(SHOPS)):
                shop = SHOPS[self._turn % len(SHOPS)]
                self._turn += 1
                q = self.queues[shop]
                for position, (delivery, kind) in enumerate(q):
                    if delivery.due <= now or self.closing.is_set():
                        del q[position]
                        return delivery, kind
        return None

    def _run(self) -> None:
        while True:
            picked = self._next()
            if picked is None:
                if self.closing.is_set() and self.pending() == 0:
                    return
                time.sleep(0.02)
                continue
            self._deliver(*picked)

    def _deliver(self, delivery: Delivery, kind: SendKind) -> None:
        shop = delivery.shop
        webhook_id = self.WEBHOOK_IDS[shop]
        body = delivery.body or self.control.order_bytes(shop, delivery.order_id)
        # wp_hash(webhook_id . time()): one id per webhook per second (reference §8), so two
        # deliveries within a second share an id. (wp_hash is an MD5 HMAC; only the shape of
        # the id matters here.)
        second = f"{webhook_id}{int(time.time())}".encode()
        delivery_id = delivery.delivery_id or hashlib.md5(second).hexdigest()  # noqa: S324
        secret = str(self.world.shop(shop)["webhook_secret"]).encode()
        signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
        resource, event = delivery.topic.split(".", 1)
        headers = {
            "User-Agent": _USER_AGENT,
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": f"{self.world.shop(shop)['url']}/",
            "X-WC-Webhook-Topic": delivery.topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature,
            "X-WC-Webhook-ID": str(webhook_id),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }
        target = delivery.target or shop
        status: int | None = None
        error: str | None = None
        try:
            answer = self.http.post(
                f"{self.receivers[target].url}/webhooks/woocommerce", content=body, headers=headers
            )
            status = answer.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        with self.lock:
            self.sent.append(
                Sent(
                    shop,
                    target,
                    delivery.order_id,
                    delivery.topic,
                    delivery_id,
                    status,
                    error,
                    kind,
                )
            )
        if kind in ("duplicate", "misrouted"):
            return
        now = time.monotonic()
        if self.rng.random() < self.scenario.duplicate:
            # The same delivery again (a proxy's retry, a double-fired hook): same id, bytes.
            again = Delivery(shop, delivery.order_id, delivery.topic, now + self.rng.uniform(0, 2))
            again.delivery_id, again.body = delivery_id, body
            self.enqueue(again, "duplicate")
        if self.rng.random() < self.scenario.redeliver:
            # Delivered again later (an admin's resend, a plugin's save): new id, body anew.
            self.enqueue(
                Delivery(shop, delivery.order_id, "order.updated", now + self.rng.uniform(0.5, 4)),
                "redelivery",
            )
        if self.rng.random() < self.scenario.misroute:
            other = self.rng.choice([s for s in SHOPS if s != shop])
            wrong = Delivery(shop, delivery.order_id, delivery.topic, now)
            wrong.delivery_id, wrong.body, wrong.target = delivery_id, body, other
            self.enqueue(wrong, "misrouted")


# ---------------------------------------------------------------------------------------------
# Sync runners, the monkey, the shopper


@attrs.define
class Special:
    """A one-off command a runner runs instead of a sync once `at` seconds have passed."""

    at: float
    name: str
    argv: list[str]
    env: dict[str, str]
    run: Run | None = None


class SyncRunner:
    """Runs `orders sync` again and again for shops picked at random, until stopped.

    Then it runs the `specials` it did not get to, and, once `final_go` is set, the final
    `orders sync` of `final_shop`: after its own last sync, so the settling never runs more
    processes than the chaos did.
    """

    def __init__(
        self,
        fleet: Fleet,
        name: str,
        *,
        errors: ThreadErrors,
        shops: tuple[str, ...],
        environs: Mapping[str, dict[str, str]],
        rng: random.Random,
        final_shop: str,
        specials: list[Special] | None = None,
    ) -> None:
        self.fleet = fleet
        self.final_shop = final_shop
        self.final_go = threading.Event()
        self.final_run: Run | None = None
        self.name = name
        self.shops = shops
        self.environs = environs
        self.rng = rng
        self.specials = specials or []
        self.stopping = threading.Event()
        self.runs: list[tuple[str, Run]] = []
        self.current: subprocess.Popen[str] | None = None
        self.thread = errors.thread(self._loop, name=name)

    def terminate(self, bound: float) -> None:
        """SIGTERM the sync this runner waits for, if any: it ran past `bound` seconds."""
        proc = self.current
        if proc is not None and proc.poll() is None:
            with self.fleet.lock:
                self.fleet.killed[proc.pid] = f"{self.fleet.name_of(proc)} (stopped at the bound)"
                self.fleet.stuck[proc.pid] = bound
            proc.send_signal(signal.SIGTERM)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            due = [
                s
                for s in self.specials
                if s.run is None and time.monotonic() - self.fleet.epoch >= s.at
            ]
            if due:
                special = due[0]
                self.fleet.note(f"{special.name}: start")
                special.run = self.fleet.finish(
                    self.fleet.start(special.name, special.argv, special.env), 120
                )
                self.fleet.note(f"{special.name}: exit {special.run.code}")
                continue
            shop = self.rng.choice(self.shops)
            env = self.environs[shop]
            argv = nswoo("orders", "sync", "--env", env_of(shop), "--json")
            self.current = self.fleet.start(f"sync {shop}", argv, env)
            run = self.fleet.finish(self.current, 120)
            self.current = None
            self.runs.append((shop, run))
            self.stopping.wait(self.rng.uniform(0.05, 0.4))
        for special in self.specials:
            if special.run is None:
                # This runner was busy all the chaos (a sync waiting on a lease): run it now,
                # still before the final syncs.
                self.fleet.note(f"{special.name}: start (after the chaos)")
                special.run = self.fleet.finish(
                    self.fleet.start(special.name, special.argv, special.env), 120
                )
                self.fleet.note(f"{special.name}: exit {special.run.code}")
        if not self.final_go.wait(120):
            return
        shop = self.final_shop
        argv = nswoo("orders", "sync", "--env", env_of(shop), "--json")
        self.current = self.fleet.start(f"final sync {shop}", argv, self.environs[shop])
        self.final_run = self.fleet.finish(self.current, FINAL_SYNC_SECONDS)
        self.current = None


def env_of(shop: str) -> str:
    return shop.split("-", 1)[0]


def monkey(fleet: Fleet, scenario: Scenario, stopping: threading.Event) -> None:
    """SIGKILL a random nswoo process every so often, until `stopping` is set."""
    rng = random.Random(f"{scenario.seed}:monkey")
    kills = 0
    while not stopping.wait(rng.uniform(*scenario.kill_every)):
        # Receivers and syncs in turn, so even a short run kills both kinds.
        fleet.kill_one(rng, KILLABLE[kills % len(KILLABLE)])
        kills += 1


@attrs.define
class Placed:
    plan: PlannedOrder
    order_id: int


def shopper(
    plan: list[PlannedOrder],
    control: Control,
    sender: Sender,
    epoch: float,
    placed: list[Placed],
) -> None:
    """Place the planned orders on time, pay the late ones, queue a delivery for each."""
    events: list[tuple[float, int, PlannedOrder, str]] = []
    for n, order in enumerate(plan):
        events.append((order.at, n, order, "place"))
        if order.paid_at is not None:
            events.append((order.paid_at, n, order, "pay"))
    ids: dict[int, int] = {}
    for at, n, order, action in sorted(events, key=lambda e: (e[0], e[1], e[3] == "pay")):
        pause = epoch + at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        if action == "place":
            body = control.place(
                order.shop,
                {
                    "lines": [list(line) for line in order.lines],
                    "status": order.status,
                    "shipping_total": order.shipping_total,
                    "skew_total": order.skew_total,
                },
            )
            ids[n] = int(body["id"])
            placed.append(Placed(order, ids[n]))
            topic = "order.created"
        else:
            control.set_status(order.shop, ids[n], "processing")
            topic = "order.updated"
        sender.enqueue(Delivery(order.shop, ids[n], topic, time.monotonic()), "first")


# ---------------------------------------------------------------------------------------------
# The whole run


@attrs.define
class Outcome:
    """Everything a chaos run produced, for `_chaos_check.check_end_state`."""

    scenario: Scenario
    world: World
    placed: list[Placed]
    shop_orders: dict[str, list[dict[str, Any]]]
    sales_orders: dict[str, list[dict[str, Any]]]
    dead_letters: dict[str, Run]
    refusals: list[Special]
    final_syncs: dict[str, Run]
    runs: list[Run]
    sent: list[Sent]
    pings: dict[str, int | str]
    inbox_pending: dict[str, int | None]
    serve_stops: dict[str, Run | None]
    stats: dict[str, Any]
    events: list[str]
    max_live: int
    seconds: float
    store_files: dict[str, Path]
    killed: dict[int, str]


def run_chaos(scenario: Scenario, directory: Path) -> Outcome:
    """Run the scenario end to end and collect what the simulators and processes say."""
    started = time.monotonic()
    logs = directory / "logs"
    logs.mkdir()
    stores = {env: store_url(directory / f"{env}.db") for env in ENVS}
    (directory / "alias").symlink_to(directory, target_is_directory=True)
    with running_simulators(scenario, directory) as world:
        control = Control(world)
        errors = ThreadErrors()
        fleet = Fleet(logs, time.monotonic())
        environs = {shop: environment(world, shop, stores) for shop in SHOPS}
        receivers = {
            shop: Receiver(
                fleet,
                shop,
                env_name=env_of(shop),
                env=environs[shop],
                errors=errors,
                rng=random.Random(f"{scenario.seed}:keeper:{shop}"),
                restart_after=scenario.restart_after,
            )
            for shop in SHOPS
        }
        sender = Sender(scenario, world, control, receivers, errors)
        stopping = threading.Event()
        threads: list[threading.Thread] = []
        runners: list[SyncRunner] = []
        placed: list[Placed] = []
        try:
            for receiver in receivers.values():
                receiver.start()
            fleet.epoch = time.monotonic()
            chaos = scenario.chaos_seconds
            refusals = [
                # A machine configured for both: production pointed at the sandbox's store.
                Special(
                    chaos * 0.3,
                    "refused prod on sandbox store (same URL)",
                    nswoo("orders", "sync", "--env", "prod", "--json"),
                    {**environs["prod-main"], "NSWOO_PROD_STORE": stores["sandbox"]},
                ),
                # Production alone, given the sandbox's file under another spelling: only
                # the store itself can tell.
                Special(
                    chaos * 0.55,
                    "refused prod on sandbox store (other spelling)",
                    nswoo("orders", "sync", "--env", "prod", "--json"),
                    environment(
                        world,
                        "prod-main",
                        {"prod": store_url(directory / "alias" / "sandbox.db")},
                        both=False,
                    ),
                ),
            ]
            runners = [
                SyncRunner(
                    fleet,
                    f"sandbox runner {n}",
                    final_shop=final,
                    shops=("sandbox-main", "sandbox-outlet"),
                    environs=environs,
                    errors=errors,
                    rng=random.Random(f"{scenario.seed}:runner:{n}"),
                )
                for n, final in ((1, "sandbox-main"), (2, "sandbox-outlet"))
            ]
            runners.append(
                SyncRunner(
                    fleet,
                    "prod runner",
                    final_shop="prod-main",
                    shops=("prod-main",),
                    environs=environs,
                    errors=errors,
                    rng=random.Random(f"{scenario.seed}:runner:prod"),
                    specials=refusals,
                )
            )
            sender.start()
            for runner in runners:
                runner.thread.start()
            plan = plan_orders(scenario, world)
            threads = [
                errors.thread(shopper, plan, control, sender, fleet.epoch, placed, name="shopper"),
                errors.thread(monkey, fleet, scenario, stopping, name="monkey"),
            ]
            for thread in threads:
                thread.start()
            time.sleep(max(0.0, fleet.epoch + chaos - time.monotonic()))

            # -- settle ---------------------------------------------------------------------
            fleet.note("chaos over: settling")
            stopping.set()
            for thread in threads:
                thread.join(60)
            assert not any(t.is_alive() for t in threads), "shopper or monkey did not stop"
            # The inboxes must drain within `settle_seconds` of the chaos's end (and at the
            # latest when the final syncs are done).
            deadline = time.monotonic() + scenario.settle_seconds
            for runner in runners:
                runner.stopping.set()
            sender.close(60)
            for receiver in receivers.values():
                receiver.wait_healthy(START_TIMEOUT)
            fleet.note("final syncs, each after its runner's last sync")
            for runner in runners:
                runner.final_go.set()
            for runner in runners:
                runner.thread.join(120 + FINAL_SYNC_SECONDS + 30)
                if runner.thread.is_alive():
                    # Its sync never ends: stop it (reported as [settle]).
                    fleet.note(f"{runner.name}: its sync still runs: SIGTERM")
                    runner.terminate(120)
                    runner.thread.join(30)
            final_syncs = {r.final_shop: r.final_run for r in runners if r.final_run is not None}
            deadline = max(deadline, time.monotonic() + 2.0)
            inbox_pending: dict[str, int | None] = {}
            last: dict[str, int | None] = {}
            while True:
                for shop, receiver in receivers.items():
                    health = receiver.health()
                    inbox_pending[shop] = None if health is None else health["inbox_pending"]
                if inbox_pending != last:
                    fleet.note(f"inbox pending: {inbox_pending}")
                    last = dict(inbox_pending)
                if all(n == 0 for n in inbox_pending.values()):
                    break
                if time.monotonic() > deadline:
                    fleet.note(f"inboxes not drained: {inbox_pending}")
                    break
                time.sleep(0.2)
            fleet.note("dead letters")
            dead_letters = {
                shop: fleet.finish(
                    fleet.start(
                        f"dead-letters {shop}",
                        nswoo("orders", "dead-letters", "--env", env_of(shop), "--json"),
                        environs[shop],
                    ),
                    60,
                )
                for shop in SHOPS
            }
            serve_stops = {shop: receiver.stop() for shop, receiver in receivers.items()}
            shop_orders = {shop: control.orders(shop) for shop in SHOPS}
            sales_orders = {env: control.sales_orders(env) for env in ENVS}
            stats = control.stats()
            errors.raise_any()
        finally:
            stopping.set()
            for runner in runners:
                runner.stopping.set()
            for receiver in receivers.values():
                receiver.stopping.set()
            fleet.kill_all()
            if sender.thread.is_alive():
                sender.close(5)
            control.close()
    return Outcome(
        scenario=scenario,
        world=world,
        placed=placed,
        shop_orders=shop_orders,
        sales_orders=sales_orders,
        dead_letters=dead_letters,
        refusals=refusals,
        final_syncs=final_syncs,
        runs=list(fleet.runs),
        sent=list(sender.sent),
        pings=dict(sender.pings),
        inbox_pending=inbox_pending,
        serve_stops=serve_stops,
        stats=stats,
        events=list(fleet.events),
        max_live=fleet.max_live,
        seconds=time.monotonic() - started,
        store_files={env: directory / f"{env}.db" for env in ENVS},
        killed=dict(fleet.killed),
    )
