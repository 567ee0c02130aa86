"""HTTP: the pipeline the clients share, and the ASGI pieces nswoo's servers share.

`_pipeline`: limiter slot → auth → send → classify → recover. `_asgi`: types and the lifespan
exchange. This package re-exports what the rest of nswoo imports.
"""

from __future__ import annotations

from ._asgi import AsgiApp as AsgiApp
from ._asgi import Receive as Receive
from ._asgi import Scope as Scope
from ._asgi import Send as Send
from ._asgi import serve_lifespan as serve_lifespan
from ._pipeline import Attempt as Attempt
from ._pipeline import BasicAuth as BasicAuth
from ._pipeline import BearerAuth as BearerAuth
from ._pipeline import Credential as Credential
from ._pipeline import HttpPipeline as HttpPipeline
from ._pipeline import RequestAuth as RequestAuth
from ._pipeline import RetryPolicy as RetryPolicy
from ._pipeline import TokenGrant as TokenGrant
from ._pipeline import TokenSource as TokenSource
from ._pipeline import backoff as backoff
from ._pipeline import error_context as error_context
from ._pipeline import parse_retry_after as parse_retry_after
from ._pipeline import server_error as server_error
from ._pipeline import unauthorized_error as unauthorized_error

__all__ = [
    "AsgiApp",
    "Attempt",
    "BasicAuth",
    "BearerAuth",
    "Credential",
    "HttpPipeline",
    "Receive",
    "RequestAuth",
    "RetryPolicy",
    "Scope",
    "Send",
    "TokenGrant",
    "TokenSource",
    "backoff",
    "error_context",
    "parse_retry_after",
    "serve_lifespan",
    "server_error",
    "unauthorized_error",
]
