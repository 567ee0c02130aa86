"""Scorecard `rate_limits`: a cap set above the account limit converges, 429s stay rare."""

from __future__ import annotations

from ._types import Card, DemoRun, Scorecard

__all__ = ["SCORECARD"]


async def _score(run: DemoRun) -> Card:
    world, limiter, options = run.world, run.limiter.stats(), run.options
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
    converged = all_429 == 0 or limiter.min_cap_seen < options.configured_cap
    return {
        "ok": share < 0.10 and converged,
        "injected": {
            "account_limit": options.account_limit,
            "configured_cap": options.configured_cap,
        },
        "requests": total,
        "responses_429": all_429,
        "share_429_after_warmup": round(share, 4),
        "limiter_cap_now": limiter.cap,
        "limiter_lowest_cap": limiter.min_cap_seen,
        "max_in_flight_seen_by_netsuite": world.netsuite.stats.max_in_flight,
    }


SCORECARD = Scorecard("rate_limits", _score)
