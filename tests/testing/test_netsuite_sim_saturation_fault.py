"""The field fault: NetSuite answering 401 "Invalid login attempt" instead of 429 when the
account's concurrency is exceeded (julbrs/netsuite-api-client#26, reference §1d, peers.md
item 4), injectable from a fault plan."""

from __future__ import annotations

import anyio
import httpx
import pytest

from nswoo.errors import ConfigurationError
from nswoo.testing._clock import FakeClock
from nswoo.testing._faults import FaultPlan
from nswoo.testing.netsuite._sim import NetSuiteSimulator

pytestmark = pytest.mark.anyio

CUSTOMER = "/services/rest/record/v1/customer"


async def two_at_once(sim: NetSuiteSimulator) -> list[httpx.Response]:
    """Two GETs in flight together on an account whose limit is 1."""
    customer = sim.add_customer(company_name="Shop")
    answers: list[httpx.Response] = []
    headers = {"Authorization": f"Bearer {sim.mint_token()}"}
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.base_url, headers=headers
    ) as client:

        async def get() -> None:
            answers.append(await client.get(f"{CUSTOMER}/{customer}"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(get)
            tg.start_soon(get)
    return answers


async def test_saturation_answers_a_slow_invalid_login_when_planned() -> None:
    """Over the limit, the planned fault answers Oracle's 401 body after the planned delay."""
    clock = FakeClock()
    plan = FaultPlan(latency=1.0, concurrency_invalid_login=1.0, concurrency_invalid_login_delay=60)
    sim = NetSuiteSimulator(concurrency_limit=1, faults=plan, clock=clock)
    answers = await two_at_once(sim)
    assert sorted(r.status_code for r in answers) == [200, 401]
    refused = next(r for r in answers if r.status_code == 401)
    assert refused.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    assert refused.json()["o:errorDetails"][0]["detail"].startswith("Invalid login attempt.")
    assert (sim.stats.saturated_401s, sim.stats.rate_limited) == (1, 0)
    assert clock.now() >= 61  # the 401 came after latency + the 60 s delay
    assert sim.audit_trail == []  # the credentials were never the problem


async def test_without_the_fault_saturation_is_429() -> None:
    """The same overload with the default plan is the §5 429."""
    sim = NetSuiteSimulator(concurrency_limit=1, faults=FaultPlan(latency=1.0), clock=FakeClock())
    answers = await two_at_once(sim)
    assert sorted(r.status_code for r in answers) == [200, 429]
    assert (sim.stats.saturated_401s, sim.stats.rate_limited) == (0, 1)


def test_the_fault_reads_from_a_plan_file_and_refuses_bad_values() -> None:
    """`nswoo sim --faults` plans take both keys; a bad one names itself."""
    plan = FaultPlan.from_mapping(
        {"concurrency_invalid_login": 0.5, "concurrency_invalid_login_delay": 60}
    )
    assert (plan.concurrency_invalid_login, plan.concurrency_invalid_login_delay) == (0.5, 60)
    with pytest.raises(ConfigurationError) as info:
        FaultPlan.from_mapping({"concurrency_invalid_login": 2})
    assert info.value.key == "concurrency_invalid_login"
