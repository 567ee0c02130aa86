"""NetSuite REST error bodies, literal where `reference/netsuite.md` gives a literal.

Each builder returns `(status, body)`. Only the simulator uses these: nswoo's client reads
NetSuite errors in `nswoo.netsuite`, and must not share this code (a shared helper would
hide the client's parsing bugs).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ErrorBody",
    "bad_request",
    "concurrency_exceeded",
    "duplicate_entity",
    "error_body",
    "invalid_field_value",
    "invalid_login",
    "invalid_query",
    "mandatory_missing",
    "nonexistent_field",
    "not_found",
    "not_simulated",
    "not_simulated_feature",
    "not_simulated_query",
    "server_error",
]

ErrorBody = tuple[int, dict[str, Any]]

# Oracle's examples use the RFC 2616 anchors (reference §1d, §4); live bodies have been seen
# with RFC 9110 anchors instead, so clients must not match on `type` anyway.
_RFC2616 = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"
_TYPES = {
    400: f"{_RFC2616}#sec10.4.1",
    404: f"{_RFC2616}#sec10.4.5",
    500: f"{_RFC2616}#sec10.5.1",
    501: f"{_RFC2616}#sec10.5.2",
    502: f"{_RFC2616}#sec10.5.3",
    503: f"{_RFC2616}#sec10.5.4",
    504: f"{_RFC2616}#sec10.5.5",
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def error_body(status: int, code: str, detail: str, **extra: str) -> ErrorBody:
    """A body in the documented shape: type, title, status, `o:errorDetails[]` (reference §4).

    `extra` adds detail keys such as `o:errorPath` (pass them as `path=`, `query_param=`,
    `header=`).
    """
    detail_entry: dict[str, str] = {"detail": detail, "o:errorCode": code}
    names = {"path": "o:errorPath", "query_param": "o:errorQueryParam", "header": "o:errorHeader"}
    for key, value in extra.items():
        detail_entry[names[key]] = value
    body: dict[str, Any] = {
        "type": _TYPES.get(status, _RFC2616),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "o:errorDetails": [detail_entry],
    }
    return status, body


def invalid_login() -> ErrorBody:
    """Oracle's literal 401 example (reference §1d), byte for byte in content."""
    return 401, {
        "type": _RFC2616,
        "title": "Unauthorized",
        "status": 401,
        "o:errorDetails": [
            {
                "detail": (
                    "Invalid login attempt. For more details, see the Login Audit Trail in the"
                    " NetSuite UI at Setup > Users/Roles > User Management > View Login Audit"
                    " Trail."
                ),
                "o:errorCode": "INVALID_LOGIN",
            }
        ],
    }


def concurrency_exceeded() -> ErrorBody:
    """The community 429 body of reference §5 (unconfirmed by Oracle; title really says so)."""
    return 429, {
        "type": _RFC2616,
        "title": "Bad Request",
        "status": 429,
        "o:errorCode": "USER_ERROR",
        "o:errorDetails": [
            {
                "detail": "Concurrent request limit exceeded. Request blocked.",
                "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
            }
        ],
    }


def invalid_field_value(value: object, field: str, path: str) -> ErrorBody:
    """Oracle's INVALID_CONTENT example for a bad reference id (reference §4), with errorPath."""
    return error_body(
        400,
        "INVALID_CONTENT",
        "Error while accessing resource: You have entered an Invalid Field Value"
        f" {value} for the following field: {field}",
        path=path,
    )


def duplicate_entity() -> ErrorBody:
    """The observed duplicate body (reference §3; community, Oracle documents none)."""
    return error_body(
        400, "USER_ERROR", "Error while accessing a resource. This entity already exists."
    )


def mandatory_missing(label: str) -> ErrorBody:
    """The observed missing-mandatory-field body (reference §7; community)."""
    return error_body(
        400, "USER_ERROR", f"Error while accessing a resource. You must enter a value for {label}."
    )


def bad_request(detail: str, **extra: str) -> ErrorBody:
    """A USER_ERROR 400 for business-rule failures the reference gives no literal for."""
    return error_body(400, "USER_ERROR", detail, **extra)


def nonexistent_field(field: str, path: str) -> ErrorBody:
    """An unknown field id. The code comes from Airbyte's `errors.py` (reference §4, §7).

    The REST behaviour for unknown fields is unconfirmed by Oracle, and no detail text was
    found: this wording is the simulator's own.
    """
    return error_body(
        400,
        "NONEXISTENT_FIELD",
        f"Error while accessing a resource. The field {field} does not exist.",
        path=path,
    )


def not_found(code: str) -> ErrorBody:
    """A 404 for an unknown record id. The reference confirms no code (§4): see the caller."""
    return error_body(
        404,
        code,
        "The record instance does not exist. Provide a valid record instance ID.",
    )


def invalid_query(**extra: str) -> ErrorBody:
    """The observed INVALID_PARAMETER body for a query NetSuite cannot run (reference §4)."""
    extra.setdefault("query_param", "q")
    return error_body(
        400, "INVALID_PARAMETER", "Invalid search query. Provide a valid search query.", **extra
    )


def server_error(status: int) -> ErrorBody:
    """A 5xx in the documented shape; the reference has no literal 5xx body (it is silent)."""
    return error_body(
        status,
        "UNEXPECTED_ERROR",
        "An unexpected error occurred. Try again later.",
    )


# The simulator's own error code for NetSuite features it refuses instead of faking.
NOT_SIMULATED = "NSWOO_SIMULATOR_UNSUPPORTED"


def not_simulated(refusals: list[tuple[str, str]]) -> ErrorBody:
    """The simulator's 501 for request headers it does not simulate, one detail per header.

    `refusals` holds `(header, what)` pairs, e.g. `("Prefer", "asynchronous requests
    (Prefer: respond-async)")`. NetSuite never answers this: the body keeps the documented
    shape (reference §4) so a client's error parsing still applies, and says plainly that
    the simulator, not NetSuite, refused.
    """
    details = [
        {
            "detail": (
                f"The nswoo NetSuite simulator does not simulate {what}. Send the request"
                " without this header, or test this behaviour against a NetSuite account."
            ),
            "o:errorCode": NOT_SIMULATED,
            "o:errorHeader": header,
        }
        for header, what in refusals
    ]
    return 501, {
        "type": _TYPES[501],
        "title": _TITLES[501],
        "status": 501,
        "o:errorDetails": details,
    }


def not_simulated_feature(what: str, detail: str = "", **extra: str) -> ErrorBody:
    """The simulator's 501 for a NetSuite feature it does not simulate (never a user error).

    `what` names the feature ("listing the record type invoice"), `detail` adds what to do
    instead; `extra` adds detail keys as in `error_body` (`query_param="q"`). NetSuite never
    answers this: the code `NSWOO_SIMULATOR_UNSUPPORTED` and the status 501 say that the
    simulator, not NetSuite, refused, while the body keeps the documented shape (reference
    §4) so a client's error parsing still applies.
    """
    text = f"The nswoo NetSuite simulator does not simulate {what}."
    if detail:
        text += f" {detail[0].upper()}{detail[1:]}."
    text += " Test this against a NetSuite account."
    return error_body(501, NOT_SIMULATED, text, **extra)


def not_simulated_query(what: str, detail: str = "") -> ErrorBody:
    """`not_simulated_feature` for a SuiteQL query: the detail names the `q` body field."""
    return not_simulated_feature(f"{what} in SuiteQL", detail, path="q")
