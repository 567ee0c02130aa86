"""nswoo: keep NetSuite and WooCommerce in sync, and keep it working in month two.

The names below are the public API, with the documented submodules `nswoo.errors`,
`nswoo.netsuite`, `nswoo.woocommerce`, `nswoo.sqlite` and `nswoo.testing`. Every other module
is private.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from . import errors as errors
from . import netsuite as netsuite
from . import woocommerce as woocommerce
from ._clock import Clock as Clock
from ._clock import SystemClock as SystemClock
from ._config import Config as Config
from ._config import CustomerStrategy as CustomerStrategy
from ._config import EmailTarget as EmailTarget
from ._config import InventoryConfig as InventoryConfig
from ._config import NotifyConfig as NotifyConfig
from ._config import OfficeHours as OfficeHours
from ._config import OrdersConfig as OrdersConfig
from ._config import OwnerRule as OwnerRule
from ._config import ReconcileConfig as ReconcileConfig
from ._config import ReconcileTolerance as ReconcileTolerance
from ._config import WebhooksConfig as WebhooksConfig
from ._config import load_config as load_config
from ._config import parse_config as parse_config
from ._http import BasicAuth as BasicAuth
from ._http import BearerAuth as BearerAuth
from ._http import Credential as Credential
from ._http import HttpPipeline as HttpPipeline
from ._http import RequestAuth as RequestAuth
from ._http import RetryPolicy as RetryPolicy
from ._http import TokenGrant as TokenGrant
from ._http import TokenSource as TokenSource
from ._inbox_worker import InboxWorker as InboxWorker
from ._inbox_worker import OrderImporter as OrderImporter
from ._limits import Limiter as Limiter
from ._limits import LimiterStats as LimiterStats
from ._limits import LocalLimiter as LocalLimiter
from ._limits import Permit as Permit
from ._order_sync import ImportResult as ImportResult
from ._order_sync import OrderSync as OrderSync
from ._order_sync import SyncReport as SyncReport
from ._orders import AlreadyImported as AlreadyImported
from ._orders import CreateSalesOrder as CreateSalesOrder
from ._orders import DeadLetterOrder as DeadLetterOrder
from ._orders import IgnoreOrder as IgnoreOrder
from ._orders import ImportPlan as ImportPlan
from ._orders import OrderKey as OrderKey
from ._orders import Rejection as Rejection
from ._orders import customer_draft as customer_draft
from ._orders import customer_external_id as customer_external_id
from ._orders import map_order as map_order
from ._orders import order_key as order_key
from ._orders import order_quantities as order_quantities
from ._orders import plan_import as plan_import
from ._orders import sales_order_external_id as sales_order_external_id
from ._orders import skus_of as skus_of
from ._receiver import ReceiverResponse as ReceiverResponse
from ._receiver import ReceiverStats as ReceiverStats
from ._receiver import WebhookReceiver as WebhookReceiver
from ._receiver import asgi_app as asgi_app
from ._settings import Environment as Environment
from ._settings import M2MCredentials as M2MCredentials
from ._settings import NetSuiteSettings as NetSuiteSettings
from ._settings import OAuth2Credentials as OAuth2Credentials
from ._settings import Secret as Secret
from ._settings import Settings as Settings
from ._settings import SettingsRefused as SettingsRefused
from ._settings import TbaCredentials as TbaCredentials
from ._settings import WooSettings as WooSettings
from ._settings import from_env as from_env
from ._storage import AlreadyLinked as AlreadyLinked
from ._storage import Busy as Busy
from ._storage import Claim as Claim
from ._storage import Claimed as Claimed
from ._storage import Cursors as Cursors
from ._storage import DeadLetter as DeadLetter
from ._storage import DeadLetters as DeadLetters
from ._storage import Inbox as Inbox
from ._storage import InboxItem as InboxItem
from ._storage import Lease as Lease
from ._storage import OrderLink as OrderLink
from ._storage import OrderLinks as OrderLinks
from ._storage import PushedStock as PushedStock
from ._storage import Report as Report
from ._storage import Reports as Reports
from ._storage import StockPushes as StockPushes
from ._storage import Store as Store
from ._storage import claim_or_wait as claim_or_wait
from ._storage import open_store as open_store
from .netsuite import NetSuiteClient as NetSuiteClient
from .netsuite import open_netsuite as open_netsuite
from .woocommerce import BatchResult as BatchResult
from .woocommerce import Delivery as Delivery
from .woocommerce import Ping as Ping
from .woocommerce import StockUpdate as StockUpdate
from .woocommerce import WooClient as WooClient
from .woocommerce import WooOrder as WooOrder
from .woocommerce import WooProduct as WooProduct
from .woocommerce import WooVariation as WooVariation
from .woocommerce import verify_delivery as verify_delivery

__all__ = [
    "AlreadyImported",
    "AlreadyLinked",
    "BasicAuth",
    "BatchResult",
    "BearerAuth",
    "Busy",
    "Claim",
    "Claimed",
    "Clock",
    "Config",
    "CreateSalesOrder",
    "Credential",
    "Cursors",
    "CustomerStrategy",
    "DeadLetter",
    "DeadLetterOrder",
    "DeadLetters",
    "Delivery",
    "EmailTarget",
    "Environment",
    "HttpPipeline",
    "IgnoreOrder",
    "ImportPlan",
    "ImportResult",
    "Inbox",
    "InboxItem",
    "InboxWorker",
    "InventoryConfig",
    "Lease",
    "Limiter",
    "LimiterStats",
    "LocalLimiter",
    "M2MCredentials",
    "NetSuiteClient",
    "NetSuiteSettings",
    "NotifyConfig",
    "OAuth2Credentials",
    "OfficeHours",
    "OrderImporter",
    "OrderKey",
    "OrderLink",
    "OrderLinks",
    "OrderSync",
    "OrdersConfig",
    "OwnerRule",
    "Permit",
    "Ping",
    "PushedStock",
    "ReceiverResponse",
    "ReceiverStats",
    "ReconcileConfig",
    "ReconcileTolerance",
    "Rejection",
    "Report",
    "Reports",
    "RequestAuth",
    "RetryPolicy",
    "Secret",
    "Settings",
    "SettingsRefused",
    "StockPushes",
    "StockUpdate",
    "Store",
    "SyncReport",
    "SystemClock",
    "TbaCredentials",
    "TokenGrant",
    "TokenSource",
    "WebhookReceiver",
    "WebhooksConfig",
    "WooClient",
    "WooOrder",
    "WooProduct",
    "WooSettings",
    "WooVariation",
    "asgi_app",
    "claim_or_wait",
    "customer_draft",
    "customer_external_id",
    "errors",
    "from_env",
    "load_config",
    "map_order",
    "netsuite",
    "open_netsuite",
    "open_store",
    "order_key",
    "order_quantities",
    "parse_config",
    "plan_import",
    "sales_order_external_id",
    "skus_of",
    "verify_delivery",
    "woocommerce",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        try:
            return _version("nswoo")
        except _PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    raise AttributeError(f"module 'nswoo' has no attribute {name!r}")
