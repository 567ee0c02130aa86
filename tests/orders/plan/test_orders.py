"""The order mapper and import plan: drafts that add up, rejections that say why."""

from __future__ import annotations

import ast
from decimal import ROUND_DOWN, Context, Decimal, localcontext
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.orders.plan.strategies import (
    INJECTION,
    all_items,
    mapping_configs,
    orders,
    skus,
    stores,
)

import nswoo.orders._plan
from nswoo._settings import CustomerStrategy, OrdersConfig
from nswoo.netsuite import Address, ExternalId, SalesOrderDraft, SalesOrderLine
from nswoo.orders._plan import (
    AlreadyImported,
    CreateSalesOrder,
    DeadLetterOrder,
    ExistingCustomer,
    IgnoreOrder,
    Rejection,
    customer_draft,
    customer_external_id,
    map_order,
    order_key,
    order_quantities,
    plan_import,
    sales_order_external_id,
    skus_of,
    total_tolerance,
)
from nswoo.testing._factories import make_order
from nswoo.woocommerce import WooOrder, WooRefund, loads, structure_order

EXAMPLE = Path(__file__).parents[2] / "woocommerce" / "fixtures" / "woo_order_example.json"
CONFIG = OrdersConfig(store="main")
CUSTOMER = 107


def example_order() -> WooOrder:
    """The published wc/v3 order example (order 727), structured by the WooCommerce converter."""
    return structure_order(loads(EXAMPLE.read_bytes()))


def example_with_skus() -> WooOrder:
    """The published example with a SKU on its first line (published with `"sku": ""`)."""
    order = example_order()
    first, second = order.line_items
    return attrs.evolve(order, line_items=(attrs.evolve(first, sku="WOO-SINGLE-1"), second))


EXAMPLE_ITEMS = {"WOO-SINGLE-1": 11, "Bar3": 12}


def order(**kwargs: object) -> WooOrder:
    """A factory order (`make_order` arguments), structured."""
    return structure_order(make_order(**kwargs))  # type: ignore[arg-type]


def draft_of(result: SalesOrderDraft | Rejection) -> SalesOrderDraft:
    """The draft, failing the test with the rejection's reason when there is none."""
    assert isinstance(result, SalesOrderDraft), result
    return result


def rejection_of(result: SalesOrderDraft | Rejection) -> Rejection:
    """The rejection, failing the test when a draft was produced."""
    assert isinstance(result, Rejection), result
    return result


def mapped_total(draft: SalesOrderDraft) -> Decimal:
    """Σ line amounts + shipping cost: what the sales order will add up to before tax."""
    amounts = [line.amount or Decimal(0) for line in draft.lines]
    return sum(amounts, draft.shipping_cost or Decimal(0))


# ---------------------------------------------------------------------------------------------
# Identity


def test_external_id_is_store_and_order_id() -> None:
    """The sales order's external id is `woo-<store>-<order id>`."""
    assert sales_order_external_id("main", 40001) == ExternalId("woo-main-40001")
    key = order_key("eu_shop-2", 7)
    assert (key.store, key.order_id) == ("eu_shop-2", 7)
    assert key.external_id.value == "woo-eu_shop-2-7"
    assert key.custom_field_value == "7"


@pytest.mark.parametrize("store", ["", "main shop", "main|2", "ma'in", INJECTION, "café"])
def test_store_with_characters_external_ids_forbid_is_refused(store: str) -> None:
    """A store name NetSuite could not hold in an external id is refused, never escaped."""
    with pytest.raises(ValueError, match="store must be"):
        sales_order_external_id(store, 1)


@pytest.mark.parametrize("order_id", [0, -1, True])
def test_order_id_must_be_positive_integer(order_id: int) -> None:
    """Order keys only exist for real WooCommerce order ids."""
    with pytest.raises(ValueError, match="order_id"):
        order_key("main", order_id)


def test_customer_external_id_is_a_stable_digest_of_the_normalised_email() -> None:
    """Case and surrounding spaces do not change the customer key; the address is not in it."""
    first = customer_external_id("main", "John.Doe+shop@Example.com")
    assert first == customer_external_id("main", "  john.doe+shop@example.com ")
    assert first.value.startswith("woo-main-c-")
    assert len(first.value) == len("woo-main-c-") + 32
    assert "example" not in first.value
    assert first != customer_external_id("main", "jane@example.com")
    assert first != customer_external_id("other", "john.doe+shop@example.com")


@pytest.mark.parametrize("email", ["", "   ", "john", "@example.com", "john@", "jo hn@x.com"])
def test_customer_external_id_refuses_what_is_not_an_email(email: str) -> None:
    """Something that is not an address cannot key a customer."""
    with pytest.raises(ValueError, match="e-mail"):
        customer_external_id("main", email)


# ---------------------------------------------------------------------------------------------
# The published example


def test_published_example_maps_to_its_total_without_tax_when_netsuite_computes_tax() -> None:
    """Lines 6.00 + 12.00 and shipping cost 10.00 make 28.00 = 29.35 - 1.35 tax."""
    draft = draft_of(
        map_order(example_with_skus(), config=CONFIG, items=EXAMPLE_ITEMS, customer_id=CUSTOMER)
    )
    assert draft.lines == (
        SalesOrderLine(item=11, quantity=Decimal(2), rate=Decimal("3.00"), amount=Decimal("6.00")),
        SalesOrderLine(
            item=12, quantity=Decimal(1), rate=Decimal("12.00"), amount=Decimal("12.00")
        ),
    )
    assert draft.shipping_cost == Decimal("10.00")
    assert mapped_total(draft) == Decimal("29.35") - Decimal("1.35")
    assert draft.entity == CUSTOMER
    assert draft.external_id == ExternalId("woo-main-727")
    assert draft.custom_fields == {"custbody_nswoo_woo_order_id": "727"}
    assert (draft.memo, draft.other_ref_num) == ("WooCommerce order 727", "727")
    assert str(draft.tran_date) == "2017-03-22"
    assert draft.billing_address == Address(
        addr1="969 Market",
        city="San Francisco",
        state="CA",
        zip="94103",
        country="US",
        addressee="John Doe",
        phone="(555) 555-5555",
    )
    assert draft.shipping_address == attrs.evolve(draft.billing_address, phone=None)


def test_published_example_maps_to_its_full_total_with_a_tax_line() -> None:
    """With `tax_item` and `shipping_item`, the lines alone add up to 29.35, tax 1.35 included."""
    config = attrs.evolve(CONFIG, tax_item=90, shipping_item=80)
    draft = draft_of(
        map_order(example_with_skus(), config=config, items=EXAMPLE_ITEMS, customer_id=CUSTOMER)
    )
    assert draft.shipping_cost is None
    assert [(line.item, line.amount, line.description) for line in draft.lines[2:]] == [
        (80, Decimal("10.00"), "Flat Rate"),
        (90, Decimal("1.35"), "State Tax"),
    ]
    assert mapped_total(draft) == Decimal("29.35")


def test_published_example_as_is_is_dead_lettered_for_its_line_without_sku() -> None:
    """The example's first line has `"sku": ""`: no NetSuite item can be found for it."""
    rejection = rejection_of(
        map_order(example_order(), config=CONFIG, items={"Bar3": 12}, customer_id=CUSTOMER)
    )
    assert rejection.kind == "unknown_sku"
    assert "line 315 'Woo Single #1' (product has no SKU)" in rejection.reason
    assert not rejection.ignorable


# ---------------------------------------------------------------------------------------------
# Rejections


def test_status_not_imported_is_ignorable() -> None:
    """A pending order is not imported, and not dead-lettered either."""
    rejection = rejection_of(
        map_order(order(status="pending"), config=CONFIG, items={"WOO-1": 1}, customer_id=1)
    )
    assert rejection.kind == "status_not_imported"
    assert rejection.ignorable
    assert "'pending'" in rejection.reason
    assert "processing, on-hold, completed" in rejection.reason


def test_checkout_draft_is_ignored_even_when_configured_as_a_status() -> None:
    """Block-checkout drafts are never orders (DESIGN behaviour 4), whatever the settings say."""
    config = attrs.evolve(CONFIG, statuses=("processing", "checkout-draft"))
    rejection = rejection_of(
        map_order(order(status="checkout-draft"), config=config, items={}, customer_id=1)
    )
    assert rejection.kind == "draft"
    assert rejection.ignorable


def test_ignorable_status_wins_over_data_problems() -> None:
    """A cancelled order with an unknown SKU is ignored, not dead-lettered."""
    rejection = rejection_of(
        map_order(order(status="cancelled"), config=CONFIG, items={}, customer_id=1)
    )
    assert rejection.kind == "status_not_imported"


def test_unknown_skus_are_all_named() -> None:
    """Every SKU without a NetSuite item is reported, once each, in line order."""
    woo = order(line_items=[("A-1", 1, "5.00"), ("B-2", 2, "3.00"), ("A-1", 1, "5.00")])
    rejection = rejection_of(map_order(woo, config=CONFIG, items={}, customer_id=1))
    assert rejection.kind == "unknown_sku"
    assert rejection.skus == ("A-1", "B-2")
    assert "'A-1', 'B-2'" in rejection.reason
    assert "itemid" in rejection.reason


def test_deleted_product_line_is_an_unknown_sku() -> None:
    """A line whose product was deleted (`sku` null) cannot be booked and is named."""
    payload = make_order(line_items=[("A-1", 1, "5.00"), ("B-2", 1, "4.00")])
    payload["line_items"][1]["sku"] = None
    rejection = rejection_of(
        map_order(structure_order(payload), config=CONFIG, items={"A-1": 5}, customer_id=1)
    )
    assert rejection.kind == "unknown_sku"
    assert rejection.skus == ()
    assert "(product deleted)" in rejection.reason
    assert skus_of(structure_order(payload)) == frozenset({"A-1"})


def test_line_with_no_quantity_is_invalid() -> None:
    """A zero-quantity line is damaged data, dead-lettered rather than guessed at."""
    payload = make_order(line_items=[("A-1", 1, "5.00")])
    payload["line_items"][0]["quantity"] = 0
    rejection = rejection_of(
        map_order(structure_order(payload), config=CONFIG, items={"A-1": 5}, customer_id=1)
    )
    assert rejection.kind == "invalid_order"
    assert "quantity below 1" in rejection.reason


def test_fees_without_fee_item_are_rejected() -> None:
    """Fees with nowhere to go would be lost: the order is dead-lettered naming them."""
    woo = order(line_items=[("A-1", 1, "5.00")], fees=[("Gift wrap", "2.50")])
    rejection = rejection_of(map_order(woo, config=CONFIG, items={"A-1": 5}, customer_id=1))
    assert rejection.kind == "unmapped_fee"
    assert "'Gift wrap' 2.50" in rejection.reason
    assert "orders.fee_item" in rejection.reason


def test_total_mismatch_names_both_amounts_and_never_gives_a_draft() -> None:
    """An order whose parts do not add up to its total is dead-lettered, not created wrong."""
    woo = attrs.evolve(example_with_skus(), total=Decimal("30.35"))
    rejection = rejection_of(
        map_order(woo, config=CONFIG, items=EXAMPLE_ITEMS, customer_id=CUSTOMER)
    )
    assert rejection.kind == "total_mismatch"
    assert (rejection.expected, rejection.mapped) == (Decimal("29.00"), Decimal("28.00"))
    assert "28.00" in rejection.reason
    assert "29.00" in rejection.reason
    plan = plan_import(
        woo, config=CONFIG, items=EXAMPLE_ITEMS, customer_id=1, existing_sales_order_id=None
    )
    assert plan == DeadLetterOrder(rejection)


def test_tolerance_is_one_cent_per_line_item_inclusive() -> None:
    """Two line items allow 0.02 of rounding; 0.03 is a mismatch."""
    woo = example_with_skus()
    assert total_tolerance(woo) == Decimal("0.02")
    within = attrs.evolve(woo, total=woo.total + Decimal("0.02"))
    beyond = attrs.evolve(woo, total=woo.total - Decimal("0.03"))
    args = {"config": CONFIG, "items": EXAMPLE_ITEMS, "customer_id": 1}
    assert isinstance(map_order(within, **args), SalesOrderDraft)  # type: ignore[arg-type]
    assert rejection_of(map_order(beyond, **args)).kind == "total_mismatch"  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Lines, shipping, discounts, fees, refunds


def test_shipping_goes_to_shipping_cost_without_shipping_item() -> None:
    """Without `shipping_item`, shipping is the draft's shippingCost, even when zero."""
    woo = order(line_items=[("A-1", 1, "5.00")], shipping_total="0")
    draft = draft_of(map_order(woo, config=CONFIG, items={"A-1": 5}, customer_id=1))
    assert draft.shipping_cost == Decimal("0.00")
    assert len(draft.lines) == 1


def test_shipping_goes_on_a_line_with_shipping_item_only_when_charged() -> None:
    """With `shipping_item`, a shipping line appears for a charge, and none for free shipping."""
    config = attrs.evolve(CONFIG, shipping_item=80)
    charged = order(line_items=[("A-1", 1, "5.00")], shipping_total="7.50")
    free = order(line_items=[("A-1", 1, "5.00")], shipping_total="0")
    draft = draft_of(map_order(charged, config=config, items={"A-1": 5}, customer_id=1))
    assert draft.shipping_cost is None
    assert draft.lines[-1] == SalesOrderLine(
        item=80,
        quantity=Decimal(1),
        rate=Decimal("7.50"),
        amount=Decimal("7.50"),
        description="Flat Rate",
    )
    free_draft = draft_of(map_order(free, config=config, items={"A-1": 5}, customer_id=1))
    assert [line.item for line in free_draft.lines] == [5]


def test_without_discount_item_lines_carry_their_discounted_total() -> None:
    """Coupons are already inside each line's `total` when no discount item is configured."""
    woo = order(line_items=[("A-1", 2, "10.00")], coupons=[("SAVE5", "5.00")], shipping_total="0")
    draft = draft_of(map_order(woo, config=CONFIG, items={"A-1": 5}, customer_id=1))
    assert [line.amount for line in draft.lines] == [Decimal("15.00")]
    assert draft.lines[0].rate == Decimal("7.50")


def test_discount_item_mode_books_subtotals_and_one_discount_line() -> None:
    """With `discount_item`, lines carry pre-discount subtotals and a line of -discount_total."""
    config = attrs.evolve(CONFIG, discount_item=70)
    woo = order(
        line_items=[("A-1", 2, "10.00"), ("B-2", 1, "5.00")],
        coupons=[("SAVE5", "5.00"), ("VIP", "1.00")],
        shipping_total="0",
    )
    draft = draft_of(map_order(woo, config=config, items={"A-1": 5, "B-2": 6}, customer_id=1))
    assert [(line.item, line.amount) for line in draft.lines] == [
        (5, Decimal("20.00")),
        (6, Decimal("5.00")),
        (70, Decimal("-6.00")),
    ]
    assert draft.lines[-1].description == "Coupons: SAVE5, VIP"
    assert mapped_total(draft) == woo.total


def test_fees_become_one_line_each_with_fee_item() -> None:
    """Each fee is its own line on `fee_item`, named after the fee."""
    config = attrs.evolve(CONFIG, fee_item=60)
    woo = order(line_items=[("A-1", 1, "5.00")], fees=[("Gift wrap", "2.50"), ("Rush", "4.00")])
    draft = draft_of(map_order(woo, config=config, items={"A-1": 5}, customer_id=1))
    assert [(line.item, line.amount, line.description) for line in draft.lines[1:]] == [
        (60, Decimal("2.50"), "Gift wrap"),
        (60, Decimal("4.00"), "Rush"),
    ]
    assert mapped_total(draft) == woo.total


def test_rate_is_sent_only_when_it_reproduces_the_amount_exactly() -> None:
    """10.00 for 3 has no exact rate: the amount goes alone, so NetSuite cannot round it."""
    payload = make_order(line_items=[("A-1", 3, "3.33")], shipping_total="0")
    payload["line_items"][0]["total"] = "10.00"
    payload["line_items"][0]["subtotal"] = "10.00"
    payload["total"] = "10.00"
    draft = draft_of(
        map_order(structure_order(payload), config=CONFIG, items={"A-1": 5}, customer_id=1)
    )
    assert draft.lines[0].rate is None
    assert draft.lines[0].amount == Decimal("10.00")


def test_refunds_are_not_subtracted() -> None:
    """A refunded order still books what was charged: WooCommerce keeps `total` on refund."""
    woo = example_with_skus()
    refunded = attrs.evolve(woo, refunds=(WooRefund(id=900, total=Decimal("-12.00")),))
    args = {"config": CONFIG, "items": EXAMPLE_ITEMS, "customer_id": 1}
    assert map_order(refunded, **args) == map_order(woo, **args)  # type: ignore[arg-type]


def test_location_subsidiary_and_custom_field_come_from_config() -> None:
    """Order-level NetSuite ids and the custom field id are the configured ones."""
    config = attrs.evolve(CONFIG, location=3, subsidiary=4, custom_field="custbody_woo_id")
    draft = draft_of(
        map_order(example_with_skus(), config=config, items=EXAMPLE_ITEMS, customer_id=1)
    )
    assert (draft.location, draft.subsidiary) == (3, 4)
    assert draft.custom_fields == {"custbody_woo_id": "727"}


def test_order_number_is_carried_when_it_differs_from_the_id() -> None:
    """Sequential-number plugins change `number`, never the key (which uses `id`)."""
    woo = attrs.evolve(example_with_skus(), number="WEB-2017-0042")
    draft = draft_of(map_order(woo, config=CONFIG, items=EXAMPLE_ITEMS, customer_id=1))
    assert draft.other_ref_num == "WEB-2017-0042"
    assert draft.memo == "WooCommerce order WEB-2017-0042"
    assert draft.external_id == ExternalId("woo-main-727")


def test_company_is_the_addressee_when_present() -> None:
    """A B2B address is labelled with the company."""
    woo = example_with_skus()
    woo = attrs.evolve(woo, shipping=attrs.evolve(woo.shipping, company="Acme Inc"))
    draft = draft_of(map_order(woo, config=CONFIG, items=EXAMPLE_ITEMS, customer_id=1))
    assert draft.shipping_address is not None
    assert draft.shipping_address.addressee == "Acme Inc"


def test_caller_errors_raise() -> None:
    """A non-positive customer or item id is a bug in the caller, not order data."""
    with pytest.raises(ValueError, match="customer_id"):
        map_order(example_with_skus(), config=CONFIG, items=EXAMPLE_ITEMS, customer_id=0)
    with pytest.raises(ValueError, match="items"):
        map_order(example_with_skus(), config=CONFIG, items={"Bar3": 0}, customer_id=1)


# ---------------------------------------------------------------------------------------------
# SKUs and quantities


def test_skus_and_quantities_sum_repeated_lines() -> None:
    """Quantities of lines sharing a SKU are summed; lines without a SKU are left out."""
    payload = make_order(line_items=[("A-1", 2, "1.00"), ("B-2", 1, "1.00"), ("A-1", 3, "1.00")])
    payload["line_items"].append({**payload["line_items"][1], "id": 99, "sku": ""})
    woo = structure_order(payload)
    assert skus_of(woo) == frozenset({"A-1", "B-2"})
    assert order_quantities(woo) == {"A-1": 5, "B-2": 1}


# ---------------------------------------------------------------------------------------------
# The plan


def test_existing_sales_order_wins_over_everything() -> None:
    """An order already in NetSuite is AlreadyImported, even when it would not map now."""
    plan = plan_import(
        order(status="cancelled"),
        config=CONFIG,
        items={},
        customer_id=1,
        existing_sales_order_id="5501",
    )
    assert plan == AlreadyImported("5501")


def test_plan_creates_ignores_or_dead_letters() -> None:
    """Drafts are created, ignorable rejections ignored, the rest dead-lettered."""
    args = {"config": CONFIG, "customer_id": 1, "existing_sales_order_id": None}
    created = plan_import(example_with_skus(), items=EXAMPLE_ITEMS, **args)  # type: ignore[arg-type]
    assert isinstance(created, CreateSalesOrder)
    assert created.draft.external_id == ExternalId("woo-main-727")
    ignored = plan_import(order(status="failed"), items={}, **args)  # type: ignore[arg-type]
    assert isinstance(ignored, IgnoreOrder)
    assert ignored.rejection.kind == "status_not_imported"
    dead = plan_import(order(), items={}, **args)  # type: ignore[arg-type]
    assert isinstance(dead, DeadLetterOrder)
    assert dead.rejection.skus == ("WOO-1",)


# ---------------------------------------------------------------------------------------------
# Customers (by-email)

BY_EMAIL = attrs.evolve(CONFIG, customer=CustomerStrategy(strategy="by-email"), subsidiary=2)


def test_customer_draft_is_keyed_by_email() -> None:
    """A person customer keyed by the digest of the billing e-mail."""
    draft = customer_draft(example_order(), config=BY_EMAIL)
    assert not isinstance(draft, Rejection)
    assert draft.email == "john.doe@example.com"
    assert draft.external_id == customer_external_id("main", "john.doe@example.com")
    assert (draft.first_name, draft.last_name, draft.is_person) == ("John", "Doe", True)
    assert draft.subsidiary == 2


def test_customer_draft_without_email_is_rejected() -> None:
    """No billing e-mail, no by-email customer: the order is dead-letter material."""
    woo = example_order()
    woo = attrs.evolve(woo, billing=attrs.evolve(woo.billing, email=""))
    rejection = customer_draft(woo, config=BY_EMAIL)
    assert isinstance(rejection, Rejection)
    assert rejection.kind == "no_email"
    assert not rejection.ignorable


def test_customer_draft_needs_the_by_email_strategy() -> None:
    """Asking for a customer draft under the single strategy is a caller error."""
    with pytest.raises(ValueError, match="by-email"):
        customer_draft(example_order(), config=CONFIG)


# ---------------------------------------------------------------------------------------------
# Properties


@given(woo=orders(), config=mapping_configs())
def test_mapping_twice_gives_equal_results(woo: WooOrder, config: OrdersConfig) -> None:
    """Mapping is a function of its inputs: the same order maps to equal drafts or rejections."""
    items = all_items(woo)
    first = map_order(woo, config=config, items=items, customer_id=CUSTOMER)
    second = map_order(woo, config=config, items=dict(items), customer_id=CUSTOMER)
    assert first == second


@given(woo=orders(), config=mapping_configs())
def test_mapping_ignores_the_callers_decimal_context(woo: WooOrder, config: OrdersConfig) -> None:
    """A caller's low-precision decimal context cannot change a draft or a total check."""
    items = all_items(woo)
    expected = map_order(woo, config=config, items=items, customer_id=CUSTOMER)
    with localcontext(Context(prec=3, rounding=ROUND_DOWN)):
        assert map_order(woo, config=config, items=items, customer_id=CUSTOMER) == expected


@given(woo=orders(), config=mapping_configs(fee_item=True))
def test_every_consistent_order_maps_to_a_draft_that_adds_up(
    woo: WooOrder, config: OrdersConfig
) -> None:
    """A consistent order is accepted, and its draft adds up to the total within tolerance."""
    draft = draft_of(map_order(woo, config=config, items=all_items(woo), customer_id=CUSTOMER))
    expected = woo.total if config.tax_item is not None else woo.total - woo.total_tax
    assert abs(mapped_total(draft) - expected) <= total_tolerance(woo)
    assert all(line.amount is not None for line in draft.lines)
    for line in draft.lines:
        if line.rate is not None:
            assert line.rate * line.quantity == line.amount


@given(
    woo=orders(),
    config=mapping_configs(fee_item=True),
    cents_beyond=st.integers(1, 10_000),
    sign=st.sampled_from([1, -1]),
)
def test_total_perturbed_beyond_tolerance_is_a_mismatch(
    woo: WooOrder, config: OrdersConfig, cents_beyond: int, sign: int
) -> None:
    """Moving `total` by more than the tolerance always gives total_mismatch, never a draft."""
    delta = sign * (total_tolerance(woo) + Decimal(cents_beyond).scaleb(-2))
    perturbed = attrs.evolve(woo, total=woo.total + delta)
    rejection = rejection_of(
        map_order(perturbed, config=config, items=all_items(woo), customer_id=CUSTOMER)
    )
    assert rejection.kind == "total_mismatch"
    assert rejection.expected is not None
    assert rejection.mapped is not None
    assert str(rejection.expected) in rejection.reason
    assert str(rejection.mapped) in rejection.reason


@given(first=orders(), second=orders(), store=stores(), order_id=st.integers(1, 2**40))
def test_external_id_and_custom_field_depend_only_on_store_and_order_id(
    first: WooOrder, second: WooOrder, store: str, order_id: int
) -> None:
    """Two different orders with the same (store, id) carry the same keys, and only those."""
    config = OrdersConfig(store=store, fee_item=1)
    drafts = [
        draft_of(
            map_order(
                attrs.evolve(woo, id=order_id),
                config=config,
                items=all_items(woo),
                customer_id=CUSTOMER,
            )
        )
        for woo in (first, second)
    ]
    for draft in drafts:
        assert draft.external_id == sales_order_external_id(store, order_id)
        assert draft.custom_fields == {config.custom_field: str(order_id)}


@given(woo=orders(), hostile=st.one_of(st.just(INJECTION), skus()))
def test_hostile_sku_is_reported_verbatim(woo: WooOrder, hostile: str) -> None:
    """A SKU such as `' OR '1'='1 --` is data: named verbatim in the rejection, never raising."""
    first = woo.line_items[0]
    woo = attrs.evolve(woo, line_items=(attrs.evolve(first, sku=hostile), *woo.line_items[1:]))
    items = {sku: item for sku, item in all_items(woo).items() if sku != hostile}
    rejection = rejection_of(map_order(woo, config=CONFIG, items=items, customer_id=CUSTOMER))
    assert rejection.kind == "unknown_sku"
    assert rejection.skus == (hostile,)
    assert repr(hostile) in rejection.reason
    assert hostile in skus_of(woo)


@given(woo=orders())
def test_hostile_order_number_is_carried_as_data(woo: WooOrder) -> None:
    """An order number holding SQL is copied as text; the key still comes from the integer id."""
    woo = attrs.evolve(woo, number=INJECTION)
    config = OrdersConfig(store="main", fee_item=1)
    draft = draft_of(map_order(woo, config=config, items=all_items(woo), customer_id=CUSTOMER))
    assert draft.other_ref_num == INJECTION
    assert draft.memo == f"WooCommerce order {INJECTION}"
    assert draft.external_id == sales_order_external_id("main", woo.id)


@given(woo=orders(), config=mapping_configs())
def test_plan_follows_the_mapping(woo: WooOrder, config: OrdersConfig) -> None:
    """Without an existing sales order, the plan is exactly what the mapping decided."""
    items = all_items(woo)
    result = map_order(woo, config=config, items=items, customer_id=CUSTOMER)
    plan = plan_import(
        woo, config=config, items=items, customer_id=CUSTOMER, existing_sales_order_id=None
    )
    if isinstance(result, SalesOrderDraft):
        assert isinstance(plan, CreateSalesOrder)
        assert plan.customer == ExistingCustomer(CUSTOMER)
        assert plan.draft == result
    elif result.ignorable:
        assert plan == IgnoreOrder(result)
    else:
        assert plan == DeadLetterOrder(result)


# ---------------------------------------------------------------------------------------------
# Purity

_ALLOWED_IMPORTS = {
    "__future__",
    "attrs",
    "collections.abc",
    "datetime",
    "decimal",
    "hashlib",
    "re",
    "typing",
    "_settings",
    "netsuite._records",
    "woocommerce._records",
}


def test_order_core_imports_only_pure_modules() -> None:
    """The mapper imports no I/O, clock, randomness or logging: only the allow-listed modules."""
    tree = ast.parse(Path(nswoo.orders._plan.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.module is not None
            imported.add(node.module)
    assert imported <= _ALLOWED_IMPORTS, imported - _ALLOWED_IMPORTS


# -- what NetSuite booked -------------------------------------------------------------------


def dinar_order() -> WooOrder:
    """3 x 1.255 + tax 0.226 + shipping 0.750 = 4.741, one line item (tolerance 0.001)."""
    return order(
        dp=3,
        currency="KWD",
        line_items=[("A", 3, "1.255")],
        shipping_total="0.750",
        tax_rate="0.06",
        tax_shipping=False,
    )


def test_a_booked_total_within_tolerance_is_no_discrepancy() -> None:
    """NetSuite's total equal to WooCommerce's, or one money unit per line off, passes."""
    from nswoo.orders._plan import booked_total_discrepancy

    config = OrdersConfig(store="main", tax_item=90)
    woo = dinar_order()
    for booked in ("4.741", "4.74", "4.742"):
        assert (
            booked_total_discrepancy(
                woo, config=config, sales_order_id="1", booked_total=Decimal(booked)
            )
            is None
        )


def test_a_booked_total_beyond_tolerance_names_both_amounts() -> None:
    """4.75 booked for 4.741 charged is a discrepancy of 0.009, both amounts in the reason."""
    from nswoo.orders._plan import booked_total_discrepancy

    config = OrdersConfig(store="main", tax_item=90)
    found = booked_total_discrepancy(
        dinar_order(), config=config, sales_order_id="1001", booked_total=Decimal("4.75")
    )
    assert found is not None
    assert (found.expected, found.booked, found.difference) == (
        Decimal("4.741"),
        Decimal("4.75"),
        Decimal("0.009"),
    )
    assert found.tolerance == Decimal("0.001")
    assert "4.75" in found.reason
    assert "4.741" in found.reason
    assert "sales order 1001" in found.reason


def test_without_a_tax_item_netsuite_tax_is_left_out_on_both_sides() -> None:
    """NetSuite computes tax: its tax is taken off its total, WooCommerce's off its own."""
    from nswoo.orders._plan import booked_total_discrepancy

    config = OrdersConfig(store="main")  # tax_item 0: NetSuite computes tax
    woo = dinar_order()  # 4.741 - 0.226 = 4.515 excluding tax
    ok = booked_total_discrepancy(
        woo,
        config=config,
        sales_order_id="1",
        booked_total=Decimal("4.80"),
        booked_tax=Decimal("0.285"),
    )
    assert ok is None
    off = booked_total_discrepancy(
        woo, config=config, sales_order_id="1", booked_total=Decimal("4.80")
    )
    assert off is not None
    assert off.tax_excluded
    assert "excluding tax" in off.reason


def test_a_booked_total_nswoo_cannot_compare_is_a_value_error() -> None:
    """A non-finite or huge NetSuite amount is refused before any arithmetic."""
    from nswoo.orders._plan import booked_total_discrepancy

    with pytest.raises(ValueError, match="not a NetSuite amount"):
        booked_total_discrepancy(
            dinar_order(),
            config=CONFIG,
            sales_order_id="1",
            booked_total=Decimal("1e999999999"),
        )
