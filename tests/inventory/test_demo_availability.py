"""The demo's `availability` card: orders arriving while syncs run, counted in the simulators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nswoo._demo._availability import SCORECARD
from nswoo._demo._types import DemoOptions, DemoRun
from nswoo.inventory import _sync
from nswoo.orders._sync import OrderSync
from nswoo.store.sqlite import SqliteStore
from nswoo.testing import build_world

pytestmark = pytest.mark.anyio


async def score(tmp_path: Path) -> dict[str, Any]:
    """The card scored after a small order day: some orders imported, some not yet."""
    world = build_world(store="demo")
    async with (
        await SqliteStore.open(str(tmp_path / "demo.db")) as store,
        world.netsuite_client() as ns,
        world.woo_client() as woo,
    ):
        sync = OrderSync(netsuite=ns, woocommerce=woo, store=store, config=world.config.orders)
        placed = [
            world.woocommerce.place_order([("MUG-BLUE", 2), ("TEE-S", 1)]),
            world.woocommerce.place_order([("CAP", 3)]),
            world.woocommerce.place_order([("POSTER", 5)], status="pending"),
        ]
        await sync.import_order(await woo.get_order(placed[0]["id"]))
        run = DemoRun(
            options=DemoOptions(seed=11),
            world=world,
            store=store,
            netsuite=ns,
            woocommerce=woo,
            limiter=None,  # type: ignore[arg-type]  # not used by this card
            sync=sync,
            config=world.config.orders,
            receiver=None,  # type: ignore[arg-type]
            transport=None,  # type: ignore[arg-type]
            placed=placed,
            reports=[],
            replay=None,  # type: ignore[arg-type]
            dead_letters=[],
            elapsed=0.0,
            stamp=lambda _line: None,
        )
        return await SCORECARD.score(run)


async def test_orders_arriving_while_syncing_are_not_counted_twice(tmp_path: Path) -> None:
    """After orders arrived during syncs, the store shows exactly what NetSuite can sell less
    what is in flight, for every SKU; an unchanged run writes nothing."""
    card = await score(tmp_path)
    assert card["ok"] is True, card
    assert card["mismatches"] == []
    assert card["injected"] == {"orders_during_syncs": 60, "units_delivered_per_sku": 400}
    assert card["timing_dependent"]["syncs_while_ordering"] >= 1
    assert card["timing_dependent"]["imported_while_syncing"] > 0
    assert min(card["store_shows"].values()) > 0
    assert any("6 of 6 SKUs match" in line for line in card["explain"])
    assert card["in_flight"]["orders"] > 0
    assert card["units_on_hand_would_double_count"] > card["in_flight"]["units"] > 0
    assert card["unchanged_run_batches"] == 0
    assert card["skus_checked"] == 6


async def test_the_card_fails_when_on_hand_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card counts the simulators: a sync that published on hand (no committed, nothing
    in flight) is caught."""
    original = _sync.plan_stock

    def on_hand(**kw: Any) -> Any:
        rows = [
            type(row)(row.item_id, row.sku, row.location, row.on_hand, None)
            for row in kw.pop("balances")
        ]
        return original(balances=rows, **{**kw, "in_flight": {}})

    monkeypatch.setattr(_sync, "plan_stock", on_hand)
    card = await score(tmp_path)
    assert card["ok"] is False
    assert card["mismatches"]
