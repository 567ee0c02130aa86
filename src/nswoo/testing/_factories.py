"""Payload factories: realistic wc/v3 order, product and variation JSON for tests.

The shapes follow the literal examples saved beside `reference/woocommerce.md`
(`woo_order_example.json`, order 727; `woo_product_example.json`, product 794) field by field.
Money is computed with `Decimal` and rendered as strings with the store's decimals (§5), except
`line_items[].price`, which WooCommerce sends as a number (§5). Totals always add up:
`total = Σ line totals + shipping_total + Σ fee totals + total_tax`.

The WooCommerce simulator renders its resources with these same functions, so what a test builds
by hand and what the simulator serves cannot drift apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import attrs

__all__ = [
    "OrderLine",
    "make_order",
    "make_product",
    "make_variation",
    "money",
    "stock_status_for",
    "wc_date",
]

# The published examples' timestamps (order 727 and product 794, in GMT).
_EXAMPLE_ORDER_CREATED = datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
_EXAMPLE_PRODUCT_CREATED = datetime(2017, 3, 23, 20, 1, 14, tzinfo=UTC)

# §5 status table: processing is "Payment received (paid)"; on-hold is "Awaiting payment
# confirmation", so an on-hold order has no payment date (its stock is reduced all the same, §7).
_PAID_STATUSES = frozenset({"processing", "completed"})

_DEFAULT_BILLING: Mapping[str, str] = {
    "first_name": "John",
    "last_name": "Doe",
    "company": "",
    "address_1": "969 Market",
    "address_2": "",
    "city": "San Francisco",
    "state": "CA",
    "postcode": "94103",
    "country": "US",
    "email": "john.doe@example.com",
    "phone": "(555) 555-5555",
}


def money(value: Decimal | str | int, dp: int = 2) -> str:
    """Format money the way `wc_format_decimal(value, dp)` does: a string with `dp` decimals."""
    quantum = Decimal(1).scaleb(-dp)
    return str(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP))


def _round(value: Decimal, dp: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-dp), rounding=ROUND_HALF_UP)


def wc_date(moment: datetime | None, utc_offset: timedelta = timedelta(0)) -> str | None:
    """Render a WooCommerce REST date: ISO 8601 without a zone, seconds precision.

    `moment` is an aware datetime (or None, rendered as JSON null); `utc_offset` turns GMT into
    the site-local time used by the fields without `_gmt`.
    """
    if moment is None:
        return None
    local = moment.astimezone(UTC) + utc_offset
    return local.replace(tzinfo=None, microsecond=0).isoformat()


def _price_number(value: Decimal) -> int | float:
    """`line_items[].price` is a JSON number (§5): an integer when whole, as in the example."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def stock_status_for(
    *, manage_stock: bool, stock_quantity: int | None, backorders: str, requested: str | None
) -> str:
    """The stock status WooCommerce stores for these stock fields.

    When stock is managed the status is derived from the quantity (reference §6 and
    Unconfirmed 5: believed true, not read): in stock above 0, otherwise on backorder when
    backorders are allowed, else out of stock. Without stock management the requested status
    (default `instock`) is kept.
    """
    if manage_stock and stock_quantity is not None:
        if stock_quantity > 0:
            return "instock"
        return "onbackorder" if backorders != "no" else "outofstock"
    return requested or "instock"


@attrs.frozen(kw_only=True)
class OrderLine:
    """One order line before rendering: what was bought, how many, at what unit price.

    `price` is the unit price before discounts, excluding tax. `id` 0 lets the renderer
    allocate a line item id.

    Example:
        >>> OrderLine(sku="TEE-M", quantity=2, price=Decimal("12.00"), product_id=22).quantity
        2
    """

    sku: str
    quantity: int
    price: Decimal = attrs.field(converter=Decimal)
    product_id: int = 0
    variation_id: int = 0
    name: str = ""
    id: int = 0


LineInput = OrderLine | tuple[str, int, Decimal | str]


def _split(amount: Decimal, weights: Sequence[Decimal], dp: int) -> list[Decimal]:
    """Split `amount` over `weights` proportionally; the rounding remainder goes last."""
    total_weight = sum(weights, Decimal(0))
    if not weights:
        return []
    if total_weight == 0:
        return [Decimal(0)] * (len(weights) - 1) + [amount]
    parts = [_round(amount * w / total_weight, dp) for w in weights[:-1]]
    parts.append(amount - sum(parts, Decimal(0)))
    return parts


def _counter(start: int) -> Callable[[], int]:
    state = [start]

    def next_id() -> int:
        state[0] += 1
        return state[0]

    return next_id


def make_order(
    *,
    id: int = 727,
    status: str = "processing",
    line_items: Iterable[LineInput] = (OrderLine(sku="WOO-1", quantity=2, price=Decimal(3)),),
    shipping_total: Decimal | str = Decimal("10.00"),
    shipping_method: tuple[str, str] = ("flat_rate", "Flat Rate"),
    fees: Iterable[tuple[str, Decimal | str]] = (),
    coupons: Iterable[tuple[str, Decimal | str]] = (),
    tax_rate: Decimal | str = Decimal(0),
    tax_shipping: bool = True,
    tax_label: str = "State Tax",
    currency: str = "USD",
    customer_id: int = 0,
    billing: Mapping[str, str] | None = None,
    shipping: Mapping[str, str] | None = None,
    payment_method: str = "bacs",
    payment_method_title: str = "Direct Bank Transfer",
    customer_note: str = "",
    created: datetime = _EXAMPLE_ORDER_CREATED,
    modified: datetime | None = None,
    paid: datetime | None = None,
    completed: datetime | None = None,
    meta_data: Iterable[Mapping[str, Any]] = (),
    version: str = "3.0.0",
    created_via: str = "rest-api",
    utc_offset: timedelta = timedelta(0),
    base_url: str = "https://example.com",
    dp: int = 2,
    next_item_id: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """Build a wc/v3 order object (the `GET /orders/<id>` body) whose totals add up.

    Lines are `OrderLine`s or `(sku, quantity, unit_price)` tuples. Coupons are
    `(code, discount)` pairs, spread over the lines in proportion to their subtotals. Tax is one
    flat `tax_rate` applied to lines, fees and (unless `tax_shipping` is False, as in stores
    whose shipping is not taxable, like the published example) shipping, reported as one
    `tax_lines` entry.
    `date_paid` defaults to `modified` for paid statuses (processing, completed; not on-hold), and
    `date_completed` to `modified` for completed orders.

    Args:
        id: the order id (also `number`).
        next_item_id: allocates line item, shipping, fee, coupon and tax line ids; by default
            they count up from `id * 1000`.

    Returns:
        A JSON-ready dict shaped like `woo_order_example.json`.

    Example:
        >>> order = make_order(id=40001, line_items=[("TEE-M", 2, "12.50")], shipping_total="5")
        >>> order["total"]
        '30.00'
    """
    rate = Decimal(tax_rate)
    alloc = next_item_id or _counter(id * 1000)
    lines = [
        line
        if isinstance(line, OrderLine)
        else OrderLine(sku=line[0], quantity=line[1], price=Decimal(line[2]))
        for line in line_items
    ]
    coupon_list = [(code, _round(Decimal(amount), dp)) for code, amount in coupons]
    fee_list = [(name, _round(Decimal(amount), dp)) for name, amount in fees]
    shipping_amount = _round(Decimal(shipping_total), dp)

    subtotals = [_round(line.price * line.quantity, dp) for line in lines]
    discount_total = sum((amount for _, amount in coupon_list), Decimal(0))
    line_discounts = _split(min(discount_total, sum(subtotals, Decimal(0))), subtotals, dp)
    rendered_lines: list[dict[str, Any]] = []
    tax_rate_id = 75  # the example's rate id
    cart_tax = Decimal(0)
    for line, subtotal, discount in zip(lines, subtotals, line_discounts, strict=True):
        total = subtotal - discount
        subtotal_tax = _round(subtotal * rate, dp)
        total_tax = _round(total * rate, dp)
        cart_tax += total_tax
        taxes = (
            [
                {
                    "id": tax_rate_id,
                    "total": money(total_tax, dp),
                    "subtotal": money(subtotal_tax, dp),
                }
            ]
            if rate
            else []
        )
        rendered_lines.append(
            {
                "id": line.id or alloc(),
                "name": line.name or line.sku,
                "product_id": line.product_id,
                "variation_id": line.variation_id,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": money(subtotal, dp),
                "subtotal_tax": money(subtotal_tax, dp),
                "total": money(total, dp),
                "total_tax": money(total_tax, dp),
                "taxes": taxes,
                "meta_data": [],
                "sku": line.sku,
                # §5: a number, item total / quantity (after discounts, excluding tax).
                "price": _price_number(total / line.quantity) if line.quantity else 0,
            }
        )
    fee_lines: list[dict[str, Any]] = []
    for name, amount in fee_list:
        fee_tax = _round(amount * rate, dp)
        cart_tax += fee_tax
        fee_lines.append(
            {
                "id": alloc(),
                "name": name,
                "tax_class": "",
                "tax_status": "taxable" if rate else "none",
                "total": money(amount, dp),
                "total_tax": money(fee_tax, dp),
                "taxes": [],
                "meta_data": [],
            }
        )
    shipping_tax = _round(shipping_amount * rate, dp) if tax_shipping else Decimal(0)
    shipping_lines = []
    if shipping_amount or shipping_method[0]:
        shipping_lines.append(
            {
                "id": alloc(),
                "method_title": shipping_method[1],
                "method_id": shipping_method[0],
                "total": money(shipping_amount, dp),
                "total_tax": money(shipping_tax, dp),
                "taxes": [],
                "meta_data": [],
            }
        )
    discount_tax = _round(discount_total * rate, dp)
    coupon_lines = [
        {
            "id": alloc(),
            "code": code,
            "discount": money(amount, dp),
            "discount_tax": money(_round(amount * rate, dp), dp),
            "meta_data": [],
        }
        for code, amount in coupon_list
    ]
    tax_lines = (
        [
            {
                "id": alloc(),
                "rate_code": "US-CA-STATE TAX",
                "rate_id": tax_rate_id,
                "label": tax_label,
                "compound": False,
                "tax_total": money(cart_tax, dp),
                "shipping_tax_total": money(shipping_tax, dp),
                "meta_data": [],
            }
        ]
        if rate
        else []
    )
    total_tax = cart_tax + shipping_tax
    items_total = sum((Decimal(line["total"]) for line in rendered_lines), Decimal(0))
    fees_total = sum((amount for _, amount in fee_list), Decimal(0))
    total = items_total + shipping_amount + fees_total + total_tax

    modified_at = modified or created
    paid_at = paid if paid is not None else (modified_at if status in _PAID_STATUSES else None)
    completed_at = (
        completed if completed is not None else (modified_at if status == "completed" else None)
    )
    billing_doc = dict(_DEFAULT_BILLING if billing is None else billing)
    shipping_doc = (
        {k: v for k, v in billing_doc.items() if k not in {"email", "phone"}}
        if shipping is None
        else dict(shipping)
    )
    site = base_url.rstrip("/")
    return {
        "id": id,
        "parent_id": 0,
        "number": str(id),
        "order_key": "wc_order_" + hashlib.sha256(f"order-{id}".encode()).hexdigest()[:13],
        "created_via": created_via,
        "version": version,
        "status": status,
        "currency": currency,
        "date_created": wc_date(created, utc_offset),
        "date_created_gmt": wc_date(created),
        "date_modified": wc_date(modified_at, utc_offset),
        "date_modified_gmt": wc_date(modified_at),
        "discount_total": money(discount_total, dp),
        "discount_tax": money(discount_tax, dp),
        "shipping_total": money(shipping_amount, dp),
        "shipping_tax": money(shipping_tax, dp),
        "cart_tax": money(cart_tax, dp),
        "total": money(total, dp),
        "total_tax": money(total_tax, dp),
        "prices_include_tax": False,
        "customer_id": customer_id,
        "customer_ip_address": "",
        "customer_user_agent": "",
        "customer_note": customer_note,
        "billing": billing_doc,
        "shipping": shipping_doc,
        "payment_method": payment_method,
        "payment_method_title": payment_method_title,
        "transaction_id": "",
        "date_paid": wc_date(paid_at, utc_offset),
        "date_paid_gmt": wc_date(paid_at),
        "date_completed": wc_date(completed_at, utc_offset),
        "date_completed_gmt": wc_date(completed_at),
        "cart_hash": "",
        "meta_data": [dict(entry) for entry in meta_data],
        "line_items": rendered_lines,
        "tax_lines": tax_lines,
        "shipping_lines": shipping_lines,
        "fee_lines": fee_lines,
        "coupon_lines": coupon_lines,
        "refunds": [],
        "_links": {
            "self": [{"href": f"{site}/wp-json/wc/v3/orders/{id}"}],
            "collection": [{"href": f"{site}/wp-json/wc/v3/orders"}],
        },
    }


def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def make_product(
    *,
    id: int = 794,
    sku: str = "",
    name: str = "Premium Quality",
    type: str = "simple",
    status: str = "publish",
    regular_price: Decimal | str = Decimal("21.99"),
    sale_price: Decimal | str | None = None,
    manage_stock: bool = False,
    stock_quantity: int | None = None,
    stock_status: str | None = None,
    backorders: Literal["no", "notify", "yes"] = "no",
    variations: Sequence[int] = (),
    attributes: Sequence[Mapping[str, Any]] = (),
    parent_id: int = 0,
    meta_data: Iterable[Mapping[str, Any]] = (),
    description: str = "",
    short_description: str = "",
    created: datetime = _EXAMPLE_PRODUCT_CREATED,
    modified: datetime | None = None,
    utc_offset: timedelta = timedelta(0),
    base_url: str = "https://example.com",
    dp: int = 2,
) -> dict[str, Any]:
    """Build a wc/v3 product object (the `GET /products/<id>` body).

    Shaped like `woo_product_example.json`. `stock_quantity` is null unless stock is managed,
    and `stock_status` follows `stock_status_for`. A variation rendered through `/products`
    (e.g. found by `GET /products?sku=`) uses this shape too, with `type="variation"` and its
    `parent_id` (reference §3 and §6).

    Returns:
        A JSON-ready dict.

    Example:
        >>> make_product(id=11, sku="MUG", manage_stock=True, stock_quantity=0)["stock_status"]
        'outofstock'
    """
    regular = money(regular_price, dp) if regular_price != "" else ""
    sale = money(sale_price, dp) if sale_price not in (None, "") else ""
    price = sale or regular
    quantity = stock_quantity if manage_stock else None
    status_value = stock_status_for(
        manage_stock=manage_stock,
        stock_quantity=quantity,
        backorders=backorders,
        requested=stock_status,
    )
    slug = _slug(name) or str(id)
    site = base_url.rstrip("/")
    product: dict[str, Any] = {
        "id": id,
        "name": name,
        "slug": slug,
        "permalink": f"{site}/product/{slug}/",
        "date_created": wc_date(created, utc_offset),
        "date_created_gmt": wc_date(created),
        "date_modified": wc_date(modified or created, utc_offset),
        "date_modified_gmt": wc_date(modified or created),
        "type": type,
        "status": status,
        "featured": False,
        "catalog_visibility": "visible",
        "description": description,
        "short_description": short_description,
        "sku": sku,
        "price": price,
        "regular_price": regular,
        "sale_price": sale,
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "price_html": (
            '<span class="woocommerce-Price-amount amount"><span '
            f'class="woocommerce-Price-currencySymbol">&#36;</span>{price}</span>'
        ),
        "on_sale": bool(sale),
        "purchasable": bool(price),
        "total_sales": 0,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": "",
        "button_text": "",
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": manage_stock,
        "stock_quantity": quantity,
        "stock_status": status_value,
        "backorders": backorders,
        "backorders_allowed": backorders != "no",
        "backordered": bool(
            manage_stock and quantity is not None and quantity < 0 and backorders != "no"
        ),
        "sold_individually": False,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_required": True,
        "shipping_taxable": True,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": True,
        "average_rating": "0.00",
        "rating_count": 0,
        "related_ids": [],
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": parent_id,
        "purchase_note": "",
        "categories": [],
        "tags": [],
        "images": [],
        "attributes": [dict(a) for a in attributes],
        "default_attributes": [],
        "variations": list(variations),
        "grouped_products": [],
        "menu_order": 0,
        "meta_data": [dict(entry) for entry in meta_data],
        "_links": {
            "self": [{"href": f"{site}/wp-json/wc/v3/products/{id}"}],
            "collection": [{"href": f"{site}/wp-json/wc/v3/products"}],
        },
    }
    if parent_id:
        product["_links"]["up"] = [{"href": f"{site}/wp-json/wc/v3/products/{parent_id}"}]
    return product


def make_variation(
    *,
    id: int,
    parent_id: int,
    sku: str = "",
    regular_price: Decimal | str = Decimal("20.00"),
    sale_price: Decimal | str | None = None,
    manage_stock: bool | Literal["parent"] = False,
    stock_quantity: int | None = None,
    stock_status: str | None = None,
    backorders: Literal["no", "notify", "yes"] = "no",
    attributes: Sequence[tuple[str, str]] = (),
    status: str = "publish",
    meta_data: Iterable[Mapping[str, Any]] = (),
    description: str = "",
    created: datetime = _EXAMPLE_PRODUCT_CREATED,
    modified: datetime | None = None,
    utc_offset: timedelta = timedelta(0),
    base_url: str = "https://example.com",
    dp: int = 2,
) -> dict[str, Any]:
    """Build a wc/v3 variation object (the `GET /products/<parent>/variations/<id>` body).

    `manage_stock` may be `"parent"`: WooCommerce answers that when the variation does not
    manage stock itself but its parent does, and then shows the parent's quantity (§6); pass
    that quantity as `stock_quantity`. The reference gives no literal variation body; the field
    list follows the wc/v3 variations schema (D-variations) plus `type` and `parent_id`, which
    newer versions include.

    Returns:
        A JSON-ready dict.

    Example:
        >>> v = make_variation(
        ...     id=23, parent_id=22, sku="TEE-M", manage_stock="parent", stock_quantity=4
        ... )
        >>> v["manage_stock"], v["stock_quantity"]
        ('parent', 4)
    """
    regular = money(regular_price, dp) if regular_price != "" else ""
    sale = money(sale_price, dp) if sale_price not in (None, "") else ""
    price = sale or regular
    managed = manage_stock is True or manage_stock == "parent"
    quantity = stock_quantity if managed else None
    site = base_url.rstrip("/")
    return {
        "id": id,
        "type": "variation",
        "parent_id": parent_id,
        "date_created": wc_date(created, utc_offset),
        "date_created_gmt": wc_date(created),
        "date_modified": wc_date(modified or created, utc_offset),
        "date_modified_gmt": wc_date(modified or created),
        "description": description,
        "permalink": f"{site}/?p={parent_id}&variation_id={id}",
        "sku": sku,
        "price": price,
        "regular_price": regular,
        "sale_price": sale,
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "on_sale": bool(sale),
        "status": status,
        "purchasable": bool(price),
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": manage_stock,
        "stock_quantity": quantity,
        "stock_status": stock_status_for(
            manage_stock=managed,
            stock_quantity=quantity,
            backorders=backorders,
            requested=stock_status,
        ),
        "backorders": backorders,
        "backorders_allowed": backorders != "no",
        "backordered": bool(
            managed and quantity is not None and quantity < 0 and backorders != "no"
        ),
        "low_stock_amount": None,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_class": "",
        "shipping_class_id": 0,
        "image": None,
        "attributes": [{"id": 0, "name": name, "option": option} for name, option in attributes],
        "menu_order": 0,
        "meta_data": [dict(entry) for entry in meta_data],
        "_links": {
            "self": [{"href": f"{site}/wp-json/wc/v3/products/{parent_id}/variations/{id}"}],
            "collection": [{"href": f"{site}/wp-json/wc/v3/products/{parent_id}/variations"}],
            "up": [{"href": f"{site}/wp-json/wc/v3/products/{parent_id}"}],
        },
    }
