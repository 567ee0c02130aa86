"""Scorecard `rate_limits`: a cap set above the account limit converges, 429s stay rare."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..testing.netsuite._sim import SimRequest
from ._types import Card, DemoRun, Scorecard

__all__ = ["SCORECARD"]


def _most_at_once(requests: Iterable[SimRequest]) -> int:
    """The most of `requests` NetSuite held open at the same moment."""
    edges = sorted(
        [(r.started, 1) for r in requests] + [(r.finished, -1) for r in requests],
        key=lambda edge: (edge[0], edge[1]),  # an end before a start at the same instant
    )
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def _converged(samples: Sequence[tuple[float, int]], limit: int) -> tuple[float, int] | None:
    """When the cap first came down to the account limit or below, and to what value
    (None: it never did)."""
    return next(((at, cap) for at, cap in samples if cap <= limit), None)


def _cap_path(samples: Sequence[tuple[float, int]], configured: int) -> str:
    """`12 → 6 → 5 → 4 → 5`: the cap's values in order (the first few and the last)."""
    values = [configured]
    for _, cap in samples:
        if cap != values[-1]:
            values.append(cap)
    if len(values) > 8:
        return " → ".join([*map(str, values[:6]), "…", str(values[-1])])
    return " → ".join(map(str, values))


async def _score(run: DemoRun) -> Card:
    world, limiter, options = run.world, run.limiter.stats(), run.options
    limit, configured = options.account_limit, options.configured_cap
    requests = [r for r in world.netsuite.stats.requests if r.endpoint != "token"]
    total = len(requests)
    # The first tenth (at least 50 requests) is the burst in which the limiter finds the limit.
    warm = requests[max(len(requests) // 10, 50) :]
    late_429 = sum(1 for r in warm if r.status == 429)
    share = late_429 / len(warm) if warm else 0.0
    all_429 = sum(1 for r in requests if r.status == 429)
    # The limiter must have reacted to the 429s it got (cut its cap), and the 429 share must
    # stay low; how far the cap falls depends on how hard the run pushed past the limit (a
    # small run may barely exceed it, or never).
    reacted = all_429 == 0 or limiter.min_cap_seen < configured
    converged = _converged(run.cap_samples, limit)
    converged_at = None if converged is None else converged[0]
    before = [r for r in requests if converged_at is None or r.started < converged_at]
    after = [r for r in requests if converged_at is not None and r.started >= converged_at]
    after_429 = sum(1 for r in after if r.status == 429)
    most_before, most_after = _most_at_once(before), _most_at_once(after)
    if converged is None:
        cap_line = (
            f"cap {_cap_path(run.cap_samples, configured)}, lowest {limiter.min_cap_seen}, "
            f"account limit {limit}: the load never needed a lower cap"
        )
        seconds: float | None = None
    else:
        seconds = round(converged[0] - run.started_at, 2)
        cap_line = (
            f"cap {configured} → {converged[1]} within {seconds:.2f} s, account limit {limit} "
            f"(path {_cap_path(run.cap_samples, configured)}; now {limiter.cap})"
        )
    explain = [
        f"nswoo was configured to send {configured} NetSuite requests at once; the account "
        f"allows {limit}, and NetSuite answers 429 above that",
        f"the limiter learned the limit from those 429s: {cap_line} (timing-dependent)",
    ]
    if converged_at is not None:
        probing = (
            f"; the cap probes upward now and then, and NetSuite answers 429 above {limit}"
            if most_after > limit
            else ""
        )
        explain.append(
            f"NetSuite saw up to {most_before} requests at once before the cap came down, and "
            f"at most {most_after} after (timing-dependent){probing}"
        )
    else:
        explain.append(f"NetSuite saw up to {most_before} requests at once (timing-dependent)")
    explain.append(
        f"{all_429} of {total} requests were answered 429 and sent again later "
        f"({all_429 / total if total else 0:.1%}), {after_429} of them after the cap came down; "
        f"after the first burst {share:.1%} (must stay under 10%)"
    )
    return {
        "ok": share < 0.10 and reacted,
        "injected": {"account_limit": limit, "configured_cap": configured},
        "timing_dependent": {
            "requests": total,
            "responses_429": all_429,
            "responses_429_after_cap_converged": after_429,
            "seconds_to_converge": seconds,
            "max_in_flight_seen_by_netsuite": world.netsuite.stats.max_in_flight,
            "max_in_flight_before_cap_converged": most_before,
            "max_in_flight_after_cap_converged": most_after,
        },
        "share_429_after_warmup": round(share, 4),
        "limiter_cap_now": limiter.cap,
        "limiter_lowest_cap": limiter.min_cap_seen,
        "explain": explain,
    }


SCORECARD = Scorecard("rate_limits", _score)
