"""NetSuite error bodies (the literal ones from the reference) map to the right error class."""

# ruff: noqa: E501 - the error bodies are kept verbatim from the reference, long lines included

from __future__ import annotations

from email.utils import formatdate

import httpx
import pytest

from nswoo._http import Attempt
from nswoo.errors import (
    ApiError,
    AuthenticationError,
    DuplicateRecord,
    InvalidPayload,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    ResponseInvalid,
    SchemaDriftError,
    ServiceUnavailable,
)
from nswoo.limits import LimiterLoad
from nswoo.netsuite import classify_field_error, translate
from nswoo.netsuite._faults import read_json

SO_URL = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/salesOrder"

# Reference §1d, Oracle's literal example.
INVALID_LOGIN = b"""{
    "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [
        {
            "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.",
            "o:errorCode": "INVALID_LOGIN"
        }
    ]
}"""
# Reference §4, Oracle's literal example.
INVALID_CONTENT = b"""{
    "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
    "title": "Bad Request",
    "status": 400,
    "o:errorDetails": [
        {
            "detail": "Error while accessing resource: You have entered an Invalid Field Value 9999 for the following field: item",
            "o:errorCode": "INVALID_CONTENT",
            "o:errorPath": "item.items[0].item"
        }
    ]
}"""
# Reference §4, community.
INVALID_PARAMETER = b'{"status":400,"o:errorDetails":[{"detail":"Invalid search query. Provide a valid search query.","o:errorQueryParam":"q","o:errorCode":"INVALID_PARAMETER"}]}'
# Reference §5, community.
CONCURRENCY = b'{"type":"https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html","title":"Bad Request","status":429,"o:errorCode":"USER_ERROR","o:errorDetails":[{"detail":"Concurrent request limit exceeded. Request blocked.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}'


def _body(detail: str, code: str, status: int = 400, path: str | None = None) -> bytes:
    entry = {"detail": detail, "o:errorCode": code}
    if path:
        entry["o:errorPath"] = path
    return httpx.Response(
        status,
        json={
            "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
            "status": status,
            "o:errorDetails": [entry],
        },
    ).content


def respond(
    status: int,
    content: bytes,
    *,
    content_type: str = "application/vnd.oracle.resource+json; type=error",
    url: str = SO_URL,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A response to a POST on `url` with this body."""
    return httpx.Response(
        status,
        content=content,
        headers={"content-type": content_type, **(headers or {})},
        request=httpx.Request("POST", url),
    )


def test_invalid_login_is_authentication_error_with_hint() -> None:
    """Oracle's 401 INVALID_LOGIN body is an AuthenticationError keeping code and detail."""
    error = translate(respond(401, INVALID_LOGIN), unauthorized_hint="re-check the mapping")
    assert isinstance(error, AuthenticationError)
    assert error.code == "INVALID_LOGIN"
    assert error.detail.startswith("Invalid login attempt.")
    assert error.hint == "re-check the mapping"
    assert (error.status, error.method, error.path) == (
        401,
        "POST",
        "/services/rest/record/v1/salesOrder",
    )


def test_invalid_content_on_a_standard_field_is_invalid_payload_with_field() -> None:
    """Oracle's INVALID_CONTENT on item.items[0].item keeps the path as the field."""
    error = translate(respond(400, INVALID_CONTENT))
    assert type(error) is InvalidPayload
    assert error.field == "item.items[0].item"
    assert error.code == "INVALID_CONTENT"
    assert "Invalid Field Value 9999" in error.detail
    assert error.problems == (f"item.items[0].item: {error.detail}",)


def test_invalid_parameter_names_the_query_parameter() -> None:
    """A bad SuiteQL q is an InvalidPayload naming the q parameter."""
    error = translate(respond(400, INVALID_PARAMETER))
    assert type(error) is InvalidPayload
    assert (error.field, error.code) == ("q", "INVALID_PARAMETER")


def test_community_429_body_is_rate_limited() -> None:
    """The community 429 body is RateLimited with the concurrency code, retryable."""
    error = translate(respond(429, CONCURRENCY))
    assert isinstance(error, RateLimited)
    assert error.code == "CONCURRENCY_LIMIT_EXCEEDED"
    assert error.retryable is True


def test_concurrency_code_is_rate_limited_whatever_the_status() -> None:
    """CONCURRENCY_LIMIT_EXCEEDED under a 400 is still a rate limit."""
    error = translate(
        respond(400, _body("Concurrent request limit exceeded.", "CONCURRENCY_LIMIT_EXCEEDED"))
    )
    assert isinstance(error, RateLimited)


def test_429_with_html_is_rate_limited() -> None:
    """Any 429 is a rate limit, even without a JSON body."""
    error = translate(
        respond(429, b"<html>busy</html>", content_type="text/html", headers={"Retry-After": "3"})
    )
    assert isinstance(error, RateLimited)
    assert error.retry_after == 3.0


def test_duplicate_entity_is_duplicate_record() -> None:
    """USER_ERROR "This entity already exists." is a DuplicateRecord."""
    error = translate(
        respond(
            400,
            _body("Error while accessing a resource. This entity already exists.", "USER_ERROR"),
        )
    )
    assert isinstance(error, DuplicateRecord)
    assert error.code == "USER_ERROR"


def test_missing_mandatory_value_is_schema_drift_with_label() -> None:
    """USER_ERROR "You must enter a value for <Label>." is schema drift on that label."""
    error = translate(
        respond(
            400,
            _body(
                "Error while accessing a resource. You must enter a value for Sales Channel.",
                "USER_ERROR",
            ),
        )
    )
    assert isinstance(error, SchemaDriftError)
    assert (error.field, error.record, error.code) == ("Sales Channel", "salesOrder", "USER_ERROR")


def test_invalid_content_on_a_custom_field_is_schema_drift() -> None:
    """INVALID_CONTENT whose path is a custom field is drift on that field."""
    error = translate(
        respond(
            400, _body("Invalid Field Value", "INVALID_CONTENT", path="custbody_nswoo_woo_order_id")
        )
    )
    assert isinstance(error, SchemaDriftError)
    assert error.field == "custbody_nswoo_woo_order_id"


def test_nonexistent_field_is_schema_drift() -> None:
    """NONEXISTENT_FIELD is drift, with the field from the path or detail."""
    error = translate(
        respond(400, _body("Field custbody_old does not exist.", "NONEXISTENT_FIELD"))
    )
    assert isinstance(error, SchemaDriftError)
    assert error.field == "custbody_old"


@pytest.mark.parametrize(
    ("detail", "code", "path", "field"),
    [
        ("x", "NONEXISTENT_FIELD", "item.items[2].custcol_gift", "custcol_gift"),
        ("x", "NONEXISTENT_FIELD", "memo2", "memo2"),
        ("You must enter a value for Company Name.", "USER_ERROR", None, "Company Name"),
        ("bad", "INVALID_CONTENT", "custbody_x", "custbody_x"),
        ("bad", "INVALID_CONTENT", "item.items[0].item", None),
        ("This record has been locked by a user defined workflow.", "USER_ERROR", None, None),
    ],
)
def test_field_error_rule(detail: str, code: str, path: str | None, field: str | None) -> None:
    """classify_field_error names the drifted field, or None when it is not drift."""
    assert classify_field_error(detail, code, path) == field


def test_forbidden_is_permission_denied() -> None:
    """403 INSUFFICIENT_PERMISSION is PermissionDenied."""
    error = translate(respond(403, _body("Permission violation", "INSUFFICIENT_PERMISSION", 403)))
    assert isinstance(error, PermissionDenied)
    assert error.code == "INSUFFICIENT_PERMISSION"


def test_not_found() -> None:
    """404 is NotFound, with or without a JSON body."""
    assert isinstance(
        translate(respond(404, _body("Record not found", "NONEXISTENT_ID", 404))), NotFound
    )
    assert isinstance(translate(respond(404, b"")), NotFound)


def test_html_and_5xx_are_service_unavailable() -> None:
    """A 5xx or an HTML page is ServiceUnavailable, retryable."""
    for status, body, ctype in (
        (502, b"<html>Bad gateway</html>", "text/html"),
        (500, _body("Unexpected error", "UNEXPECTED_ERROR", 500), "application/json"),
        (400, b"<html>proxy</html>", "text/html"),
    ):
        error = translate(respond(status, body, content_type=ctype))
        assert isinstance(error, ServiceUnavailable), status
        assert error.retryable is True


def test_truncated_json_on_success_is_response_invalid() -> None:
    """A 2xx body cut short is ResponseInvalid, not a crash."""
    response = respond(200, b'{"items": [{"id": "1"', content_type="application/json")
    with pytest.raises(ResponseInvalid, match="not valid JSON"):
        read_json(response, what="SuiteQL page")


def test_invalid_login_at_the_concurrency_limit_is_a_retryable_rate_limit() -> None:
    """A 401 the pipeline read as NetSuite's overload in disguise (reference §1d, peers.md
    item 4) is a retryable RateLimited keeping Oracle's code and detail, saying why."""
    attempt = Attempt(number=2, unauthorized="load", load_401s=1, load=LimiterLoad(5, 5))
    error = translate(respond(401, INVALID_LOGIN), attempt=attempt)
    assert isinstance(error, RateLimited)
    assert (error.status, error.code, error.retryable, error.attempts) == (
        401,
        "INVALID_LOGIN",
        True,
        2,
    )
    assert error.detail.startswith("Invalid login attempt.")
    assert "concurrency limit (5 requests in flight, cap 5)" in str(error)


def test_invalid_login_after_backing_off_at_low_concurrency_is_hard() -> None:
    """The same 401 once the load is down is an AuthenticationError saying what was tried."""
    attempt = Attempt(number=2, unauthorized="static", load_401s=1, load=LimiterLoad(1, 5))
    error = translate(respond(401, INVALID_LOGIN), unauthorized_hint="check TBA", attempt=attempt)
    assert isinstance(error, AuthenticationError)
    assert error.retryable is False
    assert "check TBA" in str(error)
    assert "refused 1 times at the concurrency limit first" in str(error)


@pytest.mark.parametrize(
    ("status", "idempotent", "expected"),
    [
        (500, False, OutcomeUnknown),
        (502, False, OutcomeUnknown),
        (503, False, ServiceUnavailable),
        (500, True, ServiceUnavailable),
    ],
)
def test_a_5xx_to_a_write_that_is_not_idempotent_is_outcome_unknown(
    status: int, idempotent: bool, expected: type[ApiError]
) -> None:
    """A 5xx other than 503 may have committed a POST: OutcomeUnknown, built so at once."""
    body = _body("An unexpected error occurred.", "UNEXPECTED_ERROR", status)
    for content in (body, b"<html>Bad gateway</html>"):
        error = translate(respond(status, content), attempt=Attempt(idempotent=idempotent))
        assert type(error) is expected
        assert error.retryable is (expected is ServiceUnavailable)


def test_retry_after_date_is_read_against_the_pipeline_clock() -> None:
    """A Retry-After date is turned into seconds from the attempt's clock, not the wall's."""
    now = 1_800_000_000.0
    headers = {"Retry-After": formatdate(now + 30, usegmt=True)}
    error = translate(
        respond(429, CONCURRENCY, headers=headers), attempt=Attempt(number=3, now_epoch=now)
    )
    assert isinstance(error, RateLimited)
    assert (error.retry_after, error.attempts) == (30.0, 3)
