"""Run `nswoo sim` and the `nswoo` CLI as real processes on loopback, always torn down."""

from __future__ import annotations

import os
import queue
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx

from nswoo import from_env, open_netsuite

ROOT = Path(__file__).parents[2]
API = "/wp-json/wc/v3"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 60.0
_OURS = ("NS_", "WOO_", "NSWOO_")


def base_environ() -> dict[str, str]:
    """The process environment without any nswoo setting (they come from the sim only)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}


def parse_exports(lines: Sequence[str]) -> dict[str, str]:
    """`export NAME=VALUE` lines (values shell-quoted) → `{NAME: VALUE}`."""
    exports: dict[str, str] = {}
    for line in lines:
        if not line.startswith("export "):
            continue
        name, _, value = line.removeprefix("export ").strip().partition("=")
        exports[name] = shlex.split(value)[0] if value else ""
    return exports


def stop(proc: subprocess.Popen[Any], timeout: float = STOP_TIMEOUT) -> int | None:
    """SIGTERM, wait up to `timeout`; kill when it does not exit. Returns the exit code
    it chose itself, or None when it had to be killed.
    """
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        return None


def follow(stream: Any) -> tuple[queue.Queue[str | None], threading.Thread]:
    """Read `stream` line by line on a thread; None marks its end."""
    lines: queue.Queue[str | None] = queue.Queue()
    thread = threading.Thread(target=_pump, args=(stream, lines), daemon=True)
    thread.start()
    return lines, thread


def close_pipes(proc: subprocess.Popen[Any], *readers: threading.Thread) -> None:
    """Let the readers see the end of a stopped process's output, then close its pipes."""
    for reader in readers:
        reader.join(5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


@contextmanager
def running_sim(*extra: str) -> Iterator[dict[str, str]]:
    """Start `nswoo sim`, yield its exported variables; on exit SIGTERM it and assert exit 0.

    When the body fails the process is still stopped (killed if need be) and the body's
    error is what the test reports.
    """
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "nswoo", "sim", *extra],
            cwd=ROOT,
            env=base_environ(),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        lines, reader = follow(proc.stdout)
        try:
            seen: list[str] = []
            deadline = time.monotonic() + START_TIMEOUT
            while not any(line.startswith("export NSWOO_SANDBOX_CONFIG=") for line in seen):
                try:
                    line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise AssertionError("nswoo sim printed no exports in time") from None
                if line is None:
                    err.seek(0)
                    raise AssertionError(f"nswoo sim exited {proc.wait(5)}: {err.read()}")
                seen.append(line)
            exports = parse_exports(seen)
        except BaseException:
            stop(proc)
            close_pipes(proc, reader)
            raise
        try:
            yield exports
        except BaseException:
            stop(proc)
            close_pipes(proc, reader)
            raise
        code = stop(proc)
        close_pipes(proc, reader)
        err.seek(0)
        assert code == 0, f"nswoo sim exited {code} on SIGTERM: {err.read()}"


def cli_environ(exports: Mapping[str, str], store: Path | str) -> dict[str, str]:
    """The environment a CLI process needs: the sim's exports and a SQLite store file."""
    env = base_environ()
    env.update(exports)
    env["NSWOO_SANDBOX_STORE"] = store if isinstance(store, str) else f"sqlite:///{store}"
    return env


def nswoo_command(*args: str) -> list[str]:
    """`python -m nswoo ARGS` with this interpreter."""
    return [sys.executable, "-m", "nswoo", *args]


def run_nswoo(
    env: Mapping[str, str], *args: str, timeout: float = CLI_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run one `nswoo` command to completion (killed past `timeout`)."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        nswoo_command(*args),
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def woo_http(exports: Mapping[str, str]) -> httpx.Client:
    """An httpx client into the served WooCommerce simulator's wc/v3 API, Basic auth."""
    return httpx.Client(
        base_url=exports["WOO_SANDBOX_URL"] + API,
        auth=(exports["WOO_SANDBOX_CONSUMER_KEY"], exports["WOO_SANDBOX_CONSUMER_SECRET"]),
        timeout=10.0,
    )


def product_id(woo: httpx.Client, sku: str) -> int:
    """The id of the product with `sku` in the served store."""
    answer = woo.get("/products", params={"sku": sku})
    answer.raise_for_status()
    found = [p["id"] for p in answer.json() if p["sku"] == sku]
    assert found, f"no product {sku} in the store"
    return int(found[0])


def add_product(woo: httpx.Client, sku: str, price: str = "30.00") -> int:
    """Create a simple product with managed stock; return its id."""
    answer = woo.post(
        "/products",
        json={
            "name": sku,
            "sku": sku,
            "regular_price": price,
            "manage_stock": True,
            "stock_quantity": 50,
        },
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def place_order(
    woo: httpx.Client, lines: Sequence[tuple[int, int]], status: str = "processing"
) -> dict[str, Any]:
    """POST an order (`(product_id, quantity)` lines) as a REST client would; return it."""
    answer = woo.post(
        "/orders",
        json={
            "status": status,
            "line_items": [{"product_id": pid, "quantity": qty} for pid, qty in lines],
        },
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


SALES_ORDERS_BY_WOO_ID = (
    "SELECT custbody_nswoo_woo_order_id AS w, COUNT(*) AS n FROM transaction "
    "GROUP BY custbody_nswoo_woo_order_id"
)


async def _sales_order_counts(exports: Mapping[str, str]) -> dict[str, int]:
    settings = from_env("sandbox", exports)
    assert settings.netsuite is not None
    async with open_netsuite(settings.netsuite) as netsuite:
        rows = [row async for row in netsuite.suiteql(SALES_ORDERS_BY_WOO_ID, booleans=False)]
    return {str(row["w"]): int(row["n"]) for row in rows if row.get("w") not in (None, "")}


def sales_order_counts(exports: Mapping[str, str]) -> dict[str, int]:
    """What the served NetSuite simulator holds, asked over HTTP with nswoo's own client:
    `{WooCommerce order id: number of sales orders carrying it}`.
    """
    return anyio.run(_sales_order_counts, exports)
