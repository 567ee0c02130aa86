"""nswoo: keep NetSuite and WooCommerce in sync, and keep it working in month two.

The names below are where a user starts: settings and configuration loading, `open_store`,
the capability entry points, the clients, and the error tree. Each public package exports
its own names (`nswoo.settings`, `nswoo.orders`, `nswoo.inventory`, `nswoo.schema`,
`nswoo.notify`, `nswoo.store` with its backends `nswoo.store.sqlite` and
`nswoo.store.memory`, `nswoo.limits`, `nswoo.netsuite` with `nswoo.netsuite.suiteql`,
`nswoo.woocommerce`, `nswoo.errors`, `nswoo.testing`). Every other module is private.
"""

from __future__ import annotations

import logging as _logging
from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from . import errors as errors
from ._settings import Config as Config
from ._settings import Environment as Environment
from ._settings import Secret as Secret
from ._settings import Settings as Settings
from ._settings import from_env as from_env
from ._settings import load_config as load_config
from ._settings import parse_config as parse_config
from .errors import ApiError as ApiError
from .errors import ConfigurationError as ConfigurationError
from .errors import NswooError as NswooError
from .errors import StorageError as StorageError
from .errors import WebhookError as WebhookError
from .inventory import StockSync as StockSync
from .inventory import StockSyncReport as StockSyncReport
from .netsuite import NetSuiteClient as NetSuiteClient
from .netsuite import open_netsuite as open_netsuite
from .notify import Pager as Pager
from .orders import ImportResult as ImportResult
from .orders import InboxWorker as InboxWorker
from .orders import OrderSync as OrderSync
from .orders import SyncReport as SyncReport
from .orders import WebhookReceiver as WebhookReceiver
from .orders import asgi_app as asgi_app
from .schema import DriftAlerts as DriftAlerts
from .schema import diff_snapshots as diff_snapshots
from .schema import take_snapshot as take_snapshot
from .store import open_store as open_store
from .woocommerce import WooClient as WooClient
from .woocommerce import verify_delivery as verify_delivery

__all__ = [
    "ApiError",
    "Config",
    "ConfigurationError",
    "DriftAlerts",
    "Environment",
    "ImportResult",
    "InboxWorker",
    "NetSuiteClient",
    "NswooError",
    "OrderSync",
    "Pager",
    "Secret",
    "Settings",
    "StockSync",
    "StockSyncReport",
    "StorageError",
    "SyncReport",
    "WebhookError",
    "WebhookReceiver",
    "WooClient",
    "__version__",
    "asgi_app",
    "diff_snapshots",
    "errors",
    "from_env",
    "load_config",
    "open_netsuite",
    "open_store",
    "parse_config",
    "take_snapshot",
    "verify_delivery",
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
