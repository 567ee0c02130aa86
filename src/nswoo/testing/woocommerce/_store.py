"""The WooCommerce simulator's state: products, variations, orders and stock.

No HTTP here: `WooStore` keeps the catalog and orders, applies wc/v3 write semantics and the
stock reduction/restoration rules, and renders resources through the payload factories. The
HTTP layer (`_sim.py`) validates requests and turns `RestError` into WooCommerce's error
body. Facts cite `reference/woocommerce.md` by section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import attrs

from .._factories import OrderLine, make_order, make_product, make_variation, stock_status_for

__all__ = ["BILLING_KEYS", "SHIPPING_KEYS", "RestError", "StockWrite", "WooStore", "full_address"]

# §7: the statuses whose hooks reduce stock, and those that restore it.
_REDUCING = frozenset({"processing", "on-hold", "completed"})
_RESTORING = frozenset({"cancelled", "pending"})
# §8: deliveries are skipped for orders in these statuses; `checkout-draft` is not among them.
_WEBHOOK_SKIPPED = frozenset({"draft", "auto-draft", "new"})
# `woocommerce_new_order` is suppressed for draft statuses and fired when the order leaves
# draft (PR #47422, issue #37958, §8).
_NO_CREATED_EVENT = frozenset({"checkout-draft", "draft", "auto-draft", "new"})
ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "trash",
    "auto-draft",
    "draft",
    "new",
)


# §5 and reference/woo_order_example.json: the keys an order's addresses always carry (empty
# strings when unset). `shipping.phone` exists only in newer versions (Unconfirmed 9) and is
# kept when a request sets it.
BILLING_KEYS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
)
SHIPPING_KEYS = BILLING_KEYS[:9]
_OPTIONAL_SHIPPING_KEYS = ("phone",)


def full_address(kind: str, *parts: Mapping[str, Any] | None) -> dict[str, str]:
    """An order address with every key `kind` (`billing` or `shipping`) carries.

    Later `parts` override earlier ones; keys WooCommerce has no setter for are dropped, as
    its `set_address` does, and values are stored as text (`None` as empty).
    """
    keys = BILLING_KEYS if kind == "billing" else SHIPPING_KEYS
    allowed = set(keys) | (set(_OPTIONAL_SHIPPING_KEYS) if kind == "shipping" else set())
    out = dict.fromkeys(keys, "")
    for part in parts:
        for key, value in (part or {}).items():
            if key in allowed:
                out[key] = "" if value is None else str(value)
    return out


class RestError(Exception):
    """A WooCommerce REST error: `{"code", "message", "data": {"status", ...}}` (§2)."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data

    def body(self) -> dict[str, Any]:
        """The JSON error body, keys in WordPress's order."""
        return {
            "code": self.code,
            "message": self.message,
            "data": {"status": self.status, **self.data},
        }


def invalid_id(post_type: str, status: int) -> RestError:
    """`woocommerce_rest_<post_type>_invalid_id`: 404 on GET/DELETE, 400 on PUT (§2)."""
    return RestError(status, f"woocommerce_rest_{post_type}_invalid_id", "Invalid ID.")


def variation_through_products() -> RestError:
    """A variation edited through `/products/<id>` (§2, literal message with HTML entities)."""
    return RestError(
        404,
        "woocommerce_rest_invalid_product_id",
        "To manipulate product variations you should use the "
        "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
    )


@attrs.frozen(kw_only=True)
class StockWrite:
    """One stock write the simulator received over REST: which item, which fields, how."""

    endpoint: str
    id: int
    sku: str
    fields: Mapping[str, Any]
    at: datetime


@attrs.define(kw_only=True)
class _Item:
    """A product or a variation. `manage_stock` is the item's own flag (§6)."""

    id: int
    parent_id: int = 0
    type: str = "simple"
    sku: str = ""
    name: str = ""
    status: str = "publish"
    regular_price: Decimal = Decimal(0)
    sale_price: Decimal | None = None
    manage_stock: bool = False
    stock_quantity: int | None = None
    stock_status: str = "instock"
    backorders: str = "no"
    attributes: list[tuple[str, str]] = attrs.field(factory=list)
    children: list[int] = attrs.field(factory=list)
    meta_data: list[dict[str, Any]] = attrs.field(factory=list)
    description: str = ""
    created: datetime
    modified: datetime

    @property
    def post_type(self) -> str:
        return "product_variation" if self.type == "variation" else "product"

    @property
    def price(self) -> Decimal:
        return self.sale_price if self.sale_price is not None else self.regular_price


@attrs.define(kw_only=True)
class _Order:
    id: int
    status: str
    lines: list[OrderLine]
    shipping_total: Decimal = Decimal(0)
    shipping_method: tuple[str, str] = ("flat_rate", "Flat Rate")
    fees: list[tuple[str, Decimal]] = attrs.field(factory=list)
    coupons: list[tuple[str, Decimal]] = attrs.field(factory=list)
    tax_rate: Decimal = Decimal(0)
    tax_shipping: bool = True
    currency: str = "USD"
    customer_id: int = 0
    billing: dict[str, str] | None = None
    shipping: dict[str, str] | None = None
    payment_method: str = "bacs"
    payment_method_title: str = "Direct Bank Transfer"
    customer_note: str = ""
    meta_data: list[dict[str, Any]] = attrs.field(factory=list)
    created_via: str = "rest-api"
    created: datetime
    modified: datetime
    paid: datetime | None = None
    completed: datetime | None = None
    aux_ids: list[int] = attrs.field(factory=list)
    # §7: the order-level "stock reduced" flag and each line's `_reduced_stock` quantity.
    stock_reduced: bool = False
    reduced: dict[int, int] = attrs.field(factory=dict)


Emit = Callable[[str, int, str], None]


def _decimal(value: object, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise RestError(
            400,
            "rest_invalid_param",
            f"Invalid parameter(s): {name}",
            params={name: f"{name} is not of type string."},
        ) from exc


def _int_field(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RestError(
            400,
            "rest_invalid_param",
            f"Invalid parameter(s): {name}",
            params={name: f"{name} is not of type integer."},
        )
    try:
        return int(value)
    except ValueError as exc:
        raise RestError(
            400,
            "rest_invalid_param",
            f"Invalid parameter(s): {name}",
            params={name: f"{name} is not of type integer."},
        ) from exc


def _bool_field(value: object) -> bool:
    if isinstance(value, str):
        return value.lower() in {"1", "true", "yes"}
    return bool(value)


@attrs.define(kw_only=True)
class WooStore:
    """Products, variations and orders of one simulated store, with wc/v3 write semantics.

    Ids come from one sequence shared by products, variations and orders, as WordPress posts
    share `wp_posts` ids (HPOS keeps that with placeholder posts, §10). `emit(resource, id,
    event)` is called for every webhook-worthy change.
    """

    base_url: str
    now: Callable[[], datetime]
    emit: Emit
    utc_offset: timedelta = timedelta(0)
    dp: int = 2
    wc_version: str = "9.3.3"
    tax_rate: Decimal = Decimal(0)
    tax_shipping: bool = True
    # §6/§7: the store option `woocommerce_manage_stock`. When off, REST ignores stock fields
    # and orders never reduce stock.
    manage_stock_option: bool = True
    first_id: int = 100
    items: dict[int, _Item] = attrs.field(factory=dict)
    orders: dict[int, _Order] = attrs.field(factory=dict)
    stock_writes: list[StockWrite] = attrs.field(factory=list)
    _next_id: int = attrs.field(init=False, default=0)
    _next_item_id: int = attrs.field(init=False, default=0)
    # SKU -> item id, so a SKU lookup costs the same at 100,000 items as at 10 (issue 12).
    # Entries may go stale when an item is deleted from `items`; `sku_owner` checks.
    _by_sku: dict[str, int] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        self._next_id = self.first_id
        self._next_item_id = self.first_id * 10

    def allocate_id(self) -> int:
        """The next post id."""
        self._next_id += 1
        return self._next_id

    def allocate_item_id(self) -> int:
        """The next order item id (order items have their own table and sequence)."""
        self._next_item_id += 1
        return self._next_item_id

    # -----------------------------------------------------------------------------------------
    # Catalog

    def sku_owner(self, sku: str) -> _Item | None:
        """The product or variation with this SKU (SKUs are unique across both, §6)."""
        if not sku:
            return None
        item = self.items.get(self._by_sku.get(sku, 0))
        return item if item is not None and item.sku == sku else None

    def _index_sku(self, item: _Item, old_sku: str = "") -> None:
        if old_sku and self._by_sku.get(old_sku) == item.id:
            del self._by_sku[old_sku]
        if item.sku:
            self._by_sku[item.sku] = item.id

    def _check_sku(self, sku: str, item_id: int) -> None:
        owner = self.sku_owner(sku)
        if owner is not None and owner.id != item_id:
            # §2: `product_invalid_sku` with the id holding the SKU and a suggested alternative.
            raise RestError(
                400,
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
                resource_id=owner.id,
                unique_sku=f"{sku}-1",
            )

    def add_item(
        self,
        *,
        sku: str,
        price: Decimal,
        type: str = "simple",
        parent_id: int = 0,
        name: str = "",
        manage_stock: bool = False,
        stock_quantity: int | None = None,
        stock_status: str | None = None,
        backorders: str = "no",
        attributes: Sequence[tuple[str, str]] = (),
    ) -> _Item:
        """Create a product or variation and return it (emits `product.created`)."""
        self._check_sku(sku, 0)
        now = self.now()
        if type in {"grouped", "external"}:
            # §6: grouped and external products are forced to manage_stock=no.
            manage_stock = False
        item = _Item(
            id=self.allocate_id(),
            parent_id=parent_id,
            type=type,
            sku=sku,
            name=name or sku or "Product",
            regular_price=price,
            manage_stock=manage_stock,
            stock_quantity=(stock_quantity or 0) if manage_stock else None,
            stock_status=stock_status or "instock",
            backorders=backorders,
            attributes=list(attributes),
            created=now,
            modified=now,
        )
        self._restatus(item)
        self.items[item.id] = item
        self._index_sku(item)
        if parent_id:
            self.items[parent_id].children.append(item.id)
        self.emit("product", item.id, "created")
        return item

    def stock_owner(self, item: _Item) -> _Item | None:
        """The item whose `stock_quantity` changes when `item` sells, or None (§6, §7)."""
        if not self.manage_stock_option:
            return None
        if item.manage_stock:
            return item
        if item.type == "variation":
            parent = self.items.get(item.parent_id)
            if parent is not None and parent.manage_stock:
                return parent
        return None

    def _restatus(self, item: _Item) -> None:
        # §6 and Unconfirmed 5: with stock managed, the status follows the quantity on save.
        if item.manage_stock and self.manage_stock_option:
            item.stock_status = stock_status_for(
                manage_stock=True,
                stock_quantity=item.stock_quantity,
                backorders=item.backorders,
                requested=item.stock_status,
            )

    def _view_stock(self, item: _Item) -> tuple[bool | Literal["parent"], int | None, str]:
        """`(manage_stock, stock_quantity, stock_status)` as the API shows them."""
        owner = self.stock_owner(item)
        if item.type == "variable" and not item.manage_stock:
            statuses = [
                self._view_stock(self.items[c])[2] for c in item.children if c in self.items
            ]
            # §6: variable products take their stock status from their children.
            status = (
                "instock"
                if "instock" in statuses
                else "onbackorder"
                if "onbackorder" in statuses
                else "outofstock"
            )
            return False, None, status
        if owner is None:
            return False, None, item.stock_status
        if owner is item:
            return True, item.stock_quantity, item.stock_status
        # §6: a variation whose parent manages stock answers "parent" and shows the parent's
        # quantity (and, by the same inheritance, the parent's status).
        return "parent", owner.stock_quantity, owner.stock_status

    def render_item(self, item: _Item, *, product_shape: bool = False) -> dict[str, Any]:
        """The REST body of a product, or of a variation (in product shape when asked)."""
        manage, quantity, status = self._view_stock(item)
        common = {
            "id": item.id,
            "sku": item.sku,
            "regular_price": item.regular_price,
            "sale_price": item.sale_price,
            "stock_status": status,
            "backorders": item.backorders,
            "status": item.status,
            "meta_data": item.meta_data,
            "description": item.description,
            "created": item.created,
            "modified": item.modified,
            "utc_offset": self.utc_offset,
            "base_url": self.base_url,
            "dp": self.dp,
        }
        if item.type == "variation" and not product_shape:
            return make_variation(
                parent_id=item.parent_id,
                manage_stock=manage,
                stock_quantity=quantity,
                attributes=item.attributes,
                **common,  # type: ignore[arg-type]
            )
        regular: Decimal | str = item.regular_price
        sale: Decimal | None = item.sale_price
        if item.type == "variable":
            prices = [self.items[c].price for c in item.children if c in self.items]
            regular, sale = (min(prices), None) if prices else ("", None)
        common.update(regular_price=regular, sale_price=sale)
        doc = make_product(
            name=item.name,
            type=item.type,
            parent_id=item.parent_id,
            manage_stock=manage is not False,
            stock_quantity=quantity,
            variations=item.children if item.type == "variable" else (),
            attributes=[
                {
                    "id": 0,
                    "name": n,
                    "position": 0,
                    "visible": True,
                    "variation": True,
                    "options": [o],
                }
                for n, o in item.attributes
            ],
            **common,  # type: ignore[arg-type]
        )
        # §6: products render `managing_stock()`, which is "parent" for such variations.
        doc["manage_stock"] = manage
        return doc

    def get_item(self, item_id: int, *, status: int = 404) -> _Item:
        """The product or variation `item_id`, or the invalid-id error."""
        item = self.items.get(item_id)
        if item is None:
            raise invalid_id("product", status)
        return item

    def get_variation(self, parent_id: int, variation_id: int, *, status: int = 404) -> _Item:
        """Variation `variation_id` of product `parent_id`, or the invalid-id error.

        The reference is silent on a variation addressed under another parent; the simulator
        answers as for an unknown id.
        """
        item = self.items.get(variation_id)
        if item is None or item.type != "variation" or item.parent_id != parent_id:
            raise invalid_id("product_variation", status)
        return item

    def create_item(self, body: Mapping[str, Any], *, parent_id: int = 0) -> _Item:
        """POST semantics for products and variations (used by create and batch create)."""
        if body.get("id"):
            post_type = "product_variation" if parent_id else "product"
            # §2: POST with an `id` in the body.
            raise RestError(
                400, f"woocommerce_rest_{post_type}_exists", f"Cannot create existing {post_type}."
            )
        if parent_id and parent_id not in self.items:
            raise invalid_id("product", 404)
        item = self.add_item(
            sku=str(body.get("sku", "")),
            price=_decimal(body.get("regular_price") or 0, "regular_price"),
            type="variation" if parent_id else str(body.get("type", "simple")),
            parent_id=parent_id,
            name=str(body.get("name", "")),
            attributes=[
                (str(a.get("name", "")), str(a.get("option", "")))
                for a in body.get("attributes", [])
                if isinstance(a, Mapping)
            ]
            if parent_id
            else (),
        )
        return self.update_item(item, body, endpoint="create", creating=True)

    def update_item(
        self, item: _Item, body: Mapping[str, Any], *, endpoint: str, creating: bool = False
    ) -> _Item:
        """PUT semantics for a product or variation, stock per §6; emits `product.updated`."""
        if "sku" in body:
            sku = str(body["sku"] or "")
            self._check_sku(sku, item.id)
            old_sku, item.sku = item.sku, sku
            self._index_sku(item, old_sku)
        for key in ("name", "status", "description"):
            if key in body and body[key] is not None:
                setattr(item, key, str(body[key]))
        if "regular_price" in body:
            item.regular_price = _decimal(body["regular_price"] or 0, "regular_price")
        if "sale_price" in body:
            raw = body["sale_price"]
            item.sale_price = _decimal(raw, "sale_price") if raw not in (None, "") else None
        if isinstance(body.get("meta_data"), list):
            self._upsert_meta(item.meta_data, body["meta_data"])
        stock_keys = {
            "manage_stock",
            "stock_quantity",
            "inventory_delta",
            "stock_status",
            "backorders",
        }
        stock_fields = {k: body[k] for k in stock_keys if k in body}
        if stock_fields:
            self._write_stock(item, body)
            if not creating:
                self.stock_writes.append(
                    StockWrite(
                        endpoint=endpoint,
                        id=item.id,
                        sku=item.sku,
                        fields=stock_fields,
                        at=self.now(),
                    )
                )
        item.modified = self.now()
        if not creating:
            self.emit("product", item.id, "updated")
        return item

    def _write_stock(self, item: _Item, body: Mapping[str, Any]) -> None:
        quantity = _int_field(body, "stock_quantity")
        delta = _int_field(body, "inventory_delta")
        requested_status = body.get("stock_status")
        if requested_status is not None and requested_status not in {
            "instock",
            "outofstock",
            "onbackorder",
        }:
            raise RestError(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): stock_status",
                params={
                    "stock_status": (
                        "stock_status is not one of instock, outofstock, and onbackorder."
                    )
                },
            )
        if not self.manage_stock_option:
            # §6: with the store option off only `stock_status` is applied, not for variable.
            if requested_status and item.type != "variable":
                item.stock_status = str(requested_status)
            return
        if item.type in {"grouped", "external"}:
            # §6: forced to manage_stock=no; external products are also forced in stock.
            item.manage_stock = False
            item.stock_status = (
                "instock" if item.type == "external" else str(requested_status or item.stock_status)
            )
            return
        if "backorders" in body and body["backorders"] in {"no", "notify", "yes"}:
            item.backorders = str(body["backorders"])
        if "manage_stock" in body:
            item.manage_stock = _bool_field(body["manage_stock"])
        if item.manage_stock:
            if quantity is not None:
                item.stock_quantity = quantity  # §6: absolute
            elif delta is not None:
                item.stock_quantity = (item.stock_quantity or 0) + delta  # §6: relative
            elif item.stock_quantity is None:
                item.stock_quantity = 0
            if requested_status and item.type != "variable":
                item.stock_status = str(requested_status)
            self._restatus(item)
            return
        # §6: manage_stock=false clears the quantity; variations also lose backorders.
        item.stock_quantity = None
        if item.type == "variation":
            item.backorders = "no"
        if requested_status and item.type != "variable":
            item.stock_status = str(requested_status)

    @staticmethod
    def _upsert_meta(meta: list[dict[str, Any]], entries: Iterable[Any]) -> None:
        # §5: an entry with `id` updates that row; without `id` the key is upserted.
        next_id = max((int(m["id"]) for m in meta), default=0) + 1
        for entry in entries:
            if not isinstance(entry, Mapping) or "key" not in entry:
                continue
            target = next(
                (
                    m
                    for m in meta
                    if (m["id"] == entry.get("id"))
                    or ("id" not in entry and m["key"] == entry["key"])
                ),
                None,
            )
            if target is None:
                meta.append({"id": next_id, "key": entry["key"], "value": entry.get("value")})
                next_id += 1
            else:
                target["key"], target["value"] = entry["key"], entry.get("value")

    def adjust_stock(self, owner: _Item, delta: int) -> None:
        """Change a managed item's quantity by `delta` (order reduction or restoration)."""
        owner.stock_quantity = (owner.stock_quantity or 0) + delta
        owner.modified = self.now()
        self._restatus(owner)
        # §7: every stock change saves the product, which fires product.updated.
        self.emit("product", owner.id, "updated")

    # -----------------------------------------------------------------------------------------
    # Orders

    def render_order(self, order: _Order) -> dict[str, Any]:
        """The REST body of an order, totals recomputed from its lines."""
        replay = list(order.aux_ids)

        def next_item_id() -> int:
            if replay:
                return replay.pop(0)
            new = self.allocate_item_id()
            order.aux_ids.append(new)
            return new

        return make_order(
            id=order.id,
            status=order.status,
            line_items=order.lines,
            shipping_total=order.shipping_total,
            shipping_method=order.shipping_method
            if order.shipping_total or order.shipping_method[0]
            else ("", ""),
            fees=order.fees,
            coupons=order.coupons,
            tax_rate=order.tax_rate,
            tax_shipping=order.tax_shipping,
            currency=order.currency,
            customer_id=order.customer_id,
            billing=order.billing,
            shipping=order.shipping,
            payment_method=order.payment_method,
            payment_method_title=order.payment_method_title,
            customer_note=order.customer_note,
            created=order.created,
            modified=order.modified,
            paid=order.paid,
            completed=order.completed,
            meta_data=order.meta_data,
            version=self.wc_version,
            created_via=order.created_via,
            utc_offset=self.utc_offset,
            base_url=self.base_url,
            dp=self.dp,
            next_item_id=next_item_id,
        )

    def get_order(self, order_id: int, *, status: int = 404) -> _Order:
        """Order `order_id`, or the invalid-id error (§2)."""
        order = self.orders.get(order_id)
        if order is None:
            raise invalid_id("shop_order", status)
        return order

    def order_line(
        self, *, sku: str = "", product_id: int = 0, quantity: int, price: Decimal | None
    ) -> OrderLine:
        """A line for the product with `sku` or `product_id` (a variation id is allowed)."""
        item = self._line_product(sku=sku, product_id=product_id)
        return self._line_for(item, id=self.allocate_item_id(), quantity=quantity, price=price)

    def _line_product(self, *, sku: str, product_id: int) -> _Item:
        item = self.sku_owner(sku) if sku else self.items.get(product_id)
        if item is None:
            # §2: an exception while saving becomes `woocommerce_rest_<post_type>_not_created`;
            # the reference gives no literal message for an unknown product, so this one says
            # what happened.
            raise RestError(
                400,
                "woocommerce_rest_shop_order_not_created",
                f"Invalid product: {sku or product_id}.",
            )
        return item

    def _line_for(self, item: _Item, *, id: int, quantity: int, price: Decimal | None) -> OrderLine:
        is_variation = item.type == "variation"
        parent = self.items.get(item.parent_id) if is_variation else None
        name = (
            item.name
            if parent is None
            else f"{parent.name} - {', '.join(o for _, o in item.attributes)}"
        )
        return OrderLine(
            id=id,
            sku=item.sku,
            quantity=quantity,
            price=item.price if price is None else price,
            product_id=item.parent_id if is_variation else item.id,
            variation_id=item.id if is_variation else 0,
            name=name,
        )

    @staticmethod
    def removes_line(raw: Mapping[str, Any]) -> bool:
        """§5 "Writing orders": quantity 0 or a null `product_id`/`name` removes the line.

        WooCommerce's `item_is_null_or_zero` also looks at `method_id`, `method_title` and
        `code`, which only shipping and coupon lines carry.
        """
        if any(key in raw and raw[key] is None for key in ("product_id", "name")):
            return True
        quantity = raw.get("quantity")
        return quantity == 0 and not isinstance(quantity, bool)

    def line_from_body(self, raw: Mapping[str, Any]) -> OrderLine:
        """A new line from a REST `line_items` entry: by `sku`, else `variation_id`/`product_id`.

        `quantity` defaults to 1; a `subtotal` sets the unit price (subtotal / quantity),
        otherwise the catalog price applies.
        """
        quantity = _int_field(raw, "quantity")
        quantity = 1 if quantity is None else quantity
        item = self._line_product(
            sku=str(raw.get("sku") or ""),
            product_id=int(raw.get("variation_id") or raw.get("product_id") or 0),
        )
        return self._line_for(
            item,
            id=self.allocate_item_id(),
            quantity=quantity,
            price=self._line_price(raw, quantity),
        )

    @staticmethod
    def _line_price(raw: Mapping[str, Any], quantity: int) -> Decimal | None:
        if raw.get("subtotal") in (None, "") or not quantity:
            return None
        return _decimal(raw["subtotal"], "subtotal") / quantity

    def edited_lines(self, order: _Order, entries: Iterable[Any]) -> list[OrderLine] | None:
        """The lines after a REST `line_items` write, or None when it changes nothing (§5).

        An entry with an `id` updates that line of the order (400
        `woocommerce_rest_invalid_item_id` when the order has none such, §2); one without adds
        a line (`line_from_body`); quantity 0 or a null `product_id` removes the line with
        that `id`, and removes nothing when the order has no such line. Nothing is applied
        here: pass the result to `replace_lines`, so a refused write leaves the order as it
        was.

        On an existing line, `quantity`, `name`, `subtotal` (the unit price becomes subtotal /
        quantity) and a product reference (`sku`, `variation_id`, `product_id`) are applied.
        The unit price is kept when only the quantity changes, so the totals, which §5 says are
        recalculated after any change to the lines, follow the new quantity. The reference
        is silent on an unknown product reference; the simulator refuses it as it does on
        create rather than keep the old product without a word.
        """
        lines = list(order.lines)
        changed = False
        for raw in entries:
            if not isinstance(raw, Mapping):
                continue
            line_id = _int_field(raw, "id") or 0
            if self.removes_line(raw):
                kept = [line for line in lines if line.id != line_id]
                changed = changed or len(kept) != len(lines)
                lines = kept
                continue
            if not line_id:
                lines.append(self.line_from_body(raw))
                changed = True
                continue
            index = next((n for n, line in enumerate(lines) if line.id == line_id), None)
            if index is None:
                raise RestError(
                    400,
                    "woocommerce_rest_invalid_item_id",
                    "Order item ID provided is not associated with order.",
                )
            lines[index] = self._edited_line(lines[index], raw)
            changed = True
        return lines if changed else None

    def _edited_line(self, line: OrderLine, raw: Mapping[str, Any]) -> OrderLine:
        quantity = _int_field(raw, "quantity")
        quantity = line.quantity if quantity is None else quantity
        sku = str(raw.get("sku") or "")
        product_id = int(raw.get("variation_id") or raw.get("product_id") or 0)
        if sku or product_id:
            item = self._line_product(sku=sku, product_id=product_id)
            if item.id != (line.variation_id or line.product_id):
                line = self._line_for(item, id=line.id, quantity=quantity, price=line.price)
        price = self._line_price(raw, quantity)
        name = raw.get("name")
        return attrs.evolve(
            line,
            quantity=quantity,
            price=line.price if price is None else price,
            name=str(name) if isinstance(name, str) else line.name,
        )

    def create_order(self, order: _Order) -> _Order:
        """Store a new order, reduce stock when its status says so, emit its events."""
        self.orders[order.id] = order
        status = order.status
        order.status = "pending"
        self._transition(order, status, emit=False)
        if status not in _NO_CREATED_EVENT:
            self.emit("order", order.id, "created")
        elif status not in _WEBHOOK_SKIPPED:
            # §8, issue #66995: checkout-draft orders still produce order.updated deliveries.
            self.emit("order", order.id, "updated")
        return order

    def set_status(self, order: _Order, status: str) -> None:
        """Move an order to `status`, with §7's stock hooks and §8's events."""
        old = order.status
        self._transition(order, status, emit=True)
        if old in _NO_CREATED_EVENT and status not in _NO_CREATED_EVENT:
            self.emit("order", order.id, "created")

    def _transition(self, order: _Order, status: str, *, emit: bool) -> None:
        changed = status != order.status
        order.status = status
        now = self.now()
        if changed:
            order.modified = now
        if status in {"processing", "completed"} and order.paid is None:
            order.paid = now
        if status == "completed" and order.completed is None:
            order.completed = now
        if status in _REDUCING and not order.stock_reduced:
            self._reduce(order)
        elif status in _RESTORING and order.stock_reduced:
            self._restore(order)
        if emit and status not in _WEBHOOK_SKIPPED:
            self.emit("order", order.id, "updated")

    def _reduce(self, order: _Order) -> None:
        # §7 `wc_reduce_stock_levels`: store option on; skip lines already reduced, missing
        # products and products not managing stock; record `_reduced_stock` per line.
        if not self.manage_stock_option:
            return
        for line in order.lines:
            if line.id in order.reduced:
                continue
            item = self.items.get(line.variation_id or line.product_id)
            owner = self.stock_owner(item) if item is not None else None
            if owner is None:
                continue
            self.adjust_stock(owner, -line.quantity)
            order.reduced[line.id] = line.quantity
        order.stock_reduced = True

    def _restore(self, order: _Order) -> None:
        # §7 `wc_maybe_increase_stock_levels`: add back each `_reduced_stock`, clear the flag.
        if not self.manage_stock_option:
            return
        for line in order.lines:
            quantity = order.reduced.pop(line.id, 0)
            item = self.items.get(line.variation_id or line.product_id)
            owner = self.stock_owner(item) if item is not None else None
            if quantity and owner is not None:
                self.adjust_stock(owner, quantity)
        order.reduced.clear()
        order.stock_reduced = False

    def replace_lines(self, order: _Order, lines: list[OrderLine]) -> None:
        """Swap an order's lines, adjusting stock already reduced by each line's difference.

        §7: `wc_maybe_adjust_line_item_product_stock` adjusts stock when quantities change on an
        order that has already reduced stock; which statuses it acts on is Unconfirmed 10, so
        the simulator applies it whenever the order's stock is reduced. Lines are matched by
        id: a kept line moves stock by its new quantity minus its `_reduced_stock`, a removed
        line gives back what it took, a new line (or a line moved to another product) takes
        its whole quantity. The reference is silent on removed and added lines; the simulator
        treats them as quantities changed to and from 0.
        """
        if order.stock_reduced and self.manage_stock_option:
            old_by_id = {line.id: line for line in order.lines}
            new_ids = {line.id for line in lines}
            for old in order.lines:
                if old.id not in new_ids:
                    self._readjust(order, old, 0)
            for line in lines:
                old_line = old_by_id.get(line.id)
                if old_line is not None and (old_line.product_id, old_line.variation_id) != (
                    line.product_id,
                    line.variation_id,
                ):
                    self._readjust(order, old_line, 0)
                    order.reduced.pop(line.id, None)
                self._readjust(order, line, line.quantity)
        order.lines = lines
        order.modified = self.now()

    def _readjust(self, order: _Order, line: OrderLine, quantity: int) -> None:
        # §7: only products managing stock are touched, and `_reduced_stock` follows.
        item = self.items.get(line.variation_id or line.product_id)
        owner = self.stock_owner(item) if item is not None else None
        if owner is None:
            return
        diff = quantity - order.reduced.get(line.id, 0)
        if diff:
            self.adjust_stock(owner, -diff)
        if quantity:
            order.reduced[line.id] = quantity
        else:
            order.reduced.pop(line.id, None)

    def payment_complete(self, order: _Order) -> None:
        """`WC_Order::payment_complete()` (§7): processing, paid now, stock reduced once.

        WooCommerce moves an order that needs no processing (all virtual and downloadable) to
        completed instead; the simulator has no such products, so it is always processing.
        """
        if order.paid is None:
            order.paid = self.now()
        self.set_status(order, "processing")


def gmt(moment: float) -> datetime:
    """Epoch seconds → an aware UTC datetime."""
    return datetime.fromtimestamp(moment, UTC)
