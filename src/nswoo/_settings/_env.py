"""Environment-safe settings: what each system is, where it lives, and how to reach it.

Only `from_env` reads `os.environ`. Everything here is a frozen attrs value; secrets are held
in `Secret`, whose `repr` and `str` are redacted.

`from_env(environment)` reads environment-named variables only (`NS_PROD_*`,
`NS_SANDBOX_*`, `WOO_PROD_*`, `WOO_SANDBOX_*`, `NSWOO_PROD_*`, `NSWOO_SANDBOX_*`) and
refuses, in one `SettingsRefused` listing every problem at once:

- unprefixed variables (`NS_ACCOUNT_ID`, `WOO_URL`, ...), which could belong to either
  environment, and unknown prefixed ones (typos), naming the closest known variable;
- an account id that does not match its environment (production must not end in `_SB<n>`,
  sandbox must), a base-URL override that leaves the account's own host for anything but
  loopback, and production and sandbox sharing an account or a store URL;
- incomplete or ambiguous credentials, malformed numbers and URLs.

A refusal never repeats a value whole, not even of a non-secret variable: a secret pasted
into the wrong variable (a consumer secret into `NS_PROD_CONCURRENCY`) would otherwise be
printed on the terminal and in CI logs. `shown_value` gives at most its first four
characters and its length.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, TypeVar, get_args
from urllib.parse import urlsplit

import attrs

from ..errors import ConfigurationError
from ._backends import BackendKind, backend_problem
from ._urls import is_loopback_host, normalise_site_url, redact_url, same_site, url_problem

__all__ = [
    "AuthKind",
    "Environment",
    "M2MCredentials",
    "NetSuiteAuth",
    "NetSuiteSettings",
    "OAuth2Credentials",
    "Secret",
    "Settings",
    "SettingsRefused",
    "TbaCredentials",
    "WooSettings",
    "account_host",
    "from_env",
    "is_sandbox_account",
    "shown_path",
    "shown_value",
]

Environment = Literal["prod", "sandbox"]
AuthKind = Literal["m2m", "oauth2", "tba"]
_V = TypeVar("_V")

_REDACTED = "**********"
_SHOWN_CHARS = 4


def shown_value(value: str) -> str:
    """How a refused value appears in a message: its first 4 characters and its length.

    The value may be a secret pasted into the wrong variable, so it is never repeated whole;
    the prefix and the length are enough to recognise what was set. Values of at most 4
    characters are shown whole.

    Example:
        >>> shown_value("sk_live_51HxQ2eZvKYlo2C")
        "'sk_l...' (23 characters)"
        >>> shown_value("ten")
        "'ten'"
    """
    if len(value) <= _SHOWN_CHARS:
        return repr(value)
    return f"{value[:_SHOWN_CHARS] + '...'!r} ({len(value)} characters)"


def shown_path(path: str, *, suffixes: tuple[str, ...]) -> str:
    """A file path for a message: whole when it ends in one of `suffixes` (it is evidently a
    file name, e.g. `nswoo.toml`), else as `shown_value` (it may be a pasted secret)."""
    if path.lower().endswith(suffixes) and len(path) <= 4096:
        return path
    return shown_value(path)


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


class SettingsRefused(ConfigurationError):
    """Settings or mapping configuration refused, with every problem found, not just the first.

    Attributes:
        problems: one line per problem, each `"<variable or key>: <what is wrong>"`.
        keys: the variable or key of each problem, in the same order.
        details: the same as `(key, what is wrong)` pairs, to merge into another refusal.
        key: the first of `keys` (as on every `ConfigurationError`).

    Messages name variables and keys, never a secret value.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        if not problems:
            raise ValueError("SettingsRefused needs at least one problem")
        self.details: tuple[tuple[str, str], ...] = tuple(problems)
        self.keys: tuple[str, ...] = tuple(key for key, _ in problems)
        self.problems: tuple[str, ...] = tuple(f"{key}: {text}" for key, text in problems)
        if len(problems) == 1:
            super().__init__(problems[0][1], key=problems[0][0])
        else:
            listing = "\n".join(f"  - {line}" for line in self.problems)
            super().__init__(f"{len(problems)} problems:\n{listing}")
            self.key = self.keys[0]


# ---------------------------------------------------------------------------------------------
# Credentials and per-system settings


@attrs.frozen
class M2MCredentials:
    """OAuth 2.0 client credentials (machine-to-machine): a JWT assertion signed with a key.

    `certificate_id` becomes the JWT header `kid`; `private_key` is the PEM text of the key
    (read from `NS_<ENV>_PRIVATE_KEY_FILE` by `from_env`). `algorithm` is PS256 or ES256
    (`NS_<ENV>_JWT_ALGORITHM`); None (the default) signs with the one the key's type says:
    PS256 for an RSA key, ES256 for an EC key on P-256 (never RS256). Given explicitly, a
    key of the other type is refused. Reference: netsuite.md §1c.
    """

    client_id: str
    certificate_id: str
    private_key: Secret = attrs.field(repr=False)
    algorithm: Literal["PS256", "ES256"] | None = None
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

# netsuite.md §2: "the regex `(?i)_SB\d+$` on the account ID ... matches sandboxes"; the
# host form swaps `_` for `-`, and people paste either, so both separators are accepted.
_SANDBOX_ID = re.compile(r"[_-]SB\d+$", re.IGNORECASE)
# netsuite.md §2: ids are not digits only (`TSTDRV123`, `MSTRWLFCANADA`), so letters are
# allowed; `_` and `-` occur in sandbox ids. Nothing else may reach a host name or a realm.
_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_SUITETALK_HOST = re.compile(r"^([a-z0-9-]+)\.suitetalk\.api\.netsuite\.com$")


def account_host(account_id: str) -> str:
    """`1234567_SB1` → `1234567-sb1` (the host label NetSuite uses for an account id)."""
    # netsuite.md §2: lower-case, `_` replaced by `-` (the form three public clients build).
    return account_id.lower().replace("_", "-")


def is_sandbox_account(account_id: str) -> bool:
    """Whether an account id names a sandbox (`1234567_SB1`, `1234567-sb2`; netsuite.md §2)."""
    return _SANDBOX_ID.search(account_id) is not None


@attrs.frozen
class NetSuiteSettings:
    """How to reach one NetSuite account.

    `account_id` is canonical: upper case with underscores (`1234567_SB1`), the realm form.
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

    @property
    def auth_kind(self) -> AuthKind:
        """`m2m`, `oauth2` or `tba`: which kind of credentials `auth` holds."""
        if isinstance(self.auth, M2MCredentials):
            return "m2m"
        if isinstance(self.auth, OAuth2Credentials):
            return "oauth2"
        return "tba"


@attrs.frozen
class WooSettings:
    """How to reach one WooCommerce store (`url` is the site root, e.g. `https://shop.example`).

    `url` is normalised: lower-case scheme and host, no default port, no trailing slash.
    """

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
    Both may carry a password, so their `repr` masks it.
    """

    environment: Environment
    netsuite: NetSuiteSettings | None
    woocommerce: WooSettings | None
    store_url: str = attrs.field(repr=lambda url: repr(redact_url(url)))
    limiter_url: str = attrs.field(default="local", repr=lambda url: repr(redact_url(url)))
    config_path: str | None = None

    def require_netsuite(self) -> NetSuiteSettings:
        """The NetSuite settings, or a `ConfigurationError` naming the variable to set."""
        return self._required(
            self.netsuite,
            "NS",
            "ACCOUNT_ID",
            "NetSuite is not configured: set it and the credentials",
        )

    def require_woocommerce(self) -> WooSettings:
        """The WooCommerce settings, or a `ConfigurationError` naming the variable to set."""
        return self._required(
            self.woocommerce,
            "WOO",
            "URL",
            "WooCommerce is not configured: set it and the consumer key/secret",
        )

    def require_config_path(self) -> str:
        """The mapping file's path, or a `ConfigurationError` naming the variable to set."""
        return self._required(
            self.config_path, "NSWOO", "CONFIG", "is required: point it at the TOML mapping file"
        )

    def _required(self, value: _V | None, system: str, suffix: str, message: str) -> _V:
        if not value:
            raise ConfigurationError(message, key=f"{system}_{self.environment.upper()}_{suffix}")
        return value


# ---------------------------------------------------------------------------------------------
# Reading the environment

_ENV_PREFIX: dict[Environment, str] = {"prod": "PROD", "sandbox": "SANDBOX"}
_SYSTEMS = ("NS", "WOO", "NSWOO")

_M2M = ("CLIENT_ID", "CERTIFICATE_ID", "PRIVATE_KEY_FILE|PRIVATE_KEY")
_OAUTH2 = ("CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN")
_TBA = ("CONSUMER_KEY", "CONSUMER_SECRET", "TOKEN_ID", "TOKEN_SECRET")
_AUTH_SETS: dict[AuthKind, tuple[str, ...]] = {"m2m": _M2M, "oauth2": _OAUTH2, "tba": _TBA}

_KNOWN_SUFFIXES: dict[str, tuple[str, ...]] = {
    "NS": (
        "ACCOUNT_ID",
        "BASE_URL",
        "AUTH",
        "CLIENT_ID",
        "CERTIFICATE_ID",
        "PRIVATE_KEY_FILE",
        "PRIVATE_KEY",
        "JWT_ALGORITHM",
        "SCOPES",
        "CLIENT_SECRET",
        "REFRESH_TOKEN",
        "CONSUMER_KEY",
        "CONSUMER_SECRET",
        "TOKEN_ID",
        "TOKEN_SECRET",
        "CONCURRENCY",
        "TIMEOUT",
    ),
    "WOO": ("URL", "CONSUMER_KEY", "CONSUMER_SECRET", "WEBHOOK_SECRET", "CONCURRENCY", "TIMEOUT"),
    "NSWOO": ("STORE", "LIMITER", "CONFIG"),
}
# NSWOO_ENV picks the CLI's environment; NSWOO_TEST_* point the test suite at services.
_GLOBAL_NSWOO = re.compile(r"^NSWOO_(ENV|TEST_.*)$")
# netsuite.md §1c: Oracle lists PS256/384/512 and ES256/384/512; nswoo signs PS256 or ES256.
_JWT_ALGORITHMS = ("PS256", "ES256")
_SCOPES = ("restlets", "rest_webservices", "suite_analytics")
# Names a private key file usually has; another path is shown only in part in messages.
_KEY_FILE_SUFFIXES = (".pem", ".key", ".p8")


class _Problems:
    """Collects (variable, message) pairs so one error can list them all."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, key: str, message: str) -> None:
        self.items.append((key, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise SettingsRefused(self.items)


class _Reader:
    """Reads one environment's variables; an empty value counts as unset."""

    def __init__(self, environ: Mapping[str, str], environment: Environment) -> None:
        self.environ = environ
        self.env = _ENV_PREFIX[environment]

    def name(self, system: str, suffix: str) -> str:
        return f"{system}_{self.env}_{suffix}"

    def get(self, system: str, suffix: str) -> str | None:
        value = self.environ.get(self.name(system, suffix), "").strip()
        return value or None

    def any_set(self, system: str) -> bool:
        return any(self.get(system, suffix) for suffix in _KNOWN_SUFFIXES[system])


def from_env(environment: str, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings of one environment from environment-named variables.

    Args:
        environment: `"prod"` or `"sandbox"` (case-insensitive).
        environ: the variables to read; `os.environ` when None.

    Returns:
        The settings; `netsuite` or `woocommerce` is None when none of that system's
        variables is set (the caller decides what it needs).

    Raises:
        SettingsRefused: listing every problem found (a `ConfigurationError` whose `key` is
            the first offending variable). Messages never contain a secret value.
    """
    env_name = environment.strip().lower()
    if env_name not in get_args(Environment):
        raise SettingsRefused([("environment", "must be 'prod' or 'sandbox'")])
    env: Environment = "prod" if env_name == "prod" else "sandbox"
    source: Mapping[str, str] = os.environ if environ is None else environ
    problems = _Problems()
    _check_names(source, problems)
    read = _Reader(source, env)
    netsuite = _netsuite(read, env, problems) if read.any_set("NS") else None
    woocommerce = _woocommerce(read, env, problems) if read.any_set("WOO") else None
    _check_cross_environment(source, env, problems)
    store_url = _store(read, env, problems)
    limiter_url = _limiter(read, problems)
    config_path = read.get("NSWOO", "CONFIG")
    problems.raise_if_any()
    return Settings(
        environment=env,
        netsuite=netsuite,
        woocommerce=woocommerce,
        store_url=store_url,
        limiter_url=limiter_url,
        config_path=config_path,
    )


def _check_names(environ: Mapping[str, str], problems: _Problems) -> None:
    """Refuse unprefixed variables and unknown (mistyped) prefixed ones, in both environments."""
    for name in sorted(environ):
        if not environ[name].strip():
            continue
        system, _, rest = name.partition("_")
        if system not in _SYSTEMS or not rest:
            continue
        if system == "NSWOO" and _GLOBAL_NSWOO.match(name):
            continue
        env, _, suffix = rest.partition("_")
        known = _KNOWN_SUFFIXES[system]
        if env in _ENV_PREFIX.values() and suffix:
            if suffix not in known:
                candidates = [f"{system}_{env}_{s}" for s in known]
                close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]}?" if close else "see docs/configuration.md"
                problems.add(name, f"is not a variable nswoo knows: {hint}")
            continue
        # Unprefixed: it could belong to either environment, which is how sandbox
        # credentials end up talking to production. Name the forms that are read.
        close = difflib.get_close_matches(rest, known, n=1, cutoff=0.6)
        if close:
            prod, sandbox = f"{system}_PROD_{close[0]}", f"{system}_SANDBOX_{close[0]}"
            problems.add(name, f"is not read: set {prod} or {sandbox}")
        elif system != "NSWOO":
            problems.add(
                name,
                f"is not read: nswoo reads only {system}_PROD_* and {system}_SANDBOX_* variables",
            )


def _account_id(read: _Reader, env: Environment, problems: _Problems) -> str | None:
    key = read.name("NS", "ACCOUNT_ID")
    raw = read.get("NS", "ACCOUNT_ID")
    if raw is None:
        problems.add(key, "is required when any NetSuite variable is set")
        return None
    if not _ACCOUNT_ID.match(raw):
        problems.add(key, "may contain only letters, digits, '_' and '-'")
        return None
    # netsuite.md §2: the id encodes the account type; sandbox ids end in _SB<n>.
    if env == "prod" and is_sandbox_account(raw):
        problems.add(
            key,
            f"is a sandbox account id (it ends in _SB<n>, got {shown_value(raw)}); production "
            "ids do not: set it as NS_SANDBOX_ACCOUNT_ID and use --env sandbox",
        )
        return None
    if env == "sandbox" and not is_sandbox_account(raw):
        problems.add(
            key,
            f"is not a sandbox account id (sandbox ids end in _SB<n>, e.g. 1234567_SB1; got "
            f"{shown_value(raw)}): set production ids as NS_PROD_ACCOUNT_ID and use --env prod",
        )
        return None
    return raw.upper().replace("-", "_")


def _base_url(read: _Reader, account_id: str, problems: _Problems) -> str:
    derived = f"https://{account_host(account_id)}.suitetalk.api.netsuite.com"
    raw = read.get("NS", "BASE_URL")
    if raw is None:
        return derived
    key = read.name("NS", "BASE_URL")
    problem = url_problem(raw)
    if problem is not None:
        problems.add(key, problem)
        return derived
    host = (urlsplit(raw).hostname or "").lower()
    if is_loopback_host(host):
        return raw.rstrip("/")
    # netsuite.md §9: the realm and the host must come from the same account id; a token for
    # one account sent to another's host fails, and a shared integration record means the
    # client id cannot tell the two apart. So the only non-loopback host allowed is the
    # account's own.
    expected = f"{account_host(account_id)}.suitetalk.api.netsuite.com"
    if host != expected:
        other = _SUITETALK_HOST.match(host)
        if other:
            kind = "a sandbox" if _SANDBOX_ID.search(other.group(1)) else "a production"
            problems.add(
                key,
                f"points at {kind} account's host {host}, but the account id is "
                f"{account_id}: the host must be {expected} (or a loopback address)",
            )
        else:
            problems.add(
                key,
                f"must be a loopback address (localhost, 127.0.0.0/8, ::1) or {expected}",
            )
        return derived
    return raw.rstrip("/")


def _positive_int(read: _Reader, system: str, suffix: str, default: int, p: _Problems) -> int:
    raw = read.get(system, suffix)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        p.add(read.name(system, suffix), f"must be a positive integer, got {shown_value(raw)}")
        return default
    return value


def _positive_float(read: _Reader, system: str, suffix: str, default: float, p: _Problems) -> float:
    raw = read.get(system, suffix)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        p.add(
            read.name(system, suffix),
            f"must be a positive number of seconds, got {shown_value(raw)}",
        )
        return default
    return value


def _netsuite(read: _Reader, env: Environment, problems: _Problems) -> NetSuiteSettings | None:
    before = len(problems.items)
    account_id = _account_id(read, env, problems)
    auth = _auth(read, problems)
    concurrency = _positive_int(read, "NS", "CONCURRENCY", 5, problems)
    timeout = _positive_float(read, "NS", "TIMEOUT", 30.0, problems)
    base_url = _base_url(read, account_id, problems) if account_id else ""
    if account_id is None or auth is None or len(problems.items) > before:
        return None
    return NetSuiteSettings(
        environment=env,
        account_id=account_id,
        auth=auth,
        base_url=base_url,
        concurrency=concurrency,
        timeout=timeout,
    )


def _present(read: _Reader, spec: str) -> bool:
    return any(read.get("NS", part) for part in spec.split("|"))


def _missing(read: _Reader, kind: AuthKind) -> list[str]:
    return [
        " or ".join(read.name("NS", part) for part in spec.split("|"))
        for spec in _AUTH_SETS[kind]
        if not _present(read, spec)
    ]


def _auth(read: _Reader, problems: _Problems) -> NetSuiteAuth | None:
    key = read.name("NS", "AUTH")
    raw = read.get("NS", "AUTH")
    kind: AuthKind
    if raw is not None:
        chosen = raw.lower()
        if chosen == "m2m":
            kind = "m2m"
        elif chosen == "oauth2":
            kind = "oauth2"
        elif chosen == "tba":
            kind = "tba"
        else:
            problems.add(key, f"must be m2m, oauth2 or tba, got {shown_value(raw)}")
            return None
        missing = _missing(read, kind)
        if missing:
            problems.add(
                missing[0].split(" or ")[0], f"{key}={kind} also needs " + ", ".join(missing)
            )
            return None
    else:
        complete = [k for k in _AUTH_SETS if not _missing(read, k)]
        if len(complete) > 1:
            problems.add(
                key,
                f"credentials for {' and '.join(complete)} are all set: choose one with "
                f"{key}={'|'.join(complete)}",
            )
            return None
        if not complete:
            started = [k for k in _AUTH_SETS if len(_missing(read, k)) < len(_AUTH_SETS[k])]
            if not started:
                problems.add(
                    key,
                    "no NetSuite credentials are set: set the m2m, oauth2 or tba variables "
                    "(see docs/configuration.md)",
                )
                return None
            for k in started:
                missing = _missing(read, k)
                problems.add(
                    missing[0].split(" or ")[0],
                    f"incomplete {k} credentials: also set {', '.join(missing)}",
                )
            return None
        kind = complete[0]
    return _credentials(read, kind, problems)


def _credentials(read: _Reader, kind: AuthKind, problems: _Problems) -> NetSuiteAuth | None:
    def value(suffix: str) -> str:
        return read.get("NS", suffix) or ""

    if kind == "oauth2":
        return OAuth2Credentials(
            client_id=value("CLIENT_ID"),
            client_secret=Secret(value("CLIENT_SECRET")),
            refresh_token=Secret(value("REFRESH_TOKEN")),
        )
    if kind == "tba":
        return TbaCredentials(
            consumer_key=value("CONSUMER_KEY"),
            consumer_secret=Secret(value("CONSUMER_SECRET")),
            token_id=value("TOKEN_ID"),
            token_secret=Secret(value("TOKEN_SECRET")),
        )
    before = len(problems.items)
    key = _private_key(read, problems)
    algorithm = _algorithm(read, problems)
    scopes = _scopes(read, problems)
    if key is None or scopes is None or len(problems.items) > before:
        return None
    return M2MCredentials(
        client_id=value("CLIENT_ID"),
        certificate_id=value("CERTIFICATE_ID"),
        private_key=key,
        algorithm=algorithm,
        scopes=scopes,
    )


def _private_key(read: _Reader, problems: _Problems) -> Secret | None:
    file_key = read.name("NS", "PRIVATE_KEY_FILE")
    text_key = read.name("NS", "PRIVATE_KEY")
    path = read.get("NS", "PRIVATE_KEY_FILE")
    text = read.get("NS", "PRIVATE_KEY")
    if path is not None and text is not None:
        problems.add(file_key, f"and {text_key} are both set: keep one")
        return None
    if path is not None:
        if "PRIVATE KEY" in path or "-----BEGIN" in path or "\n" in path or "\\n" in path:
            # Key text pasted into the file variable: never repeat it, say where it goes.
            problems.add(file_key, f"holds key text, not a file path: put the key in {text_key}")
            return None
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            # The file's content never reaches a message, and the path only whole when it
            # is evidently a key file's name: the variable may hold a pasted secret.
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
            shown = shown_path(path, suffixes=_KEY_FILE_SUFFIXES)
            problems.add(file_key, f"cannot read {shown}: {reason}")
            return None
        source = file_key
    else:
        source = text_key
    if text is None:  # pragma: no cover - the auth check required one of the two
        return None
    if "\n" not in text and "\\n" in text:
        # A PEM pasted into a one-line variable (.env files, CI secrets) keeps `\n` escapes.
        text = text.replace("\\n", "\n")
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        problems.add(
            source, "is not a PEM private key (expected '-----BEGIN ... PRIVATE KEY-----')"
        )
        return None
    return Secret(text)


def _algorithm(read: _Reader, problems: _Problems) -> Literal["PS256", "ES256"] | None:
    """The algorithm set, or None: unset (the key's type decides) or refused (a problem)."""
    raw = read.get("NS", "JWT_ALGORITHM")
    if raw is None:
        return None
    value = raw.upper()
    if value == "PS256":
        return "PS256"
    if value == "ES256":
        return "ES256"
    key = read.name("NS", "JWT_ALGORITHM")
    if value == "RS256":
        # netsuite.md §1c: Oracle's list holds only PS* and ES*; RSA PKCS#1 v1.5 signatures
        # are no longer accepted for client-credentials assertions.
        problems.add(
            key,
            "RS256 is refused: NetSuite no longer accepts RSA PKCS#1 v1.5 signatures; "
            "use PS256 (same RSA key) or ES256",
        )
    else:
        problems.add(key, f"must be PS256 or ES256, got {shown_value(raw)}")
    return None


def _scopes(read: _Reader, problems: _Problems) -> tuple[str, ...] | None:
    raw = read.get("NS", "SCOPES")
    if raw is None:
        return ("rest_webservices",)
    scopes = tuple(s.strip() for s in raw.split(",") if s.strip())
    unknown = [s for s in scopes if s not in _SCOPES]
    if not scopes or unknown:
        # netsuite.md §1b/§1c: restlets, rest_webservices, suite_analytics.
        problems.add(
            read.name("NS", "SCOPES"),
            "must be a comma list of " + ", ".join(_SCOPES),
        )
        return None
    return scopes


def _woocommerce(read: _Reader, env: Environment, problems: _Problems) -> WooSettings | None:
    before = len(problems.items)
    missing = [
        read.name("WOO", s)
        for s in ("URL", "CONSUMER_KEY", "CONSUMER_SECRET")
        if not read.get("WOO", s)
    ]
    for name in missing:
        problems.add(name, "is required when any WooCommerce variable is set")
    url = ""
    raw = read.get("WOO", "URL")
    if raw is not None:
        # woocommerce.md §1: Basic auth is only tried over HTTPS, and keys sent in the
        # clear over a network are keys given away; plain http is for loopback only.
        problem = url_problem(raw)
        if problem is not None:
            problems.add(read.name("WOO", "URL"), problem)
        url = normalise_site_url(raw) or ""
    concurrency = _positive_int(read, "WOO", "CONCURRENCY", 4, problems)
    timeout = _positive_float(read, "WOO", "TIMEOUT", 30.0, problems)
    if len(problems.items) > before:
        return None
    webhook_secret = read.get("WOO", "WEBHOOK_SECRET")
    return WooSettings(
        environment=env,
        url=url,
        consumer_key=Secret(read.get("WOO", "CONSUMER_KEY") or ""),
        consumer_secret=Secret(read.get("WOO", "CONSUMER_SECRET") or ""),
        webhook_secret=Secret(webhook_secret) if webhook_secret else None,
        concurrency=concurrency,
        timeout=timeout,
    )


def _check_cross_environment(
    environ: Mapping[str, str], env: Environment, problems: _Problems
) -> None:
    """Refuse production and sandbox sharing a NetSuite account or a WooCommerce store."""
    this, other = _Reader(environ, env), _Reader(environ, "sandbox" if env == "prod" else "prod")
    urls = [r.get("WOO", "URL") for r in (this, other)]
    if urls[0] and urls[1] and same_site(urls[0], urls[1]):
        problems.add(
            this.name("WOO", "URL"),
            f"is the same store as {other.name('WOO', 'URL')}: production and sandbox "
            "must not share a WooCommerce store",
        )
    ids = [r.get("NS", "ACCOUNT_ID") for r in (this, other)]
    if ids[0] and ids[1] and ids[0].upper().replace("-", "_") == ids[1].upper().replace("-", "_"):
        problems.add(
            this.name("NS", "ACCOUNT_ID"),
            f"is the same account as {other.name('NS', 'ACCOUNT_ID')}: production and sandbox "
            "must be different NetSuite accounts",
        )


def _store(read: _Reader, env: Environment, problems: _Problems) -> str:
    return _backend_url(read, "STORE", "store", f"sqlite:///nswoo-{env}.db", problems)


def _limiter(read: _Reader, problems: _Problems) -> str:
    return _backend_url(read, "LIMITER", "limiter", "local", problems)


def _backend_url(
    read: _Reader, suffix: str, kind: BackendKind, default: str, problems: _Problems
) -> str:
    """A store or limiter URL the backend registry knows (the scheme and its own rule)."""
    raw = read.get("NSWOO", suffix)
    if raw is None:
        return default
    problem = backend_problem(kind, raw)
    if problem is not None:
        problems.add(read.name("NSWOO", suffix), problem)
        return default
    return raw
