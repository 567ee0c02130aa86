"""Claiming an order while another worker may hold it: `claim_or_wait`."""

from __future__ import annotations

from tenacity import RetryCallState

from .._clock import Clock
from .._retry import Retry
from ._ports import Busy, Claim, OrderLinks

__all__ = ["claim_or_wait"]


async def claim_or_wait(
    links: OrderLinks,
    store: str,
    order_id: int,
    *,
    owner: str,
    lease_seconds: float,
    clock: Clock,
    max_wait: float,
    poll: float = 1.0,
) -> Claim:
    """Claim a key, waiting while another owner's lease lives, for at most `max_wait` seconds.

    Sleeps (on `clock`) until the other lease would expire or `poll` seconds, whichever is
    sooner, then claims again: the other owner usually links or releases before its lease
    ends. Returns the last answer: `Claimed`, `AlreadyLinked`, or `Busy` when `max_wait` ran out.
    """

    def until_next_look(state: RetryCallState) -> float:
        # Come back when the other lease ends, or after `poll`: its owner usually links or
        # releases the order before that (`Retry` cuts the wait to what is left of max_wait).
        busy = state.outcome.result() if state.outcome else None
        expires_at = busy.expires_at if isinstance(busy, Busy) else clock.time()
        return min(poll, max(0.0, expires_at - clock.time()))

    waiting = Retry(attempts=None, seconds=max(0.0, max_wait), wait=until_next_look)
    return await waiting.call(
        lambda: links.claim(store, order_id, owner=owner, lease_seconds=lease_seconds),
        again=lambda answer: isinstance(answer, Busy),
        clock=clock,
    )
