"""The WooCommerce client gives the same results on the simulator and on the reference's bodies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.contract._woo_backends import WooBackend

from nswoo.errors import AuthenticationError, NotFound
from nswoo.woocommerce import StockUpdate, WooAddress, WooOrder, WooVariation

pytestmark = pytest.mark.anyio

D = Decimal


def summary(order: WooOrder) -> dict[str, Any]:
    """The order fields a sales order is mapped from, ids and dates left out."""
    return {
        "status": order.status,
        "currency": order.currency,
        "prices_include_tax": order.prices_include_tax,
        "customer_id": order.customer_id,
        "money": (
            order.discount_total,
            order.discount_tax,
            order.shipping_total,
            order.shipping_tax,
            order.cart_tax,
            order.total,
            order.total_tax,
        ),
        "payment": (order.payment_method, order.payment_method_title),
        "billing": order.billing,
        "shipping": order.shipping,
        "lines": [
            (
                line.sku,
                line.quantity,
                line.variation_id != 0,
                line.subtotal,
                line.subtotal_tax,
                line.total,
                line.total_tax,
                line.price,
                [(tax.total, tax.subtotal) for tax in line.taxes],
            )
            for line in order.line_items
        ],
        "shipping_lines": [
            (s.method_id, s.method_title, s.total, s.total_tax) for s in order.shipping_lines
        ],
        "tax_lines": [
            (t.label, t.compound, t.tax_total, t.shipping_tax_total) for t in order.tax_lines
        ],
    }


# The values of reference/woo_order_example.json, written out by hand.
PUBLISHED = {
    "status": "processing",
    "currency": "USD",
    "prices_include_tax": False,
    "customer_id": 0,
    "money": (D("0.00"), D("0.00"), D("10.00"), D("0.00"), D("1.35"), D("29.35"), D("1.35")),
    "payment": ("bacs", "Direct Bank Transfer"),
    "billing": WooAddress(
        first_name="John",
        last_name="Doe",
        address_1="969 Market",
        city="San Francisco",
        state="CA",
        postcode="94103",
        country="US",
        email="john.doe@example.com",
        phone="(555) 555-5555",
    ),
    "shipping": WooAddress(
        first_name="John",
        last_name="Doe",
        address_1="969 Market",
        city="San Francisco",
        state="CA",
        postcode="94103",
        country="US",
    ),
    "lines": [
        ("", 2, False, D("6.00"), D("0.45"), D("6.00"), D("0.45"), D(3), [(D("0.45"), D("0.45"))]),
        (
            "Bar3",
            1,
            True,
            D("12.00"),
            D("0.90"),
            D("12.00"),
            D("0.90"),
            D(12),
            [(D("0.9"), D("0.9"))],
        ),
    ],
    "shipping_lines": [("flat_rate", "Flat Rate", D("10.00"), D("0.00"))],
    "tax_lines": [("State Tax", False, D("1.35"), D("0.00"))],
}


async def test_order_paging_stops_at_total_pages(woo: WooBackend) -> None:
    """Two full pages of orders come back oldest first, and no third page is asked for."""
    ids = woo.arrange.orders(200)
    seen = [order.id async for order in woo.client.iter_orders()]
    pages = [r.params["page"] for r in woo.arrange.requests() if r.path.endswith("/orders")]
    assert seen == ids
    assert pages == ["1", "2"]


async def test_get_order_structures_the_published_example(woo: WooBackend) -> None:
    """The published example order structures into the same values, money as Decimal."""
    order_id = await woo.arrange.published_order()
    order = await woo.client.get_order(order_id)
    assert all(isinstance(value, Decimal) for value in summary(order)["money"])
    assert summary(order) == PUBLISHED


async def test_find_by_sku_finds_a_variation(woo: WooBackend) -> None:
    """GET products?sku= finds a variation, typed as one with its parent, and skips unknowns."""
    parent, ids = woo.arrange.variable_product("TEE", ["TEE-S", "TEE-M"])
    woo.arrange.product("MUG")
    found = await woo.client.find_by_sku(["TEE-M", "MUG", "NOPE"])
    variation = found["TEE-M"]
    assert set(found) == {"TEE-M", "MUG"}
    assert isinstance(variation, WooVariation)
    assert (variation.id, variation.parent_id, variation.sku) == (ids["TEE-M"], parent, "TEE-M")


async def test_batch_reports_failed_items(woo: WooBackend) -> None:
    """Two refused items come back with their ids and codes; the others are applied."""
    a, b, c = (woo.arrange.product(sku) for sku in ("A-1", "B-1", "C-1"))
    result = await woo.client.batch_update_products(
        [
            StockUpdate(id=a, stock_quantity=7),
            {"id": 999_001, "stock_quantity": 1},
            StockUpdate(id=b, stock_quantity=8),
            {"id": c, "sku": "A-1"},
        ]
    )
    assert result.succeeded == (a, b)
    assert [(f.id, f.code, f.status) for f in result.failed] == [
        (999_001, "woocommerce_rest_product_invalid_id", 400),
        (c, "product_invalid_sku", 400),
    ]
    assert result.requests == 1


async def test_101_items_are_split_into_100_and_1(woo: WooBackend) -> None:
    """A batch of 101 updates goes out as one request of 100 and one of 1."""
    ids = [woo.arrange.product(f"BULK-{n}") for n in range(101)]
    result = await woo.client.batch_update_products(
        [StockUpdate(id=i, stock_quantity=3) for i in ids]
    )
    assert result.ok
    assert result.succeeded == tuple(ids)
    assert woo.arrange.batch_sizes() == [100, 1]


async def test_413_shrinks_the_chunk(woo: WooBackend) -> None:
    """A store limit of 50 answers 413 to 100 items; the client halves and finishes."""
    woo.arrange.batch_limit(50)
    ids = [woo.arrange.product(f"BULK-{n}") for n in range(101)]
    result = await woo.client.batch_update_products(
        [StockUpdate(id=i, stock_quantity=3) for i in ids]
    )
    assert result.succeeded == tuple(ids)
    assert result.requests == 4
    assert woo.arrange.batch_sizes() == [100, 50, 50, 1]


async def test_wrong_consumer_secret_is_authentication_error(woo: WooBackend) -> None:
    """A wrong consumer secret is AuthenticationError with WooCommerce's code."""
    (order_id,) = woo.arrange.orders(1)
    async with woo.arrange.client(secret="cs_wrong") as wrong:
        with pytest.raises(AuthenticationError) as info:
            await wrong.get_order(order_id)
    assert (info.value.status, info.value.code) == (401, "woocommerce_rest_authentication_error")


async def test_unknown_order_is_not_found(woo: WooBackend) -> None:
    """GET of an order id that does not exist raises NotFound with the invalid-id code."""
    with pytest.raises(NotFound) as info:
        await woo.client.get_order(424_242)
    assert (info.value.status, info.value.code) == (404, "woocommerce_rest_shop_order_invalid_id")


async def test_per_page_never_above_100_on_the_wire(woo: WooBackend) -> None:
    """Every collection request the client sends asks for at most 100 items per page."""
    woo.arrange.orders(3)
    woo.arrange.variable_product("TEE", ["TEE-S"])
    [order async for order in woo.client.iter_orders()]
    [item async for item in woo.client.iter_products()]
    await woo.client.find_by_sku(["TEE-S"])
    sizes = [r.params.get("per_page") for r in woo.arrange.requests() if r.method == "GET"]
    assert len(sizes) >= 3
    assert all(size is not None and 1 <= int(size) <= 100 for size in sizes)
