"""The few ASGI pieces nswoo's servers share: types and the lifespan exchange.

nswoo serves plain ASGI callables (the webhook receiver, the simulators) so that no web
framework is a dependency; uvicorn runs them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["AsgiApp", "Message", "Receive", "Scope", "Send", "serve_lifespan"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]
"""An ASGI 3 application callable."""


async def serve_lifespan(receive: Receive, send: Send) -> None:
    """Answer the server's lifespan messages; nothing to set up or tear down.

    The apps' state (stores, simulators) is owned by whoever built them, so startup and
    shutdown are only acknowledged.
    """
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
