"""The error tree: data in, message out, never a secret."""

from __future__ import annotations

import pytest

from nswoo import errors


def test_api_error_message_names_system_status_code_and_request_id() -> None:
    """An ApiError builds its message from its data."""
    exc = errors.RateLimited(
        system="netsuite",
        status=429,
        code="CONCURRENCY_LIMIT_EXCEEDED",
        request_id="abc123",
        retry_after=2.0,
        method="POST",
        path="/services/rest/record/v1/salesOrder",
    )
    text = str(exc)
    assert text.startswith("NetSuite: rate limited")
    for part in ("HTTP 429", "CONCURRENCY_LIMIT_EXCEEDED", "abc123", "retry after 2s", "POST"):
        assert part in text
    assert exc.retryable is True
    assert exc.retry_after == 2.0


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [
        (errors.RateLimited, True),
        (errors.ServiceUnavailable, True),
        (errors.AuthenticationError, False),
        (errors.OutcomeUnknown, False),
        (errors.NotFound, False),
        (errors.DuplicateRecord, False),
        (errors.InvalidPayload, False),
    ],
)
def test_retryable_defaults(cls: type[errors.ApiError], retryable: bool) -> None:
    """Only load and availability failures are retryable by default."""
    assert cls(system="woocommerce").retryable is retryable
    assert isinstance(cls(system="woocommerce"), errors.NswooError)


def test_schema_drift_is_an_invalid_payload_with_field_and_record() -> None:
    """SchemaDriftError keeps the field and record and says so."""
    exc = errors.SchemaDriftError(
        "You must enter a value for Channel.",
        field="custbody_channel",
        record="salesOrder",
        system="netsuite",
        status=400,
        code="USER_ERROR",
    )
    assert isinstance(exc, errors.InvalidPayload)
    assert exc.field == "custbody_channel"
    assert "custbody_channel" in str(exc)
    assert "salesOrder" in str(exc)


def test_configuration_error_names_the_key() -> None:
    """ConfigurationError names the variable, never a value."""
    exc = errors.ConfigurationError("must be set", key="NS_PROD_ACCOUNT_ID")
    assert str(exc) == "NS_PROD_ACCOUNT_ID: must be set"
    assert exc.key == "NS_PROD_ACCOUNT_ID"


def test_webhook_errors_carry_the_status_to_answer() -> None:
    """Each webhook refusal says which HTTP status the receiver answers."""
    assert errors.WebhookSignatureInvalid("missing header").http_status == 401
    assert errors.WebhookPayloadInvalid("not JSON").http_status == 400
    assert errors.WebhookTooLarge(size=10, limit=5).http_status == 413
