"""Money edge cases of the order mapper: currencies whose minor unit is not a cent.

WooCommerce formats every money string with the store's price decimals (woocommerce.md §5:
`wc_format_decimal(value, dp)`, `dp` = the store setting), so a yen store sends `"3012"` and a
dinar store `"7.000"`. The rounding WooCommerce leaves between an order's total and the sum of
its stored parts is counted in that minor unit (at most one per line item), not in cents.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from nswoo._settings import OrdersConfig
from nswoo.netsuite import SalesOrderDraft
from nswoo.orders._plan import Rejection, map_order
from nswoo.testing import make_order
from nswoo.woocommerce import WooOrder, structure_order

CUSTOMER = 107
ITEMS = {"A": 11, "B": 12, "C": 13}
TAX_ON_A_LINE = OrdersConfig(store="main", tax_item=90, shipping_item=91)
TAX_BY_NETSUITE = OrdersConfig(store="main", shipping_item=91)


def _money(value: Decimal, dp: int) -> str:
    return str(value.quantize(Decimal(1).scaleb(-dp), rounding=ROUND_HALF_UP))


def _tax_inclusive_order(*, currency: str, dp: int, gross: Decimal, lines: int) -> dict[str, Any]:
    """An order as a store with tax-inclusive prices and "round tax at subtotal" saves it.

    Each line costs `gross` including 10% tax. WooCommerce keeps each line's tax and net
    amount unrounded, shows them in the REST response rounded to the store's `dp`, and rounds
    the order's tax and total once, over the whole order.
    """
    rate = Decimal("0.1")
    tax = gross * rate / (1 + rate)  # unrounded, as stored
    net = gross - tax
    payload = make_order(
        currency=currency,
        dp=dp,
        line_items=[(sku, 1, "1") for sku in list(ITEMS)[:lines]],
        shipping_total="0",
        tax_rate=rate,
    )
    payload["prices_include_tax"] = True
    for line in payload["line_items"]:
        line.update(
            subtotal=_money(net, dp),
            total=_money(net, dp),
            subtotal_tax=_money(tax, dp),
            total_tax=_money(tax, dp),
            taxes=[{"id": 75, "total": str(tax), "subtotal": str(tax)}],
            price=net,
        )
    cart_tax = _money(tax * lines, dp)
    payload.update(cart_tax=cart_tax, total_tax=cart_tax, total=_money(gross * lines, dp))
    payload["tax_lines"][0]["tax_total"] = cart_tax
    return payload


@pytest.mark.parametrize(
    "config", [TAX_ON_A_LINE, TAX_BY_NETSUITE], ids=["tax_item", "no_tax_item"]
)
def test_yen_order_off_by_woocommerce_rounding_is_accepted(config: OrdersConfig) -> None:
    """A zero-decimal (JPY) order whose parts differ from its total only by WooCommerce's own
    rounding (one yen on a three-line order) is mapped, exactly as the same order in USD is
    (where the gap is one cent); the tolerance is one minor unit of the currency per line."""
    order: WooOrder = structure_order(
        _tax_inclusive_order(currency="JPY", dp=0, gross=Decimal(1004), lines=3)
    )
    # WooCommerce's own figures: three lines of 913 net, 274 tax, 3012 charged.
    assert [line.total for line in order.line_items] == [Decimal(913)] * 3
    assert (order.total_tax, order.total) == (Decimal(274), Decimal(3012))

    result = map_order(order, config=config, items=ITEMS, customer_id=CUSTOMER)

    assert isinstance(result, SalesOrderDraft), result


def test_three_decimal_order_with_unexplained_difference_is_rejected() -> None:
    """A three-decimal (KWD) order whose total is 0.025 below its lines, shipping and tax
    (25 fils, where WooCommerce's rounding can leave at most one fil per line) is rejected
    as a total mismatch: the sales order would book money the customer did not pay."""
    payload = make_order(
        currency="KWD",
        dp=3,
        line_items=[("A", 1, "1.250"), ("B", 2, "0.875"), ("C", 1, "3.100")],
        shipping_total="1.000",
        tax_rate="0.05",
    )
    # Something outside the order's lines (a store credit, say) lowered what was charged.
    payload["total"] = _money(Decimal(payload["total"]) - Decimal("0.025"), 3)
    order = structure_order(payload)

    result = map_order(order, config=TAX_ON_A_LINE, items=ITEMS, customer_id=CUSTOMER)

    assert isinstance(result, Rejection), "draft created 0.025 KWD above what was charged"
    assert result.kind == "total_mismatch"
    assert result.expected == order.total
