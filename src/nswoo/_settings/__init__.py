"""Settings: the environment variables and their guard, and the TOML mapping configuration.

`_env` reads and checks the environment-named variables; `_mapping` reads the TOML file. This
package re-exports what the rest of nswoo imports.
"""

from __future__ import annotations

from ._env import Environment as Environment
from ._env import M2MCredentials as M2MCredentials
from ._env import NetSuiteAuth as NetSuiteAuth
from ._env import NetSuiteSettings as NetSuiteSettings
from ._env import OAuth2Credentials as OAuth2Credentials
from ._env import Secret as Secret
from ._env import Settings as Settings
from ._env import SettingsRefused as SettingsRefused
from ._env import TbaCredentials as TbaCredentials
from ._env import WooSettings as WooSettings
from ._env import from_env as from_env
from ._mapping import Config as Config
from ._mapping import CustomerStrategy as CustomerStrategy
from ._mapping import EmailTarget as EmailTarget
from ._mapping import InventoryConfig as InventoryConfig
from ._mapping import NotifyConfig as NotifyConfig
from ._mapping import OfficeHours as OfficeHours
from ._mapping import OrdersConfig as OrdersConfig
from ._mapping import OwnerRule as OwnerRule
from ._mapping import ReconcileConfig as ReconcileConfig
from ._mapping import ReconcileTolerance as ReconcileTolerance
from ._mapping import WebhooksConfig as WebhooksConfig
from ._mapping import load_config as load_config
from ._mapping import parse_config as parse_config
from ._urls import redact_url as redact_url

__all__ = [
    "Config",
    "CustomerStrategy",
    "EmailTarget",
    "Environment",
    "InventoryConfig",
    "M2MCredentials",
    "NetSuiteAuth",
    "NetSuiteSettings",
    "NotifyConfig",
    "OAuth2Credentials",
    "OfficeHours",
    "OrdersConfig",
    "OwnerRule",
    "ReconcileConfig",
    "ReconcileTolerance",
    "Secret",
    "Settings",
    "SettingsRefused",
    "TbaCredentials",
    "WebhooksConfig",
    "WooSettings",
    "from_env",
    "load_config",
    "parse_config",
    "redact_url",
]
