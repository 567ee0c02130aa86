"""Hostile: a store file deleted, replaced or made unwritable under a running nswoo.

Found by hostile testing: with the SQLite file deleted while `webhooks serve` ran, six
deliveries were answered 200 into the unlinked file and `/healthz` said ok; after a restart
an acknowledged order was gone. Immutable store files ended in SIGBUS with no log line.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
from tests.orders.receiver._support import SECRET, STORE, order_body, serving, signed

from nswoo.errors import StorageError
from nswoo.orders._receiver import WebhookReceiver, asgi_app
from nswoo.store.sqlite import SqliteStore

pytestmark = pytest.mark.anyio

HOOK = "/webhooks/woocommerce"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A SQLite store on a real file, closed after the test."""
    async with await SqliteStore.open(tmp_path / "nswoo.db") as opened:
        yield opened


async def test_a_deleted_store_file_answers_503_and_fails_health(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Once the file is gone no delivery is acknowledged, /healthz is 503, the log names it."""
    receiver = WebhookReceiver(
        store=store, store_name=STORE, secret=SECRET, max_body_bytes=1024 * 1024
    )
    body = order_body()
    async with serving(asgi_app(receiver)) as base, httpx.AsyncClient(base_url=base) as http:
        before = await http.post(HOOK, content=body, headers=signed(body, delivery_id="d-0"))
        healthy = await http.get("/healthz")
        os.remove(store.path)
        with caplog.at_level(logging.ERROR, logger="nswoo"):
            after = [
                await http.post(HOOK, content=body, headers=signed(body, delivery_id=f"d-{n}"))
                for n in range(1, 7)
            ]
            health = await http.get("/healthz")

    assert (before.status_code, healthy.status_code) == (200, 200)
    assert [r.status_code for r in after] == [503] * 6
    assert health.status_code == 503
    assert store.path in caplog.text
    assert "is gone" in caplog.text
    assert not await anyio.Path(store.path).exists(), "no new empty store appears in its place"


async def test_a_file_moved_back_works_again(store: SqliteStore) -> None:
    """The check is on the file itself: moved away it fails, put back it serves again."""
    await store.cursors.set("c", "1")
    moved = store.path + ".moved"
    os.rename(store.path, moved)
    with pytest.raises(StorageError, match="is gone"):
        await store.cursors.set("c", "2")
    os.rename(moved, store.path)

    await store.cursors.set("c", "3")

    assert await store.cursors.get("c") == "3"


async def test_a_replaced_store_file_is_refused(store: SqliteStore, tmp_path: Path) -> None:
    """A different file in the store's place (a restored backup, say) is not written into."""
    await store.inbox.put(STORE, "d-1", topic="order.created", order_id=1, body=b"{}")
    backup = tmp_path / "backup.db"
    shutil.copyfile(store.path, backup)
    os.replace(backup, store.path)

    with pytest.raises(StorageError, match="replaced by another file") as refused:
        await store.inbox.put(STORE, "d-2", topic="order.created", order_id=2, body=b"{}")

    assert store.path in str(refused.value)


def _chattr(flag: str, *paths: Path) -> bool:
    """Set or clear the immutable flag; False where the file system or user cannot."""
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(  # noqa: S603 - a fixed system tool on test files
        ["chattr", flag, *map(str, paths)],  # noqa: S607 - chattr from PATH
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.parametrize("frozen", ["file", "all files", "folder"])
async def test_an_immutable_store_is_refused_at_open(tmp_path: Path, frozen: str) -> None:
    """`chattr +i` on the store (or its folder) fails open with a StorageError naming it."""
    folder = tmp_path / "store"
    folder.mkdir()
    path = folder / "nswoo.db"
    async with await SqliteStore.open(path) as first:
        await first.cursors.set("c", "1")
    if frozen == "all files":
        # What a process killed mid-write leaves beside the store.
        for suffix in ("-wal", "-shm"):
            (folder / f"nswoo.db{suffix}").touch()
    targets = {
        "file": [path],
        "all files": sorted(folder.iterdir()),
        "folder": [folder],
    }[frozen]
    if not _chattr("+i", *targets):
        pytest.skip("chattr +i is not available here (needs root and a supporting file system)")
    try:
        with pytest.raises(StorageError, match="not writable") as refused:
            await SqliteStore.open(path)
    finally:
        _chattr("-i", *targets)

    assert str(folder) in str(refused.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write read-only files")
async def test_a_read_only_store_file_is_refused_at_open(tmp_path: Path) -> None:
    """A store file without write permission fails open, not at the first delivery."""
    path = tmp_path / "nswoo.db"
    async with await SqliteStore.open(path):
        pass
    path.chmod(0o444)
    try:
        with pytest.raises(StorageError, match="not writable"):
            await SqliteStore.open(path)
    finally:
        path.chmod(0o644)
