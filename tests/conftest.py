"""Shared test fixtures: anyio backend, a scrubbed environment, hypothesis profiles."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile(
    "fast",
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
if os.environ.get("CI"):
    settings.register_profile(
        "ci",
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    settings.load_profile("ci")
else:
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_SCRUBBED_PREFIXES = ("NS_", "WOO_", "NSWOO_")


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio (nswoo itself only uses anyio APIs)."""
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strip NS_*, WOO_* and NSWOO_* variables (except test service URLs) before every test."""
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES) and not name.startswith("NSWOO_TEST_"):
            monkeypatch.delenv(name, raising=False)
