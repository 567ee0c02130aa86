"""WooCommerce wire models: orders, products and variations as wc/v3 returns them.

Frozen attrs values built by the WooCommerce converter (`nswoo.woocommerce._convert`), never
by hand-rolled dict access. Money is `Decimal` holding the exact text WooCommerce sent
(`"29.35"` → `Decimal("29.35")`, `"0.9"` stays `Decimal("0.9")`), so nothing is lost on the
way in or back out. Fields WooCommerce adds in newer versions are ignored when structuring;
`meta_data` is kept. Sources: `reference/woocommerce.md` §5 (orders) and §6 (stock fields).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import attrs

__all__ = [
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
]

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
