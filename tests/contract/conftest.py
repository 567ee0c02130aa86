"""Contract fixtures: each client against the simulator and against respx, one test each."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.contract._netsuite_backends import NsBackend, ns_backend
from tests.contract._woo_backends import WooBackend, woo_backend

BACKENDS = ("simulator", "respx")


@pytest.fixture(params=BACKENDS)
async def ns(request: pytest.FixtureRequest) -> AsyncIterator[NsBackend]:
    """A NetSuite client plus arrange API on the simulator, then on respx."""
    async for backend in ns_backend(request.param):
        yield backend


@pytest.fixture(params=BACKENDS)
async def woo(request: pytest.FixtureRequest) -> AsyncIterator[WooBackend]:
    """A WooCommerce client plus arrange API on the simulator, then on respx."""
    async for backend in woo_backend(request.param):
        yield backend
