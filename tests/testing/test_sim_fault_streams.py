"""`nswoo sim` gives each simulator its own fault stream derived from the plan's seed."""

from __future__ import annotations

from nswoo.testing import ErrorBurst, FaultInjector, FaultPlan
from nswoo.testing._server import side_plans


def test_sides_get_distinct_seeds_fixed_by_the_plan_seed() -> None:
    plan = FaultPlan(seed=7, reset_probability=0.5, error_bursts=(ErrorBurst(start=3, count=2),))

    ns, woo = side_plans(plan)

    assert ns.seed != woo.seed
    assert side_plans(plan) == (ns, woo)
    assert side_plans(FaultPlan(seed=8))[0].seed != ns.seed
    assert ns.error_bursts == woo.error_bursts == plan.error_bursts
    ns_resets = [FaultInjector(plan=ns).should_reset(i) for i in range(64)]
    woo_resets = [FaultInjector(plan=woo).should_reset(i) for i in range(64)]
    assert ns_resets != woo_resets
