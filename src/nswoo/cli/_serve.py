"""`nswoo webhooks serve`: the receiver under uvicorn and the inbox worker, in one process.

Shutdown (DESIGN behaviour 4): on SIGTERM or SIGINT the server stops accepting connections,
finishes the deliveries in hand (uvicorn's graceful shutdown: a request being received is
read, persisted and answered), the worker finishes its current batch, and `serve` returns
0. What is already persisted in the inbox waits for the next start. A second signal stops
at once; nothing acknowledged is lost then either, because every 200 was stored first and
unfinished inbox items are taken again when their leases expire.

uvicorn is the optional `server` extra (`pip install 'nswoo[server]'`) and runs on asyncio.
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio

from ..orders._inbox import InboxWorker
from ..orders._receiver import WebhookReceiver, asgi_app

__all__ = ["serve"]

_log = logging.getLogger("nswoo.webhooks")


async def serve(
    *,
    receiver: WebhookReceiver,
    worker: InboxWorker,
    host: str,
    port: int,
    ready: Callable[[str, int], object] | None = None,
) -> int:
    """Serve the receiver on `host:port` and drain the inbox until SIGTERM or SIGINT.

    Args:
        receiver: answers `POST /webhooks/woocommerce` and `GET /healthz`.
        worker: imports what the receiver persisted.
        host: the address to listen on (`127.0.0.1` behind a reverse proxy).
        port: the port; 0 picks a free one (reported to `ready`).
        ready: called once with the bound host and port when the server accepts requests.

    Returns:
        0 after a signal-initiated shutdown.

    Raises:
        ImportError: uvicorn is not installed (`pip install 'nswoo[server]'`).
        OSError: the address cannot be bound (e.g. the port is taken).

    Example:
        >>> code = anyio.run(  # doctest: +SKIP
        ...     partial(serve, receiver=receiver, worker=worker, host="127.0.0.1", port=8000)
        ... )
    """
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("webhooks serve needs uvicorn: pip install 'nswoo[server]'") from exc

    class _Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            # serve() owns SIGTERM/SIGINT so it can stop the worker too; uvicorn must not
            # take them (it would also re-raise them after shutdown).
            yield

    # Bind before uvicorn starts, so port 0 gives a known port and a taken port fails here.
    sock = _listening_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    server = _Server(
        uvicorn.Config(
            asgi_app(receiver),
            host=host,
            port=bound_port,
            log_level="warning",
            lifespan="on",
            access_log=False,
        )
    )
    stop = anyio.Event()
    signalled = False

    async def run_http() -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            # The server stopped (signal or failure): the worker stops after its batch.
            stop.set()

    async def watch_signals(scope: anyio.CancelScope) -> None:
        nonlocal signalled
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for signum in signals:
                if not signalled:
                    signalled = True
                    _log.warning(
                        "%s: finishing deliveries in hand, then stopping",
                        signal.Signals(signum).name,
                    )
                    server.should_exit = True
                    stop.set()
                else:
                    _log.warning("second signal: stopping now")
                    server.force_exit = True
                    scope.cancel()

    try:
        async with anyio.create_task_group() as outer:
            outer.start_soon(watch_signals, outer.cancel_scope)
            async with anyio.create_task_group() as work:
                work.start_soon(run_http)
                work.start_soon(worker.run, stop)
                # uvicorn offers no "started" event, only the flag.
                while not server.started and not stop.is_set():  # noqa: ASYNC110
                    await anyio.sleep(0.01)
                if server.started and ready is not None:
                    ready(bound_host, bound_port)
            outer.cancel_scope.cancel()  # both finished: stop watching for signals
    finally:
        sock.close()
    return 0


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock
