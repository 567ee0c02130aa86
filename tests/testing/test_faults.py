"""Fault plans: validation, loading from TOML/JSON, and seeded, order-independent injection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nswoo.errors import ConfigurationError
from nswoo.testing._faults import (
    ErrorBurst,
    FaultInjector,
    FaultPlan,
    SchemaChange,
    SlowCommit,
    load_fault_plan,
)

TOML_PLAN = """
seed = 42
latency = 0.05
jitter = 0.02
rate_limit_probability = 0.1
retry_after = 2
reset_probability = 0.01
token_lifetime = 600

[[error_bursts]]
start = 10
count = 3
status = 503

[slow_commits]
every = 7
delay = 40

[[schema_changes]]
at_request = 100
kind = "rename"
field = "custbody_nswoo_woo_order_id"
new_id = "custbody_woo_order"
"""


def test_default_plan_injects_nothing() -> None:
    """The default plan answers no to every fault question."""
    injector = FaultInjector()
    for _ in range(50):
        index = injector.begin_request()
        assert not injector.should_rate_limit(100, index)
        assert injector.burst_status(index) is None
        assert not injector.should_reset(index)
        assert injector.latency(index) == 0.0
        assert not injector.is_slow_commit()
        assert injector.due_schema_changes(index) == ()


def test_toml_file_loads_every_knob(tmp_path: Path) -> None:
    """A TOML fault plan file for `nswoo sim --faults` loads into the equivalent FaultPlan."""
    path = tmp_path / "faults.toml"
    path.write_text(TOML_PLAN, encoding="utf-8")
    plan = load_fault_plan(path)
    assert plan == FaultPlan(
        seed=42,
        latency=0.05,
        jitter=0.02,
        rate_limit_probability=0.1,
        retry_after=2,
        reset_probability=0.01,
        token_lifetime=600,
        error_bursts=(ErrorBurst(start=10, count=3, status=503),),
        slow_commits=SlowCommit(every=7, delay=40),
        schema_changes=(
            SchemaChange(
                at_request=100,
                kind="rename",
                field="custbody_nswoo_woo_order_id",
                new_id="custbody_woo_order",
            ),
        ),
    )


def test_json_file_loads(tmp_path: Path) -> None:
    """A JSON fault plan loads the same way as TOML."""
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"seed": 1, "error_bursts": [{"start": 0, "count": 2}]}))
    assert load_fault_plan(path).error_bursts == (ErrorBurst(start=0, count=2),)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"latencyy": 1}, "latencyy"),
        ({"latency": "fast"}, "latency"),
        ({"latency": True}, "latency"),
        ({"rate_limit_probability": 1.5}, "rate_limit_probability"),
        ({"error_bursts": [{"start": 1}]}, "error_bursts[0].count"),
        ({"error_bursts": [{"start": 1, "count": 1, "colour": 1}]}, "error_bursts[0].colour"),
        ({"slow_commits": {"every": 0}}, "slow_commits.every"),
        ({"schema_changes": [{"at_request": 1, "kind": "explode", "field": "x"}]},
         "schema_changes[0].kind"),
        ({"schema_changes": [{"at_request": 1, "kind": "rename", "field": "x"}]},
         "schema_changes[0].new_id"),
    ],
)  # fmt: skip
def test_bad_plan_names_the_key(data: dict[str, object], key: str) -> None:
    """A bad key or value raises ConfigurationError naming exactly that key."""
    with pytest.raises(ConfigurationError) as caught:
        FaultPlan.from_mapping(data)
    assert caught.value.key == key


def test_unreadable_or_unknown_format_is_refused(tmp_path: Path) -> None:
    """A missing file, a wrong suffix and broken TOML are configuration errors."""
    with pytest.raises(ConfigurationError):
        load_fault_plan(tmp_path / "missing.toml")
    yaml = tmp_path / "faults.yaml"
    yaml.write_text("seed: 1")
    with pytest.raises(ConfigurationError, match=r"\.toml or \.json"):
        load_fault_plan(yaml)
    broken = tmp_path / "broken.toml"
    broken.write_text("seed = ")
    with pytest.raises(ConfigurationError, match="not valid toml"):
        load_fault_plan(broken)


def test_bursts_hit_exactly_their_indexes() -> None:
    """An error burst answers its status at request indexes start..start+count-1 only."""
    injector = FaultInjector(
        plan=FaultPlan(error_bursts=(ErrorBurst(start=3, count=2, status=502),))
    )
    statuses = [injector.burst_status(injector.begin_request()) for _ in range(8)]
    assert statuses == [None, None, None, 502, 502, None, None, None]


def _sequence(seed: int) -> list[tuple[bool, bool, float]]:
    plan = FaultPlan(seed=seed, rate_limit_probability=0.3, reset_probability=0.2, jitter=1.0)
    injector = FaultInjector(plan=plan)
    out = []
    for _ in range(200):
        index = injector.begin_request()
        out.append(
            (
                injector.should_rate_limit(1, index),
                injector.should_reset(index),
                injector.latency(index),
            )
        )
    return out


def test_same_seed_same_faults() -> None:
    """Two injectors with the same seed make the same decisions; another seed differs."""
    assert _sequence(7) == _sequence(7)
    assert _sequence(7) != _sequence(8)


def test_answers_do_not_depend_on_question_order() -> None:
    """Asking in a different order (as concurrent requests do) gives the same answers."""
    plan = FaultPlan(seed=3, rate_limit_probability=0.5, reset_probability=0.5)
    first, second = FaultInjector(plan=plan), FaultInjector(plan=plan)
    for _ in range(20):
        first.begin_request()
        second.begin_request()
    forward = [(first.should_reset(i), first.should_rate_limit(1, i)) for i in range(20)]
    backward = [
        (second.should_reset(i), second.should_rate_limit(1, i)) for i in reversed(range(20))
    ]
    assert forward == list(reversed(backward))


def test_probabilities_are_roughly_honoured() -> None:
    """A 30% rate-limit probability rate-limits roughly 30% of 2000 requests."""
    hits = sum(limited for limited, _, _ in _sequence(11) * 10)
    assert 400 < hits < 800


def test_concurrency_limit_in_plan_rate_limits_over_it() -> None:
    """With concurrency_limit=2, a third request in flight is rate limited."""
    injector = FaultInjector(plan=FaultPlan(concurrency_limit=2))
    index = injector.begin_request()
    assert not injector.should_rate_limit(2, index)
    assert injector.should_rate_limit(3, index)


def test_slow_commit_every_nth_write() -> None:
    """SlowCommit(every=3) makes the 3rd, 6th and 9th writes slow."""
    injector = FaultInjector(plan=FaultPlan(slow_commits=SlowCommit(every=3)))
    assert [injector.is_slow_commit() for _ in range(9)] == [False, False, True] * 3


def test_schema_changes_are_due_once() -> None:
    """A schema change is returned once, at the first request at or past its index."""
    change = SchemaChange(at_request=2, kind="remove", field="custbody_x")
    injector = FaultInjector(plan=FaultPlan(schema_changes=(change,)))
    due = [injector.due_schema_changes(injector.begin_request()) for _ in range(5)]
    assert due == [(), (), (change,), (), ()]


def test_jitter_stays_within_bounds() -> None:
    """Latency is at least `latency` and below `latency + jitter`."""
    injector = FaultInjector(plan=FaultPlan(latency=0.1, jitter=0.05))
    values = [injector.latency(injector.begin_request()) for _ in range(100)]
    assert all(0.1 <= value < 0.15 for value in values)
    assert len(set(values)) > 50


def test_webhook_and_batch_questions_follow_their_probability() -> None:
    """Probability 1 always duplicates, redelivers and fails batch items; 0 never does."""
    always = FaultInjector(
        plan=FaultPlan(
            duplicate_webhook_probability=1.0,
            redeliver_probability=1.0,
            batch_item_failure_probability=1.0,
        )
    )
    never = FaultInjector()
    assert always.duplicate_webhook(0)
    assert always.redeliver_webhook(0)
    assert always.batch_item_fails(0, 5)
    assert not never.duplicate_webhook(0)
    assert not never.redeliver_webhook(0)
    assert not never.batch_item_fails(0, 5)
