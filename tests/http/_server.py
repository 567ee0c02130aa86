"""A small fake HTTP peer for pipeline tests: counts in-flight requests, scripted answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs
import httpx

from nswoo._clock import Clock

Answer = Callable[[httpx.Request, "FakePeer"], Awaitable[httpx.Response]]


@attrs.define
class FakePeer:
    """An async httpx handler that records what it saw and when."""

    clock: Clock
    answer: Answer
    latency: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0
    sent_at: list[float] = attrs.field(factory=list)
    statuses: list[int] = attrs.field(factory=list)
    auth_headers: list[str] = attrs.field(factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.sent_at.append(self.clock.now())
        self.auth_headers.append(request.headers.get("authorization", ""))
        try:
            response = await self.answer(request, self)
            if self.latency:
                await self.clock.sleep(self.latency)
        finally:
            self.in_flight -= 1
        self.statuses.append(response.status_code)
        return response

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)
