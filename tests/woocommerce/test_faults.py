"""WooCommerce error translation: each documented error body → the most specific error."""

from __future__ import annotations

from typing import Any

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
    ServiceUnavailable,
)
from nswoo.woocommerce._faults import is_too_large, translate

API = "https://shop.example/wp-json/wc/v3"


def response(
    status: int,
    body: Any = None,
    *,
    text: str | None = None,
    method: str = "GET",
    path: str = "products/794",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A response to a request on the store, with a JSON or raw body."""
    request = httpx.Request(method, f"{API}/{path}?consumer_key=ck_never_logged")
    if text is not None:
        return httpx.Response(status, text=text, request=request, headers=headers)
    return httpx.Response(status, json=body, request=request, headers=headers)


def wc_error(code: str, message: str, status: int, **data: Any) -> dict[str, Any]:
    """A `{code, message, data}` body as WooCommerce builds it (reference §2)."""
    return {"code": code, "message": message, "data": {"status": status, **data}}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            401,
            wc_error("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401),
            AuthenticationError,
        ),
        (
            401,
            wc_error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401),
            AuthenticationError,
        ),
        (
            403,
            wc_error("woocommerce_rest_cannot_edit", "Sorry, you cannot edit this resource.", 403),
            PermissionDenied,
        ),
        (404, wc_error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404), NotFound),
        (400, wc_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400), NotFound),
        (404, wc_error("rest_no_route", "No route was found", 404), NotFound),
        (429, wc_error("too_many", "Slow down", 429), RateLimited),
        (
            500,
            wc_error("internal_server_error", "There has been a critical error.", 500),
            ServiceUnavailable,
        ),
        (
            400,
            wc_error("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400),
            InvalidPayload,
        ),
        (410, wc_error("woocommerce_rest_already_trashed", "Already trashed.", 410), ApiError),
    ],
)
def test_documented_error_bodies_map_to_specific_errors(
    status: int, body: dict[str, Any], expected: type[ApiError]
) -> None:
    """Each wc/v3 error code lands on its class, keeping status, code and message."""
    error = translate(response(status, body))
    assert type(error) is expected
    assert error.system == "woocommerce"
    assert error.status == status
    assert error.code == body["code"]
    assert error.detail == body["message"]


def test_duplicate_sku_names_the_existing_product() -> None:
    """product_invalid_sku is a DuplicateRecord whose existing_id is data.resource_id."""
    body = wc_error(
        "product_invalid_sku", "Invalid or duplicated SKU.", 400, resource_id=206, unique_sku="X-1"
    )
    error = translate(response(400, body, method="PUT"))
    assert isinstance(error, DuplicateRecord)
    assert error.existing_id == "206"


def test_invalid_param_lists_the_params_as_problems() -> None:
    """rest_invalid_param keeps data.params as problems and names the first field."""
    body = wc_error(
        "rest_invalid_param",
        "Invalid parameter(s): per_page",
        400,
        params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
    )
    error = translate(response(400, body))
    assert isinstance(error, InvalidPayload)
    assert error.field == "per_page"
    assert error.problems == (
        "per_page: per_page must be between 1 (inclusive) and 100 (inclusive)",
    )


def test_batch_limit_error_is_recognisable() -> None:
    """The 413 batch-limit body is an InvalidPayload that is_too_large recognises."""
    body = wc_error(
        "woocommerce_rest_request_entity_too_large",
        "Unable to accept more than 100 items for this request.",
        413,
    )
    error = translate(response(413, body, method="POST", path="products/batch"))
    assert isinstance(error, InvalidPayload)
    assert error.retryable is False
    assert is_too_large(error)


def test_html_413_from_a_web_server_is_recognisable() -> None:
    """A web server's HTML 413 (body size limit) is also too large, not a retryable outage."""
    error = translate(response(413, text="<html><h1>413 Request Entity Too Large</h1></html>"))
    assert isinstance(error, InvalidPayload)
    assert is_too_large(error)


@pytest.mark.parametrize("status", [403, 500, 502, 503, 200])
def test_html_pages_from_hosts_are_retryable_outages(status: int) -> None:
    """An HTML page (host, CDN, WAF) instead of WooCommerce JSON is ServiceUnavailable."""
    error = translate(response(status, text="<!DOCTYPE html><title>Just a moment...</title>"))
    assert isinstance(error, ServiceUnavailable)
    assert error.retryable is True
    assert "not JSON" in error.detail


def test_json_that_is_not_a_woocommerce_error_is_an_outage() -> None:
    """A JSON body without a code (a proxy's own JSON) is treated like an HTML page."""
    error = translate(response(502, {"error": "bad gateway"}))
    assert isinstance(error, ServiceUnavailable)


def test_html_404_says_no_rest_api_answered() -> None:
    """An HTML 404 means the wc/v3 route is not there: NotFound with a hint, not retried."""
    error = translate(response(404, text="<html>Not Found</html>"))
    assert isinstance(error, NotFound)
    assert error.retryable is False
    assert "WOO_<ENV>_URL" in error.detail


def test_html_401_is_an_authentication_error() -> None:
    """A 401 is an authentication failure whatever its body."""
    error = translate(response(401, text="Unauthorized"))
    assert isinstance(error, AuthenticationError)


def test_read_only_key_gets_a_hint() -> None:
    """A write with a read-only key says to create a Read/Write key."""
    body = wc_error(
        "woocommerce_rest_authentication_error",
        "The API key provided does not have write permissions.",
        401,
    )
    error = translate(response(401, body, method="POST", path="products/batch"))
    assert isinstance(error, AuthenticationError)
    assert error.hint is not None
    assert "Read/Write" in str(error)


def test_retry_after_and_request_context_are_kept_without_the_query() -> None:
    """The error carries Retry-After, method and path, and never the query string."""
    error = translate(response(429, text="slow down", headers={"Retry-After": "7"}))
    assert isinstance(error, RateLimited)
    assert error.retry_after == 7.0
    assert error.method == "GET"
    assert error.path == "/wp-json/wc/v3/products/794"
    assert "ck_never_logged" not in str(error)
    assert "ck_never_logged" not in repr(error)


def test_html_entities_in_messages_are_decoded() -> None:
    """WooCommerce escapes messages; the detail reads as plain text."""
    body = wc_error(
        "woocommerce_rest_invalid_product_id",
        "To manipulate product variations you should use the "
        "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
        404,
    )
    error = translate(response(404, body, method="PUT"))
    assert isinstance(error, NotFound)
    assert "/products/<product_id>/variations/<id>" in error.detail


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
    """A 5xx other than 503 may have committed a POST (JSON or a host's page alike)."""
    attempt = Attempt(number=1, idempotent=idempotent)
    for reply in (
        response(status, wc_error("internal_server_error", "Critical error.", status)),
        response(status, text="<html><h1>502 Bad Gateway</h1></html>"),
    ):
        error = translate(reply, attempt)
        assert type(error) is expected


def test_the_attempt_count_is_built_into_the_error() -> None:
    """The pipeline's attempt number is part of the error from the start."""
    error = translate(response(429, text="slow down"), Attempt(number=4))
    assert isinstance(error, RateLimited)
    assert error.attempts == 4


def test_a_401_is_final_for_the_store_however_it_is_read() -> None:
    """Basic-auth 401s are always AuthenticationError with the key hint."""
    body = wc_error("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401)
    error = translate(response(401, body), Attempt(unauthorized="static"))
    assert isinstance(error, AuthenticationError)
    assert "WOO_<ENV>_CONSUMER_KEY" in str(error)
