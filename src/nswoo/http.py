"""What the clients' HTTP layer lets you inject: a retry policy and your own auth.

`open_netsuite(..., policy=)` and `WooClient.from_settings(..., policy=)` take a
`RetryPolicy`; a `TokenSource` (a `TokenGrant` per fetch) feeds `BearerAuth`, and any
`RequestAuth` signs requests. The pipeline that runs them stays internal.
"""

from __future__ import annotations

from ._http import (
    BasicAuth,
    BearerAuth,
    Credential,
    RequestAuth,
    RetryPolicy,
    TokenGrant,
    TokenSource,
)

__all__ = [
    "BasicAuth",
    "BearerAuth",
    "Credential",
    "RequestAuth",
    "RetryPolicy",
    "TokenGrant",
    "TokenSource",
]
