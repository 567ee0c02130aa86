"""A NetSuite outage at the transport, for order sync and inbox tests."""

from __future__ import annotations

import attrs
import httpx

from nswoo._http._pipeline import RetryPolicy
from nswoo.netsuite import NetSuiteClient, open_netsuite
from nswoo.testing._world import SimWorld


@attrs.define
class Switch(httpx.AsyncBaseTransport):
    """The simulator's transport, or, while `down`, a refused connection for every request."""

    inner: httpx.AsyncBaseTransport
    down: bool = False
    refused: int = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


def netsuite(world: SimWorld, switch: Switch) -> NetSuiteClient:
    # Few, short retries: each sync gives up on a request quickly (on the fake clock).
    return open_netsuite(
        world.ns_settings,
        clock=world.clock,
        transport=switch,
        policy=RetryPolicy(attempts=2, total_seconds=5.0, initial=0.1, maximum=0.2),
    )
