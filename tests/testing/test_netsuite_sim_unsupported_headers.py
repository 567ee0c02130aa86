"""The NetSuite simulator refuses async and idempotency headers loudly (netsuite.md §3)."""

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


def _refusal(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 501
    body = response.json()
    assert (body["status"], body["title"]) == (501, "Not Implemented")
    return list(body["o:errorDetails"])


async def test_prefer_respond_async_is_refused_not_ignored(
    sim: NetSuiteSimulator, client: httpx.AsyncClient
) -> None:
    """§3 "Idempotency and async": NetSuite answers `Prefer: respond-async` with 202 and
    `Location: /services/rest/async/v1/job/<id>`. The simulator models no async jobs, so it
    must not answer the synchronous 204 either (that would let a client's 202 handling go
    untested): it refuses with a documented 501 in NetSuite's error shape naming the header,
    and creates nothing.
    """
    response = await client.post(
        "/services/rest/record/v1/customer",
        json={"companyName": "Acme"},
        headers={"Prefer": "respond-async"},
    )

    [detail] = _refusal(response)
    assert detail["o:errorHeader"] == "Prefer"
    assert "does not simulate asynchronous requests" in detail["detail"]
    assert "respond-async" in detail["detail"]
    assert sim.stats.created["customer"] == 0


async def test_idempotency_key_is_refused_not_ignored(
    sim: NetSuiteSimulator, client: httpx.AsyncClient
) -> None:
    """§3: with `X-NetSuite-Idempotency-Key`, NetSuite answers a repeat with 400 "Conflict"
    (`IDEMPOTENCY_ERROR`) pointing at the earlier job. The simulator models no jobs, so
    rather than create the record twice it refuses every request carrying the key (and the
    `Prefer: respond-async` that goes with it) with the documented 501, one detail per header.
    """
    headers = {"Prefer": "respond-async", "X-NetSuite-Idempotency-Key": "5d0c1f5e-edge"}
    first = await client.post(
        "/services/rest/record/v1/customer", json={"companyName": "Acme"}, headers=headers
    )
    alone = await client.post(
        "/services/rest/record/v1/customer",
        json={"companyName": "Acme"},
        headers={"X-NetSuite-Idempotency-Key": "5d0c1f5e-edge"},
    )

    assert [d["o:errorHeader"] for d in _refusal(first)] == [
        "Prefer",
        "X-NetSuite-Idempotency-Key",
    ]
    [detail] = _refusal(alone)
    assert "does not simulate idempotency keys" in detail["detail"]
    assert "X-NetSuite-Idempotency-Key" in detail["detail"]
    assert sim.stats.created["customer"] == 0


async def test_other_prefer_values_still_work(client: httpx.AsyncClient) -> None:
    """Only `respond-async` is refused: SuiteQL's `Prefer: transient` is served as before."""
    response = await client.post(
        "/services/rest/query/v1/suiteql",
        json={"q": "SELECT id FROM location"},
        headers={"Prefer": "transient"},
    )

    assert response.status_code == 200
