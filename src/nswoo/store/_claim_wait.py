"""Claiming an order while another worker may hold it: `claim_or_wait`."""

from __future__ import annotations

from .._clock import Clock
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
    deadline = clock.now() + max_wait
    while True:
        answer = await links.claim(store, order_id, owner=owner, lease_seconds=lease_seconds)
        remaining = deadline - clock.now()
        if not isinstance(answer, Busy) or remaining <= 0:
            return answer
        until_expiry = max(0.0, answer.expires_at - clock.time())
        await clock.sleep(min(poll, until_expiry, remaining))
