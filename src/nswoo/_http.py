"""The HTTP pipeline shared by the NetSuite and WooCommerce clients.

`limiter slot → auth → httpx → classify → recover (refresh on 401 | back off on 429/5xx)`.

INTERFACE STUB: the implementation lands in the next commit; the names and signatures
below are the contract the clients build on.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from typing import Protocol

import attrs
import httpx

from ._clock import Clock, SystemClock
from ._limits import Limiter
from ._settings import Secret
from .errors import ApiContext, ApiError, System

__all__ = [
    "BasicAuth",
    "BearerAuth",
    "Credential",
    "HttpPipeline",
    "RequestAuth",
    "RetryPolicy",
    "TokenGrant",
    "TokenSource",
    "Translate",
    "error_context",
    "parse_retry_after",
]


@attrs.frozen
class TokenGrant:
    """What a token endpoint answered: the access token and its stated lifetime (seconds)."""

    access_token: Secret = attrs.field(repr=False)
    expires_in: float


class TokenSource(Protocol):
    """Mints a new access token. Raises `AuthenticationError` when the service refuses."""

    async def fetch_token(self) -> TokenGrant: ...


@attrs.frozen
class Credential:
    """Identifies the credential a request was sent with (compared on a 401).

    `generation` increases with every new token; `minted_at` is the clock's `now()` when the
    token was obtained (None for credentials that are not minted, such as Basic or TBA).
    """

    generation: int
    minted_at: float | None = None


class RequestAuth(Protocol):
    """Adds credentials to a request, and decides what a 401 means."""

    async def authorize(self, request: httpx.Request) -> Credential:
        """Add the auth headers to `request`; return the credential used."""
        ...

    async def invalidate(self, credential: Credential) -> bool:
        """After a 401: drop `credential` if it is still current (compare-and-swap).

        Returns True when a retry with a new credential may succeed (refreshable auth),
        False when the credential cannot change (Basic, TBA): the 401 is final.
        """
        ...


Translate = Callable[[httpx.Response], ApiError]
"""A system's error translator: a non-2xx response → the most specific `ApiError`."""


@attrs.frozen
class RetryPolicy:
    """Bounds on retrying one request: attempts and total seconds, backoff shape."""

    attempts: int = 6
    total_seconds: float = 120.0
    initial: float = 0.5
    maximum: float = 30.0


def parse_retry_after(value: str | None, *, now_epoch: float) -> float | None:
    """`Retry-After` in seconds or as an HTTP date → seconds to wait (None if absent/bad)."""
    raise NotImplementedError


def error_context(response: httpx.Response, system: System) -> ApiContext:
    """The `ApiError` keyword arguments a response provides (status, request id, method, path)."""
    raise NotImplementedError


class BearerAuth:
    """OAuth 2.0 bearer tokens from a `TokenSource`, with single-flight refresh."""

    def __init__(self, source: TokenSource, *, clock: Clock, refresh_margin: float = 60.0):
        raise NotImplementedError

    async def authorize(self, request: httpx.Request) -> Credential:
        raise NotImplementedError

    async def invalidate(self, credential: Credential) -> bool:
        raise NotImplementedError


class BasicAuth:
    """HTTP Basic auth (WooCommerce consumer key and secret); a 401 is final."""

    def __init__(self, username: Secret, password: Secret):
        raise NotImplementedError

    async def authorize(self, request: httpx.Request) -> Credential:
        raise NotImplementedError

    async def invalidate(self, credential: Credential) -> bool:
        raise NotImplementedError


class HttpPipeline:
    """Sends requests for one system through its limiter, auth and retry policy."""

    def __init__(
        self,
        *,
        system: System,
        http: httpx.AsyncClient,
        limiter: Limiter,
        auth: RequestAuth,
        translate: Translate,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self.clock = clock or SystemClock()
        raise NotImplementedError

    async def send(
        self, request: httpx.Request, *, idempotent: bool | None = None
    ) -> httpx.Response:
        """Send `request`; return a 2xx/3xx response or raise an `nswoo.errors.ApiError`."""
        raise NotImplementedError
