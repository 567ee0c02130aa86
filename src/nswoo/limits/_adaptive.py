"""The adaptive cap: a pure rule (state in, state out) shared by every limiter backend.

Additive increase, multiplicative decrease, with memory. The first rate limit reported by a
request admitted under the current cap cuts the cap to 70 % (by at least one) and remembers
the cap that failed as a ceiling; later rate limits from the same cohort (admitted under the
old cap) say nothing new and do not cut again. After `increase_after` successes *while the
limiter was full* the cap grows by one, never above the configured cap; growing back to a
cap that already failed takes `probe_factor` times as long. A cap configured above the
account's real limit so converges just under it and probes the limit rarely, and a quiet
period (successes while not full) cannot talk it back up.

No clock, no anyio, no I/O: the local limiter keeps this state in memory, the Redis limiter
in Redis; both feed it the same events. "Saturated" (the limiter was full while the request
was in flight) is the backend's own observation and comes in as a flag.
"""

from __future__ import annotations

import math

import attrs

__all__ = ["AdaptiveCap", "AdaptiveRule", "initial_cap"]


@attrs.frozen
class AdaptiveCap:
    """The working cap and what the rule remembers.

    Attributes:
        configured: the cap the limiter was built with; `cap` never exceeds it.
        cap: the working cap now.
        min_cap: `cap` never drops below this.
        epoch: changes whenever `cap` changes; a request remembers the epoch it was admitted
            under, so its answer can tell whether it speaks about the current cap.
        successes: saturated successes counted toward the next increase.
        ceiling: the last cap that failed (None when none has, or the cap since grew past it).
        min_seen: the lowest `cap` so far.
    """

    configured: int
    cap: int
    min_cap: int = 1
    epoch: int = 0
    successes: int = 0
    ceiling: int | None = None
    min_seen: int = 0


def initial_cap(cap: int, *, min_cap: int = 1) -> AdaptiveCap:
    """The state of a limiter configured with `cap`.

    Raises:
        ValueError: `cap` below 1, or `min_cap` outside [1, cap].
    """
    if cap < 1:
        raise ValueError(f"cap must be at least 1, got {cap}")
    if not 1 <= min_cap <= cap:
        raise ValueError(f"min_cap must be between 1 and cap ({cap}), got {min_cap}")
    return AdaptiveCap(configured=cap, cap=cap, min_cap=min_cap, min_seen=cap)


@attrs.frozen
class AdaptiveRule:
    """The rule's parameters, and the two transitions.

    Attributes:
        decrease: the factor a rate limit cuts the cap by (rounded up, at least one less).
        increase_after: saturated successes needed to raise the cap by one.
        probe_factor: how many times longer growing back to a cap that failed takes.
    """

    decrease: float = 0.7
    increase_after: int = 20
    probe_factor: int = 5

    def succeeded(self, state: AdaptiveCap, *, admitted: int, saturated: bool) -> AdaptiveCap:
        """A request admitted under epoch `admitted` got an answer that was not a rate limit.

        Only a success while the limiter was full (`saturated`) says the service could take
        more, and only one admitted under the current cap speaks about it.
        """
        if not saturated or admitted != state.epoch or state.cap >= state.configured:
            return state
        successes = state.successes + 1
        needed = self.increase_after
        if state.ceiling is not None and state.cap + 1 >= state.ceiling:
            needed *= self.probe_factor  # that cap failed before: probe it rarely
        if successes < needed:
            return attrs.evolve(state, successes=successes)
        cap = state.cap + 1
        ceiling = state.ceiling
        if ceiling is not None and cap > ceiling:
            ceiling = None  # the limit was raised (or the rate limits had another cause)
        return attrs.evolve(state, cap=cap, successes=0, epoch=state.epoch + 1, ceiling=ceiling)

    def rate_limited(self, state: AdaptiveCap, *, admitted: int) -> AdaptiveCap:
        """A request admitted under epoch `admitted` was refused for load.

        The first refusal of the current cohort cuts the cap once; the rest of the cohort
        was admitted under the old cap and says nothing new about the limit.
        """
        if admitted != state.epoch:
            return state
        cut = math.ceil(state.cap * self.decrease)
        cap = max(state.min_cap, min(state.cap - 1, cut))
        return attrs.evolve(
            state,
            cap=cap,
            ceiling=state.cap,
            epoch=state.epoch + 1,
            successes=0,
            min_seen=min(state.min_seen, cap),
        )
