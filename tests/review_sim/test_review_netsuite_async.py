"""Review: the NetSuite simulator's async and idempotency headers (reference/netsuite.md §3)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from nswoo.testing import FakeClock, NetSuiteSimulator

pytestmark = pytest.mark.anyio


@pytest.fixture
def sim() -> NetSuiteSimulator:
    return NetSuiteSimulator("1234567_SB1", clock=FakeClock())


@pytest.fixture
async def client(sim: NetSuiteSimulator) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {sim.mint_token()}"}
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.base_url, headers=headers
    ) as http:
        yield http


async def test_prefer_respond_async_answers_202_with_job_location(
    client: httpx.AsyncClient,
) -> None:
    """§3 "Idempotency and async": `Prefer: respond-async` returns 202 Accepted with
    `Location: /services/rest/async/v1/job/<id>`. The simulator ignores the header and
    answers the synchronous 204 with the record's Location.
    """
    response = await client.post(
        "/services/rest/record/v1/customer",
        json={"companyName": "Acme"},
        headers={"Prefer": "respond-async"},
    )

    assert response.status_code == 202
    assert "/services/rest/async/v1/job/" in response.headers["location"]


async def test_repeated_idempotency_key_is_refused(
    sim: NetSuiteSimulator, client: httpx.AsyncClient
) -> None:
    """§3: with `X-NetSuite-Idempotency-Key`, a repeat returns 400 (title "Conflict",
    `o:errorCode` IDEMPOTENCY_ERROR) with a Location pointing at the earlier job. The
    simulator ignores the key and creates the record twice.
    """
    headers = {"Prefer": "respond-async", "X-NetSuite-Idempotency-Key": "5d0c1f5e-review"}
    first = await client.post(
        "/services/rest/record/v1/customer", json={"companyName": "Acme"}, headers=headers
    )
    second = await client.post(
        "/services/rest/record/v1/customer", json={"companyName": "Acme"}, headers=headers
    )

    assert first.is_success
    assert second.status_code == 400
    assert second.json()["o:errorDetails"][0]["o:errorCode"] == "IDEMPOTENCY_ERROR"
    assert sim.stats.created["customer"] == 1
