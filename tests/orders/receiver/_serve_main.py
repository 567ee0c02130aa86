"""Entry point for the `serve` subprocess test: SQLite store, fake order sync, port on stdout."""

from __future__ import annotations

from tests.orders.receiver._support import SECRET, STORE, FakeOrderSync

from nswoo.cli._serve import serve
from nswoo.orders._inbox import InboxWorker
from nswoo.orders._receiver import WebhookReceiver
from nswoo.store.sqlite import SqliteStore


async def main(path: str) -> int:
    """Open the store at `path`, print the bound port once ready, serve until signalled."""
    store = await SqliteStore.open(path)
    async with store:
        receiver = WebhookReceiver(
            store=store, store_name=STORE, secret=SECRET, max_body_bytes=1024 * 1024
        )
        worker = InboxWorker(
            store=store, order_sync=FakeOrderSync(), owner="serve-test", poll_interval=0.05
        )

        def ready(host: str, port: int) -> None:
            print(port, flush=True)

        return await serve(receiver=receiver, worker=worker, host="127.0.0.1", port=0, ready=ready)
