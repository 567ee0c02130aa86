"""The availability calculator (pure): the formula, the plan of changes, owners, bad input."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from nswoo._settings import InventoryConfig, OwnerRule
from nswoo.inventory._availability import (
    Balance,
    InFlightLine,
    LastPush,
    Listing,
    StockPlan,
    available,
    in_flight_quantities,
    plan_stock,
)

NS = (OwnerRule("*", "netsuite"),)


def bal(
    sku: str, location: int | None, on_hand: object, committed: object = 0, item: int = 0
) -> Balance:
    def dec(value: object) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    return Balance(
        item_id=item or (abs(hash(sku)) % 10_000 + 1),
        sku=sku,
        location=location,
        on_hand=dec(on_hand),
        committed=dec(committed),
    )


def listing(sku: str, id: int, quantity: int | None = 0, **kw: object) -> Listing:
    fields: dict[str, object] = {
        "id": id,
        "sku": sku,
        "manage_stock": True,
        "stock_quantity": quantity,
        "stock_status": "instock",
    }
    fields.update(kw)
    return Listing(**fields)  # type: ignore[arg-type]


def plan(
    balances: list[Balance],
    listings: list[Listing],
    *,
    in_flight: dict[str, int] | None = None,
    last: dict[str, LastPush] | None = None,
    only: list[str] | None = None,
    **config: object,
) -> StockPlan:
    return plan_stock(
        balances=balances,
        listings=listings,
        in_flight=in_flight or {},
        last_pushed=last or {},
        config=InventoryConfig(**config),  # type: ignore[arg-type]
        only=only,
    )


# ---------------------------------------------------------------------------------------------
# Examples


def test_available_is_on_hand_less_committed_safety_and_in_flight() -> None:
    """12 on hand, 2 committed, safety 1, 3 in flight: 6 may be sold, never the 12 on hand."""
    result = plan(
        [bal("MUG", 1, 12, 2)],
        [listing("MUG", 40, 12)],
        in_flight={"MUG": 3},
        safety_stock=1,
    )
    assert [(p.sku, p.patch()) for p in result.pushes] == [("MUG", {"id": 40, "stock_quantity": 6})]
    assert result.pushes[0].target.status == "instock"


def test_available_is_floored_at_zero_and_rounded_down() -> None:
    """More committed than on hand gives 0, and 2.7 units available publish as 2."""
    assert available([Decimal(3) - Decimal(5)], safety_stock=0, in_flight=0) == 0
    assert available([Decimal("2.7")], safety_stock=0, in_flight=0) == 2
    assert available([Decimal("0.5"), Decimal("0.5")], safety_stock=0, in_flight=0) == 1


def test_only_configured_locations_count() -> None:
    """Stock at a location outside `locations` is not offered."""
    result = plan(
        [bal("MUG", 1, 10), bal("MUG", 2, 50), bal("MUG", 3, 7)],
        [listing("MUG", 40)],
        locations=(1, 3),
    )
    assert result.pushes[0].stock_quantity == 17


def test_an_item_without_balance_rows_publishes_zero() -> None:
    """An item NetSuite has with no balance in the configured locations is out of stock."""
    result = plan([bal("NEW", None, None, None)], [listing("NEW", 41, 5)])
    assert [(p.stock_quantity, p.target.status) for p in result.pushes] == [(0, "outofstock")]
    assert result.problems == ()


def test_nothing_pushed_when_store_and_record_agree() -> None:
    """A SKU whose stock and last push already are the target is unchanged, not pushed."""
    result = plan([bal("MUG", 1, 5)], [listing("MUG", 40, 5)], last={"MUG": LastPush(5, "instock")})
    assert result.pushes == ()
    assert result.unchanged == 1


def test_a_store_edited_by_hand_is_set_back() -> None:
    """The last push says 5 but the store shows 9: pushed again (NetSuite owns the SKU)."""
    result = plan([bal("MUG", 1, 5)], [listing("MUG", 40, 9)], last={"MUG": LastPush(5, "instock")})
    assert [p.stock_quantity for p in result.pushes] == [5]


def test_a_push_not_recorded_is_sent_again() -> None:
    """The store already shows the target but no push was recorded: pushed and recorded."""
    result = plan([bal("MUG", 1, 5)], [listing("MUG", 40, 5)])
    assert [p.stock_quantity for p in result.pushes] == [5]


def test_overwrite_turns_stock_management_on() -> None:
    """overwrite keeps WooCommerce managing stock: a product that does not is switched on."""
    result = plan([bal("MUG", 1, 5)], [listing("MUG", 40, None, manage_stock=False)])
    assert result.pushes[0].patch() == {"id": 40, "manage_stock": True, "stock_quantity": 5}


def test_status_only_turns_management_off_once_then_pushes_status() -> None:
    """status-only sets manage_stock=false once; later runs push only the status."""
    first = plan([bal("MUG", 1, 0)], [listing("MUG", 40, 3)], policy="status-only")
    assert first.pushes[0].patch() == {
        "id": 40,
        "manage_stock": False,
        "stock_status": "outofstock",
    }
    recorded = {"MUG": first.pushes[0].recorded()}
    assert recorded["MUG"] == LastPush(None, "outofstock")
    now_off = listing("MUG", 40, None, manage_stock=False, stock_status="outofstock")
    second = plan([bal("MUG", 1, 4)], [now_off], policy="status-only", last=recorded)
    assert second.pushes[0].patch() == {"id": 40, "stock_status": "instock"}


def test_variations_are_pushed_through_their_parent() -> None:
    """A variation managing its own stock is pushed, addressed by its parent."""
    result = plan([bal("TEE-M", 1, 4)], [listing("TEE-M", 501, 0, parent_id=500)])
    push = result.pushes[0]
    assert (push.parent_id, push.listing_id, push.stock_quantity) == (500, 501, 4)


def test_parent_managed_variations_are_reported_and_skipped() -> None:
    """manage_stock "parent": reported as parent-managed, never written, never guessed."""
    result = plan(
        [bal("TEE-M", 1, 4)],
        [listing("TEE-M", 501, 9, parent_id=500, manage_stock="parent")],
    )
    assert result.pushes == ()
    assert result.parent_managed == ("TEE-M",)
    assert result.considered == 1


def test_variable_parents_without_stock_are_not_stock_units() -> None:
    """A variable product that does not manage stock is left to its variations."""
    result = plan(
        [bal("TEE", 1, 0)],
        [listing("TEE", 500, None, manage_stock=False, product_type="variable")],
    )
    assert result.pushes == ()
    assert result.variable_parents == ("TEE",)
    assert result.missing_in_woocommerce == ()


def test_woocommerce_owned_skus_are_never_written() -> None:
    """Owner rules: first match wins; only NetSuite-owned SKUs are pushed."""
    owners = (OwnerRule("LOCAL-*", "woocommerce"), OwnerRule("*", "netsuite"))
    result = plan(
        [bal("LOCAL-1", 1, 3), bal("MUG", 1, 3)],
        [listing("LOCAL-1", 40, 99), listing("MUG", 41, 99)],
        owners=owners,
    )
    assert [p.sku for p in result.pushes] == ["MUG"]
    assert result.skipped_by_owner == ("LOCAL-1",)
    assert result.considered == 1


def test_a_sku_no_rule_matches_is_skipped_and_reported() -> None:
    """A SKU no owners rule matches is not pushed, and named in the problems."""
    result = plan(
        [bal("ODD", 1, 3)], [listing("ODD", 40, 1)], owners=(OwnerRule("MUG-*", "netsuite"),)
    )
    assert result.pushes == ()
    assert result.skipped_by_owner == ("ODD",)
    assert [(p.subject, p.kind) for p in result.problems] == [("ODD", "no_owner")]


def test_skus_on_one_side_only_are_reported() -> None:
    """NetSuite-only and WooCommerce-only SKUs are reported, and nothing is written for them."""
    result = plan([bal("NS-ONLY", 1, 3)], [listing("WOO-ONLY", 40, 1)])
    assert result.pushes == ()
    assert result.missing_in_woocommerce == ("NS-ONLY",)
    assert result.missing_in_netsuite == ("WOO-ONLY",)
    assert result.considered == 2


def test_negative_and_null_quantities_are_reported_by_name() -> None:
    """Negative on hand lowers the total (units owed); a negative commitment and a missing
    number count as 0; each is named."""
    result = plan(
        [
            bal("A", 1, -2),
            bal("A", 2, 10),
            bal("B", 1, 5, -3),
            bal("C", 1, None, 1),
            bal("D", 1, 4, None),
        ],
        [listing("A", 1), listing("B", 2), listing("C", 3), listing("D", 4)],
    )
    assert {p.sku: p.stock_quantity for p in result.pushes} == {"A": 8, "B": 5, "C": 0, "D": 4}
    assert [(p.subject, p.kind) for p in result.problems] == [
        ("A", "negative_on_hand"),
        ("B", "negative_committed"),
        ("C", "null_quantity"),
        ("D", "null_quantity"),
    ]
    assert "location 1" in result.problems[0].detail


def test_problems_outside_the_configured_locations_are_not_reported() -> None:
    """A bad figure at a location that does not count is not a problem of this run."""
    result = plan([bal("A", 1, 3), bal("A", 9, None)], [listing("A", 1)], locations=(1,))
    assert result.problems == ()


def test_a_sku_on_two_netsuite_items_is_not_pushed() -> None:
    """Two NetSuite items with one SKU: which stock is meant is a guess, so none is pushed."""
    result = plan([bal("DUP", 1, 3, item=1), bal("DUP", 1, 4, item=2)], [listing("DUP", 40, 0)])
    assert result.pushes == ()
    assert [(p.subject, p.kind) for p in result.problems] == [("DUP", "duplicate_sku_netsuite")]


def test_a_sku_on_two_products_is_not_pushed() -> None:
    """Two WooCommerce products with one SKU would each sell the same units: none is pushed."""
    result = plan([bal("DUP", 1, 3)], [listing("DUP", 40), listing("DUP", 41)])
    assert result.pushes == ()
    assert [(p.subject, p.kind) for p in result.problems] == [("DUP", "duplicate_sku_woocommerce")]


def test_grouped_and_external_products_are_not_stockable() -> None:
    """WooCommerce forces grouped/external products' stock: reported, not written."""
    result = plan([bal("G", 1, 3)], [listing("G", 40, None, product_type="grouped")])
    assert result.pushes == ()
    assert [(p.subject, p.kind) for p in result.problems] == [("G", "not_stockable")]


def test_skus_needing_quoting_are_plain_keys() -> None:
    """SKUs with quotes, commas, spaces and non-ASCII letters plan like any other."""
    skus = ["O'BRIEN", 'SAY "HI"', "A,B", " PAD ", "ÄPFEL-ß", "T", "100%_"]
    result = plan(
        [bal(s, 1, n + 1, item=n + 1) for n, s in enumerate(skus)],
        [listing(s, 100 + n) for n, s in enumerate(skus)],
    )
    assert {p.sku: p.stock_quantity for p in result.pushes} == {
        s: n + 1 for n, s in enumerate(skus)
    }


def test_only_restricts_the_plan_to_the_named_skus() -> None:
    """`--sku`: only the named SKUs are planned and reported."""
    result = plan(
        [bal("A", 1, 3), bal("B", 1, 4), bal("C", 1, 1)],
        [listing("A", 1), listing("B", 2), listing("X", 9)],
        only=["B", "C"],
    )
    assert [p.sku for p in result.pushes] == ["B"]
    assert result.missing_in_woocommerce == ("C",)
    assert result.missing_in_netsuite == ()


def test_in_flight_lines_are_summed_per_sku_and_found_by_id() -> None:
    """Line SKUs count directly; a line without one is found by variation then product id;
    one found nowhere is reported by order id."""
    lines = [
        InFlightLine(order_id=1, quantity=2, sku="MUG"),
        InFlightLine(order_id=2, quantity=1, sku=None, product_id=40, variation_id=41),
        InFlightLine(order_id=3, quantity=3, sku=None, product_id=40),
        InFlightLine(order_id=4, quantity=5, sku=None, product_id=77),
    ]
    totals, problems = in_flight_quantities(lines, sku_by_id={40: "MUG", 41: "TEE-M"})
    assert totals == {"MUG": 5, "TEE-M": 1}
    assert [(p.subject, p.kind) for p in problems] == [("4", "line_without_sku")]
    _, quiet = in_flight_quantities(lines, sku_by_id={}, report_unresolved=False)
    assert quiet == ()


# ---------------------------------------------------------------------------------------------
# Properties

LOCATIONS = (1, 2, 3)
SKUS = ("A-1", "A-2", "B-1", "B-2", "C-1")


@attrs.frozen
class World:
    """Both sides of a small catalog, the orders in flight, the settings and the record."""

    balances: list[Balance]
    listings: list[Listing]
    in_flight: dict[str, int]
    locations: tuple[int, ...]
    safety_stock: int
    policy: Literal["overwrite", "status-only"]
    owners: tuple[OwnerRule, ...] = NS
    last: dict[str, LastPush] = attrs.field(factory=dict)

    def config(self) -> InventoryConfig:
        return InventoryConfig(
            locations=self.locations,
            safety_stock=self.safety_stock,
            policy=self.policy,
            owners=self.owners,
        )

    def plan(self) -> StockPlan:
        return plan_stock(
            balances=self.balances,
            listings=self.listings,
            in_flight=self.in_flight,
            last_pushed=self.last,
            config=self.config(),
        )

    def formula(self, sku: str) -> int:
        net = sum(
            (
                b.on_hand - b.committed
                for b in self.balances
                if b.sku == sku
                and b.location is not None
                and b.on_hand is not None
                and b.committed is not None
                and (not self.locations or b.location in self.locations)
            ),
            Decimal(0),
        )
        return max(0, int(net) - self.safety_stock - self.in_flight.get(sku, 0))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=5, unique=True))
    balances = []
    for n, sku in enumerate(skus):
        where = draw(st.lists(st.sampled_from(LOCATIONS), max_size=3, unique=True))
        if not where:
            balances.append(bal(sku, None, None, None, item=n + 1))  # no balance row
        for location in where:
            balances.append(
                bal(
                    sku,
                    location,
                    draw(st.integers(0, 500)),
                    draw(st.integers(0, 500)),
                    item=n + 1,
                )
            )
    listings = [
        listing(
            sku,
            100 + n,
            draw(st.one_of(st.none(), st.integers(0, 500))),
            manage_stock=draw(st.booleans()),
            stock_status=draw(st.sampled_from(["instock", "outofstock", "onbackorder"])),
            parent_id=draw(st.sampled_from([0, 0, 900])),
        )
        for n, sku in enumerate(skus)
    ]
    return World(
        balances=balances,
        listings=listings,
        in_flight={s: draw(st.integers(0, 50)) for s in skus if draw(st.booleans())},
        locations=tuple(draw(st.lists(st.sampled_from(LOCATIONS), max_size=3, unique=True))),
        safety_stock=draw(st.integers(0, 20)),
        policy=draw(st.sampled_from(["overwrite", "status-only"])),
    )


@given(worlds())
def test_pushed_quantity_is_the_formula_and_never_negative(world: World) -> None:
    """pushed = max(0, Σ configured locations (on hand - committed) - safety - in flight)."""
    result = attrs.evolve(world, policy="overwrite").plan()
    assert len(result.pushes) == len(world.listings)
    for push in result.pushes:
        assert push.stock_quantity == world.formula(push.sku)
        assert push.stock_quantity is not None
        assert push.stock_quantity >= 0
        assert push.target.status == ("instock" if push.stock_quantity else "outofstock")


@given(worlds())
def test_status_only_pushes_the_formulas_status(world: World) -> None:
    """status-only publishes in stock exactly when the formula gives at least one unit."""
    for push in attrs.evolve(world, policy="status-only").plan().pushes:
        assert push.stock_quantity is None
        assert push.stock_status == ("instock" if world.formula(push.sku) else "outofstock")


def _accepted(world: World, result: StockPlan) -> World:
    """What WooCommerce and the store hold after every push of `result` was accepted."""
    pushes = {p.sku: p for p in result.pushes}
    listings = []
    for item in world.listings:
        push = pushes.get(item.sku)
        if push is None:
            listings.append(item)
            continue
        manage = item.manage_stock if push.manage_stock is None else push.manage_stock
        listings.append(
            attrs.evolve(
                item,
                manage_stock=manage,
                stock_quantity=push.stock_quantity if manage else None,
                stock_status=push.target.status,
            )
        )
    last = {**world.last, **{sku: p.recorded() for sku, p in pushes.items()}}
    return attrs.evolve(world, listings=listings, last=last)


@given(worlds())
def test_a_second_plan_on_unchanged_data_is_empty(world: World) -> None:
    """Once the pushes are accepted, planning again on the same data changes nothing."""
    first = world.plan()
    second = _accepted(world, first).plan()
    assert second.pushes == ()
    assert second.unchanged == first.considered


@given(worlds(), st.data())
def test_owner_rules_are_respected(world: World, data: st.DataObject) -> None:
    """No SKU that the first matching rule gives to WooCommerce (or that no rule matches) is
    pushed; every NetSuite-owned SKU on both sides is planned."""
    rules = data.draw(
        st.lists(
            st.builds(
                OwnerRule,
                st.sampled_from(["A-*", "B-?", "*-1", "C-1", "*"]),
                st.sampled_from(["netsuite", "woocommerce"]),
            ),
            max_size=4,
        )
    )
    world = attrs.evolve(world, owners=tuple(rules))
    config = world.config()
    result = world.plan()
    pushed = {p.sku for p in result.pushes}
    for item in world.listings:
        if config.owner_of(item.sku) == "netsuite":
            assert item.sku in pushed
        else:
            assert item.sku not in pushed
            assert item.sku in result.skipped_by_owner


@given(worlds(), st.integers(0, 1000))
def test_locations_outside_the_filter_change_nothing(world: World, extra: int) -> None:
    """Stock added at a location outside `locations` leaves the plan as it was."""
    locations = world.locations or (1,)
    outside = next(loc for loc in (*LOCATIONS, 4) if loc not in locations)
    more = [bal(b.sku, outside, extra, 0, item=b.item_id) for b in world.balances]
    before = attrs.evolve(world, locations=locations).plan()
    after = attrs.evolve(world, locations=locations, balances=[*world.balances, *more]).plan()
    assert after.pushes == before.pushes
