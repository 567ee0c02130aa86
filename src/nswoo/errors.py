"""The nswoo error tree.

Every error nswoo raises derives from `NswooError`. Each one carries data (`system`,
`status`, `code`, `request_id`, `retryable`, `retry_after`, ...) and builds its own message
from that data, so a message never contains a token, a secret or a raw response body.

```
NswooError
├── ConfigurationError          settings refused: names the variable or key, never its value
│   └── MissingExtra                an optional backend's package is missing (an ImportError)
├── StorageError                the store (SQLite) failed: locked, corrupt, of an unknown schema
├── WebhookError                a delivery the receiver must refuse
│   ├── WebhookSignatureInvalid     missing or wrong X-WC-Webhook-Signature   → 401
│   ├── WebhookPayloadInvalid       not UTF-8, not JSON, not an order object  → 400
│   └── WebhookTooLarge             body over the size limit                  → 413
└── ApiError                    a call to NetSuite or WooCommerce failed
    ├── AuthenticationError         401/invalid_grant: credentials, role, environment
    ├── PermissionDenied            403: authenticated, but not allowed
    ├── RateLimited                 429, concurrency limit, a 401 at that limit (retryable)
    ├── ServiceUnavailable          5xx, transport errors, HTML pages (retryable)
    ├── OutcomeUnknown              a non-idempotent write timed out: look before writing again
    ├── NotFound                    404, or WooCommerce's *_invalid_id
    ├── DuplicateRecord             externalId or SKU already exists (`existing_id` when known)
    ├── InvalidPayload              the request or response does not fit (`problems`)
    │   └── SchemaDriftError            a write failed on a custom field (`field`, `record`)
    └── ResponseInvalid             the service answered something nswoo cannot read
```

`retryable` says whether the same request may succeed if sent again later; the HTTP
pipeline retries only retryable errors, and only idempotent requests after a transport
failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Required, TypedDict, Unpack

__all__ = [
    "ApiContext",
    "ApiError",
    "AuthenticationError",
    "ConfigurationError",
    "DuplicateRecord",
    "InvalidPayload",
    "MissingExtra",
    "NotFound",
    "NswooError",
    "OutcomeUnknown",
    "PermissionDenied",
    "RateLimited",
    "ResponseInvalid",
    "SchemaDriftError",
    "ServiceUnavailable",
    "StorageError",
    "System",
    "WebhookError",
    "WebhookPayloadInvalid",
    "WebhookSignatureInvalid",
    "WebhookTooLarge",
]

System = Literal["netsuite", "woocommerce"]

_SYSTEM_NAMES: dict[str, str] = {"netsuite": "NetSuite", "woocommerce": "WooCommerce"}


class NswooError(Exception):
    """Root of every error nswoo raises.

    Attributes:
        retryable: whether the same operation may succeed when tried again later.
        retry_after: seconds the service asked to wait, when it said so.
    """

    retryable: bool = False
    retry_after: float | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(NswooError):
    """Settings were refused; startup must not go on.

    `key` names the environment variable or TOML key at fault (never its value).
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class MissingExtra(ConfigurationError, ImportError):
    """An optional part of nswoo needs a package that its extra installs.

    Both a `ConfigurationError` (startup refused, exit 2) and an `ImportError`, so code that
    already guards optional imports catches it too. The message names the command to run:
    `pip install 'nswoo[postgres]'`.

    Attributes:
        extra: the extra to install (`postgres`, `redis`, `server`).
        name: the missing module (`psycopg`), as on every `ImportError`.
    """

    def __init__(self, what: str, *, extra: str, package: str, key: str | None = None) -> None:
        self.extra = extra
        super().__init__(
            f"{what} needs the {package!r} package: pip install 'nswoo[{extra}]'", key=key
        )
        self.name = package


class StorageError(NswooError):
    """The local store failed: locked, corrupt, unreachable or of an unknown schema.

    `locked` is True when the store stayed locked by another writer (retryable).
    """

    locked: bool = False

    def __init__(self, message: str, *, backend: str, retryable: bool = False) -> None:
        self.backend = backend
        self.retryable = retryable
        super().__init__(f"{backend} store: {message}")


# ---------------------------------------------------------------------------------------------
# Webhooks


class WebhookError(NswooError):
    """A webhook delivery the receiver refuses. `http_status` is what to answer."""

    http_status: int = 400


class WebhookSignatureInvalid(WebhookError):
    """The `X-WC-Webhook-Signature` header is missing or does not match the body."""

    http_status = 401

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"webhook signature invalid: {reason}")


class WebhookPayloadInvalid(WebhookError):
    """The body is not UTF-8, not JSON, or not the resource its topic announces."""

    http_status = 400

    def __init__(self, reason: str, *, topic: str | None = None) -> None:
        self.reason = reason
        self.topic = topic
        where = f" ({topic})" if topic else ""
        super().__init__(f"webhook payload invalid{where}: {reason}")


class WebhookTooLarge(WebhookError):
    """The body is larger than the configured limit."""

    http_status = 413

    def __init__(self, *, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"webhook body of {size} bytes is over the limit of {limit} bytes")


# ---------------------------------------------------------------------------------------------
# Calls to NetSuite and WooCommerce


class ApiContext(TypedDict, total=False):
    """Keyword arguments every `ApiError` accepts (see `ApiError`)."""

    system: Required[System]
    status: int | None
    code: str | None
    request_id: str | None
    retryable: bool | None
    retry_after: float | None
    method: str | None
    path: str | None
    attempts: int


class ApiError(NswooError):
    """A call to NetSuite or WooCommerce failed.

    Attributes:
        system: `"netsuite"` or `"woocommerce"`.
        status: the HTTP status, or None when no response arrived.
        code: the service's own error code (`INVALID_LOGIN`, `product_invalid_sku`, ...).
        request_id: the service's request id when it sent one.
        detail: the service's human-readable message (never contains a secret we sent).
        method, path: the request that failed (path without query string).
        attempts: how many times the request was sent before this error was raised.

    An error is built once, with everything it will ever say (the HTTP pipeline hands the
    attempt count and its reading of the answer to the translator that builds it), and is
    not changed afterwards: its message is fixed when it is built.
    """

    default_retryable: bool = False

    def __init__(
        self,
        detail: str = "",
        *,
        system: System,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        method: str | None = None,
        path: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.system: System = system
        self.status = status
        self.code = code
        self.request_id = request_id
        self.detail = detail
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.method = method
        self.path = path
        self.attempts = attempts
        super().__init__(self._build_message())

    def _summary(self) -> str:
        return self.detail or "request failed"

    def _build_message(self) -> str:
        parts = [f"{_SYSTEM_NAMES.get(self.system, self.system)}: {self._summary()}"]
        context = []
        if self.method and self.path:
            context.append(f"{self.method} {self.path}")
        if self.status is not None:
            context.append(f"HTTP {self.status}")
        if self.code:
            context.append(f"code {self.code}")
        if self.request_id:
            context.append(f"request id {self.request_id}")
        if self.retry_after is not None:
            context.append(f"retry after {self.retry_after:g}s")
        if context:
            parts.append(f"({', '.join(context)})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(system={self.system!r}, status={self.status!r}, "
            f"code={self.code!r}, request_id={self.request_id!r}, retryable={self.retryable!r})"
        )


class AuthenticationError(ApiError):
    """Credentials were refused: wrong account or environment, revoked token, disabled role.

    A 401 right after a freshly minted token lands here, never in a refresh loop.
    """

    def __init__(
        self, detail: str = "", *, hint: str | None = None, **kwargs: Unpack[ApiContext]
    ) -> None:
        self.hint = hint
        super().__init__(detail, **kwargs)

    def _summary(self) -> str:
        base = self.detail or "authentication failed"
        return f"{base.rstrip('.')}. {self.hint}" if self.hint else base


class PermissionDenied(ApiError):
    """Authenticated, but the role or key may not do this (HTTP 403)."""


class RateLimited(ApiError):
    """The service refused the request for load (HTTP 429 or a concurrency-limit code).

    Also a NetSuite 401 that came back while the account was at its concurrency limit
    (NetSuite is reported to answer "Invalid login attempt" instead of 429 then); `hint`
    says so.
    """

    default_retryable = True

    def __init__(
        self, detail: str = "", *, hint: str | None = None, **kwargs: Unpack[ApiContext]
    ) -> None:
        self.hint = hint
        super().__init__(detail, **kwargs)

    def _summary(self) -> str:
        base = self.detail or "rate limited"
        return f"{base.rstrip('.')}. {self.hint}" if self.hint else base


class ServiceUnavailable(ApiError):
    """The service or the network failed (5xx, connection errors, HTML error pages)."""

    default_retryable = True

    def _summary(self) -> str:
        return self.detail or "service unavailable"


class OutcomeUnknown(ApiError):
    """A write that is not idempotent got no answer: it may or may not have happened.

    Never retried blindly: look for the record (for a sales order, by its WooCommerce order
    id) before writing again.
    """

    def _summary(self) -> str:
        base = "no answer to a write that is not idempotent; it may or may not have happened"
        return f"{base}: {self.detail}" if self.detail else base


class NotFound(ApiError):
    """The record does not exist (HTTP 404, or WooCommerce's `*_invalid_id` codes)."""


class DuplicateRecord(ApiError):
    """A record with the same externalId or SKU already exists.

    `existing_id` is the id of the record that holds it, when the service said so.
    """

    def __init__(
        self, detail: str = "", *, existing_id: str | None = None, **kwargs: Unpack[ApiContext]
    ) -> None:
        self.existing_id = existing_id
        super().__init__(detail, **kwargs)


class InvalidPayload(ApiError):
    """The request was refused as invalid, or a response did not fit its model.

    `problems` lists what was wrong, one line each (field paths where known).
    `field` names the first offending field when the service named one.
    """

    def __init__(
        self,
        detail: str = "",
        *,
        problems: Sequence[str] = (),
        field: str | None = None,
        **kwargs: Unpack[ApiContext],
    ) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.field = field
        super().__init__(detail, **kwargs)

    def _summary(self) -> str:
        base = self.detail or "invalid payload"
        if self.problems and not self.detail:
            return f"{base}: {'; '.join(self.problems)}"
        return base


class SchemaDriftError(InvalidPayload):
    """A write failed because a custom field was renamed, removed or became mandatory.

    `field` is the field id or label the service named; `record` the record type written.
    """

    def __init__(
        self,
        detail: str = "",
        *,
        field: str,
        record: str | None = None,
        **kwargs: Unpack[ApiContext],
    ) -> None:
        self.record = record
        super().__init__(detail, field=field, **kwargs)

    def _summary(self) -> str:
        where = f" on {self.record}" if self.record else ""
        base = f"schema drift{where}: field {self.field!r}"
        return f"{base}: {self.detail}" if self.detail else base


class ResponseInvalid(ApiError):
    """The service answered with something nswoo cannot read (truncated, not JSON, ...)."""

    default_retryable = False
