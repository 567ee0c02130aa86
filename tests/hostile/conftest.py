"""Options for the hostile tests: `--chaos-long` runs the long chaos scenario too.

pytest knows an option registered here only when it is given this folder (or a file in it)
on the command line: `pytest tests/hostile --chaos-long`. From anywhere else, set
`NSWOO_TEST_CHAOS_LONG=1` (or `NSWOO_CHAOS_LONG=1`): `NSWOO_TEST_CHAOS_LONG=1 pytest`. The
variable is read here, when pytest starts, because the suite's `clean_environ` fixture removes
`NSWOO_*` variables other than `NSWOO_TEST_*` before each test runs.
"""

from __future__ import annotations

import os

import pytest

_LONG_VARIABLES = ("NSWOO_TEST_CHAOS_LONG", "NSWOO_CHAOS_LONG")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chaos-long",
        action="store_true",
        default=any(os.environ.get(name, "") not in ("", "0") for name in _LONG_VARIABLES),
        help="also run the long order-import chaos scenario (more orders, more kills)",
    )


@pytest.fixture
def chaos_long(request: pytest.FixtureRequest) -> bool:
    """Whether the long chaos scenario was asked for."""
    return bool(request.config.getoption("--chaos-long"))
