"""Model check: random claim/link/release/lease sequences answer alike on every backend."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswoo.errors import StorageError
from nswoo.store import Claimed
from nswoo.store.memory import MemoryStore
from nswoo.store.sqlite import SqliteStore
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio

# Few stores, orders and owners, so random sequences keep colliding on the same keys.
_keys = st.tuples(st.sampled_from(["main", "outlet"]), st.integers(1, 3))
_owners = st.sampled_from(["a", "b", "c"])
_ops = st.one_of(
    st.tuples(st.just("claim"), _keys, _owners, st.sampled_from([5.0, 30.0])),
    st.tuples(st.just("link"), _keys, _owners, st.sampled_from(["100", "200"])),
    st.tuples(st.just("release"), _keys, _owners),
    st.tuples(st.just("get"), _keys),
    st.tuples(st.just("lease"), _keys),
    st.tuples(st.just("advance"), st.sampled_from([1.0, 10.0, 31.0])),
)


async def _apply(store: MemoryStore | SqliteStore, clock: FakeClock, op: tuple[Any, ...]) -> object:
    """Run one operation and return what a caller could observe."""
    links = store.order_links
    try:
        match op:
            case ("claim", (shop, order), owner, lease):
                return await links.claim(shop, order, owner=owner, lease_seconds=lease)
            case ("link", (shop, order), owner, sales_order):
                return await links.link(shop, order, sales_order_id=sales_order, owner=owner)
            case ("release", (shop, order), owner):
                return await links.release(shop, order, owner=owner)
            case ("get", (shop, order)):
                return await links.get(shop, order)
            case ("lease", (shop, order)):
                return await links.lease(shop, order)
            case ("advance", seconds):
                clock.advance(seconds)
                return None
    except StorageError as exc:
        return ("StorageError", exc.retryable)
    raise AssertionError(op)


@given(ops=st.lists(_ops, max_size=40))
async def test_memory_and_sqlite_agree(ops: list[tuple[Any, ...]], tmp_path: Path) -> None:
    """Both backends answer every operation identically, and no two owners hold a live lease."""
    memory_clock, sqlite_clock = FakeClock(), FakeClock()
    memory = MemoryStore(clock=memory_clock)
    path = tmp_path / f"{uuid.uuid4().hex}.db"
    holders: dict[tuple[str, int], tuple[str, float]] = {}
    async with memory, await SqliteStore.open(path, clock=sqlite_clock) as sqlite:
        for op in ops:
            expected = await _apply(memory, memory_clock, op)
            actual = await _apply(sqlite, sqlite_clock, op)
            assert actual == expected, op

            if isinstance(expected, Claimed):
                key = (expected.lease.store, expected.lease.order_id)
                held = holders.get(key)
                if held is not None and held[0] != expected.lease.owner:
                    assert held[1] <= memory_clock.time(), "two owners held a live lease"
                holders[key] = (expected.lease.owner, expected.lease.expires_at)
            elif op[0] in {"link", "release"} and expected is not False:
                holders.pop(op[1], None)

        every_key = [(s, o) for s in ("main", "outlet") for o in (1, 2, 3)]
        for shop in ("main", "outlet"):
            ids = [o for s, o in every_key if s == shop]
            assert await sqlite.order_links.linked_ids(shop, ids) == (
                await memory.order_links.linked_ids(shop, ids)
            )
