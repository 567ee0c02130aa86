"""WooCommerce: the wc/v3 client, its models and webhook verification."""

from __future__ import annotations

from ._convert import dumps as dumps
from ._convert import loads as loads
from ._convert import structure_order as structure_order
from ._convert import structure_product as structure_product
from ._convert import structure_variation as structure_variation
from ._convert import unstructure_order as unstructure_order
from ._convert import unstructure_product as unstructure_product
from ._convert import unstructure_variation as unstructure_variation
from ._records import ManageStock as ManageStock
from ._records import WooAddress as WooAddress
from ._records import WooCouponLine as WooCouponLine
from ._records import WooFeeLine as WooFeeLine
from ._records import WooItemTax as WooItemTax
from ._records import WooLineItem as WooLineItem
from ._records import WooMeta as WooMeta
from ._records import WooOrder as WooOrder
from ._records import WooProduct as WooProduct
from ._records import WooRefund as WooRefund
from ._records import WooShippingLine as WooShippingLine
from ._records import WooTaxLine as WooTaxLine
from ._records import WooVariation as WooVariation
from ._webhooks import DEFAULT_MAX_BODY_BYTES as DEFAULT_MAX_BODY_BYTES
from ._webhooks import Delivery as Delivery
from ._webhooks import Ping as Ping
from ._webhooks import sign_body as sign_body
from ._webhooks import verify_delivery as verify_delivery

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "Delivery",
    "ManageStock",
    "Ping",
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
    "dumps",
    "loads",
    "sign_body",
    "structure_order",
    "structure_product",
    "structure_variation",
    "unstructure_order",
    "unstructure_product",
    "unstructure_variation",
    "verify_delivery",
]
