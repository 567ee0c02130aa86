"""The order mapper and import plan (pure core): a WooCommerce order in, a decision out.

Nothing here does I/O, reads a clock, draws random numbers or logs. The shell asks
`lookups(order)` what to gather (nothing for an order it will ignore; else the SKUs and the
by-email customer's external id), gathers it (the stored link or an existing sales order,
the NetSuite item ids, the customer), calls `plan_import` once, and carries out the plan it
returns:

```
AlreadyImported(sales_order_id)       the order is in NetSuite already: record the link, done
CreateSalesOrder(template, customer)  create exactly this sales order, for
    ExistingCustomer(id)                  a customer that exists, or
    CreateCustomer(draft)                 a customer created first (by-email strategy)
IgnoreOrder(rejection)                not an order nswoo imports (status, checkout draft)
DeadLetterOrder(rejection)            cannot be imported as it stands: dead-letter, with why
```

More pure decisions serve the shell around the plan: `booked_total_discrepancy` (does the
total NetSuite booked for a linked sales order match WooCommerce's?), `next_cursor` (how
far a poll may move its modified-date cursor), `RetryPolicy` (when an order failing for a
transient reason becomes a dead letter) and `dead_letter_due` (when a dead letter is tried
again on its own).

Identity is derived from the source record, never drawn at random: the key is
`(store, WooCommerce order id)`, the sales order's `externalId` is `woo-<store>-<order id>` and
its custom body field holds the order id as a string (DESIGN behaviour 4). Mapping the same
order twice gives equal drafts.

Money is `Decimal` throughout and is carried exactly as WooCommerce sent it; the only
arithmetic is the total check, done in a private decimal context so the caller's context
(precision, traps) cannot change an answer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Context, Decimal
from typing import Final, Literal

import attrs

from .._settings import OrdersConfig
from ..netsuite._records import (
    Address,
    CustomerDraft,
    ExternalId,
    SalesOrderDraft,
    SalesOrderLine,
)
from ..woocommerce._records import (
    WooAddress,
    WooLineItem,
    WooOrder,
    amount_problem,
    quantity_problem,
)

__all__ = [
    "DEAD_LETTER_BACKOFF",
    "TOLERANCE_PER_LINE_ITEM",
    "AlreadyImported",
    "CreateCustomer",
    "CreateSalesOrder",
    "DeadLetterOrder",
    "ExistingCustomer",
    "IgnoreOrder",
    "ImportPlan",
    "Lookups",
    "OrderKey",
    "Rejection",
    "RejectionKind",
    "RetryPolicy",
    "SalesOrderTemplate",
    "TotalDiscrepancy",
    "booked_total_discrepancy",
    "customer_draft",
    "customer_external_id",
    "dead_letter_due",
    "lookups",
    "map_order",
    "money_unit",
    "next_cursor",
    "order_key",
    "order_quantities",
    "plan_import",
    "sales_order_external_id",
    "screen_order",
    "skus_of",
    "total_tolerance",
]

# netsuite.md §3: external ids allow letters, digits, `_` and `-`; the store name is embedded
# in every external id nswoo derives, so it is held to the same rule.
_STORE: Final = re.compile(r"[A-Za-z0-9_-]+")

# The block checkout's pre-payment order (woocommerce.md §5): never an order to import,
# whatever `orders.statuses` says.
_CHECKOUT_DRAFT: Final = "checkout-draft"

# The total check's tolerance: one cent per product line item. WooCommerce rounds per line
# (tax per line, a coupon split over lines), so its stored totals may differ from the sum of
# its stored parts by at most that much; a larger gap means the mapping lost or invented money.
TOLERANCE_PER_LINE_ITEM: Final = Decimal("0.01")

# Exact arithmetic independent of the caller's decimal context: 60 digits is far beyond any
# order amount, so additions and the exactness test below never round.
_EXACT: Final = Context(prec=60)
_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)

# NetSuite sends amounts as JSON numbers; any it sends within 10^15 and 30 places compares
# exactly in `_EXACT`.
_BOOKED_PLACES: Final = 30

RejectionKind = Literal[
    "status_not_imported",
    "draft",
    "unknown_sku",
    "invalid_order",
    "unmapped_fee",
    "total_mismatch",
    "no_email",
]
"""Why an order was not mapped. The first two are *ignorable* (see `Rejection.ignorable`)."""

_IGNORABLE: Final[frozenset[RejectionKind]] = frozenset({"status_not_imported", "draft"})


# ---------------------------------------------------------------------------------------------
# Identity


def _check_store(store: str) -> str:
    if not isinstance(store, str) or not _STORE.fullmatch(store):
        raise ValueError(
            "store must be letters, digits, '_' and '-' (it is part of a NetSuite external id)"
        )
    return store


def _check_order_id(order_id: int) -> int:
    if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id <= 0:
        raise ValueError("order_id must be a positive integer (a WooCommerce order id)")
    return order_id


@attrs.frozen
class OrderKey:
    """The identity of an order across both systems: `(store, WooCommerce order id)`.

    Example:
        >>> key = order_key("main", 40001)
        >>> key.external_id.value, key.custom_field_value
        ('woo-main-40001', '40001')
    """

    store: str = attrs.field(validator=lambda _i, _a, value: _check_store(value))
    order_id: int = attrs.field(validator=lambda _i, _a, value: _check_order_id(value))

    @property
    def external_id(self) -> ExternalId:
        """The sales order's `externalId`: `woo-<store>-<order id>`."""
        # The order id is digits only, so the last `-` always separates store and id: no two
        # keys share an external id (up to case, which NetSuite ignores: netsuite.md §3).
        return ExternalId(f"woo-{self.store}-{self.order_id}")

    @property
    def custom_field_value(self) -> str:
        """The custom body field's value: the order id as a string (`"40001"`, DESIGN §4)."""
        return str(self.order_id)


def order_key(store: str, order_id: int) -> OrderKey:
    """The key of WooCommerce order `order_id` in `store`.

    Raises:
        ValueError: `store` has characters an external id cannot hold, or `order_id` is not
            a positive integer.
    """
    return OrderKey(store, order_id)


def sales_order_external_id(store: str, order_id: int) -> ExternalId:
    """The `externalId` of the sales order for order `order_id`: `woo-<store>-<order id>`.

    Raises:
        ValueError: as `order_key`.
    """
    return order_key(store, order_id).external_id


def _normal_email(email: str | None) -> str | None:
    normal = (email or "").strip().lower()
    # A deliberately loose check: one `@` with something on both sides. Deliverability is
    # not ours to judge; an address that is plainly not one must not key a customer.
    local, at, domain = normal.rpartition("@")
    return normal if at and local and domain and not any(c.isspace() for c in normal) else None


def customer_external_id(store: str, email: str) -> ExternalId:
    """The `externalId` of the customer for billing e-mail `email` (the `by-email` strategy).

    `woo-<store>-c-<first 32 hex digits of sha256(lower(strip(email)))>`. An e-mail holds
    characters an external id forbids (`@`, `.`, `+`: netsuite.md §3), so it is digested
    rather than escaped: the digest is stable, always valid, and keeps the address itself out
    of URLs (`eid:…`) and logs. Lower-casing first makes `John@X.com` and `john@x.com` one
    customer, as NetSuite would anyway (external ids are case-insensitive). 128 bits of digest
    make an accidental collision negligible.

    Raises:
        ValueError: `store` is invalid, or `email` is not an e-mail address.
    """
    _check_store(store)
    normal = _normal_email(email)
    if normal is None:
        raise ValueError("email is not an e-mail address")
    digest = hashlib.sha256(normal.encode("utf-8")).hexdigest()[:32]
    return ExternalId(f"woo-{store}-c-{digest}")


# ---------------------------------------------------------------------------------------------
# Decisions


@attrs.frozen
class Rejection:
    """Why an order is not mapped, with a reason a person can act on.

    Attributes:
        kind: the machine-readable cause (`RejectionKind`).
        order_id: the WooCommerce order id.
        reason: one sentence naming what is wrong (every missing SKU, both amounts, ...),
            without the order id, which every report shows beside it (`order_id`).
        skus: for `unknown_sku`, the SKUs with no NetSuite item, verbatim, in line order.
        expected: for `total_mismatch`, the WooCommerce amount the mapping had to reach.
        mapped: for `total_mismatch`, what the mapped lines added up to.
    """

    kind: RejectionKind
    order_id: int
    reason: str
    skus: tuple[str, ...] = ()
    expected: Decimal | None = None
    mapped: Decimal | None = None

    @property
    def ignorable(self) -> bool:
        """True when the order is simply not one to import (count it, never dead-letter it)."""
        return self.kind in _IGNORABLE


@attrs.frozen
class AlreadyImported:
    """A sales order for this order exists (internal id `sales_order_id`): create nothing."""

    sales_order_id: str


@attrs.frozen
class ExistingCustomer:
    """The sales order goes to this NetSuite customer (internal id), which exists."""

    customer_id: int


@attrs.frozen
class CreateCustomer:
    """Create this customer first (by-email strategy, none found by its external id); the
    sales order goes to it. Create it with find-on-duplicate: another order of the same
    e-mail may be creating it at the same moment."""

    draft: CustomerDraft


@attrs.frozen
class SalesOrderTemplate:
    """A mapped sales order, complete but for its customer (`entity`).

    The mapping never depends on the customer, so an order can be checked and planned before
    its by-email customer exists; `draft(customer_id)` is the sales order to send.
    """

    lines: tuple[SalesOrderLine, ...]
    external_id: ExternalId
    custom_fields: Mapping[str, str]
    location: int | None
    subsidiary: int | None
    memo: str
    other_ref_num: str
    shipping_cost: Decimal | None
    billing_address: Address | None
    shipping_address: Address | None
    tran_date: date

    def draft(self, customer_id: int) -> SalesOrderDraft:
        """The sales order for customer `customer_id` (a positive internal id)."""
        return SalesOrderDraft(
            entity=customer_id,
            lines=self.lines,
            external_id=self.external_id,
            custom_fields=self.custom_fields,
            location=self.location,
            subsidiary=self.subsidiary,
            memo=self.memo,
            other_ref_num=self.other_ref_num,
            shipping_cost=self.shipping_cost,
            billing_address=self.billing_address,
            shipping_address=self.shipping_address,
            tran_date=self.tran_date,
        )


@attrs.frozen
class CreateSalesOrder:
    """Create the sales order (its `external_id` and custom field carry the order key).

    Carried out in two steps when `customer` is `CreateCustomer`: create the customer, then
    `draft_for(<its id>)`. With `ExistingCustomer`, `draft` is the sales order to send.
    """

    template: SalesOrderTemplate
    customer: ExistingCustomer | CreateCustomer

    @property
    def draft(self) -> SalesOrderDraft:
        """The sales order to send, its customer known.

        Raises:
            ValueError: the customer is still to be created (use `draft_for`).
        """
        if not isinstance(self.customer, ExistingCustomer):
            raise ValueError("the customer is created first: use draft_for(<its id>)")
        return self.template.draft(self.customer.customer_id)

    def draft_for(self, customer_id: int) -> SalesOrderDraft:
        """The sales order to send to customer `customer_id`."""
        return self.template.draft(customer_id)


@attrs.frozen
class IgnoreOrder:
    """Not an order nswoo imports (`rejection.ignorable`): acknowledge and count as ignored."""

    rejection: Rejection


@attrs.frozen
class DeadLetterOrder:
    """The order cannot be imported as it stands: dead-letter it with `rejection.reason`."""

    rejection: Rejection


ImportPlan = AlreadyImported | CreateSalesOrder | IgnoreOrder | DeadLetterOrder
"""What to do with one WooCommerce order: a closed union; match on it exhaustively."""


# ---------------------------------------------------------------------------------------------
# SKUs


def _sku(line: WooLineItem) -> str | None:
    # `sku` is None when the product was deleted and "" when it has none (woocommerce.md §5):
    # neither can be matched to a NetSuite item.
    return line.sku or None


def skus_of(order: WooOrder) -> frozenset[str]:
    """The SKUs the shell must resolve to NetSuite item ids before calling `map_order`.

    Lines without a SKU (deleted product, or none set) are left out: no lookup can find them,
    and `map_order` rejects them.
    """
    return frozenset(sku for line in order.line_items if (sku := _sku(line)) is not None)


def order_quantities(order: WooOrder) -> Mapping[str, int]:
    """SKU → total quantity ordered (lines with the same SKU summed; lines without one left out).

    Keys are in order of first appearance, so equal orders give equal mappings.
    """
    quantities: dict[str, int] = {}
    for line in order.line_items:
        sku = _sku(line)
        if sku is not None:
            quantities[sku] = quantities.get(sku, 0) + line.quantity
    return quantities


# ---------------------------------------------------------------------------------------------
# Mapping


def _sum(values: Iterable[Decimal]) -> Decimal:
    total = _ZERO
    for value in values:
        total = _EXACT.add(total, value)
    return total


def money_unit(order: WooOrder) -> Decimal:
    """The smallest step of the order's money: 0.01 for a 2-decimal store, 1 for yen, 0.001
    for a 3-decimal currency.

    Read from the amounts themselves: WooCommerce writes every money field with the store's
    number of decimals (woocommerce.md §5), so the finest exponent among them is the store's.
    Falls back to `TOLERANCE_PER_LINE_ITEM` when no amount shows any (all zero and unpadded).
    """
    amounts = [
        order.total,
        order.total_tax,
        order.shipping_total,
        order.discount_total,
        *(line.total for line in order.line_items),
        *(line.subtotal for line in order.line_items),
        *(fee.total for fee in order.fee_lines),
        *(ship.total for ship in order.shipping_lines),
    ]
    exponents = [
        int(exponent) for value in amounts if isinstance(exponent := value.as_tuple().exponent, int)
    ]
    if not exponents:
        return TOLERANCE_PER_LINE_ITEM
    return Decimal(1).scaleb(min(*exponents, 0))


def total_tolerance(order: WooOrder) -> Decimal:
    """How far the mapped total may be from WooCommerce's: one money unit per product line.

    For a 2-decimal store an order with three line items is accepted when the mapped amounts
    are within 0.03 of the WooCommerce total (inclusive); a yen order within 3; an order
    with no line items must match exactly. See `money_unit`.
    """
    return _EXACT.multiply(money_unit(order), Decimal(len(order.line_items)))


def _exact_rate(amount: Decimal, quantity: int) -> Decimal | None:
    """`amount / quantity` when it is exact at the amount's own decimal places, else None.

    NetSuite computes a line's amount as rate * quantity. A rate sent only when it reproduces
    the amount exactly, at currency precision (6.00 / 2 → 3.00, 10.00 / 4 → 2.50, but not
    10.00 / 3 or 0.10 / 4), can never move the amount; otherwise the amount is sent alone.
    """
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN or infinity: never a WooCommerce amount
        return None
    quantum = _ONE.scaleb(min(exponent, 0), _EXACT)
    rate = _EXACT.divide(amount, Decimal(quantity)).quantize(quantum, context=_EXACT)
    return rate if _EXACT.multiply(rate, Decimal(quantity)) == amount else None


def _line(
    item: int, quantity: int, amount: Decimal, description: str | None = None
) -> SalesOrderLine:
    return SalesOrderLine(
        item=item,
        quantity=Decimal(quantity),
        rate=_exact_rate(amount, quantity),
        amount=amount,
        description=description or None,
    )


def _address(address: WooAddress) -> Address | None:
    name = f"{address.first_name.strip()} {address.last_name.strip()}".strip()
    mapped = Address(
        addr1=address.address_1.strip() or None,
        addr2=address.address_2.strip() or None,
        city=address.city.strip() or None,
        state=address.state.strip() or None,
        zip=address.postcode.strip() or None,
        country=address.country.strip() or None,
        # NetSuite's addressee is the first line of the label: the company when there is
        # one (B2B deliveries go to the company), else the person.
        addressee=address.company.strip() or name or None,
        phone=(address.phone or "").strip() or None,
    )
    # An all-empty address is omitted, so NetSuite keeps the customer's default.
    return None if mapped == Address() else mapped


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(repr(value) for value in values)


def screen_order(order: WooOrder, config: OrdersConfig) -> Rejection | None:
    """The ignorable rejection for an order nswoo does not import (draft, status), or None.

    Checked first by `map_order`, so an ignored order is never dead-lettered; the shell calls
    it before looking anything up, so an ignored order costs no SKU or customer look-up.
    """
    if order.status == _CHECKOUT_DRAFT:
        return Rejection(
            kind="draft",
            order_id=order.id,
            reason=(
                "a block-checkout draft (status 'checkout-draft'): "
                "not an order until the customer pays"
            ),
        )
    if order.status not in config.statuses:
        return Rejection(
            kind="status_not_imported",
            order_id=order.id,
            reason=(
                f"status {order.status!r} is not imported "
                f"(orders.statuses: {', '.join(config.statuses) or 'none'})"
            ),
        )
    return None


def _resolve_lines(
    order: WooOrder, config: OrdersConfig, items: Mapping[str, int]
) -> list[tuple[WooLineItem, int]] | Rejection:
    """Each line item with its NetSuite item id, or the rejection naming every problem line."""
    bad = [line for line in order.line_items if line.quantity <= 0]
    if bad:
        # WooCommerce removes a line whose quantity is set to 0 (woocommerce.md §5), so such a
        # line is damaged data: guessing a quantity would book the wrong goods.
        return Rejection(
            kind="invalid_order",
            order_id=order.id,
            reason=(
                "line items with a quantity below 1: "
                + "; ".join(f"line {line.id} {line.name!r} ({line.quantity})" for line in bad)
            ),
        )
    resolved: list[tuple[WooLineItem, int]] = []
    unknown: list[str] = []
    no_sku: list[str] = []
    for line in order.line_items:
        sku = _sku(line)
        if sku is None:
            cause = "product deleted" if line.sku is None else "product has no SKU"
            no_sku.append(f"line {line.id} {line.name!r} ({cause})")
        elif sku in items:
            resolved.append((line, items[sku]))
        elif sku not in unknown:
            unknown.append(sku)
    if not unknown and not no_sku:
        return resolved
    parts = []
    if unknown:
        parts.append(f"no NetSuite item whose {config.item_match} matches SKU {_quoted(unknown)}")
    if no_sku:
        parts.append("no SKU on " + "; ".join(no_sku))
    return Rejection(
        kind="unknown_sku",
        order_id=order.id,
        reason="; and ".join(parts),
        skus=tuple(unknown),
    )


def map_order(
    order: WooOrder,
    *,
    config: OrdersConfig,
    items: Mapping[str, int],
    customer_id: int,
) -> SalesOrderDraft | Rejection:
    """Map a WooCommerce order to the NetSuite sales order that books it, or say why not.

    Lines (amounts exactly as WooCommerce sent them; each line gets `amount`, and `rate`
    only when amount / quantity is exact at currency precision, see `_exact_rate`):

    - one per line item: its NetSuite item from `items[sku]` and its quantity; the amount is
      the line `total` (after discounts), or with `discount_item` set its `subtotal` (before
      discounts) plus one discount line of `-discount_total`. Line `price` is never used:
      WooCommerce sends it as a JSON number derived from `total` (woocommerce.md §5).
    - shipping: with `shipping_item`, a line of `shipping_total` (when non-zero); without it,
      the draft's `shipping_cost` is `shipping_total` (DESIGN behaviour 4).
    - fees: with `fee_item`, one line per non-zero fee (`fee_lines[].total`).
    - tax: with `tax_item`, a line of `total_tax` (when non-zero); without it NetSuite
      computes tax and the total check leaves tax out.
    - order-level lines (discount, shipping, fee, tax) have quantity 1.

    Refunds are not subtracted: a WooCommerce refund is a separate record listed in
    `refunds[]` with a negative total (woocommerce.md §5), and the order's own `total` keeps
    the amount charged (WooCommerce computes what is left to refund as `get_total()` minus
    `get_total_refunded()`). The sales order books the sale; a refund is a credit memo's job.

    The total check: Σ line amounts + `shipping_cost` must equal `total` (or `total -
    total_tax` when tax is not mapped) within `total_tolerance(order)`; otherwise the result
    is a `total_mismatch` rejection, never a draft.

    Args:
        order: the WooCommerce order.
        config: the `[orders]` settings.
        items: SKU → NetSuite item internal id, for the SKUs of `skus_of(order)` that the
            shell found by the `item_match` column; a SKU missing here is unknown.
        customer_id: the NetSuite customer (entity) internal id: `config.customer.id` for
            the `single` strategy, the looked-up or created customer for `by-email`.

    Returns:
        The draft, or a `Rejection` (checked in this order: checkout draft, status, order id,
        amounts and quantities out of range (see `nswoo.woocommerce._records`), line
        quantities below 1, unknown SKUs, unmapped fees, total). Order data never makes
        this raise.

    Raises:
        ValueError: `customer_id` or an item id in `items` is not a positive integer, or
            `config.store` is invalid (caller errors, not order data). An ignorable order is
            rejected before those are checked: it needs no customer or items.
    """
    _check_store(config.store)
    screened = screen_order(order, config)
    if screened is not None:
        return screened
    _check_ids(customer_id, items)
    template = _template(order, config=config, items=items)
    return template if isinstance(template, Rejection) else template.draft(customer_id)


def _template(
    order: WooOrder, *, config: OrdersConfig, items: Mapping[str, int]
) -> SalesOrderTemplate | Rejection:
    """`map_order` but for the customer, for an order that passed `screen_order`."""
    if order.id <= 0:
        return Rejection(
            kind="invalid_order",
            order_id=order.id,
            reason=f"order id {order.id} is not a WooCommerce order id (a positive integer)",
        )
    out_of_range = _out_of_range(order)
    if out_of_range:
        # The converter refuses these at the boundary; an order built another way must get
        # the same answer here rather than overflow the arithmetic below.
        return Rejection(
            kind="invalid_order",
            order_id=order.id,
            reason="numbers out of range: " + "; ".join(out_of_range),
        )
    key = order_key(config.store, order.id)
    resolved = _resolve_lines(order, config, items)
    if isinstance(resolved, Rejection):
        return resolved

    fees = [fee for fee in order.fee_lines if fee.total != 0]
    if fees and config.fee_item is None:
        return Rejection(
            kind="unmapped_fee",
            order_id=order.id,
            reason=(
                "fees ("
                + ", ".join(f"{fee.name!r} {fee.total}" for fee in fees)
                + ") but orders.fee_item is not set: set it to the NetSuite item fees go on"
            ),
        )

    lines: list[SalesOrderLine] = []
    discount_mode = config.discount_item is not None
    for line, item in resolved:
        amount = line.subtotal if discount_mode else line.total
        lines.append(_line(item, line.quantity, amount))
    if config.discount_item is not None and order.discount_total != 0:
        codes = ", ".join(coupon.code for coupon in order.coupon_lines)
        lines.append(
            _line(
                config.discount_item,
                1,
                _EXACT.minus(order.discount_total),
                f"Coupons: {codes}" if codes else "Discount",
            )
        )
    shipping_cost: Decimal | None = None
    if config.shipping_item is None:
        shipping_cost = order.shipping_total
    elif order.shipping_total != 0:
        titles = ", ".join(s.method_title for s in order.shipping_lines if s.method_title)
        lines.append(_line(config.shipping_item, 1, order.shipping_total, titles or "Shipping"))
    if config.fee_item is not None:
        lines.extend(_line(config.fee_item, 1, fee.total, fee.name or "Fee") for fee in fees)
    tax_mapped = config.tax_item is not None
    if config.tax_item is not None and order.total_tax != 0:
        labels = ", ".join(dict.fromkeys(t.label for t in order.tax_lines if t.label))
        lines.append(_line(config.tax_item, 1, order.total_tax, labels or "Tax"))

    mapped = _sum([line.amount or _ZERO for line in lines] + [shipping_cost or _ZERO])
    expected = order.total if tax_mapped else _EXACT.subtract(order.total, order.total_tax)
    tolerance = total_tolerance(order)
    difference = _EXACT.subtract(mapped, expected)
    if _EXACT.abs(difference) > tolerance:
        what = "WooCommerce total" if tax_mapped else "WooCommerce total excluding tax"
        return Rejection(
            kind="total_mismatch",
            order_id=order.id,
            reason=(
                f"mapped lines add up to {mapped} but the {what} is "
                f"{expected}; the difference {difference} is beyond the "
                f"tolerance of {tolerance}"
            ),
            expected=expected,
            mapped=mapped,
        )

    return SalesOrderTemplate(
        lines=tuple(lines),
        external_id=key.external_id,
        custom_fields={config.custom_field: key.custom_field_value},
        location=config.location,
        subsidiary=config.subsidiary,
        memo=f"WooCommerce order {order.number}",
        other_ref_num=order.number,
        shipping_cost=shipping_cost,
        billing_address=_address(order.billing),
        shipping_address=_address(order.shipping),
        # The order's creation date in UTC (the `_gmt` field): data, not a clock read.
        tran_date=order.date_created_gmt.date(),
    )


def _out_of_range(order: WooOrder) -> list[str]:
    """A problem per amount or quantity the mapping reads that is outside the bounds of
    `nswoo.woocommerce._records` (what the converter enforces), named by its field."""
    amounts: list[tuple[str, Decimal]] = [
        ("total", order.total),
        ("total_tax", order.total_tax),
        ("shipping_total", order.shipping_total),
        ("discount_total", order.discount_total),
    ]
    problems: list[str] = []
    for index, line in enumerate(order.line_items):
        amounts += [(f"line_items[{index}].total", line.total)]
        amounts += [(f"line_items[{index}].subtotal", line.subtotal)]
        if (problem := quantity_problem(line.quantity)) is not None:
            problems.append(f"line_items[{index}].quantity: {problem}")
    amounts += [(f"fee_lines[{i}].total", fee.total) for i, fee in enumerate(order.fee_lines)]
    amounts += [
        (f"shipping_lines[{i}].total", ship.total) for i, ship in enumerate(order.shipping_lines)
    ]
    problems += [
        f"{name}: {problem}"
        for name, value in amounts
        if (problem := amount_problem(value)) is not None
    ]
    return problems


def _positive(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_ids(customer_id: int | None, items: Mapping[str, int]) -> None:
    """Refuse ids that are not positive integers (`customer_id` None: none to check yet)."""
    if customer_id is not None and not _positive(customer_id):
        raise ValueError("customer_id must be a positive NetSuite internal id")
    if not all(_positive(value) for value in items.values()):
        raise ValueError("items must map SKUs to positive NetSuite internal ids")


# ---------------------------------------------------------------------------------------------
# What NetSuite booked


@attrs.frozen
class TotalDiscrepancy:
    """NetSuite booked a linked sales order at a total that WooCommerce did not charge.

    Both amounts are on the basis of the order's total check (`map_order`): with
    `tax_item` set, totals including tax; without it (NetSuite computes tax), totals
    excluding tax on both sides.

    Attributes:
        order_id: the WooCommerce order id.
        sales_order_id: the NetSuite sales order, which exists and stays linked.
        expected: what WooCommerce charged (excluding tax when NetSuite computes it).
        booked: what NetSuite stored (its `total`, less the tax it computed when it did).
        tolerance: `total_tolerance(order)`, the rounding the check allows.
        tax_excluded: True when both amounts exclude tax.
    """

    order_id: int
    sales_order_id: str
    expected: Decimal
    booked: Decimal
    tolerance: Decimal
    tax_excluded: bool = False

    @property
    def difference(self) -> Decimal:
        """`booked - expected` (positive: NetSuite booked more than the customer paid)."""
        return _EXACT.subtract(self.booked, self.expected)

    @property
    def reason(self) -> str:
        """One sentence with both amounts, for the dead letter and the report."""
        basis = " excluding tax" if self.tax_excluded else ""
        return (
            f"sales order {self.sales_order_id} was booked in NetSuite "
            f"at {self.booked}{basis} but the WooCommerce total{basis} is {self.expected}; "
            f"the difference {self.difference} is beyond the tolerance of {self.tolerance}. "
            "The sales order stays linked (a second one is never created): correct it in "
            "NetSuite, then orders replay checks it again"
        )


def booked_total_discrepancy(
    order: WooOrder,
    *,
    config: OrdersConfig,
    sales_order_id: str,
    booked_total: Decimal,
    booked_tax: Decimal = _ZERO,
) -> TotalDiscrepancy | None:
    """Compare the total NetSuite stored for the order's sales order with WooCommerce's.

    The mapping sends WooCommerce's amounts exactly, and `map_order` has checked that they
    add up to the order total; NetSuite may still store something else: it rounds every
    amount to its currency's precision (0 or 2 decimal places, so a 3-decimal currency
    loses its last digit on each line), and its own defaults (handling costs, body
    discounts) can add to the total. The difference is allowed the same tolerance as the
    total check, `total_tolerance(order)`.

    Args:
        order: the WooCommerce order.
        config: the `[orders]` settings (`tax_item` decides whether tax is compared).
        sales_order_id: the linked sales order's internal id.
        booked_total: the sales order's `total` as NetSuite returned it.
        booked_tax: the tax NetSuite computed into that total (its `taxTotal`, plus
            `tax2Total` where there is one); ignored when `tax_item` is set, because tax is
            then one of nswoo's own lines.

    Returns:
        None when NetSuite's total is within tolerance, else the discrepancy with both
        amounts.

    Raises:
        ValueError: `booked_total` or `booked_tax` is not finite or beyond 10^15 (the shell
            checks what NetSuite sent first).
    """
    for value in (booked_total, booked_tax):
        problem = amount_problem(value, places=_BOOKED_PLACES)
        if problem is not None:
            raise ValueError(f"not a NetSuite amount nswoo can compare: {problem}")
    tax_mapped = config.tax_item is not None
    expected = order.total if tax_mapped else _EXACT.subtract(order.total, order.total_tax)
    booked = booked_total if tax_mapped else _EXACT.subtract(booked_total, booked_tax)
    tolerance = total_tolerance(order)
    if _EXACT.abs(_EXACT.subtract(booked, expected)) <= tolerance:
        return None
    return TotalDiscrepancy(
        order_id=order.id,
        sales_order_id=sales_order_id,
        expected=expected,
        booked=booked,
        tolerance=tolerance,
        tax_excluded=not tax_mapped,
    )


# ---------------------------------------------------------------------------------------------
# The polling cursor


def next_cursor(
    *,
    previous: datetime | None,
    handled: Iterable[datetime],
    held: Iterable[datetime] = (),
    poll_started: datetime,
    skew: timedelta,
) -> datetime | None:
    """Where a poll's modified-date cursor goes after a run; None to leave it as it is.

    The rule, in order:

    1. it moves to the newest modification date among the orders the run handled;
    2. never past the oldest order another worker still holds (`held`): the next poll,
       which starts at the cursor less its overlap, must see that order again;
    3. never backwards;
    4. never past `poll_started - skew`. A modification date in the future (a store whose
       clock is wrong, a damaged or hostile order) would otherwise carry the cursor past
       every order modified before that date, and later polls would never see them. `skew`
       is the margin for the two systems' clocks disagreeing. A stored cursor already past
       this ceiling is brought back to it.

    Args:
        previous: the stored cursor, or None.
        handled: `date_modified_gmt` of every order the run finished (imported, linked,
            ignored or dead-lettered).
        held: `date_modified_gmt` of the orders left to another worker (`deferred`).
        poll_started: when the poll began, on this host's clock (aware).
        skew: how far this host's and WooCommerce's clocks may disagree.

    Returns:
        The cursor to store, or None when it stays where it is.

    Example:
        >>> from datetime import UTC
        >>> start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
        >>> future = datetime(2027, 1, 1, tzinfo=UTC)
        >>> next_cursor(previous=None, handled=[future], poll_started=start,
        ...             skew=timedelta(minutes=5)).isoformat()
        '2026-11-27T11:55:00+00:00'
    """
    candidate = max(handled, default=None)
    oldest_held = min(held, default=None)
    if oldest_held is not None:
        candidate = oldest_held if candidate is None else min(candidate, oldest_held)
    if candidate is None:
        new = previous
    else:
        new = candidate if previous is None else max(previous, candidate)
    if new is None:
        return None
    new = min(new, poll_started - skew)
    return None if new == previous else new


def customer_draft(order: WooOrder, *, config: OrdersConfig) -> CustomerDraft | Rejection:
    """The NetSuite customer to upsert for `order` under the `by-email` strategy.

    Keyed by `customer_external_id(config.store, billing email)`, so upserting it (PUT on
    `eid:`) twice gives one customer. A billing address with a company makes a company
    customer (`company_name`), otherwise a person (first and last name).

    Returns:
        The draft, or a `no_email` rejection when the billing e-mail is missing or is not an
        e-mail address.

    Raises:
        ValueError: `config.customer.strategy` is not `by-email`, or `config.store` is invalid.
    """
    if config.customer.strategy != "by-email":
        raise ValueError("customer_draft is for the by-email customer strategy")
    _check_store(config.store)
    billing = order.billing
    email = _normal_email(billing.email)
    if email is None:
        shown = "no billing e-mail" if not (billing.email or "").strip() else "an invalid e-mail"
        return Rejection(
            kind="no_email",
            order_id=order.id,
            reason=(
                f"{shown}, and the by-email customer strategy needs one "
                f"(billing email: {billing.email!r})"
            ),
        )
    company = billing.company.strip()
    return CustomerDraft(
        email=(billing.email or "").strip(),
        external_id=customer_external_id(config.store, email),
        first_name=billing.first_name.strip() or None,
        last_name=billing.last_name.strip() or None,
        company_name=company or None,
        is_person=not company,
        subsidiary=config.subsidiary,
    )


@attrs.frozen
class Lookups:
    """What the shell must look up before `plan_import` can decide about one order.

    Attributes:
        key: the order's identity (its sales order's external id and custom field value).
        ignore: the rejection of an order nswoo does not import (status, checkout draft):
            look nothing up in NetSuite, the plan will ignore it.
        skus: the SKUs to resolve to NetSuite item ids (empty when ignored).
        customer_external_id: the by-email customer to look for by external id, or None
            (single strategy, ignored order, or no usable e-mail: the plan says why).
    """

    key: OrderKey
    ignore: Rejection | None
    skus: frozenset[str]
    customer_external_id: ExternalId | None


def lookups(order: WooOrder, *, config: OrdersConfig) -> Lookups:
    """What to gather for `plan_import`: nothing for an order it will ignore.

    Raises:
        ValueError: `config.store` is invalid or `order.id` is not positive.
    """
    key = order_key(config.store, order.id)
    ignore = screen_order(order, config)
    if ignore is not None:
        return Lookups(key=key, ignore=ignore, skus=frozenset(), customer_external_id=None)
    customer: ExternalId | None = None
    if config.customer.strategy == "by-email":
        draft = customer_draft(order, config=config)
        customer = draft.external_id if isinstance(draft, CustomerDraft) else None
    return Lookups(key=key, ignore=None, skus=skus_of(order), customer_external_id=customer)


def plan_import(
    order: WooOrder,
    *,
    config: OrdersConfig,
    items: Mapping[str, int],
    existing_sales_order_id: str | None,
    customer_id: int | None = None,
) -> ImportPlan:
    """Decide what to do with one WooCommerce order, from everything the shell gathered.

    Args:
        order: the WooCommerce order.
        config: the `[orders]` settings.
        items: SKU → NetSuite item internal id, for the SKUs of `lookups(order).skus` the
            shell found (see `map_order`).
        existing_sales_order_id: the internal id of the sales order already carrying this
            order's key (from the stored link, or found in NetSuite by external id or custom
            field), or None when there is none.
        customer_id: the customer the sales order goes to. Single strategy: None means
            `config.customer.id`. By-email strategy: the customer found by
            `lookups(order).customer_external_id`, or None when there is none (the plan
            then creates it).

    Returns:
        `AlreadyImported` whenever a sales order exists, whatever the mapping would say now
        (the order is in NetSuite; creating another would duplicate it); otherwise
        `CreateSalesOrder` (with `ExistingCustomer` or `CreateCustomer`), `IgnoreOrder` for
        an ignorable rejection, or `DeadLetterOrder`.

    Raises:
        ValueError: as `map_order` (caller errors only), or the single strategy without a
            customer id.
    """
    if existing_sales_order_id is not None:
        return AlreadyImported(existing_sales_order_id)
    _check_store(config.store)
    screened = screen_order(order, config)
    if screened is not None:
        return IgnoreOrder(screened)
    customer: ExistingCustomer | CreateCustomer
    if config.customer.strategy == "by-email":
        draft = customer_draft(order, config=config)
        if isinstance(draft, Rejection):
            return DeadLetterOrder(draft)
        customer = CreateCustomer(draft) if customer_id is None else ExistingCustomer(customer_id)
    else:
        single = customer_id if customer_id is not None else config.customer.id
        if single is None:
            raise ValueError("the single customer strategy needs orders.customer.id")
        customer = ExistingCustomer(single)
    _check_ids(customer.customer_id if isinstance(customer, ExistingCustomer) else None, items)
    template = _template(order, config=config, items=items)
    if isinstance(template, Rejection):
        return IgnoreOrder(template) if template.ignorable else DeadLetterOrder(template)
    return CreateSalesOrder(template, customer)


# ---------------------------------------------------------------------------------------------
# Retries: transient failures and dead letters

DEAD_LETTER_BACKOFF: Final[tuple[timedelta, ...]] = (
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
    timedelta(days=1),
)
"""How long after its last failure a dead letter is tried again, by its attempt count: the
first retry 5 minutes after it was dead-lettered, then 30 minutes, 2 hours, 12 hours, and
daily from then on (DESIGN behaviour 4)."""


@attrs.frozen
class RetryPolicy:
    """When an order that keeps failing for a transient reason becomes a dead letter.

    A transient failure (a system unreachable, 5xx, rate-limited past the retry budget, a
    write whose outcome is unknown) is not the order's fault: it is kept and tried again
    by the next sync or inbox pass. It is dead-lettered only once it failed at least
    `attempts` times AND over at least `window` since its first failure, so a long outage
    (a day, a weekend) never turns waiting orders into dead letters on its own.

    Attributes:
        attempts: failures needed (≥ 1).
        window: time since the first failure needed.
    """

    attempts: int = 10
    window: timedelta = timedelta(days=3)

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1 or self.window < timedelta(0):
            raise ValueError("a retry policy needs attempts >= 1 and a window >= 0")

    def gives_up(self, *, attempts: int, first_failed: datetime, now: datetime) -> bool:
        """True when an order with `attempts` transient failures since `first_failed` is
        dead-lettered now."""
        return attempts >= self.attempts and now - first_failed >= self.window


def dead_letter_due(*, attempts: int, last_seen: datetime, now: datetime) -> bool:
    """True when a dead letter with `attempts` failures, the last at `last_seen`, is due for
    its automatic retry (`DEAD_LETTER_BACKOFF`).

    Example:
        >>> from datetime import UTC
        >>> last = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        >>> dead_letter_due(attempts=1, last_seen=last, now=last + timedelta(minutes=4))
        False
        >>> dead_letter_due(attempts=1, last_seen=last, now=last + timedelta(minutes=5))
        True
    """
    step = DEAD_LETTER_BACKOFF[min(max(attempts, 1), len(DEAD_LETTER_BACKOFF)) - 1]
    return now >= last_seen + step
