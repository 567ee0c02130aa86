"""WooCommerce error responses → `nswoo.errors`: the only reader of wc/v3 error JSON.

Every wc/v3 error body is `{"code": str, "message": str, "data": {"status": int, ...}}`
(reference §2). Codes decide before statuses where WooCommerce's status misleads (a PUT on
an unknown id is 400, not 404); statuses decide where no code is readable (hosts and WAFs
answer with HTML pages, reference §9 item 11).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from .._http import Attempt, error_context, server_error, unauthorized_error
from ..errors import (
    ApiContext,
    ApiError,
    DuplicateRecord,
    InvalidPayload,
    NotFound,
    PermissionDenied,
    RateLimited,
)

__all__ = ["TOO_LARGE_CODE", "WooFault", "is_too_large", "read_fault", "translate"]

TOO_LARGE_CODE = "woocommerce_rest_request_entity_too_large"
"""The batch-limit code (reference §4): more than 100 items in one batch request."""

_MAX_DETAIL = 300

# Hints for the 401s whose cause is not obvious from WooCommerce's message (reference §1).
_WRITE_KEY_HINT = "The key is read-only: create a key with Read/Write permission"
_ANONYMOUS_HINT = (
    "The request ran unauthenticated: the consumer key is unknown, or WordPress did not see "
    "the request as HTTPS (a TLS-terminating proxy hides it) and never tried Basic auth"
)
_KEY_HINT = "Check WOO_<ENV>_CONSUMER_KEY and WOO_<ENV>_CONSUMER_SECRET for this store"


@attrs.frozen
class WooFault:
    """What a wc/v3 error body says: `code`, `message` and `data` (None when not JSON)."""

    code: str | None
    message: str
    data: Mapping[str, Any] = attrs.field(factory=dict)
    is_json: bool = False


def read_fault(response: httpx.Response) -> WooFault:
    """Read `{code, message, data}` from an error response; never raises.

    A body that is not a JSON object with a string `code` is a fault with `code=None`
    (an HTML page from the host, a WAF, or a PHP fatal error).
    """
    try:
        body = json.loads(response.content)
    except ValueError:
        return WooFault(code=None, message="")
    if not isinstance(body, Mapping) or not isinstance(body.get("code"), str):
        return WooFault(code=None, message="", is_json=True)
    data = body.get("data")
    message = body.get("message")
    return WooFault(
        code=body["code"],
        message=_clean(message) if isinstance(message, str) else "",
        data=data if isinstance(data, Mapping) else {},
        is_json=True,
    )


def _clean(message: str) -> str:
    # WooCommerce messages are HTML-escaped text ("/products/&lt;product_id&gt;/...").
    text = " ".join(html.unescape(message).split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def is_too_large(error: ApiError) -> bool:
    """Whether `error` says the request was too large (batch over the limit, or HTTP 413)."""
    return error.code == TOO_LARGE_CODE or error.status == 413


def translate(response: httpx.Response, attempt: Attempt | None = None) -> ApiError:
    """A non-2xx wc/v3 response (and the HTTP pipeline's `attempt`) → the most specific
    `ApiError`, built once.

    - 401, `woocommerce_rest_authentication_*` → `AuthenticationError` (with a hint);
    - `woocommerce_rest_cannot_*` with 403 → `PermissionDenied`;
    - `*_invalid_id` → `NotFound`, even with status 400 (a PUT on an unknown id, §2);
    - `product_invalid_sku` → `DuplicateRecord` (`existing_id` = `data.resource_id`);
    - `rest_invalid_param` → `InvalidPayload` with `data.params` as `problems`;
    - 413 / `woocommerce_rest_request_entity_too_large` → `InvalidPayload` keeping the code
      (see `is_too_large`);
    - 429 → `RateLimited`; 5xx → `ServiceUnavailable`;
    - a body that is not WooCommerce JSON (HTML from a host or WAF) → `ServiceUnavailable`,
      except 401, 404, 413 and 429, whose meaning does not depend on the body;
    - a 5xx other than 503 to a request that is not idempotent (`attempt.idempotent`) →
      `OutcomeUnknown`: it may have committed.

    `attempt` defaults to a lone first attempt of an idempotent request.
    """
    attempt = attempt or Attempt()
    context = error_context(response, "woocommerce", attempt)
    status = response.status_code
    fault = read_fault(response)
    code = fault.code
    detail = fault.message
    if code is not None:
        context["code"] = code

    if status == 429:
        return RateLimited(detail, **context)
    if status == 401 or (code or "").startswith("woocommerce_rest_authentication"):
        return unauthorized_error(detail, attempt=attempt, hint=_auth_hint(code, detail), **context)
    if status == 413 or code == TOO_LARGE_CODE:
        if code is None:
            context["code"] = TOO_LARGE_CODE if status != 413 else "request_entity_too_large"
        return InvalidPayload(detail or "request too large", **context)
    if code is None:
        return _unreadable(status, fault, context, attempt)
    if code.endswith("_invalid_id"):
        # Reference §2: GET/DELETE give 404 but PUT gives 400 with the same code.
        return NotFound(detail, **context)
    if code == "product_invalid_sku":
        resource_id = fault.data.get("resource_id")
        existing = str(resource_id) if isinstance(resource_id, int | str) and resource_id else None
        return DuplicateRecord(detail, existing_id=existing, **context)
    if code == "rest_invalid_param":
        params = fault.data.get("params")
        problems = (
            [f"{name}: {_clean(str(text))}" for name, text in params.items()]
            if isinstance(params, Mapping)
            else []
        )
        field = next(iter(params), None) if isinstance(params, Mapping) else None
        return InvalidPayload(detail, problems=problems, field=field, **context)
    if status == 403:
        return PermissionDenied(detail, **context)
    if status == 404:
        return NotFound(detail, **context)
    if status >= 500:
        return server_error(detail, attempt=attempt, **context)
    if status == 400:
        return InvalidPayload(detail, **context)
    return ApiError(detail, **context)


def _auth_hint(code: str | None, detail: str) -> str:
    if "write permissions" in detail:
        return _WRITE_KEY_HINT
    if code == "woocommerce_rest_cannot_view":
        return _ANONYMOUS_HINT
    return _KEY_HINT


def _unreadable(status: int, fault: WooFault, context: ApiContext, attempt: Attempt) -> ApiError:
    what = "JSON that is not a WooCommerce error" if fault.is_json else "a body that is not JSON"
    if status == 404:
        # An HTML 404 means no wc/v3 route answered at all: not something a retry fixes.
        return NotFound(
            f"no WooCommerce REST API answered ({what}); check WOO_<ENV>_URL and that "
            "WordPress permalinks are enabled",
            **context,
        )
    # Hosts, CDNs and security plugins answer for WooCommerce with their own pages (and 403
    # or 5xx statuses) when they throttle or block; reference §9 item 11. Retryable, unless
    # a 5xx came back to a write that may have committed.
    return server_error(f"the store answered with {what}", attempt=attempt, **context)
