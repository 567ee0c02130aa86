"""Scorecard `auth`: NetSuite kills tokens early; one refresh per death, no failed request."""

from __future__ import annotations

import math

from ._types import Card, DemoRun, Scorecard

__all__ = ["SCORECARD"]

_STATED_EXPIRES_IN = 3600  # what NetSuite's token answer says (reference netsuite.md)


async def _score(run: DemoRun) -> Card:
    options, elapsed = run.options, run.elapsed
    stats = run.world.netsuite.stats
    calls = [r for r in stats.requests if r.endpoint != "token"]
    unauthorized = sum(1 for r in calls if r.status == 401)
    deaths = math.floor(elapsed / options.token_lifetime)
    # One token to start, then at most one refresh per death: the single flight's promise.
    minted = stats.tokens_minted
    failures = sum(1 for r in stats.requests if r.endpoint == "token" and r.status != 200)
    lifetime = f"{options.token_lifetime:g}"
    return {
        # A run whose orders needed no NetSuite request (all pending) needs no token either.
        "ok": (1 if calls else 0) <= minted <= deaths + 1 and failures == 0,
        "injected": {
            "token_lifetime_seconds": options.token_lifetime,
            "stated_expires_in": _STATED_EXPIRES_IN,
        },
        "timing_dependent": {
            "order_day_seconds": round(elapsed, 2),
            "token_deaths": deaths,
            "requests_refused_401": unauthorized,
        },
        "tokens_minted": minted,
        "tokens_allowed": deaths + 1,
        "token_endpoint_failures": failures,
        "explain": [
            f"NetSuite killed every access token {lifetime} s after issuing it, though its "
            f"answer said {_STATED_EXPIRES_IN} s",
            f"{deaths} tokens died during the {elapsed:.1f} s order day (timing-dependent)",
            f"{minted} tokens minted, at most the first one plus one per death ({deaths + 1}): "
            "concurrent requests shared each refresh",
            f"{unauthorized} requests were answered 401 on a dead token and sent again after "
            f"the refresh (timing-dependent); {failures} token requests failed",
        ],
    }


SCORECARD = Scorecard("auth", _score)
