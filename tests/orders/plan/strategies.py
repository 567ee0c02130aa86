"""Hypothesis strategies for the pure core: WooCommerce orders whose totals add up.

Orders are rendered by `nswoo.testing._factories.make_order` (the same renderer the
WooCommerce simulator uses) and structured with the WooCommerce converter, so a generated
order has exactly the shape and arithmetic of a wc/v3 order: line totals after coupons,
per-line tax rounded half-up, `total = Σ line totals + shipping + fees + total_tax`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from nswoo._settings import OrdersConfig
from nswoo.testing._factories import OrderLine, make_order
from nswoo.woocommerce import WooOrder, structure_order

__all__ = [
    "INJECTION",
    "all_items",
    "cents",
    "mapping_configs",
    "order_payloads",
    "orders",
    "skus",
    "stores",
]

INJECTION = "' OR '1'='1 --"
"""A SuiteQL injection attempt: must only ever be carried as data."""

_TAX_RATES = (Decimal(0), Decimal("0.05"), Decimal("0.0725"), Decimal("0.2"), Decimal("0.19"))


def cents(min_value: int = 0, max_value: int = 100_000) -> st.SearchStrategy[Decimal]:
    """Money with two decimals, between `min_value` and `max_value` cents."""
    return st.integers(min_value, max_value).map(lambda c: Decimal(c).scaleb(-2))


def skus() -> st.SearchStrategy[str]:
    """Non-empty SKUs: realistic codes, arbitrary text, and hostile strings."""
    return st.one_of(
        st.from_regex(r"[A-Z]{2,5}-[0-9]{1,4}(-[A-Z]{1,2})?", fullmatch=True),
        st.text(min_size=1, max_size=24),
        st.sampled_from([INJECTION, "SKU|2", "a'b", "x;DROP TABLE item;--"]),
    )


def stores() -> st.SearchStrategy[str]:
    """Store names the configuration accepts (letters, digits, `_`, `-`)."""
    return st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)


@st.composite
def order_payloads(
    draw: st.DrawFn,
    *,
    status: str = "processing",
    max_lines: int = 6,
    with_fees: bool = True,
) -> dict[str, Any]:
    """A wc/v3 order object with random lines, coupons, shipping, fees and a flat tax rate.

    Coupons never exceed the goods subtotal (WooCommerce caps a discount at what it
    discounts), so `discount_total` equals the sum of (line subtotal - line total).
    """
    pool = draw(st.lists(skus(), min_size=1, max_size=max_lines, unique=True))
    lines = draw(
        st.lists(
            st.builds(
                OrderLine,
                sku=st.sampled_from(pool),
                quantity=st.integers(1, 12),
                price=cents(1, 50_000),
            ),
            min_size=1,
            max_size=max_lines,
        )
    )
    subtotal = sum((line.price * line.quantity for line in lines), Decimal(0))
    coupons: list[tuple[str, Decimal]] = []
    left = subtotal
    for code in draw(st.lists(st.sampled_from(["SAVE10", "VIP", "WELCOME"]), max_size=2)):
        amount = draw(cents(1, int(left * 100))) if left >= Decimal("0.01") else Decimal(0)
        if amount:
            coupons.append((code, amount))
            left -= amount
    fees = (
        draw(
            st.lists(
                st.tuples(st.sampled_from(["Gift wrap", "Handling", "Rush"]), cents(1, 5_000)),
                max_size=2,
            )
        )
        if with_fees
        else []
    )
    return make_order(
        id=draw(st.integers(1, 2**31 - 1)),
        status=status,
        line_items=lines,
        shipping_total=draw(st.one_of(st.just(Decimal(0)), cents(1, 10_000))),
        coupons=coupons,
        fees=fees,
        tax_rate=draw(st.sampled_from(_TAX_RATES)),
    )


def orders(**kwargs: Any) -> st.SearchStrategy[WooOrder]:
    """`order_payloads(**kwargs)` structured into `WooOrder` values."""
    return order_payloads(**kwargs).map(structure_order)


def all_items(order: WooOrder) -> dict[str, int]:
    """A lookup result that finds every SKU of `order` (ids in first-seen order from 100)."""
    found: dict[str, int] = {}
    for line in order.line_items:
        if line.sku and line.sku not in found:
            found[line.sku] = 100 + len(found)
    return found


def _item_id() -> st.SearchStrategy[int | None]:
    return st.one_of(st.none(), st.integers(1, 10_000))


def mapping_configs(*, fee_item: bool | None = None) -> st.SearchStrategy[OrdersConfig]:
    """`[orders]` settings with each order-level item (shipping, discount, fee, tax) on or off.

    Args:
        fee_item: True to always set `fee_item`, False to never set it, None for either.
    """
    fee = _item_id() if fee_item is None else (st.integers(1, 10_000) if fee_item else st.none())
    return st.builds(
        OrdersConfig,
        store=stores(),
        location=_item_id(),
        subsidiary=_item_id(),
        shipping_item=_item_id(),
        discount_item=_item_id(),
        fee_item=fee,
        tax_item=_item_id(),
    )
