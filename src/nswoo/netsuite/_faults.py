"""NetSuite error JSON → `nswoo.errors`: the only reader of NetSuite's error bodies.

NetSuite errors are RFC 7807-like (reference §4): `type`, `title`, `status` and
`o:errorDetails[]`, each with `detail`, `o:errorCode` and optional `o:errorPath`,
`o:urlPath`, `o:errorHeader`, `o:errorQueryParam`. Matching is on the HTTP status and
`o:errorCode` only, never on `type` (reference §1d: the `type` URL varies in the wild).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
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
    ResponseInvalid,
    SchemaDriftError,
)

__all__ = [
    "ErrorDetail",
    "classify_field_error",
    "error_details",
    "read_json",
    "record_from_path",
    "translate",
]

UNAUTHORIZED_HINT = (
    "Check that the credentials belong to this account and environment (sandbox "
    "credentials do not work in production), and that they were not revoked or cleared by a "
    "sandbox refresh"
)

# Reference §5: REST answers 429 over the concurrency limit; a community body also carries
# CONCURRENCY_LIMIT_EXCEEDED, and RESTlets answer 400 SSS_REQUEST_LIMIT_EXCEEDED.
_RATE_CODES = frozenset({"CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED"})
# Reference §4: NONEXISTENT_ID and RCRD_DSNT_EXIST were not confirmed for REST 404s; they
# are matched too so that a 400 carrying them still reads as NotFound.
_NOT_FOUND_CODES = frozenset({"NONEXISTENT_ID", "RCRD_DSNT_EXIST"})
_MANDATORY = re.compile(r"You must enter a value for (?P<label>.+?)\.?\s*$", re.IGNORECASE)
_CUSTOM_ID = re.compile(r"\bcust[a-z0-9_]+\b", re.IGNORECASE)
_PATH_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RECORD_PATH = re.compile(r"/services/rest/record/v1/(?P<record>[A-Za-z][A-Za-z0-9_]*)")


@attrs.frozen
class ErrorDetail:
    """One entry of `o:errorDetails`."""

    detail: str
    code: str | None = None
    path: str | None = None
    query_param: str | None = None


def error_details(payload: object) -> tuple[ErrorDetail, ...]:
    """The `o:errorDetails` entries of a decoded error body (empty when there are none)."""
    if not isinstance(payload, Mapping):
        return ()
    raw = payload.get("o:errorDetails")
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return ()
    details = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        details.append(
            ErrorDetail(
                detail=_text(entry.get("detail")) or "",
                code=_text(entry.get("o:errorCode")),
                path=_text(entry.get("o:errorPath")),
                query_param=_text(entry.get("o:errorQueryParam")),
            )
        )
    return tuple(details)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _path_fields(path: str | None) -> list[str]:
    """`item.items[0].custcol_x` → `['item', 'items', 'custcol_x']`."""
    return _PATH_PART.findall(path) if path else []


def classify_field_error(detail: str, code: str | None, path: str | None) -> str | None:
    """Decide whether an error detail is schema drift; return the field it names, or None.

    The rule (behaviour 6), in order:

    1. `NONEXISTENT_FIELD` (reference §4, Airbyte's mapping): the field we wrote does not
       exist (removed or renamed). The field is the last custom-field name in `o:errorPath`,
       else the last path segment, else a `cust…` id in the detail.
    2. "You must enter a value for <Label>." (reference §7, community; usually `USER_ERROR`):
       a field became mandatory. The field is the label NetSuite printed.
    3. Any error whose `o:errorPath` names a custom field (a segment starting with `cust`,
       e.g. `INVALID_CONTENT` on `custbody_nswoo_woo_order_id`): the custom field changed
       type, list or validation. The field is that segment.

    Anything else, including a bad standard field such as `item.items[0].item`, is not drift
    (`translate` makes it an `InvalidPayload` with the field).
    """
    fields = _path_fields(path)
    custom = [name for name in fields if name.lower().startswith("cust")]
    if code == "NONEXISTENT_FIELD":
        if custom:
            return custom[-1]
        if fields:
            return fields[-1]
        named = _CUSTOM_ID.findall(detail)
        return named[-1] if named else "(unnamed field)"
    mandatory = _MANDATORY.search(detail)
    if mandatory:
        return mandatory.group("label").strip()
    if custom:
        return custom[-1]
    return None


def record_from_path(path: str | None) -> str | None:
    """The record type in a record-service path (`…/record/v1/salesOrder/1` → `salesOrder`)."""
    if not path:
        return None
    match = _RECORD_PATH.search(path)
    if not match or match.group("record") == "metadata-catalog":
        return None
    return match.group("record")


def _json_body(response: httpx.Response) -> object | None:
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type and not response.content.lstrip().startswith(b"{"):
        return None
    try:
        payload: object = json.loads(response.content)
    except ValueError:
        return None
    return payload


def translate(
    response: httpx.Response,
    *,
    unauthorized_hint: str | None = None,
    attempt: Attempt | None = None,
) -> ApiError:
    """Map a non-2xx NetSuite response to the most specific `ApiError`, built once.

    Every error keeps the first relevant `o:errorCode` as `code` and its `detail`. See the
    module docstring for the body format; `classify_field_error` for the drift rule.

    Args:
        response: the response that was not a success.
        unauthorized_hint: what to tell the user on a 401 (depends on the auth scheme).
        attempt: the HTTP pipeline's facts about the attempt (its number, idempotency, how
            a 401 was read: a 401 at the concurrency limit becomes `RateLimited`); a lone
            first attempt of an idempotent request when not given.
    """
    attempt = attempt or Attempt()
    ctx: ApiContext = error_context(response, "netsuite", attempt)
    status = response.status_code
    payload = _json_body(response)
    details = error_details(payload)
    if payload is None or (not details and status >= 500):
        return _without_details(response, ctx, payload is None, unauthorized_hint, attempt)

    codes = {detail.code for detail in details}
    first = details[0] if details else ErrorDetail(detail=_title(payload) or "")

    def pick(*wanted: str) -> ErrorDetail:
        return next((d for d in details if d.code in wanted), first)

    if status == 429 or codes & _RATE_CODES:
        # A concurrency refusal was not processed: retryable whatever the method.
        chosen = pick(*_RATE_CODES)
        return RateLimited(chosen.detail, **_with(ctx, chosen, retryable=True))
    if status >= 500:
        return server_error(first.detail, attempt=attempt, **_with(ctx, first))
    if status == 401 or "INVALID_LOGIN" in codes:
        chosen = pick("INVALID_LOGIN")
        return unauthorized_error(
            chosen.detail,
            attempt=attempt,
            hint=unauthorized_hint or UNAUTHORIZED_HINT,
            **_with(ctx, chosen),
        )
    if status == 403 or "INSUFFICIENT_PERMISSION" in codes:
        chosen = pick("INSUFFICIENT_PERMISSION")
        return PermissionDenied(chosen.detail, **_with(ctx, chosen))
    if status == 404 or codes & _NOT_FOUND_CODES:
        chosen = pick(*_NOT_FOUND_CODES)
        return NotFound(chosen.detail, **_with(ctx, chosen))

    record = record_from_path(ctx.get("path"))
    for detail in details:
        field = classify_field_error(detail.detail, detail.code, detail.path)
        if field is not None:
            return SchemaDriftError(detail.detail, field=field, record=record, **_with(ctx, detail))
    for detail in details:
        # Reference §3: the duplicate text is community-observed ("This entity already
        # exists.", CData: "This record already exists"); Oracle documents none.
        if "already exists" in detail.detail.lower():
            return DuplicateRecord(detail.detail, **_with(ctx, detail))
        # Reference §4 lists this USER_ERROR text among business-rule failures.
        if "does not have permission" in detail.detail.lower():
            return PermissionDenied(detail.detail, **_with(ctx, detail))
    field = first.path or first.query_param
    return InvalidPayload(
        first.detail,
        problems=tuple(_problem_line(d) for d in details) or (first.detail,),
        field=field,
        **_with(ctx, first),
    )


def _title(payload: object) -> str | None:
    return _text(payload.get("title")) if isinstance(payload, Mapping) else None


def _problem_line(detail: ErrorDetail) -> str:
    where = detail.path or detail.query_param
    return f"{where}: {detail.detail}" if where else detail.detail


def _with(ctx: ApiContext, detail: ErrorDetail, *, retryable: bool | None = None) -> ApiContext:
    merged: ApiContext = {**ctx, "code": detail.code}
    if retryable is not None:
        merged["retryable"] = retryable
    return merged


def _without_details(
    response: httpx.Response, ctx: ApiContext, not_json: bool, hint: str | None, attempt: Attempt
) -> ApiError:
    """Errors whose body is not NetSuite's JSON error format (HTML pages, empty bodies)."""
    status = response.status_code
    what = "a body that is not NetSuite's JSON error format" if not_json else "no error details"
    if status == 429:
        return RateLimited(f"rate limited, with {what}", **ctx)
    if status == 401:
        return unauthorized_error(
            f"unauthorized, with {what}", attempt=attempt, hint=hint or UNAUTHORIZED_HINT, **ctx
        )
    if status == 403:
        return PermissionDenied(f"forbidden, with {what}", **ctx)
    if status == 404:
        return NotFound(f"not found, with {what}", **ctx)
    # A 5xx, or an HTML page from a proxy or maintenance screen in front of NetSuite: the
    # request may succeed later (unless it was a write that may have committed).
    retry: ApiContext = {**ctx, "retryable": True}
    return server_error(f"HTTP {status} with {what}", attempt=attempt, **retry)


def read_json(response: httpx.Response, *, what: str) -> Any:
    """Decode a successful response's JSON body; `ResponseInvalid` when it is not JSON.

    `what` names the response in the message ("SuiteQL page", "salesOrder 647"). Numbers
    with a fraction are read as exact `Decimal`s: amounts, costs and quantities from NetSuite
    must not pass through float.
    """
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        empty = not response.content.strip()
        reason = "empty" if empty else "not valid JSON (truncated or an HTML page?)"
        raise ResponseInvalid(
            f"{what}: response body is {reason}", **error_context(response, "netsuite")
        ) from exc
