"""Orders: WooCommerce orders into NetSuite sales orders, exactly once per order.

- the plan (`lookups`, `plan_import`, `map_order`): pure, a WooCommerce order in, a
  decision out; `RetryPolicy` says when an order failing for transient reasons becomes a
  dead letter;
- `OrderSync`: gather, decide, apply, a batch at a time; the polling backstop and the
  scheduled dead-letter retries;
- `WebhookReceiver` and `asgi_app`: verify a delivery, persist it, answer fast;
- `InboxWorker`: import the persisted deliveries.
"""

from __future__ import annotations

from ._inbox import InboxWorker as InboxWorker
from ._inbox import OrderImporter as OrderImporter
from ._plan import AlreadyImported as AlreadyImported
from ._plan import CreateCustomer as CreateCustomer
from ._plan import CreateSalesOrder as CreateSalesOrder
from ._plan import DeadLetterOrder as DeadLetterOrder
from ._plan import ExistingCustomer as ExistingCustomer
from ._plan import IgnoreOrder as IgnoreOrder
from ._plan import ImportPlan as ImportPlan
from ._plan import Lookups as Lookups
from ._plan import OrderKey as OrderKey
from ._plan import Rejection as Rejection
from ._plan import RetryPolicy as RetryPolicy
from ._plan import SalesOrderTemplate as SalesOrderTemplate
from ._plan import customer_draft as customer_draft
from ._plan import customer_external_id as customer_external_id
from ._plan import lookups as lookups
from ._plan import map_order as map_order
from ._plan import order_key as order_key
from ._plan import order_quantities as order_quantities
from ._plan import plan_import as plan_import
from ._plan import sales_order_external_id as sales_order_external_id
from ._receiver import ReceiverResponse as ReceiverResponse
from ._receiver import ReceiverStats as ReceiverStats
from ._receiver import WebhookReceiver as WebhookReceiver
from ._receiver import asgi_app as asgi_app
from ._sync import ImportResult as ImportResult
from ._sync import OrderSync as OrderSync
from ._sync import SyncReport as SyncReport

__all__ = [
    "AlreadyImported",
    "CreateCustomer",
    "CreateSalesOrder",
    "DeadLetterOrder",
    "ExistingCustomer",
    "IgnoreOrder",
    "ImportPlan",
    "ImportResult",
    "InboxWorker",
    "Lookups",
    "OrderImporter",
    "OrderKey",
    "OrderSync",
    "ReceiverResponse",
    "ReceiverStats",
    "Rejection",
    "RetryPolicy",
    "SalesOrderTemplate",
    "SyncReport",
    "WebhookReceiver",
    "asgi_app",
    "customer_draft",
    "customer_external_id",
    "lookups",
    "map_order",
    "order_key",
    "order_quantities",
    "plan_import",
    "sales_order_external_id",
]
