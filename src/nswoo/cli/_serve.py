"""`nswoo webhooks serve`: the receiver under uvicorn and the inbox worker, in one process.

Shutdown (DESIGN behaviour 4): on SIGTERM or SIGINT the server stops accepting connections,
finishes the deliveries in hand (uvicorn's graceful shutdown: a request being received is
read, persisted and answered), the worker finishes its current batch, and `serve` returns
0. What is already persisted in the inbox waits for the next start. A second signal stops
at once; nothing acknowledged is lost then either, because every 200 was stored first and
unfinished inbox items are taken again when their leases expire.

uvicorn is the optional `server` extra (`pip install 'nswoo[server]'`) and runs on asyncio.

Slow senders (a connection held open by sending a request a byte at a time) are bounded at
both ends of a request:

- the request head (request line and headers) must arrive within `header_timeout` seconds of
  the connection opening or of the previous response. uvicorn has no setting for this: its
  `timeout_keep_alive` only covers idle time between requests and stops at the first byte
  received, and a request-start timeout was proposed but never added (Kludex/uvicorn#157,
  unticked), so `server_config` installs its HTTP protocol with that deadline added;
- the body must arrive within the receiver's `body_timeout` (408, `asgi_app`).

uvicorn's own limits, as documented (uvicorn docs `settings.md`, `server-behavior.md`):
`timeout_keep_alive` (5 s, kept) closes idle kept-alive connections; the head is at most
h11's `h11_max_incomplete_event_size` (16 KiB, `h11._connection`) before a 431/400;
`limit_concurrency` is left unset on purpose: over it uvicorn answers 503 to *every* new
request, so a sender holding connections would turn WooCommerce's deliveries into 503s, which
count toward disabling the webhook (reference §8), while the two deadlines free those
connections instead.
"""

from __future__ import annotations

import logging
import math
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from .._http._asgi import AsgiApp
from .._http._server import listening_socket, signal_free_server, wait_started
from ..orders._inbox import InboxWorker
from ..orders._receiver import WebhookReceiver, asgi_app

if TYPE_CHECKING:
    import asyncio

    import uvicorn

__all__ = ["DEFAULT_HEADER_TIMEOUT", "serve", "server_config"]

_log = logging.getLogger("nswoo.webhooks")

DEFAULT_HEADER_TIMEOUT = 10.0
"""Seconds a connection has to deliver a request head (a WooCommerce head is < 1 KiB)."""

# uvicorn's documented default, set here so the value is visible and tested.
_KEEP_ALIVE_SECONDS = 5
# h11's default (`DEFAULT_MAX_INCOMPLETE_EVENT_SIZE`), set explicitly for the same reason.
_MAX_HEAD_BYTES = 16 * 1024


def server_config(
    app: AsgiApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
) -> uvicorn.Config:
    """The uvicorn configuration `serve` runs `app` with (exposed for tests and embedders).

    HTTP/1.1 only, no websockets, no access log, lifespan on, the limits described in the
    module docstring, and an HTTP protocol that closes a connection whose request head has
    not fully arrived `header_timeout` seconds after it opened or after its last response.

    Raises:
        ImportError: uvicorn is not installed (`pip install 'nswoo[server]'`).
        ValueError: `header_timeout` is not a positive number.
    """
    if not (math.isfinite(header_timeout) and header_timeout > 0):
        raise ValueError("header_timeout must be a positive number of seconds")
    try:
        import uvicorn
        from uvicorn.protocols.http.auto import AutoHTTPProtocol
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("webhooks serve needs uvicorn: pip install 'nswoo[server]'") from exc
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=_with_head_deadline(AutoHTTPProtocol, header_timeout),
        ws="none",  # the receiver speaks no websockets; upgrades are plain requests (404)
        log_level="warning",
        lifespan="on",
        access_log=False,
        timeout_keep_alive=_KEEP_ALIVE_SECONDS,
        h11_max_incomplete_event_size=_MAX_HEAD_BYTES,
    )


def _with_head_deadline(base: type[asyncio.Protocol], seconds: float) -> type[asyncio.Protocol]:
    """`base` (uvicorn's HTTP protocol) closing connections whose request head is too slow.

    It relies on what uvicorn's h11 and httptools protocols both have: `loop`, `transport`,
    `cycle` (the current request, None before the first) with `response_complete`, and the
    `on_response_complete` hook. A missing one only disables the deadline, never serving.
    """
    protocol: Any = base  # a class chosen at run time; mypy cannot check attributes on it

    class HeadDeadline(protocol):  # type: ignore[misc]
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._arm_head_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # Kept alive: the next request's head gets the same deadline.
            self._arm_head_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_deadline()
            super().connection_lost(exc)

        def _arm_head_deadline(self) -> None:
            self._disarm_head_deadline()
            loop = getattr(self, "loop", None)
            if loop is not None:
                # A timer on uvicorn's own (asyncio) loop, like its keep-alive timer.
                self._head_timer = loop.call_later(seconds, self._head_deadline_passed)

        def _disarm_head_deadline(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_deadline_passed(self) -> None:
            self._head_timer = None
            cycle = getattr(self, "cycle", None)
            if cycle is not None and not getattr(cycle, "response_complete", True):
                return  # a request is being answered: the app's body deadline governs it
            transport = getattr(self, "transport", None)
            if transport is not None and not transport.is_closing():
                _log.warning(
                    "closed a connection whose request head did not arrive within %g s", seconds
                )
                transport.close()

    return HeadDeadline


async def serve(
    *,
    receiver: WebhookReceiver,
    worker: InboxWorker,
    host: str,
    port: int,
    ready: Callable[[str, int], object] | None = None,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
) -> int:
    """Serve the receiver on `host:port` and drain the inbox until SIGTERM or SIGINT.

    Args:
        receiver: answers `POST /webhooks/woocommerce` and `GET /healthz`; its
            `body_timeout` bounds how long a request body may take.
        worker: imports what the receiver persisted.
        host: the address to listen on (`127.0.0.1` behind a reverse proxy).
        port: the port; 0 picks a free one (reported to `ready`).
        ready: called once with the bound host and port when the server accepts requests.
        header_timeout: seconds a connection has to send a complete request head.

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
    # Bind before uvicorn starts, so port 0 gives a known port and a taken port fails here.
    config = server_config(asgi_app(receiver), host=host, port=port, header_timeout=header_timeout)
    sock = listening_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    config.port = bound_port
    # serve() owns SIGTERM/SIGINT so it can stop the worker too.
    server = signal_free_server(config, what="webhooks serve")
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
                await wait_started(server, gave_up=stop.is_set)
                if server.started and ready is not None:
                    ready(bound_host, bound_port)
            outer.cancel_scope.cancel()  # both finished: stop watching for signals
    finally:
        sock.close()
    return 0
