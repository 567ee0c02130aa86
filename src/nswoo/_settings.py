"""Environment-safe settings: what each system is, where it lives, and how to reach it.

Only `from_env` reads `os.environ`. Everything here is a frozen attrs value; secrets are held
in `Secret`, whose `repr` and `str` are redacted.
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = [
    "Environment",
    "M2MCredentials",
    "NetSuiteAuth",
    "NetSuiteSettings",
    "OAuth2Credentials",
    "Secret",
    "Settings",
    "TbaCredentials",
    "WooSettings",
]

Environment = Literal["prod", "sandbox"]

_REDACTED = "**********"


@attrs.frozen(repr=False, eq=True)
class Secret:
    """A secret string: `repr` and `str` never show it; call `reveal()` where it is used.

    Example:
        >>> s = Secret("cs_live_123")
        >>> s
        Secret('**********')
        >>> s.reveal()
        'cs_live_123'
    """

    _value: str

    def reveal(self) -> str:
        """Return the secret itself. Call it only where the value is sent or signed."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_REDACTED!r})"

    def __str__(self) -> str:
        return _REDACTED

    def __bool__(self) -> bool:
        return bool(self._value)


@attrs.frozen
class M2MCredentials:
    """OAuth 2.0 client credentials (machine-to-machine): a JWT assertion signed with a key.

    `certificate_id` becomes the JWT header `kid`; `algorithm` is PS256 (default) or ES256.
    """

    client_id: str
    certificate_id: str
    private_key: Secret = attrs.field(repr=False)
    algorithm: Literal["PS256", "ES256"] = "PS256"
    scopes: tuple[str, ...] = ("rest_webservices",)


@attrs.frozen
class OAuth2Credentials:
    """OAuth 2.0 authorization-code integration: refresh-token grant with HTTP Basic."""

    client_id: str
    client_secret: Secret = attrs.field(repr=False)
    refresh_token: Secret = attrs.field(repr=False)


@attrs.frozen
class TbaCredentials:
    """Token-based authentication (OAuth 1.0a, HMAC-SHA256)."""

    consumer_key: str
    consumer_secret: Secret = attrs.field(repr=False)
    token_id: str = ""
    token_secret: Secret = attrs.field(repr=False, default=Secret(""))


NetSuiteAuth = M2MCredentials | OAuth2Credentials | TbaCredentials


def account_host(account_id: str) -> str:
    """`1234567_SB1` → `1234567-sb1` (the host label NetSuite uses for an account id)."""
    return account_id.lower().replace("_", "-")


@attrs.frozen
class NetSuiteSettings:
    """How to reach one NetSuite account.

    `base_url` is `https://<account-host>.suitetalk.api.netsuite.com` unless overridden
    (loopback proxies and simulators only).
    """

    environment: Environment
    account_id: str
    auth: NetSuiteAuth
    base_url: str
    concurrency: int = 5
    timeout: float = 30.0

    @property
    def realm(self) -> str:
        """The OAuth 1.0a realm: the account id upper-case with underscores (`1234567_SB1`)."""
        return self.account_id.upper().replace("-", "_")

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint of this account."""
        return f"{self.base_url.rstrip('/')}/services/rest/auth/oauth2/v1/token"


@attrs.frozen
class WooSettings:
    """How to reach one WooCommerce store (`url` is the site root, e.g. `https://shop.example`)."""

    environment: Environment
    url: str
    consumer_key: Secret = attrs.field(repr=False)
    consumer_secret: Secret = attrs.field(repr=False)
    webhook_secret: Secret | None = attrs.field(repr=False, default=None)
    concurrency: int = 4
    timeout: float = 30.0

    @property
    def api_url(self) -> str:
        """The wc/v3 REST root: `<url>/wp-json/wc/v3`."""
        return f"{self.url.rstrip('/')}/wp-json/wc/v3"


@attrs.frozen
class Settings:
    """Everything `from_env(environment)` found for one environment.

    `netsuite` / `woocommerce` are None when that system is not configured at all.
    `store_url` is `sqlite:///…` or `postgresql://…`; `limiter_url` is `local` or `redis://…`.
    """

    environment: Environment
    netsuite: NetSuiteSettings | None
    woocommerce: WooSettings | None
    store_url: str
    limiter_url: str = "local"
    config_path: str | None = None
