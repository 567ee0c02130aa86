"""nswoo: keep NetSuite and WooCommerce in sync, and keep it working in month two.

The names below are the public API, with the documented submodules `nswoo.errors`,
`nswoo.netsuite`, `nswoo.woocommerce`, `nswoo.store.sqlite` and `nswoo.testing`. Every other module
is private.
"""

from __future__ import annotations

import logging as _logging
from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from . import errors as errors
from . import netsuite as netsuite
from . import woocommerce as woocommerce
from ._clock import Clock as Clock
from ._clock import SystemClock as SystemClock
from ._http import BasicAuth as BasicAuth
from ._http import BearerAuth as BearerAuth
from ._http import Credential as Credential
from ._http import HttpPipeline as HttpPipeline
from ._http import RequestAuth as RequestAuth
from ._http import RetryPolicy as RetryPolicy
from ._http import TokenGrant as TokenGrant
from ._http import TokenSource as TokenSource
from ._settings import Config as Config
from ._settings import CustomerStrategy as CustomerStrategy
from ._settings import EmailTarget as EmailTarget
from ._settings import Environment as Environment
from ._settings import InventoryConfig as InventoryConfig
from ._settings import M2MCredentials as M2MCredentials
from ._settings import NetSuiteSettings as NetSuiteSettings
from ._settings import NotifyConfig as NotifyConfig
from ._settings import OAuth2Credentials as OAuth2Credentials
from ._settings import OfficeHours as OfficeHours
from ._settings import OrdersConfig as OrdersConfig
from ._settings import OwnerRule as OwnerRule
from ._settings import ReconcileConfig as ReconcileConfig
from ._settings import ReconcileTolerance as ReconcileTolerance
from ._settings import Secret as Secret
from ._settings import Settings as Settings
from ._settings import SettingsRefused as SettingsRefused
from ._settings import TbaCredentials as TbaCredentials
from ._settings import WebhooksConfig as WebhooksConfig
from ._settings import WooSettings as WooSettings
from ._settings import from_env as from_env
from ._settings import load_config as load_config
from ._settings import parse_config as parse_config
from .limits._local import Limiter as Limiter
from .limits._local import LimiterStats as LimiterStats
from .limits._local import LocalLimiter as LocalLimiter
from .limits._local import Permit as Permit
from .netsuite import NetSuiteClient as NetSuiteClient
from .netsuite import open_netsuite as open_netsuite
from .orders._inbox import InboxWorker as InboxWorker
from .orders._inbox import OrderImporter as OrderImporter
from .orders._plan import AlreadyImported as AlreadyImported
from .orders._plan import CreateSalesOrder as CreateSalesOrder
from .orders._plan import DeadLetterOrder as DeadLetterOrder
from .orders._plan import IgnoreOrder as IgnoreOrder
from .orders._plan import ImportPlan as ImportPlan
from .orders._plan import OrderKey as OrderKey
from .orders._plan import Rejection as Rejection
from .orders._plan import customer_draft as customer_draft
from .orders._plan import customer_external_id as customer_external_id
from .orders._plan import map_order as map_order
from .orders._plan import order_key as order_key
from .orders._plan import order_quantities as order_quantities
from .orders._plan import plan_import as plan_import
from .orders._plan import sales_order_external_id as sales_order_external_id
from .orders._plan import skus_of as skus_of
from .orders._receiver import ReceiverResponse as ReceiverResponse
from .orders._receiver import ReceiverStats as ReceiverStats
from .orders._receiver import WebhookReceiver as WebhookReceiver
from .orders._receiver import asgi_app as asgi_app
from .orders._sync import ImportResult as ImportResult
from .orders._sync import OrderSync as OrderSync
from .orders._sync import SyncReport as SyncReport
from .store._claim_wait import claim_or_wait as claim_or_wait
from .store._open import open_store as open_store
from .store._ports import AlreadyLinked as AlreadyLinked
from .store._ports import Busy as Busy
from .store._ports import Claim as Claim
from .store._ports import Claimed as Claimed
from .store._ports import Cursors as Cursors
from .store._ports import DeadLetter as DeadLetter
from .store._ports import DeadLetters as DeadLetters
from .store._ports import Inbox as Inbox
from .store._ports import InboxItem as InboxItem
from .store._ports import Lease as Lease
from .store._ports import OrderLink as OrderLink
from .store._ports import OrderLinks as OrderLinks
from .store._ports import PushedStock as PushedStock
from .store._ports import Report as Report
from .store._ports import Reports as Reports
from .store._ports import StockPushes as StockPushes
from .store._ports import Store as Store
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


# A library configures no logging; without a handler of its own, Python's last-resort
# handler would print nswoo's warnings on the stderr of every application using it.
_logging.getLogger("nswoo").addHandler(_logging.NullHandler())
