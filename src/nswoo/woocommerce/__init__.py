"""WooCommerce: the wc/v3 client, its models, and webhook verification.

- `WooClient`: orders, products and variations, batch stock updates, on the shared HTTP
  pipeline (limiter, Basic auth, retries, error translation).
- `WooOrder`, `WooProduct`, `WooVariation` and friends: frozen attrs models with exact
  `Decimal` money, built by `structure_order` / `structure_product` / `structure_variation`.
- `verify_delivery`: webhook signature, ping, size and payload checks, without I/O.
"""

from __future__ import annotations

from ._client import BATCH_LIMIT as BATCH_LIMIT
from ._client import PAGE_SIZE as PAGE_SIZE
from ._client import BatchItemError as BatchItemError
from ._client import BatchResult as BatchResult
from ._client import Patch as Patch
from ._client import StockUpdate as StockUpdate
from ._client import WooClient as WooClient
from ._client import check_store as check_store
from ._client import probe as probe
from ._client import unsearchable_skus as unsearchable_skus
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
from ._webhook_admin import EnsureResult as EnsureResult
from ._webhook_admin import WebhookCheck as WebhookCheck
from ._webhook_admin import WebhookProblem as WebhookProblem
from ._webhook_admin import WooWebhook as WooWebhook
from ._webhook_admin import check_webhooks as check_webhooks
from ._webhook_admin import ensure_webhooks as ensure_webhooks
from ._webhooks import DEFAULT_MAX_BODY_BYTES as DEFAULT_MAX_BODY_BYTES
from ._webhooks import Delivery as Delivery
from ._webhooks import Ping as Ping
from ._webhooks import sign_body as sign_body
from ._webhooks import verify_delivery as verify_delivery

__all__ = [
    "BATCH_LIMIT",
    "BatchItemError",
    "BatchResult",
    "DEFAULT_MAX_BODY_BYTES",
    "Delivery",
    "EnsureResult",
    "ManageStock",
    "PAGE_SIZE",
    "Patch",
    "Ping",
    "StockUpdate",
    "WebhookCheck",
    "WebhookProblem",
    "WooAddress",
    "WooClient",
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
    "WooWebhook",
    "check_store",
    "check_webhooks",
    "dumps",
    "ensure_webhooks",
    "loads",
    "probe",
    "sign_body",
    "structure_order",
    "structure_product",
    "structure_variation",
    "unsearchable_skus",
    "unstructure_order",
    "unstructure_product",
    "unstructure_variation",
    "verify_delivery",
]
