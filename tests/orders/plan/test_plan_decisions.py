"""The plan decides once from what the shell gathered; retry and backoff rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from nswoo._settings import CustomerStrategy, OrdersConfig
from nswoo.netsuite import ExternalId
from nswoo.orders._plan import (
    CreateCustomer,
    CreateSalesOrder,
    DeadLetterOrder,
    ExistingCustomer,
    IgnoreOrder,
    RetryPolicy,
    customer_external_id,
    dead_letter_due,
    lookups,
    plan_import,
)
from nswoo.testing._factories import make_order
from nswoo.woocommerce import WooOrder, structure_order

SINGLE = OrdersConfig(store="main", customer=CustomerStrategy(strategy="single", id=107))
BY_EMAIL = OrdersConfig(store="main", customer=CustomerStrategy(strategy="by-email"))
ITEMS = {"WOO-1": 11}


def order(**kwargs: object) -> WooOrder:
    return structure_order(make_order(**kwargs))  # type: ignore[arg-type]


def test_an_ignored_order_needs_no_look_up() -> None:
    """A status nswoo does not import asks for nothing: no SKU, no customer."""
    needs = lookups(order(status="pending"), config=BY_EMAIL)
    assert needs.ignore is not None
    assert needs.ignore.kind == "status_not_imported"
    assert (needs.skus, needs.customer_external_id) == (frozenset(), None)


def test_lookups_name_the_skus_and_the_by_email_customer() -> None:
    """What to gather: the order's key, its SKUs and (by-email) its customer's external id."""
    woo = order(billing={"email": "Ada@Example.com"})
    needs = lookups(woo, config=BY_EMAIL)
    assert needs.ignore is None
    assert needs.key.external_id == ExternalId("woo-main-727")
    assert needs.skus == frozenset({"WOO-1"})
    assert needs.customer_external_id == customer_external_id("main", "ada@example.com")
    assert lookups(woo, config=SINGLE).customer_external_id is None


def test_a_new_by_email_customer_is_a_step_of_the_plan() -> None:
    """No customer found: the plan creates it first; the sales order takes its new id."""
    plan = plan_import(
        order(), config=BY_EMAIL, items=ITEMS, existing_sales_order_id=None, customer_id=None
    )
    assert isinstance(plan, CreateSalesOrder)
    assert isinstance(plan.customer, CreateCustomer)
    assert plan.customer.draft.external_id == customer_external_id("main", "john.doe@example.com")
    with pytest.raises(ValueError, match="draft_for"):
        _ = plan.draft
    draft = plan.draft_for(555)
    assert draft.entity == 555
    assert draft.external_id == ExternalId("woo-main-727")


def test_a_found_by_email_customer_is_used_as_it_is() -> None:
    """A customer found by its external id: no customer is created."""
    plan = plan_import(
        order(), config=BY_EMAIL, items=ITEMS, existing_sales_order_id=None, customer_id=42
    )
    assert isinstance(plan, CreateSalesOrder)
    assert plan.customer == ExistingCustomer(42)
    assert plan.draft.entity == 42


def test_the_single_customer_comes_from_the_settings() -> None:
    """Single strategy: `orders.customer.id` unless the caller names another."""
    plan = plan_import(order(), config=SINGLE, items=ITEMS, existing_sales_order_id=None)
    assert isinstance(plan, CreateSalesOrder)
    assert plan.customer == ExistingCustomer(107)
    without = attrs.evolve(SINGLE, customer=CustomerStrategy(strategy="single"))
    with pytest.raises(ValueError, match=r"orders\.customer\.id"):
        plan_import(order(), config=without, items=ITEMS, existing_sales_order_id=None)


def test_no_email_is_a_dead_letter_and_no_customer_is_planned() -> None:
    """By-email without a usable e-mail: dead-lettered, nothing created."""
    plan = plan_import(
        order(billing={"email": ""}),
        config=BY_EMAIL,
        items=ITEMS,
        existing_sales_order_id=None,
    )
    assert isinstance(plan, DeadLetterOrder)
    assert plan.rejection.kind == "no_email"


@pytest.mark.parametrize(
    ("woo", "config"),
    [
        (order(status="pending"), SINGLE),
        (order(line_items=[("GONE-1", 1, "3.00")]), SINGLE),
        (order(billing={"email": "not-an-address"}), BY_EMAIL),
    ],
)
def test_reasons_do_not_repeat_the_order_id(woo: WooOrder, config: OrdersConfig) -> None:
    """Every report prints `order 727: <reason>`, so the reason says each thing once."""
    plan = plan_import(woo, config=config, items=ITEMS, existing_sales_order_id=None)
    assert isinstance(plan, IgnoreOrder | DeadLetterOrder)
    assert "727" not in plan.rejection.reason


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_transient_failures_need_both_attempts_and_time() -> None:
    """Ten failures in an hour, or two over a week, are not enough; ten over three days are."""
    policy = RetryPolicy()
    assert not policy.gives_up(attempts=50, first_failed=NOW - timedelta(hours=1), now=NOW)
    assert not policy.gives_up(attempts=2, first_failed=NOW - timedelta(days=7), now=NOW)
    assert not policy.gives_up(attempts=10, first_failed=NOW - timedelta(days=1), now=NOW)
    assert policy.gives_up(attempts=10, first_failed=NOW - timedelta(days=3), now=NOW)
    with pytest.raises(ValueError, match="attempts >= 1"):
        RetryPolicy(attempts=0)


@pytest.mark.parametrize(
    ("attempts", "wait"),
    [
        (1, timedelta(minutes=5)),
        (2, timedelta(minutes=30)),
        (3, timedelta(hours=2)),
        (4, timedelta(hours=12)),
        (5, timedelta(days=1)),
        (40, timedelta(days=1)),
    ],
)
def test_dead_letters_back_off_5_min_30_min_2_h_12_h_then_daily(
    attempts: int, wait: timedelta
) -> None:
    """A dead letter is due exactly its backoff after its last failure, not a second sooner."""
    last = NOW - wait
    assert dead_letter_due(attempts=attempts, last_seen=last, now=NOW)
    assert not dead_letter_due(attempts=attempts, last_seen=last + timedelta(seconds=1), now=NOW)
