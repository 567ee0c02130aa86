"""One in-process transport and one ASGI adapter, shared by every simulator.

A simulator is an async function `serve(request) -> response` over httpx objects. The same
function is reached two ways:

- in-process: `in_process_transport(serve)` is httpx's own `MockTransport` around it, with
  a dropped connection (`ConnectionReset`) turned into the transport error a real socket
  gives;
- over a socket: `asgi_app(serve)` is a plain ASGI 3 application for uvicorn, which builds
  the `httpx.Request` from the scope and writes the `httpx.Response` back, and drops the
  connection without a complete answer on `ConnectionReset`.

Anything else `serve` raises propagates unchanged (in-process, an `httpx.ReadTimeout` raised
by a simulator reaches the client as a timeout).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

import anyio
import httpx

from .._http import AsgiApp, Receive, Scope, Send, serve_lifespan

__all__ = ["ConnectionReset", "Serve", "asgi_app", "in_process_transport"]

Serve = Callable[[httpx.Request], Awaitable[httpx.Response]]
"""A simulator's request handler: one request in, one response out."""

DropKind = Literal["disconnect", "reset"]


class ConnectionReset(Exception):
    """Raised by a simulator's `serve` to drop the connection without a complete answer.

    `kind` picks what an in-process client sees: `disconnect` is the server closing before
    any response (`httpx.RemoteProtocolError`), `reset` a TCP reset while reading
    (`httpx.ReadError`). Served over a socket both close the connection mid-answer.
    """

    def __init__(self, message: str = "connection reset", *, kind: DropKind = "disconnect"):
        super().__init__(message)
        self.kind: DropKind = kind


def in_process_transport(serve: Serve) -> httpx.AsyncBaseTransport:
    """An httpx transport answering every request with `serve`, without a socket.

    Example:
        >>> async def serve(request: httpx.Request) -> httpx.Response:
        ...     return httpx.Response(204)
        >>> client = httpx.AsyncClient(transport=in_process_transport(serve))
    """

    async def handler(request: httpx.Request) -> httpx.Response:
        try:
            return await serve(request)
        except ConnectionReset as exc:
            if exc.kind == "reset":
                raise httpx.ReadError("Connection reset by peer", request=request) from exc
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc

    # httpx's own in-process transport: it reads the request body, then awaits the handler.
    return httpx.MockTransport(handler)


def asgi_app(serve: Serve) -> AsgiApp:
    """A plain ASGI 3 application answering HTTP requests with `serve` (for uvicorn).

    Lifespan messages are acknowledged; other scope types are ignored. A `ConnectionReset`
    starts an answer that announces more body than it sends and re-raises, so the server
    closes the connection and the client sees it drop (ASGI has no way to close a socket
    without starting an answer).
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = await _request_from_scope(scope, receive)
        if request is None:
            return  # the client went away before its body arrived
        try:
            response = await serve(request)
        except ConnectionReset:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"100")],
                }
            )
            raise
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(k.lower(), v) for k, v in response.headers.raw],
            }
        )
        await send({"type": "http.response.body", "body": response.content})
        await anyio.lowlevel.checkpoint()

    return app


async def _request_from_scope(scope: Scope, receive: Receive) -> httpx.Request | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    host = next((v for k, v in headers if k.lower() == "host"), None)
    if host is None:
        server_host, server_port = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server_host}:{server_port}"
    # raw_path keeps the percent-encoding the client sent (signatures cover it); the decoded
    # `path` is the fallback for servers that omit it.
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    query = scope.get("query_string", b"")
    url = f"{scope.get('scheme', 'http')}://{host}{raw_path.decode('latin-1')}"
    if query:
        url += "?" + query.decode("latin-1")
    return httpx.Request(scope["method"], url, headers=headers, content=b"".join(chunks))
