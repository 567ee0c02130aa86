"""A worker process killed mid-import frees its claims and inbox leases at once (real processes).

A child process claims an order and leases an inbox item on a real SQLite file under the
owner id the workers use (`default_owner`, `host:pid`), then is SIGKILLed: it can neither
link, release nor finish. Another process must get both right away, not after the lease.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nswoo.store import Busy, Claimed
from nswoo.store._liveness import owner_is_gone
from nswoo.store.sqlite import SqliteStore

pytestmark = pytest.mark.anyio

LEASE = 300.0

# The child: claim order 5009, lease the one inbox item, say so, then hang as if mid-import.
CHILD = """
import sys, time, anyio
from nswoo.orders._sync import default_owner
from nswoo.store import Claimed
from nswoo.store.sqlite import SqliteStore

async def main() -> None:
    owner = default_owner()
    async with await SqliteStore.open(sys.argv[1]) as store:
        claim = await store.order_links.claim("main", 5009, owner=owner, lease_seconds=300)
        items = await store.inbox.take("main", owner=owner, limit=10, lease_seconds=300)
        assert isinstance(claim, Claimed) and len(items) == 1
        print(owner, flush=True)
        time.sleep(600)

anyio.run(main)
"""


def start_child(path: Path) -> tuple[subprocess.Popen[str], str]:
    """The child, once it holds both leases, and its owner id."""
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    owner = child.stdout.readline().strip()
    if not owner:
        child.kill()
        _, err = child.communicate(timeout=10)
        pytest.fail(f"the child did not take its leases: {err[-2000:]}")
    return child, owner


async def test_a_killed_workers_claim_and_inbox_lease_are_taken_at_once(tmp_path: Path) -> None:
    """After SIGKILL, another process claims the order and takes the item within seconds."""
    path = tmp_path / "nswoo.db"
    async with await SqliteStore.open(path) as store:
        await store.inbox.put("main", "d-1", topic="order.created", order_id=5009, body=b"{}")
    child, owner = start_child(path)
    try:
        async with await SqliteStore.open(path) as store:
            busy_claim = await store.order_links.claim(
                "main", 5009, owner="survivor", lease_seconds=LEASE
            )
            busy_items = await store.inbox.take(
                "main", owner="survivor", limit=10, lease_seconds=LEASE
            )
            alive = owner_is_gone(owner)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)  # reaped: a zombie still exists to kill(pid, 0)
    killed_at = time.time()

    async with await SqliteStore.open(path) as store:
        claim = await store.order_links.claim("main", 5009, owner="survivor", lease_seconds=LEASE)
        items = await store.inbox.take("main", owner="survivor", limit=10, lease_seconds=LEASE)
        held = await store.order_links.lease("main", 5009)
    waited = time.time() - killed_at

    assert busy_claim == Busy(owner=owner, expires_at=busy_claim.expires_at)  # held while alive
    assert busy_items == []
    assert not alive
    assert isinstance(claim, Claimed)
    assert claim.lease.taken_over_from == owner  # so the survivor looks in NetSuite first
    assert [i.order_id for i in items] == [5009]
    assert items[0].attempts == 2
    assert held is not None
    assert held.owner == "survivor"
    assert waited < 30  # well before the dead worker's 300 s lease would have ended


def test_liveness_answers_gone_only_when_certain() -> None:
    """Gone: a reaped pid of this host. Alive (unknown): this process, another host, junk."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    host = socket.gethostname()

    assert owner_is_gone(f"{host}:{child.pid}")
    assert not owner_is_gone(f"{host}:{os.getpid()}")
    assert not owner_is_gone(f"another-{host}:{child.pid}")
    assert not owner_is_gone(f"{host}:0")
    assert not owner_is_gone("worker-1")
    assert not owner_is_gone(f"{host}:not-a-pid")
    assert not owner_is_gone(f"{host}:1")  # init exists (PermissionError or not): alive
