"""The adaptive-cap rule (pure): bounded, converging below a real limit, rising slowly."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswoo.limits._adaptive import AdaptiveCap, AdaptiveRule, initial_cap


@st.composite
def rules(draw: st.DrawFn) -> AdaptiveRule:
    return AdaptiveRule(
        increase_after=draw(st.integers(1, 30)), probe_factor=draw(st.integers(1, 8))
    )


@st.composite
def starts(draw: st.DrawFn) -> AdaptiveCap:
    configured = draw(st.integers(1, 40))
    return initial_cap(configured, min_cap=draw(st.integers(1, configured)))


# An event: ("ok", saturated, epochs_behind) or ("429", epochs_behind); a request admitted
# some epochs ago answers late.
events = st.lists(
    st.one_of(
        st.tuples(st.just("ok"), st.booleans(), st.integers(0, 2)),
        st.tuples(st.just("429"), st.just(False), st.integers(0, 2)),
    ),
    max_size=300,
)


def apply(rule: AdaptiveRule, state: AdaptiveCap, event: tuple[str, bool, int]) -> AdaptiveCap:
    kind, saturated, behind = event
    admitted = state.epoch - behind
    if kind == "ok":
        return rule.succeeded(state, admitted=admitted, saturated=saturated)
    return rule.rate_limited(state, admitted=admitted)


@given(rules(), starts(), events)
def test_cap_stays_between_the_minimum_and_the_configured_cap(
    rule: AdaptiveRule, start: AdaptiveCap, sequence: list[tuple[str, bool, int]]
) -> None:
    """Whatever answers come back, min_cap <= cap <= configured, and min_seen tracks it."""
    state = start
    for event in sequence:
        state = apply(rule, state, event)
        assert 1 <= state.min_cap <= state.cap <= state.configured
        assert state.min_seen <= state.cap
        assert state.configured == start.configured


@given(rules(), starts(), events)
def test_cap_rises_by_one_per_increase_after_saturated_successes_at_most(
    rule: AdaptiveRule, start: AdaptiveCap, sequence: list[tuple[str, bool, int]]
) -> None:
    """The cap never jumps: +1 at a time, only on a saturated success of the current
    cohort, and at most once per `increase_after` such successes."""
    state = start
    increases = 0
    for event in sequence:
        before = state
        state = apply(rule, state, event)
        kind, saturated, behind = event
        if state.cap > before.cap:
            assert state.cap == before.cap + 1
            assert (kind, saturated, behind) == ("ok", True, 0)
            increases += 1
    # Every increase consumed `increase_after` counted successes (cuts reset the count).
    assert increases * rule.increase_after <= sum(
        1 for kind, saturated, behind in sequence if kind == "ok" and saturated and behind == 0
    )


@given(
    rules(),
    st.integers(1, 40),
    st.data(),
)
def test_a_cap_above_the_real_limit_converges_below_it_and_probes_rarely(
    rule: AdaptiveRule, configured: int, data: st.DataObject
) -> None:
    """Against an account that refuses every request over `limit` in flight, the cap comes
    down within `configured` rounds, then stays at most one above the limit, and rounds
    over the limit are rare: at most one per `increase_after * probe_factor` successes."""
    limit = data.draw(st.integers(1, configured), label="limit")
    state = initial_cap(configured)
    rounds = 200
    over: list[int] = []
    for round_no in range(rounds):
        admitted = state.epoch  # a cohort of `cap` requests, all admitted now
        cap = state.cap
        if cap > limit:
            over.append(round_no)
            for _ in range(cap - limit):
                state = rule.rate_limited(state, admitted=admitted)
            for _ in range(limit):
                state = rule.succeeded(state, admitted=admitted, saturated=True)
        else:
            for _ in range(cap):
                state = rule.succeeded(state, admitted=admitted, saturated=True)
        if round_no >= configured:
            assert state.cap <= limit + 1, (round_no, state)
    settled = [r for r in over if r >= configured]
    per_probe = rule.increase_after * rule.probe_factor
    assert len(settled) <= 1 + (rounds - configured) * limit / per_probe


def test_a_rate_limit_cuts_to_seventy_percent_once_per_cohort() -> None:
    """Example: 10 → 7, remembering 10; a late 429 from the old cohort changes nothing."""
    rule = AdaptiveRule()
    state = initial_cap(10)
    cut = rule.rate_limited(state, admitted=0)
    assert (cut.cap, cut.ceiling, cut.epoch, cut.min_seen) == (7, 10, 1, 7)
    assert rule.rate_limited(cut, admitted=0) == cut


def test_growing_back_to_a_cap_that_failed_takes_probe_factor_times_longer() -> None:
    """Example: after failing at 3 and cutting to 2, 3 comes back after 5 x 2 successes."""
    rule = AdaptiveRule(increase_after=2, probe_factor=5)
    state = rule.rate_limited(initial_cap(3), admitted=0)
    assert state.cap == 2
    for _ in range(9):
        state = rule.succeeded(state, admitted=state.epoch, saturated=True)
    assert state.cap == 2
    state = rule.succeeded(state, admitted=state.epoch, saturated=True)
    assert state.cap == 3
    assert state.ceiling == 3


def test_successes_while_not_full_never_raise_the_cap() -> None:
    """A quiet period cannot talk the cap back up."""
    rule = AdaptiveRule(increase_after=1)
    state = rule.rate_limited(initial_cap(8), admitted=0)
    for _ in range(100):
        state = rule.succeeded(state, admitted=state.epoch, saturated=False)
    assert state.cap == 6


def test_invalid_caps_are_refused() -> None:
    """A cap below 1 or a min_cap outside [1, cap] is a ValueError naming it."""
    with pytest.raises(ValueError, match="cap must be at least 1"):
        initial_cap(0)
    with pytest.raises(ValueError, match="min_cap"):
        initial_cap(2, min_cap=3)
    assert attrs.asdict(initial_cap(4)) == {
        "configured": 4,
        "cap": 4,
        "min_cap": 1,
        "epoch": 0,
        "successes": 0,
        "ceiling": None,
        "min_seen": 4,
    }
