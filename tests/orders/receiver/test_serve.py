"""`serve` in a real process: SIGTERM while a delivery is in flight still persists it, exit 0."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from tests.orders.receiver._support import STORE, order_body, signed

from nswoo.store.sqlite import SqliteStore

ROOT = Path(__file__).parents[3]
SCRIPT = (
    "import sys, anyio; from functools import partial; "
    "from tests.orders.receiver._serve_main import main; "
    "sys.exit(anyio.run(partial(main, sys.argv[1])))"
)


def start(db: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", SCRIPT, str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip().isdigit(), f"server did not start (exit {proc.poll()})"
    return proc, int(line)


def request_head(body: bytes, port: int) -> bytes:
    lines = [
        "POST /webhooks/woocommerce HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in signed(body, delivery_id="in-flight").items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def inbox_delivery_ids(db: Path) -> list[str]:
    async with await SqliteStore.open(db) as store:
        items = await store.inbox.take(STORE, owner="check", limit=10, lease_seconds=1)
        return [item.delivery_id for item in items]


@pytest.mark.slow
def test_sigterm_with_a_delivery_in_flight_persists_it_and_exits_0(tmp_path: Path) -> None:
    """The worker drains while serving; a delivery half-sent at SIGTERM is stored, exit 0."""
    db = tmp_path / "nswoo.db"
    proc, port = start(db)
    try:
        body = order_body()
        base = f"http://127.0.0.1:{port}"
        first = httpx.post(f"{base}/webhooks/woocommerce", content=body, headers=signed(body))
        assert first.json()["status"] == "accepted"
        deadline = time.monotonic() + 10
        while httpx.get(f"{base}/healthz").json()["inbox_pending"]:  # the worker drains it
            assert time.monotonic() < deadline, "the worker did not drain the inbox"
            time.sleep(0.05)
        half = len(body) // 2
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(request_head(body, port) + body[:half])
            time.sleep(0.3)  # the server is now reading this request's body
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)  # shutdown has begun: no new connections
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            assert proc.poll() is None, "serve exited with a delivery in hand"
            conn.sendall(body[half:])
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert b'"status":"accepted"' in answer
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    (stored,) = anyio.run(inbox_delivery_ids, db)
    assert stored.startswith("in-flight:")
