"""Scorecard `auth`: NetSuite kills tokens early; one refresh per death, no failed request."""

from __future__ import annotations

import math

from ._types import Card, DemoRun, Scorecard

__all__ = ["SCORECARD"]


async def _score(run: DemoRun) -> Card:
    world, options, elapsed = run.world, run.options, run.elapsed
    stats = world.netsuite.stats
    unauthorized = sum(1 for r in stats.requests if r.status == 401 and r.endpoint != "token")
    deaths = math.floor(elapsed / options.token_lifetime)
    # One token to start, then at most one refresh per death: the single flight's promise.
    minted = stats.tokens_minted
    auth_failures = sum(1 for r in stats.requests if r.endpoint == "token" and r.status != 200)
    return {
        "ok": 1 <= minted <= deaths + 1 and auth_failures == 0,
        "injected": {
            "token_lifetime_seconds": options.token_lifetime,
            "stated_expires_in": 3600,
            "token_deaths_possible": deaths,
        },
        "requests_refused_401": unauthorized,
        "tokens_minted": minted,
        "token_endpoint_failures": auth_failures,
    }


SCORECARD = Scorecard("auth", _score)
