"""Settings and configuration types: what `from_env` and `load_config` return and hold.

`nswoo` exports the entry points (`from_env`, `load_config`, `parse_config`, `Settings`,
`Config`, `Environment`, `Secret`); this module also names the parts they are made of, for
annotations and for building settings in code.
"""

from __future__ import annotations

from ._settings import (
    Config,
    CustomerStrategy,
    EmailTarget,
    Environment,
    InventoryConfig,
    M2MCredentials,
    NetSuiteSettings,
    NotifyConfig,
    OAuth2Credentials,
    OfficeHours,
    OrdersConfig,
    OwnerRule,
    ReconcileConfig,
    ReconcileTolerance,
    Secret,
    Settings,
    SettingsRefused,
    TbaCredentials,
    WebhooksConfig,
    WooSettings,
    from_env,
    load_config,
    parse_config,
)

__all__ = [
    "Config",
    "CustomerStrategy",
    "EmailTarget",
    "Environment",
    "InventoryConfig",
    "M2MCredentials",
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
]
