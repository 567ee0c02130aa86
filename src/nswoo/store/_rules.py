"""Decisions shared by every storage backend, so they cannot drift apart.

Pure functions over plain rows: each backend reads its row, asks the rule what to answer and
what to write, and writes it in the same transaction (SQLite) or under the same lock (memory).
No I/O, no clock (`now` is passed in).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import attrs

from ..errors import StorageError
from ._ports import (
    AlreadyLinked,
    Busy,
    Claim,
    Claimed,
    DeadLetter,
    Lease,
    OrderLink,
    StoreBinding,
    StoreBindingError,
)

__all__ = [
    "LinkRow",
    "OwnerIsGone",
    "dead_letter_order",
    "decide_binding",
    "decide_claim",
    "decide_link",
    "epoch",
    "link_from_row",
    "lease_lapsed",
    "live_lease",
    "never_gone",
    "utc",
]


OwnerIsGone = Callable[[str], bool]
"""True only when the lease owner named is certainly gone (its process no longer exists).

Computed at the edge (`_liveness.owner_is_gone` in the stores) and passed in, so the rules
stay pure; "unknown" must answer False, which leaves the lease to its expiry.
"""


def never_gone(owner: str) -> bool:
    """Every owner counts as alive: leases end only by expiry."""
    del owner
    return False


def lease_lapsed(
    owner: str | None, expires: float | None, *, now: float, owner_is_gone: OwnerIsGone
) -> bool:
    """Whether a lease no longer holds: none, past its expiry, or held by a gone owner.

    An owner-less lease (an item given back until a time) ends only by expiry.
    """
    if expires is None or expires <= now:
        return True
    return owner is not None and owner_is_gone(owner)


@attrs.frozen
class LinkRow:
    """One `(store, order_id)` row: a lease, a link, or both absent (no row)."""

    sales_order_id: str | None = None
    linked_by: str | None = None
    linked_at: float | None = None
    lease_owner: str | None = None
    lease_expires: float | None = None


def decide_claim(
    row: LinkRow | None,
    *,
    store: str,
    order_id: int,
    owner: str,
    now: float,
    lease_seconds: float,
    owner_is_gone: OwnerIsGone = never_gone,
) -> tuple[Claim, LinkRow | None]:
    """The answer to a claim, and the row to write (None: write nothing).

    Another owner's lease is taken over (`taken_over_from` set) once it expired or its owner
    is gone (`owner_is_gone`); until then the answer is `Busy`.
    """
    if lease_seconds <= 0:
        raise ValueError("lease_seconds must be positive")
    if row is not None and row.sales_order_id is not None:
        return AlreadyLinked(link_from_row(row, store=store, order_id=order_id)), None
    taken_over_from = None
    if row is not None and row.lease_owner is not None and row.lease_expires is not None:
        live = not lease_lapsed(
            row.lease_owner, row.lease_expires, now=now, owner_is_gone=owner_is_gone
        )
        if live and row.lease_owner != owner:
            return Busy(owner=row.lease_owner, expires_at=row.lease_expires), None
        if not live and row.lease_owner != owner:
            taken_over_from = row.lease_owner
    lease = Lease(
        store=store,
        order_id=order_id,
        owner=owner,
        expires_at=now + lease_seconds,
        taken_over_from=taken_over_from,
    )
    return Claimed(lease), LinkRow(lease_owner=owner, lease_expires=lease.expires_at)


def decide_link(
    row: LinkRow | None,
    *,
    store: str,
    order_id: int,
    sales_order_id: str,
    owner: str,
    now: float,
    backend: str,
) -> tuple[OrderLink, LinkRow | None]:
    """The link to answer, and the row to write (None: already linked to the same order)."""
    if not sales_order_id:
        raise ValueError("sales_order_id must not be empty")
    if row is not None and row.sales_order_id is not None:
        if row.sales_order_id != sales_order_id:
            raise StorageError(
                f"order {order_id} of store {store!r} is already linked to sales order "
                f"{row.sales_order_id}, not {sales_order_id}: two sales orders may exist",
                backend=backend,
            )
        return link_from_row(row, store=store, order_id=order_id), None
    new = LinkRow(sales_order_id=sales_order_id, linked_by=owner, linked_at=now)
    return link_from_row(new, store=store, order_id=order_id), new


def link_from_row(row: LinkRow, *, store: str, order_id: int) -> OrderLink:
    """The `OrderLink` a linked row stands for."""
    if row.sales_order_id is None:
        raise ValueError("the row holds no link")
    return OrderLink(
        store=store,
        order_id=order_id,
        sales_order_id=row.sales_order_id,
        linked_by=row.linked_by or "",
        linked_at=utc(row.linked_at or 0.0),
    )


def decide_binding(
    stored: StoreBinding | None, wanted: StoreBinding, *, location: str, backend: str
) -> StoreBinding | None:
    """The binding to record (None: the store already has this one).

    Raises:
        StoreBindingError: the store was first opened for another environment or account.
    """
    if stored is None:
        return wanted
    if stored != wanted:
        raise StoreBindingError(location=location, bound=stored, wanted=wanted, backend=backend)
    return None


def live_lease(
    row: LinkRow | None,
    *,
    store: str,
    order_id: int,
    now: float,
    owner_is_gone: OwnerIsGone = never_gone,
) -> Lease | None:
    """The lease a row holds at `now`, or None (no row, linked, lapsed, or its owner gone)."""
    if (
        row is None
        or row.sales_order_id is not None
        or row.lease_owner is None
        or row.lease_expires is None
        or lease_lapsed(row.lease_owner, row.lease_expires, now=now, owner_is_gone=owner_is_gone)
    ):
        return None
    return Lease(
        store=store, order_id=order_id, owner=row.lease_owner, expires_at=row.lease_expires
    )


def utc(epoch: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch, tz=UTC)


def epoch(moment: datetime) -> float:
    """An aware datetime as epoch seconds; naive datetimes are refused (their zone is a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes given to a store must be timezone-aware")
    return moment.timestamp()


def dead_letter_order(letter: DeadLetter) -> tuple[datetime, str, int]:
    """The sort key of `DeadLetters.list()`."""
    return (letter.first_seen, letter.store, letter.order_id)
