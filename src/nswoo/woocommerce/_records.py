"""WooCommerce wire models: orders, products and variations as wc/v3 returns them.

Frozen attrs values built by the WooCommerce converter (`nswoo.woocommerce._convert`), never
by hand-rolled dict access. Money is `Decimal` holding the exact text WooCommerce sent
(`"29.35"` → `Decimal("29.35")`, `"0.9"` stays `Decimal("0.9")`), so nothing is lost on the
way in or back out. Fields WooCommerce adds in newer versions are ignored when structuring;
`meta_data` is kept. Sources: `reference/woocommerce.md` §5 (orders) and §6 (stock fields).

**Bounds.** What nswoo accepts from WooCommerce is bounded, so that no single record can
overflow a decimal context, a SQLite column or a NetSuite field further down; the converter
refuses a value outside them, naming the field (`amount_problem`, `integer_problem`,
`quantity_problem`):

- money amounts (order totals, line totals and subtotals, tax, shipping, fees, coupons,
  refunds): finite, below 10^15 in magnitude, at most 8 decimal places. WooCommerce writes
  them with the store's price decimals (§5): 0 to 3 for real currencies, up to 8 for
  crypto-priced stores. 10^15 is far above any order and keeps every sum exact.
- unrounded numbers (line `price`, per-rate `taxes[]`, product prices): finite, below 10^15,
  at most 30 decimal places. `price` is a JSON number computed as total / quantity (§5);
  per-rate taxes and product prices are stored unrounded.
- line quantities: integers below 10^10 in magnitude, NetSuite's range. The reference is
  silent; `getlago/lago-api` (`NS_QUANTITY_LIMIT = 10_000_000_000` in
  `app/services/integrations/aggregator/invoices/payloads/netsuite.rb`, "NetSuite quantity
  max magnitude") works around NetSuite refusing larger ones (community, unconfirmed).
- ids and every other integer: signed 64-bit (-2^63 to 2^63 - 1), what SQLite's INTEGER
  (nswoo's store) and NetSuite's internal ids hold.

With these bounds an amount has at most 15 + 30 digits, so the order mapper's 60-digit
arithmetic never rounds or overflows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

import attrs

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_AMOUNT",
    "MAX_MONEY_PLACES",
    "MAX_NUMBER_PLACES",
    "MAX_QUANTITY",
    "ManageStock",
    "WooAddress",
    "WooCouponLine",
    "WooFeeLine",
    "WooItemTax",
    "WooLineItem",
    "WooMeta",
    "WooOrder",
    "WooProduct",
    "WooRefund",
    "WooShippingLine",
    "WooTaxLine",
    "WooVariation",
    "amount_problem",
    "integer_problem",
    "quantity_problem",
]

MAX_AMOUNT: Final = Decimal(10) ** 15
"""Every decimal from WooCommerce must be below this in magnitude (exclusive)."""

MAX_MONEY_PLACES: Final = 8
"""Decimal places a money amount (formatted with the store's decimals) may have."""

MAX_NUMBER_PLACES: Final = 30
"""Decimal places an unrounded number (line `price`, `taxes[]`, product prices) may have."""

MAX_QUANTITY: Final = 10**10
"""Line quantities must be below this in magnitude (exclusive): NetSuite's range."""

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

_SHOWN_CHARS = 32


def _shown(value: object) -> str:
    """A value for a message: its own text, cut short (a hostile value can be megabytes)."""
    if isinstance(value, int) and value.bit_length() > 128:
        # str() of a huge int is slow, and past 4300 digits Python refuses it outright.
        digits = int(value.bit_length() * 0.30103) + 1
        return f"{'a negative' if value < 0 else 'an'} integer of about {digits} digits"
    text = str(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def amount_problem(value: Decimal, *, places: int = MAX_MONEY_PLACES) -> str | None:
    """Why `value` is not an amount nswoo accepts, or None when it is (see the bounds above).

    Only the sign, exponent and digit count are read, so `1E+999999999` costs nothing.

    Example:
        >>> amount_problem(Decimal("29.35")) is None
        True
        >>> amount_problem(Decimal("1e999999999"))
        '1E+999999999 is out of range: amounts must be below 10^15 in magnitude'
    """
    if not value.is_finite():
        return f"{_shown(value)} is not a finite amount"
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # noqa: S101 - finite, checked above
    # A zero may carry any exponent ("0E+999999999"): bound the exponent as well as the value.
    if exponent >= 15 or (value and value.adjusted() >= 15):
        return f"{_shown(value)} is out of range: amounts must be below 10^15 in magnitude"
    if -exponent > places:
        return f"{_shown(value)} has {-exponent} decimal places; at most {places} are accepted"
    return None


def integer_problem(value: int | Decimal) -> str | None:
    """Why `value` is not an integer nswoo can store (signed 64-bit), or None.

    A `Decimal` must be integral; its range is read from its exponent, so
    `Decimal("1E+999999999")` is refused without being expanded.
    """
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            return f"{_shown(value)} is not an integer"
        if value and value.adjusted() >= 19:
            return f"{_shown(value)} is out of range: integers must fit in 64 bits (below 2^63)"
        value = int(value)
    if INT64_MIN <= value <= INT64_MAX:
        return None
    return f"{_shown(value)} is out of range: integers must fit in 64 bits (below 2^63)"


def quantity_problem(value: int) -> str | None:
    """Why `value` is not a line quantity nswoo can send NetSuite, or None."""
    if -MAX_QUANTITY < value < MAX_QUANTITY:
        return None
    return f"{_shown(value)} is out of range: quantities must be below 10^10 in magnitude"


ManageStock = bool | Literal["parent"]
"""A variation's `manage_stock`: its own flag, or `"parent"` when the parent manages its
stock (reference §6: `WC_Product_Variation::get_manage_stock('view')`)."""


@attrs.frozen
class WooMeta:
    """One `meta_data` entry: `{id, key, value}`; `value` is any JSON value.

    `id` is None for entries without one (built locally for a write: WooCommerce then
    upserts the key, reference §5).
    """

    id: int | None
    key: str
    value: Any


@attrs.frozen
class WooAddress:
    """A billing or shipping address.

    `email` is only on billing addresses; `phone` is on billing, and on shipping in newer
    WooCommerce versions (reference §5). Both are None when the payload has no such key.
    """

    first_name: str = ""
    last_name: str = ""
    company: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""
    email: str | None = None
    phone: str | None = None


@attrs.frozen
class WooItemTax:
    """One tax rate's share of a line: `{id, total, subtotal}` (rate id, amounts).

    `subtotal` is None when WooCommerce sends it empty or not at all.
    """

    id: int
    total: Decimal
    subtotal: Decimal | None = None


@attrs.frozen
class WooLineItem:
    """A product line of an order.

    `sku` is `""` when the product has no SKU and None when the product no longer exists
    (reference §5). `price` is a JSON *number* on the wire (item total / quantity, after
    discounts, excluding tax; 0 when quantity is 0), read exactly from the JSON text.
    `variation_id` is 0 for simple products.
    """

    id: int
    name: str
    product_id: int
    variation_id: int
    quantity: int
    tax_class: str
    subtotal: Decimal
    subtotal_tax: Decimal
    total: Decimal
    total_tax: Decimal
    sku: str | None
    price: Decimal
    taxes: tuple[WooItemTax, ...] = ()
    meta_data: tuple[WooMeta, ...] = ()


@attrs.frozen
class WooTaxLine:
    """An order-level tax line (one per rate): totals on items and on shipping."""

    id: int
    rate_code: str
    rate_id: int
    label: str
    compound: bool
    tax_total: Decimal
    shipping_tax_total: Decimal
    meta_data: tuple[WooMeta, ...] = ()


@attrs.frozen
class WooShippingLine:
    """A shipping line: method, amount and its tax."""

    id: int
    method_title: str
    method_id: str
    total: Decimal
    total_tax: Decimal
    taxes: tuple[WooItemTax, ...] = ()
    meta_data: tuple[WooMeta, ...] = ()


@attrs.frozen
class WooFeeLine:
    """A fee line (`tax_status` is `taxable` or `none`)."""

    id: int
    name: str
    tax_class: str
    tax_status: str
    total: Decimal
    total_tax: Decimal
    taxes: tuple[WooItemTax, ...] = ()
    meta_data: tuple[WooMeta, ...] = ()


@attrs.frozen
class WooCouponLine:
    """A coupon applied to the order: code and the discount it gave (and its tax)."""

    id: int
    code: str
    discount: Decimal
    discount_tax: Decimal
    meta_data: tuple[WooMeta, ...] = ()


@attrs.frozen
class WooRefund:
    """A refund summary on an order. `total` is negative (`"-5.00"`), as WooCommerce sends it."""

    id: int
    total: Decimal
    reason: str = ""


@attrs.frozen
class WooOrder:
    """A WooCommerce order (wc/v3 `orders/<id>`, or the body of an `order.*` webhook).

    Dates are aware UTC datetimes read from the `*_gmt` fields. Money is `Decimal` with the
    exact text WooCommerce sent. `number` can differ from `id` when a sequential-numbers
    plugin is installed; `customer_id` is 0 for guests.

    Example:
        >>> from nswoo.woocommerce import structure_order
        >>> order = structure_order(payload)  # doctest: +SKIP
        >>> order.total, order.line_items[0].sku  # doctest: +SKIP
        (Decimal('29.35'), '')
    """

    id: int
    parent_id: int
    number: str
    status: str
    currency: str
    date_created_gmt: datetime
    date_modified_gmt: datetime
    discount_total: Decimal
    discount_tax: Decimal
    shipping_total: Decimal
    shipping_tax: Decimal
    cart_tax: Decimal
    total: Decimal
    total_tax: Decimal
    prices_include_tax: bool
    customer_id: int
    customer_note: str = ""
    billing: WooAddress = WooAddress()
    shipping: WooAddress = WooAddress()
    payment_method: str = ""
    payment_method_title: str = ""
    transaction_id: str = ""
    meta_data: tuple[WooMeta, ...] = ()
    line_items: tuple[WooLineItem, ...] = ()
    tax_lines: tuple[WooTaxLine, ...] = ()
    shipping_lines: tuple[WooShippingLine, ...] = ()
    fee_lines: tuple[WooFeeLine, ...] = ()
    coupon_lines: tuple[WooCouponLine, ...] = ()
    refunds: tuple[WooRefund, ...] = ()

    def meta(self, key: str) -> Any:
        """The value of the first `meta_data` entry named `key`, or None."""
        return next((m.value for m in self.meta_data if m.key == key), None)


@attrs.frozen
class WooProduct:
    """A WooCommerce product (wc/v3 `products/<id>`).

    `sku` is None when the product has none (WooCommerce sends `""`). `price`,
    `regular_price` and `sale_price` are None when empty (`"sale_price": ""` when there is no
    sale; variable products have no price of their own). `stock_quantity` is None when the
    product does not manage stock. `variations` lists the variation ids of a `variable`
    product. Reference §6.
    """

    id: int
    name: str
    type: str
    status: str
    sku: str | None
    price: Decimal | None
    regular_price: Decimal | None
    sale_price: Decimal | None
    manage_stock: bool
    stock_quantity: int | None
    stock_status: str
    backorders: str = "no"
    parent_id: int = 0
    variations: tuple[int, ...] = ()
    date_modified_gmt: datetime | None = None
    meta_data: tuple[WooMeta, ...] = ()


@attrs.frozen
class WooVariation:
    """A variation of a `variable` product (wc/v3 `products/<parent>/variations/<id>`).

    `manage_stock` is `"parent"` when the parent product manages this variation's stock;
    `stock_quantity` is then the parent's (reference §6): push stock to the parent or skip,
    never to the variation. `parent_id` comes from the body when present, else from the URL
    the variation was read from.
    """

    id: int
    parent_id: int
    sku: str | None
    manage_stock: ManageStock
    stock_quantity: int | None
    stock_status: str
    price: Decimal | None
    regular_price: Decimal | None = None
    sale_price: Decimal | None = None
    status: str = "publish"
    backorders: str = "no"
    date_modified_gmt: datetime | None = None
    meta_data: tuple[WooMeta, ...] = ()

    @property
    def parent_managed(self) -> bool:
        """True when the parent product manages this variation's stock."""
        return self.manage_stock == "parent"
