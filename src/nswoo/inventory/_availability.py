"""The availability calculator (pure core): NetSuite balances in, a stock push plan out.

Behaviour 5 of DESIGN.md. Per SKU, what the store may sell is

    max(0, Σ over the configured locations of (on hand - committed) - safety stock - in flight)

rounded down to a whole unit. On hand alone is never published: NetSuite counts a unit sold
on a sales order in both `quantityonhand` and `quantitycommitted` until it ships (reference
netsuite.md §8: available = on hand - committed), so publishing on hand sells it twice.
*In flight* are the units of WooCommerce orders NetSuite has not committed yet (no sales order
carries them): WooCommerce already took them off its own count, NetSuite has not.

The plan holds only the changes: a SKU is pushed when its target differs from what was last
pushed (the store's record) or from what WooCommerce shows now. SKUs owned by WooCommerce
(config `owners`), variations whose stock their parent manages (`manage_stock: "parent"`,
reference woocommerce.md §6), and SKUs on one side only are reported, never written.

Nothing here does I/O, reads a clock or logs: attrs in, attrs out.

Example:
    >>> from nswoo._settings import InventoryConfig
    >>> plan = plan_stock(
    ...     balances=[Balance(item_id=7, sku="MUG", location=1, on_hand=Decimal(12),
    ...                       committed=Decimal(2))],
    ...     listings=[Listing(id=40, sku="MUG", manage_stock=True, stock_quantity=12,
    ...                       stock_status="instock")],
    ...     in_flight={"MUG": 3},
    ...     last_pushed={},
    ...     config=InventoryConfig(safety_stock=1),
    ... )
    >>> [(p.sku, p.patch()) for p in plan.pushes]
    [('MUG', {'id': 40, 'stock_quantity': 6})]
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal, Protocol

import attrs

from .._settings import InventoryConfig

__all__ = [
    "Balance",
    "BalanceRow",
    "InFlightLine",
    "LastPush",
    "Listing",
    "Problem",
    "ProblemKind",
    "StockPlan",
    "StockPush",
    "Target",
    "available",
    "in_flight_quantities",
    "plan_stock",
    "target_for",
]

ProblemKind = Literal[
    "negative_on_hand",
    "negative_committed",
    "null_quantity",
    "duplicate_sku_netsuite",
    "duplicate_sku_woocommerce",
    "no_owner",
    "not_stockable",
    "line_without_sku",
    "unreadable_order",
]
"""What was wrong with the input for one SKU (or one order, for the last two)."""

ManageStock = bool | Literal["parent"]

_INSTOCK = "instock"
_OUTOFSTOCK = "outofstock"
# WooCommerce product types whose stock cannot be set over REST: grouped products are forced
# to manage_stock=no, external ones also to instock (reference woocommerce.md §6).
_UNSTOCKABLE_TYPES = frozenset({"grouped", "external"})


class BalanceRow(Protocol):
    """One NetSuite item's balance at one location, as the shell read it.

    `location` is None for an item without any balance row in the configured locations
    (it exists in NetSuite, and nothing of it is available there). `on_hand` and
    `committed` are None when NetSuite sent no number for them.
    """

    @property
    def item_id(self) -> int: ...
    @property
    def sku(self) -> str: ...
    @property
    def location(self) -> int | None: ...
    @property
    def on_hand(self) -> Decimal | None: ...
    @property
    def committed(self) -> Decimal | None: ...


@attrs.frozen
class Balance:
    """A `BalanceRow` of one's own (tests, callers without a NetSuite query at hand)."""

    item_id: int
    sku: str
    location: int | None
    on_hand: Decimal | None
    committed: Decimal | None


@attrs.frozen
class Listing:
    """A WooCommerce product or variation, as far as stock is concerned.

    Attributes:
        id: the product or variation id.
        sku: its SKU (never empty: listings without a SKU are not stock units nswoo knows).
        parent_id: the variable product of a variation; 0 for a product.
        product_type: `simple`, `variable`, `grouped`, `external`, ... or `variation`.
        manage_stock: as WooCommerce shows it: a bool, or `"parent"` on a variation whose
            parent manages its stock (reference §6).
        stock_quantity: the quantity WooCommerce shows (None when it does not manage it).
        stock_status: `instock`, `outofstock` or `onbackorder`.
    """

    id: int
    sku: str
    manage_stock: ManageStock
    stock_quantity: int | None
    stock_status: str
    parent_id: int = 0
    product_type: str = "simple"

    @property
    def is_variation(self) -> bool:
        """True for a variation (pushed through its parent's variations batch)."""
        return self.parent_id != 0


@attrs.frozen
class LastPush:
    """What was last pushed for a SKU and accepted: the quantity (None under `status-only`)
    and the stock status."""

    quantity: int | None
    status: str


@attrs.frozen
class Target:
    """What WooCommerce should show for one SKU: the quantity available and its status."""

    sku: str
    quantity: int
    status: str


@attrs.frozen
class StockPush:
    """One write the shell carries out: a batch `update` entry for a product or variation.

    Attributes:
        sku: the SKU.
        listing_id: the product or variation id.
        parent_id: 0 for `products/batch`, else the parent of `products/<id>/variations/batch`.
        target: what the write makes WooCommerce show.
        manage_stock: the flag to set, when it must change (None: leave it).
        stock_quantity: the absolute quantity (`overwrite`), or None.
        stock_status: the status (`status-only`), or None.
    """

    sku: str
    listing_id: int
    parent_id: int
    target: Target
    manage_stock: bool | None = None
    stock_quantity: int | None = None
    stock_status: str | None = None

    def patch(self) -> dict[str, Any]:
        """The batch `update` entry: `id` plus the fields this push sets."""
        patch: dict[str, Any] = {"id": self.listing_id}
        if self.manage_stock is not None:
            patch["manage_stock"] = self.manage_stock
        if self.stock_quantity is not None:
            patch["stock_quantity"] = self.stock_quantity
        if self.stock_status is not None:
            patch["stock_status"] = self.stock_status
        return patch

    def recorded(self) -> LastPush:
        """What to remember once WooCommerce accepted this push."""
        return LastPush(quantity=self.stock_quantity, status=self.target.status)


@attrs.frozen
class Problem:
    """Bad or ambiguous input, reported by name.

    `subject` is the SKU, or the WooCommerce order id (as text) for order problems.
    """

    subject: str
    kind: ProblemKind
    detail: str


@attrs.frozen
class StockPlan:
    """The decision for one run: the writes to carry out, and what was left alone and why.

    Attributes:
        pushes: the changes only, sorted by SKU.
        considered: NetSuite-owned SKUs seen on either side.
        unchanged: NetSuite-owned SKUs on both sides whose stock already is the target.
        skipped_by_owner: SKUs left alone because WooCommerce owns them, or no rule matches.
        parent_managed: variations whose parent product manages their stock.
        variable_parents: variable products that do not manage stock (their variations do).
        missing_in_woocommerce: NetSuite-owned SKUs NetSuite has and the store does not.
        missing_in_netsuite: NetSuite-owned SKUs the store has and NetSuite does not.
        problems: bad input, by name (a SKU with a problem that makes its target a guess
            is not pushed).
    """

    pushes: tuple[StockPush, ...] = ()
    considered: int = 0
    unchanged: int = 0
    skipped_by_owner: tuple[str, ...] = ()
    parent_managed: tuple[str, ...] = ()
    variable_parents: tuple[str, ...] = ()
    missing_in_woocommerce: tuple[str, ...] = ()
    missing_in_netsuite: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def changed(self) -> int:
        """How many SKUs the plan writes."""
        return len(self.pushes)


def available(net_by_location: Iterable[Decimal], *, safety_stock: int, in_flight: int) -> int:
    """`max(0, ⌊Σ (on hand - committed) - safety stock - in flight⌋)`.

    Rounded down: NetSuite quantities may be fractional (units of measure), and WooCommerce
    stock is a whole number; rounding up would offer a unit that is not there.
    """
    total = sum(net_by_location, Decimal(0)) - safety_stock - in_flight
    whole = int(total.to_integral_value(rounding=ROUND_FLOOR))
    return max(0, whole)


def target_for(sku: str, quantity: int) -> Target:
    """The target for `quantity`: in stock when at least one unit is available."""
    return Target(sku=sku, quantity=quantity, status=_INSTOCK if quantity > 0 else _OUTOFSTOCK)


@attrs.frozen
class InFlightLine:
    """A line of a WooCommerce order no NetSuite sales order carries yet.

    `sku` is the line's SKU when WooCommerce sent one; otherwise the product or variation
    id finds it in the catalog (`variation_id` first).
    """

    order_id: int
    quantity: int
    sku: str | None = None
    product_id: int = 0
    variation_id: int = 0


def in_flight_quantities(
    lines: Iterable[InFlightLine], *, sku_by_id: Mapping[int, str], report_unresolved: bool = True
) -> tuple[dict[str, int], tuple[Problem, ...]]:
    """Units in flight per SKU, summed over the unlinked orders' lines.

    A line whose SKU is neither on the line nor found by its product or variation id is
    reported (`line_without_sku`, by order id): its units cannot be held back, so whoever
    reads the report knows which order may be over-sold. With `report_unresolved=False`
    (`sku_by_id` holds only part of the catalog, as with `--sku`) such lines are passed over.

    Returns:
        SKU → units, and the problems.
    """
    totals: dict[str, int] = {}
    problems: list[Problem] = []
    for line in lines:
        if line.quantity <= 0:
            continue
        sku = line.sku or sku_by_id.get(line.variation_id) or sku_by_id.get(line.product_id)
        if not sku:
            if not report_unresolved:
                continue
            problems.append(
                Problem(
                    subject=str(line.order_id),
                    kind="line_without_sku",
                    detail=(
                        f"order {line.order_id}: a line of {line.quantity} has no SKU and "
                        f"product {line.variation_id or line.product_id} is not in the catalog; "
                        "its units are not held back"
                    ),
                )
            )
            continue
        totals[sku] = totals.get(sku, 0) + line.quantity
    return totals, tuple(problems)


# ---------------------------------------------------------------------------------------------
# The plan


@attrs.define
class _Stock:
    """NetSuite's figures for one SKU while they are folded (private, mutable)."""

    item_id: int
    net: list[Decimal] = attrs.field(factory=list)
    duplicate: bool = False


def _fold_balances(
    balances: Iterable[BalanceRow],
    *,
    locations: frozenset[int],
    owned: _Owners,
    only: frozenset[str] | None,
    problems: list[Problem],
) -> dict[str, _Stock]:
    stock: dict[str, _Stock] = {}
    for row in balances:
        sku = row.sku
        if not sku or (only is not None and sku not in only):
            continue
        entry = stock.get(sku)
        if entry is None:
            entry = stock[sku] = _Stock(item_id=row.item_id)
        elif entry.item_id != row.item_id and not entry.duplicate:
            entry.duplicate = True
        if owned(sku) != "netsuite" or row.location is None:
            continue
        if locations and row.location not in locations:
            continue
        entry.net.append(_net(row, problems))
    for sku, entry in stock.items():
        if entry.duplicate and owned(sku) == "netsuite":
            problems.append(
                Problem(
                    subject=sku,
                    kind="duplicate_sku_netsuite",
                    detail=f"SKU {sku!r} belongs to more than one NetSuite item; not pushed",
                )
            )
    return stock


def _net(row: BalanceRow, problems: list[Problem]) -> Decimal:
    """`on hand - committed` for one row, reporting what was odd about it."""
    on_hand, committed = row.on_hand, row.committed
    where = f"item {row.item_id} at location {row.location}"
    if on_hand is None or committed is None:
        missing = " and ".join(
            name
            for name, value in (("on hand", on_hand), ("committed", committed))
            if value is None
        )
        problems.append(
            Problem(
                subject=row.sku,
                kind="null_quantity",
                detail=f"{where}: NetSuite sent no {missing}; counted as 0",
            )
        )
    on_hand = Decimal(0) if on_hand is None else on_hand
    committed = Decimal(0) if committed is None else committed
    if on_hand < 0:
        # Kept as it is: a negative on hand (negative inventory allowed) is units already
        # owed, so it lowers what the other locations can offer.
        problems.append(
            Problem(
                subject=row.sku,
                kind="negative_on_hand",
                detail=f"{where}: on hand is {on_hand}; counted as it is (units owed)",
            )
        )
    if committed < 0:
        # A negative commitment would add units nobody has: it is not counted.
        problems.append(
            Problem(
                subject=row.sku,
                kind="negative_committed",
                detail=f"{where}: committed is {committed}; counted as 0",
            )
        )
        committed = Decimal(0)
    return on_hand - committed


class _Owners:
    """`InventoryConfig.owner_of`, remembered per SKU (owner rules are fnmatch patterns)."""

    def __init__(self, config: InventoryConfig) -> None:
        self._config = config
        self._seen: dict[str, str | None] = {}

    def __call__(self, sku: str) -> str | None:
        if sku not in self._seen:
            self._seen[sku] = self._config.owner_of(sku)
        return self._seen[sku]


def _fold_listings(
    listings: Iterable[Listing], *, only: frozenset[str] | None
) -> tuple[dict[str, Listing], set[str]]:
    by_sku: dict[str, Listing] = {}
    duplicates: set[str] = set()
    for listing in listings:
        sku = listing.sku
        if not sku or (only is not None and sku not in only):
            continue
        if sku in by_sku and by_sku[sku].id != listing.id:
            duplicates.add(sku)
            continue
        by_sku[sku] = listing
    return by_sku, duplicates


def _push_for(
    listing: Listing, target: Target, last: LastPush | None, policy: str
) -> StockPush | None:
    """The write that makes `listing` show `target`, or None when nothing changed."""
    if policy == "status-only":
        # manage_stock=false once, so WooCommerce never decrements a NetSuite-owned SKU
        # (reference §7, option 1); then only the status is pushed.
        turn_off = listing.manage_stock is not False
        changed = (
            turn_off
            or listing.stock_status != target.status
            or last is None
            or last.quantity is not None
            or last.status != target.status
        )
        if not changed:
            return None
        return StockPush(
            sku=target.sku,
            listing_id=listing.id,
            parent_id=listing.parent_id,
            target=target,
            manage_stock=False if turn_off else None,
            stock_status=target.status,
        )
    # overwrite: stock management stays on and the absolute quantity is pushed (§6).
    turn_on = listing.manage_stock is not True
    changed = (
        turn_on
        or listing.stock_quantity != target.quantity
        or last is None
        or last.quantity != target.quantity
    )
    if not changed:
        return None
    return StockPush(
        sku=target.sku,
        listing_id=listing.id,
        parent_id=listing.parent_id,
        target=target,
        manage_stock=True if turn_on else None,
        stock_quantity=target.quantity,
    )


def plan_stock(
    *,
    balances: Iterable[BalanceRow],
    listings: Iterable[Listing],
    in_flight: Mapping[str, int],
    last_pushed: Mapping[str, LastPush],
    config: InventoryConfig,
    only: Collection[str] | None = None,
) -> StockPlan:
    """Decide what to push: each NetSuite-owned SKU's target, and only the changes.

    Args:
        balances: NetSuite balances per (item, location); rows of locations outside
            `config.locations` are ignored (all count when it is empty).
        listings: the WooCommerce products and variations.
        in_flight: units per SKU of WooCommerce orders without a sales order.
        last_pushed: what was last pushed per SKU and accepted.
        config: locations, safety stock, policy and owner rules.
        only: restrict the plan to these SKUs (`inventory sync --sku`); None: every SKU.

    Returns:
        The plan: pushes sorted by SKU, plus every SKU left alone, by reason.
    """
    problems: list[Problem] = []
    owner = _Owners(config)
    wanted = None if only is None else frozenset(only)
    stock = _fold_balances(
        balances,
        locations=frozenset(config.locations),
        owned=owner,
        only=wanted,
        problems=problems,
    )
    by_sku, woo_duplicates = _fold_listings(listings, only=wanted)
    for sku in sorted(woo_duplicates):
        if owner(sku) == "netsuite":
            problems.append(
                Problem(
                    subject=sku,
                    kind="duplicate_sku_woocommerce",
                    detail=f"SKU {sku!r} is on more than one WooCommerce product; not pushed",
                )
            )

    pushes: list[StockPush] = []
    skipped: list[str] = []
    parent_managed: list[str] = []
    variable_parents: list[str] = []
    missing_in_woo: list[str] = []
    missing_in_ns: list[str] = []
    considered = unchanged = 0
    for sku in sorted(stock.keys() | by_sku.keys()):
        who = owner(sku)
        if who != "netsuite":
            skipped.append(sku)
            if who is None:
                problems.append(
                    Problem(
                        subject=sku,
                        kind="no_owner",
                        detail=f"SKU {sku!r} matches no [inventory] owners rule; not pushed",
                    )
                )
            continue
        considered += 1
        entry, listing = stock.get(sku), by_sku.get(sku)
        if listing is None:
            missing_in_woo.append(sku)
            continue
        if listing.manage_stock == "parent":
            parent_managed.append(sku)
            continue
        if listing.product_type == "variable" and listing.manage_stock is not True:
            variable_parents.append(sku)
            continue
        if entry is None:
            missing_in_ns.append(sku)
            continue
        if listing.product_type in _UNSTOCKABLE_TYPES:
            problems.append(
                Problem(
                    subject=sku,
                    kind="not_stockable",
                    detail=(
                        f"SKU {sku!r} is a {listing.product_type} product, whose stock "
                        "WooCommerce does not let a client set; not pushed"
                    ),
                )
            )
            continue
        if entry.duplicate or sku in woo_duplicates:
            continue
        quantity = available(
            entry.net, safety_stock=config.safety_stock, in_flight=in_flight.get(sku, 0)
        )
        push = _push_for(listing, target_for(sku, quantity), last_pushed.get(sku), config.policy)
        if push is None:
            unchanged += 1
        else:
            pushes.append(push)
    problems.sort(key=lambda p: (p.subject, p.kind, p.detail))
    return StockPlan(
        pushes=tuple(pushes),
        considered=considered,
        unchanged=unchanged,
        skipped_by_owner=tuple(skipped),
        parent_managed=tuple(parent_managed),
        variable_parents=tuple(variable_parents),
        missing_in_woocommerce=tuple(missing_in_woo),
        missing_in_netsuite=tuple(missing_in_ns),
        problems=tuple(problems),
    )
