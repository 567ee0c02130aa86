"""Declarative, seedable fault plans shared by the NetSuite and WooCommerce simulators.

A `FaultPlan` says *what* goes wrong (latency, 429s, 5xx bursts, connection resets, short
token lives, slow commits, schema changes, webhook duplicates); a `FaultInjector` holds one
plan, a request counter and the randomness, and answers the per-request questions the
simulators ask. Every random answer is derived from `(seed, question, index)`, so the same
seed gives the same faults at the same request indexes whatever order concurrent requests
happen to ask in.
"""

from __future__ import annotations

import json
import random
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, cast, get_args

import attrs

from nswoo.errors import ConfigurationError

__all__ = [
    "ErrorBurst",
    "FaultInjector",
    "FaultPlan",
    "SchemaChange",
    "SchemaChangeKind",
    "SlowCommit",
    "load_fault_plan",
]

SchemaChangeKind = Literal["rename", "mandatory", "remove"]

_T = TypeVar("_T")


def _probability(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


def _optional_positive(
    _instance: object, attribute: attrs.Attribute[Any], value: float | None
) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be positive or None, got {value!r}")


@attrs.frozen(kw_only=True)
class ErrorBurst:
    """`count` consecutive requests answered with `status`, from request index `start`.

    Request indexes are 0-based and count every request the simulator receives.

    Example:
        >>> ErrorBurst(start=10, count=3).status
        503
    """

    start: int = attrs.field(validator=_non_negative)
    count: int = attrs.field(validator=_non_negative)
    status: int = 503

    def covers(self, index: int) -> bool:
        """Whether request `index` falls inside the burst."""
        return self.start <= index < self.start + self.count


@attrs.frozen(kw_only=True)
class SlowCommit:
    """Writes that commit but answer too late for the client.

    A write is slow when it is the `every`-th write (1-based, counting writes only) or when a
    seeded roll falls under `probability`. In-process the simulator commits and then raises
    `httpx.ReadTimeout`; served over a socket it commits and sleeps `delay` seconds before
    answering (the default is past nswoo's default 30 s client timeout).

    Example:
        >>> SlowCommit(every=5).every
        5
    """

    probability: float = attrs.field(default=0.0, validator=_probability)
    every: int | None = attrs.field(default=None, validator=_optional_positive)
    delay: float = attrs.field(default=35.0, validator=_non_negative)


@attrs.frozen(kw_only=True)
class SchemaChange:
    """An admin's change to a custom field, applied when request `at_request` arrives.

    `kind` is `rename` (the field gets `new_id`, same label), `mandatory` (a value becomes
    required) or `remove`. `record` is the record type (`salesOrder` or `customer`).

    Example:
        >>> SchemaChange(at_request=50, kind="rename", field="custbody_a", new_id="custbody_b")
        ... # doctest: +ELLIPSIS
        SchemaChange(...)
    """

    at_request: int = attrs.field(validator=_non_negative)
    kind: SchemaChangeKind
    field: str
    record: str = "salesOrder"
    new_id: str | None = None
    label: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in get_args(SchemaChangeKind):
            raise ValueError(f"kind must be one of {get_args(SchemaChangeKind)}, got {self.kind!r}")
        if self.kind == "rename" and not self.new_id:
            raise ValueError("new_id is required when kind is rename")


def _bursts(value: Iterable[ErrorBurst]) -> tuple[ErrorBurst, ...]:
    return tuple(value)


def _changes(value: Iterable[SchemaChange]) -> tuple[SchemaChange, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class FaultPlan:
    """What goes wrong in a simulator, declared up front; the default plan injects nothing.

    Attributes:
        seed: seeds every random decision; the same seed gives the same faults.
        latency: seconds added to every request.
        jitter: up to this many extra seconds, uniformly drawn per request.
        concurrency_limit: requests in flight above this get 429 (None: no fault-plan limit;
            the NetSuite simulator also has its own account limit).
        rate_limit_probability: chance that any request gets 429 regardless of load.
        retry_after: seconds sent in `Retry-After` on injected 429s (None: no header, which is
            what NetSuite is reported to do).
        error_bursts: runs of 5xx answers at fixed request indexes.
        reset_probability: chance the connection is reset before the request has any effect
            (in-process: `httpx.RemoteProtocolError` or `httpx.ReadError`; served: the
            connection closes without an answer).
        token_lifetime: seconds after which minted tokens stop working, although the token
            response still says `expires_in: 3600` (None: they live 3600 s).
        slow_commits: writes that commit but answer after the client gave up.
        schema_changes: custom-field changes applied at given request indexes.
        batch_item_failure_probability: chance one item of a WooCommerce batch fails.
        duplicate_webhook_probability: chance a webhook is delivered twice, same delivery id.
        redeliver_probability: chance a webhook is delivered again later with a new delivery id.
        concurrency_invalid_login: chance that a NetSuite request refused for exceeding the
            account's concurrency limit is answered 401 INVALID_LOGIN ("Invalid login
            attempt.") instead of 429, as reported from the field against community
            clients (julbrs/netsuite-api-client#26; reference §1d, peers.md item 4).
        concurrency_invalid_login_delay: seconds such a 401 takes to arrive (the report
            saw about 60 s; 0 answers at once).
        webhook_outages: runs of WooCommerce webhook delivery attempts (0-based, counting
            every POST of a delivery but not pings) that fail with `status` without reaching
            the receiver, as when its host is down. WooCommerce counts each as a failure and
            disables the webhook after more than `woocommerce_max_webhook_delivery_failures`
            (default 5) in a row (reference/woocommerce.md §8: the 7th consecutive failure).

    Example:
        >>> plan = FaultPlan(seed=7, latency=0.05, error_bursts=(ErrorBurst(start=3, count=2),))
        >>> FaultInjector(plan=plan).burst_status(3)
        503
    """

    seed: int = 0
    latency: float = attrs.field(default=0.0, validator=_non_negative)
    jitter: float = attrs.field(default=0.0, validator=_non_negative)
    concurrency_limit: int | None = attrs.field(default=None, validator=_optional_positive)
    rate_limit_probability: float = attrs.field(default=0.0, validator=_probability)
    retry_after: float | None = attrs.field(default=None)
    error_bursts: tuple[ErrorBurst, ...] = attrs.field(default=(), converter=_bursts)
    reset_probability: float = attrs.field(default=0.0, validator=_probability)
    token_lifetime: float | None = attrs.field(default=None, validator=_optional_positive)
    slow_commits: SlowCommit = attrs.field(factory=SlowCommit)
    schema_changes: tuple[SchemaChange, ...] = attrs.field(default=(), converter=_changes)
    batch_item_failure_probability: float = attrs.field(default=0.0, validator=_probability)
    duplicate_webhook_probability: float = attrs.field(default=0.0, validator=_probability)
    redeliver_probability: float = attrs.field(default=0.0, validator=_probability)
    concurrency_invalid_login: float = attrs.field(default=0.0, validator=_probability)
    concurrency_invalid_login_delay: float = attrs.field(default=0.0, validator=_non_negative)
    webhook_outages: tuple[ErrorBurst, ...] = attrs.field(default=(), converter=_bursts)

    @retry_after.validator
    def _check_retry_after(self, _attribute: object, value: float | None) -> None:
        if value is not None and value < 0:
            raise ValueError(f"retry_after must not be negative, got {value!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> FaultPlan:
        """Build a plan from parsed TOML or JSON, checking every key and value.

        Raises:
            ConfigurationError: an unknown key or a bad value; `key` names it, e.g.
                `error_bursts[1].status`.
        """
        return _plan_from_mapping(data)


def load_fault_plan(path: str | Path) -> FaultPlan:
    """Read a fault plan from a `.toml` or `.json` file (the `nswoo sim --faults FILE` format).

    Raises:
        ConfigurationError: the file is unreadable, not TOML/JSON, or holds a bad key or value.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read fault plan: {exc.strerror}", key=str(file)) from exc
    try:
        if file.suffix.lower() == ".json":
            data: object = json.loads(raw)
        elif file.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        else:
            raise ConfigurationError("fault plan must be a .toml or .json file", key=str(file))
    except (ValueError, UnicodeDecodeError) as exc:
        # tomllib.TOMLDecodeError and json.JSONDecodeError are both ValueErrors.
        raise ConfigurationError(f"not valid {file.suffix[1:]}: {exc}", key=str(file)) from exc
    if not isinstance(data, Mapping):
        raise ConfigurationError("a fault plan must be a table/object", key=str(file))
    return FaultPlan.from_mapping(cast("Mapping[str, object]", data))


# ---------------------------------------------------------------------------------------------
# Loading


def _check_keys(data: Mapping[str, object], allowed: Sequence[str], prefix: str) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigurationError(
                f"unknown key (allowed: {', '.join(sorted(allowed))})", key=f"{prefix}{key}"
            )


def _number(value: object, key: str, *, integer: bool = False, optional: bool = False) -> object:
    if value is None and optional:
        return None
    # bool is an int subclass; `latency = true` is a mistake, not 1 second.
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if not ok or isinstance(value, bool):
        kind = "an integer" if integer else "a number"
        raise ConfigurationError(f"must be {kind}", key=key)
    return value


def _table(value: object, key: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ConfigurationError("must be a table/object", key=key)
    return cast("Mapping[str, object]", value)


def _list(value: object, key: str) -> list[object]:
    if not isinstance(value, list | tuple):
        raise ConfigurationError("must be a list", key=key)
    return list(cast("Sequence[object]", value))


def _build(factory: Callable[..., _T], kwargs: dict[str, object], key: str) -> _T:
    try:
        return factory(**kwargs)
    except (ValueError, TypeError) as exc:
        # Validators name the attribute first; point the key at it when we can.
        text = str(exc)
        name = text.split(" ", 1)[0]
        known = name in attrs.fields_dict(cast("type[Any]", factory))
        where = (f"{key}.{name}" if key else name) if known else key
        raise ConfigurationError(text, key=where) from exc


_PLAN_NUMBERS: dict[str, tuple[bool, bool]] = {
    # key: (integer, optional)
    "seed": (True, False),
    "latency": (False, False),
    "jitter": (False, False),
    "concurrency_limit": (True, True),
    "rate_limit_probability": (False, False),
    "retry_after": (False, True),
    "reset_probability": (False, False),
    "token_lifetime": (False, True),
    "batch_item_failure_probability": (False, False),
    "duplicate_webhook_probability": (False, False),
    "redeliver_probability": (False, False),
    "concurrency_invalid_login": (False, False),
    "concurrency_invalid_login_delay": (False, False),
}


def _plan_from_mapping(data: Mapping[str, object]) -> FaultPlan:
    _check_keys(
        data,
        [*_PLAN_NUMBERS, "error_bursts", "slow_commits", "schema_changes", "webhook_outages"],
        "",
    )
    kwargs: dict[str, object] = {}
    for key, (integer, optional) in _PLAN_NUMBERS.items():
        if key in data:
            kwargs[key] = _number(data[key], key, integer=integer, optional=optional)
    for name in ("error_bursts", "webhook_outages"):
        if name not in data:
            continue
        bursts = []
        for i, entry in enumerate(_list(data[name], name)):
            where = f"{name}[{i}]"
            table = _table(entry, where)
            _check_keys(table, ["start", "count", "status"], f"{where}.")
            for need in ("start", "count"):
                if need not in table:
                    raise ConfigurationError("required", key=f"{where}.{need}")
            burst = {k: _number(v, f"{where}.{k}", integer=True) for k, v in table.items()}
            bursts.append(_build(ErrorBurst, burst, where))
        kwargs[name] = tuple(bursts)
    if "slow_commits" in data:
        table = _table(data["slow_commits"], "slow_commits")
        _check_keys(table, ["probability", "every", "delay"], "slow_commits.")
        slow = {
            k: _number(v, f"slow_commits.{k}", integer=k == "every", optional=k == "every")
            for k, v in table.items()
        }
        kwargs["slow_commits"] = _build(SlowCommit, slow, "slow_commits")
    if "schema_changes" in data:
        changes = []
        for i, entry in enumerate(_list(data["schema_changes"], "schema_changes")):
            where = f"schema_changes[{i}]"
            table = _table(entry, where)
            fields = ["at_request", "kind", "field", "record", "new_id", "label"]
            _check_keys(table, fields, f"{where}.")
            for need in ("at_request", "kind", "field"):
                if need not in table:
                    raise ConfigurationError("required", key=f"{where}.{need}")
            change: dict[str, object] = {}
            for k, v in table.items():
                if k == "at_request":
                    change[k] = _number(v, f"{where}.{k}", integer=True)
                elif not isinstance(v, str):
                    raise ConfigurationError("must be a string", key=f"{where}.{k}")
                else:
                    change[k] = v
            if change["kind"] not in get_args(SchemaChangeKind):
                raise ConfigurationError(
                    f"must be one of {', '.join(get_args(SchemaChangeKind))}", key=f"{where}.kind"
                )
            changes.append(_build(SchemaChange, change, where))
        kwargs["schema_changes"] = tuple(changes)
    return _build(FaultPlan, kwargs, "")


# ---------------------------------------------------------------------------------------------
# Injection


@attrs.define(kw_only=True)
class FaultInjector:
    """Answers a simulator's per-request fault questions for one `FaultPlan`.

    Call `begin_request()` once per incoming request; it returns that request's 0-based
    index, which the other questions take (they default to the latest index, which is right
    for a simulator that asks before its first await). Random answers are derived from
    `(seed, question, index)` only, so they do not depend on the order of the questions.

    Example:
        >>> injector = FaultInjector(plan=FaultPlan(error_bursts=(ErrorBurst(start=0, count=1),)))
        >>> index = injector.begin_request()
        >>> injector.burst_status(index)
        503
    """

    plan: FaultPlan = attrs.field(factory=FaultPlan)
    requests: int = attrs.field(init=False, default=0)
    writes: int = attrs.field(init=False, default=0)
    _applied_changes: set[int] = attrs.field(init=False, factory=set)
    rng: random.Random = attrs.field(init=False)

    @rng.default
    def _seeded(self) -> random.Random:
        # For callers that need a free-running stream (e.g. picking which batch item fails).
        return random.Random(self.plan.seed)  # noqa: S311 - fault injection, not security

    def roll(self, question: str, index: int) -> float:
        """A uniform [0, 1) number fixed by `(seed, question, index)`."""
        return random.Random(f"{self.plan.seed}:{question}:{index}").random()  # noqa: S311

    def begin_request(self) -> int:
        """Count a new request and return its 0-based index."""
        index = self.requests
        self.requests += 1
        return index

    def _current(self, index: int | None) -> int:
        return self.requests - 1 if index is None else index

    def latency(self, index: int | None = None) -> float:
        """Seconds to delay request `index`: `latency` plus a seeded share of `jitter`."""
        plan = self.plan
        if plan.jitter == 0:
            return plan.latency
        return plan.latency + plan.jitter * self.roll("jitter", self._current(index))

    def should_rate_limit(self, in_flight: int, index: int | None = None) -> bool:
        """Whether to answer 429: over the plan's concurrency limit, or by a seeded roll.

        `in_flight` counts the request being asked about.
        """
        plan = self.plan
        if plan.concurrency_limit is not None and in_flight > plan.concurrency_limit:
            return True
        return plan.rate_limit_probability > 0 and (
            self.roll("rate_limit", self._current(index)) < plan.rate_limit_probability
        )

    def burst_status(self, index: int | None = None) -> int | None:
        """The status to answer when request `index` falls in an error burst, else None."""
        current = self._current(index)
        for burst in self.plan.error_bursts:
            if burst.covers(current):
                return burst.status
        return None

    def should_reset(self, index: int | None = None) -> bool:
        """Whether to drop the connection before request `index` has any effect."""
        probability = self.plan.reset_probability
        return probability > 0 and self.roll("reset", self._current(index)) < probability

    def is_slow_commit(self) -> bool:
        """Count one committing write and say whether its answer must come too late."""
        self.writes += 1
        slow = self.plan.slow_commits
        if slow.every is not None and self.writes % slow.every == 0:
            return True
        return slow.probability > 0 and self.roll("slow_commit", self.writes) < slow.probability

    def due_schema_changes(self, index: int | None = None) -> tuple[SchemaChange, ...]:
        """Schema changes whose `at_request` has been reached and that were not yet returned.

        Each change is returned once, in plan order, even when requests arrive concurrently.
        """
        current = self._current(index)
        due = []
        for position, change in enumerate(self.plan.schema_changes):
            if change.at_request <= current and position not in self._applied_changes:
                self._applied_changes.add(position)
                due.append(change)
        return tuple(due)

    def batch_item_fails(self, index: int, item: int) -> bool:
        """Whether item `item` (0-based) of the batch in request `index` fails."""
        probability = self.plan.batch_item_failure_probability
        return probability > 0 and self.roll(f"batch_item:{item}", index) < probability

    def duplicate_webhook(self, delivery: int) -> bool:
        """Whether webhook delivery number `delivery` is sent twice with the same delivery id."""
        probability = self.plan.duplicate_webhook_probability
        return probability > 0 and self.roll("duplicate_webhook", delivery) < probability

    def webhook_outage(self, attempt: int) -> int | None:
        """The status webhook delivery attempt `attempt` fails with, unreached, or None."""
        for outage in self.plan.webhook_outages:
            if outage.covers(attempt):
                return outage.status
        return None

    def invalid_login_when_saturated(self, index: int | None = None) -> bool:
        """Whether request `index`, refused for concurrency, gets 401 instead of 429."""
        probability = self.plan.concurrency_invalid_login
        return probability > 0 and (
            self.roll("concurrency_invalid_login", self._current(index)) < probability
        )

    def redeliver_webhook(self, delivery: int) -> bool:
        """Whether webhook delivery number `delivery` is sent again later with a new id."""
        probability = self.plan.redeliver_probability
        return probability > 0 and self.roll("redeliver_webhook", delivery) < probability
