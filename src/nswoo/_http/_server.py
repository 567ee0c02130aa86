"""Starting and stopping uvicorn, shared by every nswoo server (`webhooks serve`, `nswoo sim`).

Each server binds its socket first (so port 0 yields a known port and a taken port fails
before uvicorn starts), runs a `uvicorn.Server` that leaves SIGTERM/SIGINT to its caller,
and waits for uvicorn's `started` flag (uvicorn offers no event) before reporting ready.

uvicorn is the optional `server` extra (`pip install 'nswoo[server]'`) and runs on asyncio.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

import anyio

from ..errors import MissingExtra

if TYPE_CHECKING:
    import uvicorn

__all__ = ["listening_socket", "running", "signal_free_server", "wait_started"]


def listening_socket(host: str, port: int) -> socket.socket:
    """A non-blocking socket bound to `host:port` and listening (port 0: a free port).

    Raises:
        OSError: the address cannot be bound (e.g. the port is taken); nothing is left open.
    """
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


def signal_free_server(config: uvicorn.Config, *, what: str = "serving") -> uvicorn.Server:
    """A `uvicorn.Server` for `config` that does not install signal handlers.

    The caller owns SIGTERM and SIGINT (to stop other work too); uvicorn would otherwise
    take them, and re-raise them after its shutdown.

    Raises:
        MissingExtra: uvicorn is not installed (names `pip install 'nswoo[server]'`).
    """
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtra(what, extra="server", package="uvicorn") from exc

    class _Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return _Server(config)


async def wait_started(server: uvicorn.Server, *, gave_up: Callable[[], bool]) -> bool:
    """Wait until `server` accepts connections; False when `gave_up()` says it never will."""
    while not server.started:
        if gave_up() or server.should_exit:
            return False
        await anyio.sleep(0.01)
    return True


@asynccontextmanager
async def running(*servers: tuple[uvicorn.Server, socket.socket]) -> AsyncIterator[bool]:
    """Serve each `(server, socket)` while the context is open.

    Yields True once every server accepts connections (False when one stopped first). On
    exit the servers stop accepting, finish what is in hand and return; the sockets are
    closed whatever happens.
    """
    try:
        async with anyio.create_task_group() as tg:
            for server, sock in servers:
                tg.start_soon(server.serve, [sock])
            started = True
            for server, _ in servers:
                started = started and await wait_started(
                    server, gave_up=lambda: any(s.should_exit for s, _ in servers)
                )
            try:
                yield started
            finally:
                for server, _ in servers:
                    server.should_exit = True
    finally:
        for _, sock in servers:
            sock.close()
