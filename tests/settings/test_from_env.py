"""from_env: environment-named variables only, environment guards, credentials, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from nswoo._settings import (
    M2MCredentials,
    OAuth2Credentials,
    SettingsRefused,
    TbaCredentials,
    from_env,
)
from nswoo.errors import ConfigurationError

PEM = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


def sandbox(**extra: str) -> dict[str, str]:
    """A complete sandbox configuration (oauth2 + store), overridden by `extra`."""
    env = {
        "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
        "NS_SANDBOX_CLIENT_ID": "client-id",
        "NS_SANDBOX_CLIENT_SECRET": "client-secret",
        "NS_SANDBOX_REFRESH_TOKEN": "refresh-token",
        "WOO_SANDBOX_URL": "https://staging.shop.example",
        "WOO_SANDBOX_CONSUMER_KEY": "ck_test",
        "WOO_SANDBOX_CONSUMER_SECRET": "cs_test",
    }
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def prod(**extra: str) -> dict[str, str]:
    """A complete production configuration (tba + store), overridden by `extra`."""
    env = {
        "NS_PROD_ACCOUNT_ID": "1234567",
        "NS_PROD_CONSUMER_KEY": "consumer-key",
        "NS_PROD_CONSUMER_SECRET": "consumer-secret",
        "NS_PROD_TOKEN_ID": "token-id",
        "NS_PROD_TOKEN_SECRET": "token-secret",
        "WOO_PROD_URL": "https://shop.example",
        "WOO_PROD_CONSUMER_KEY": "ck_live",
        "WOO_PROD_CONSUMER_SECRET": "cs_live",
    }
    env.update(extra)
    return env


def without(env: dict[str, str], *names: str) -> dict[str, str]:
    """`env` minus `names`."""
    return {k: v for k, v in env.items() if k not in names}


def refused(environment: str, env: dict[str, str]) -> SettingsRefused:
    """Run from_env and return the refusal it must raise."""
    with pytest.raises(SettingsRefused) as info:
        from_env(environment, env)
    return info.value


# ---------------------------------------------------------------------------------------------
# A good configuration


def test_complete_sandbox_settings_are_read_with_defaults() -> None:
    """A complete sandbox configuration yields both systems with the documented defaults."""
    settings = from_env("sandbox", sandbox())
    assert settings.environment == "sandbox"
    ns = settings.netsuite
    assert ns is not None
    assert ns.account_id == "1234567_SB1"
    assert ns.base_url == "https://1234567-sb1.suitetalk.api.netsuite.com"
    assert ns.auth_kind == "oauth2"
    assert isinstance(ns.auth, OAuth2Credentials)
    assert ns.auth.refresh_token.reveal() == "refresh-token"
    assert (ns.concurrency, ns.timeout) == (5, 30.0)
    woo = settings.woocommerce
    assert woo is not None
    assert woo.url == "https://staging.shop.example"
    assert woo.consumer_secret.reveal() == "cs_test"
    assert woo.webhook_secret is None
    assert (woo.concurrency, woo.timeout) == (4, 30.0)
    assert settings.store_url == "sqlite:///nswoo-sandbox.db"
    assert settings.limiter_url == "local"
    assert settings.config_path is None


def test_environment_name_is_case_insensitive_and_validated() -> None:
    """`PROD` reads production; anything but prod/sandbox is refused."""
    assert from_env("PROD", prod()).environment == "prod"
    assert refused("staging", prod()).key == "environment"


def test_production_accepts_non_numeric_account_ids() -> None:
    """Developer accounts such as TSTDRV123 are production-style ids (netsuite.md §2)."""
    settings = from_env("prod", prod(NS_PROD_ACCOUNT_ID="tstdrv123"))
    assert settings.netsuite is not None
    assert settings.netsuite.account_id == "TSTDRV123"
    assert settings.netsuite.base_url == "https://tstdrv123.suitetalk.api.netsuite.com"


def test_hyphenated_sandbox_id_is_canonicalised_to_the_realm_form() -> None:
    """`1234567-sb2` is stored as `1234567_SB2`; the host uses `1234567-sb2`."""
    settings = from_env("sandbox", sandbox(NS_SANDBOX_ACCOUNT_ID="1234567-sb2"))
    assert settings.netsuite is not None
    assert settings.netsuite.account_id == "1234567_SB2"
    assert settings.netsuite.realm == "1234567_SB2"
    assert settings.netsuite.base_url == "https://1234567-sb2.suitetalk.api.netsuite.com"


def test_neither_system_configured_is_not_an_error() -> None:
    """from_env leaves it to the caller to decide which systems it needs."""
    settings = from_env("prod", {})
    assert settings.netsuite is None
    assert settings.woocommerce is None
    assert settings.store_url == "sqlite:///nswoo-prod.db"


def test_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit mapping, from_env reads os.environ."""
    for name, value in prod().items():
        monkeypatch.setenv(name, value)
    settings = from_env("prod")
    assert settings.netsuite is not None
    assert settings.netsuite.account_id == "1234567"


def test_empty_values_count_as_unset() -> None:
    """An empty variable (common in .env files) neither configures nor is refused."""
    settings = from_env("prod", prod(NS_PROD_BASE_URL="", NS_ACCOUNT_ID="", WOO_SANDBOX_URL=""))
    assert settings.netsuite is not None
    assert settings.netsuite.base_url == "https://1234567.suitetalk.api.netsuite.com"


def test_every_problem_is_listed_and_key_is_the_first() -> None:
    """One refusal lists all problems; `.key` names the first offending variable."""
    error = refused(
        "prod",
        prod(NS_PROD_CONCURRENCY="zero", WOO_PROD_TIMEOUT="-1", WOO_URL="https://x.example"),
    )
    assert set(error.keys) == {"NS_PROD_CONCURRENCY", "WOO_PROD_TIMEOUT", "WOO_URL"}
    assert error.key == error.keys[0]
    assert len(error.problems) == 3
    for key in error.keys:
        assert key in str(error)


# ---------------------------------------------------------------------------------------------
# Variable names


@pytest.mark.parametrize(
    ("name", "prefixed"),
    [
        ("NS_ACCOUNT_ID", "NS_PROD_ACCOUNT_ID or NS_SANDBOX_ACCOUNT_ID"),
        ("NS_CLIENT_ID", "NS_PROD_CLIENT_ID or NS_SANDBOX_CLIENT_ID"),
        ("NS_CONSUMER_KEY", "NS_PROD_CONSUMER_KEY or NS_SANDBOX_CONSUMER_KEY"),
        ("WOO_URL", "WOO_PROD_URL or WOO_SANDBOX_URL"),
        ("WOO_CONSUMER_KEY", "WOO_PROD_CONSUMER_KEY or WOO_SANDBOX_CONSUMER_KEY"),
        ("NSWOO_STORE", "NSWOO_PROD_STORE or NSWOO_SANDBOX_STORE"),
    ],
)
def test_unprefixed_variables_are_refused_naming_the_prefixed_forms(
    name: str, prefixed: str
) -> None:
    """An unprefixed variable could belong to either environment, so it is refused."""
    error = refused("prod", prod(**{name: "value"}))
    assert error.key == name
    assert f"{name}: is not read: set {prefixed}" in str(error)


def test_unprefixed_unknown_variable_is_refused() -> None:
    """Any NS_* variable outside NS_PROD_*/NS_SANDBOX_* is refused, known suffix or not."""
    error = refused("prod", prod(NS_SOMETHING_ELSE="1"))
    assert error.key == "NS_SOMETHING_ELSE"
    assert "NS_PROD_* and NS_SANDBOX_*" in str(error)


def test_global_nswoo_variables_are_not_refused() -> None:
    """NSWOO_ENV (the CLI's environment) and NSWOO_TEST_* are not settings variables."""
    assert from_env("prod", prod(NSWOO_ENV="prod", NSWOO_TEST_PG="postgresql://x")).netsuite


@pytest.mark.parametrize(
    ("typo", "closest"),
    [
        ("NS_PROD_ACOUNT_ID", "NS_PROD_ACCOUNT_ID"),
        ("NS_SANDBOX_CLIENTID", "NS_SANDBOX_CLIENT_ID"),
        ("WOO_PROD_CONSUMER_SECRETS", "WOO_PROD_CONSUMER_SECRET"),
        ("NSWOO_PROD_LIMITTER", "NSWOO_PROD_LIMITER"),
    ],
)
def test_mistyped_prefixed_variables_are_refused_naming_the_closest(
    typo: str, closest: str
) -> None:
    """A typo in either environment is refused with the nearest known name."""
    error = refused("prod", prod(**{typo: "1"}))
    assert error.key == typo
    assert f"did you mean {closest}?" in str(error)


# ---------------------------------------------------------------------------------------------
# Account id and environment


@pytest.mark.parametrize("account", ["1234567_SB1", "1234567-sb2", "1234567_sb10", "ACME_Sb3"])
def test_production_refuses_sandbox_account_ids(account: str) -> None:
    """NS_PROD_ACCOUNT_ID ending in _SB<n> or -sb<n> (any case) is refused (netsuite.md §2)."""
    error = refused("prod", prod(NS_PROD_ACCOUNT_ID=account))
    assert error.key == "NS_PROD_ACCOUNT_ID"
    assert "sandbox account id" in str(error)


@pytest.mark.parametrize("account", ["1234567", "TSTDRV123", "1234567_RP", "1234567SB1"])
def test_sandbox_requires_a_sandbox_account_id(account: str) -> None:
    """NS_SANDBOX_ACCOUNT_ID must end in _SB<n> or -sb<n>."""
    error = refused("sandbox", sandbox(NS_SANDBOX_ACCOUNT_ID=account))
    assert error.key == "NS_SANDBOX_ACCOUNT_ID"
    assert "not a sandbox account id" in str(error)


@pytest.mark.parametrize("account", ["123.456", "12 34", "123/SB1", "_SB1", "12345@x"])
def test_account_id_with_other_characters_is_refused(account: str) -> None:
    """Account ids may hold only letters, digits, '_' and '-' (they become a host name)."""
    error = refused("prod", prod(NS_PROD_ACCOUNT_ID=account))
    assert error.key == "NS_PROD_ACCOUNT_ID"


def test_missing_account_id_is_refused_when_netsuite_is_configured() -> None:
    """Any NetSuite variable set makes NetSuite configured, and then the account is required."""
    error = refused("prod", without(prod(), "NS_PROD_ACCOUNT_ID"))
    assert error.key == "NS_PROD_ACCOUNT_ID"


def test_same_account_in_both_environments_is_refused() -> None:
    """Production and sandbox may not name the same NetSuite account."""
    env = prod(NS_SANDBOX_ACCOUNT_ID="1234567")
    error = refused("prod", env)
    assert error.key == "NS_PROD_ACCOUNT_ID"
    assert "same account as NS_SANDBOX_ACCOUNT_ID" in str(error)


# ---------------------------------------------------------------------------------------------
# Base URL override


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.9.9.9",
        "https://localhost:9443/proxy/",
        "http://[::1]:8080",
        "https://1234567-sb1.suitetalk.api.netsuite.com",
    ],
)
def test_base_url_override_allows_loopback_and_the_accounts_own_host(url: str) -> None:
    """Simulators and proxies on loopback, or the derived host itself, are allowed."""
    settings = from_env("sandbox", sandbox(NS_SANDBOX_BASE_URL=url))
    assert settings.netsuite is not None
    assert settings.netsuite.base_url == url.rstrip("/")


def test_sandbox_base_url_pointing_at_production_host_is_refused() -> None:
    """A sandbox config cannot be pointed at the production account's host (netsuite.md §9)."""
    error = refused(
        "sandbox", sandbox(NS_SANDBOX_BASE_URL="https://1234567.suitetalk.api.netsuite.com")
    )
    assert error.key == "NS_SANDBOX_BASE_URL"
    assert "production account's host" in str(error)


def test_production_base_url_pointing_at_sandbox_host_is_refused() -> None:
    """A production config cannot be pointed at a sandbox host."""
    error = refused("prod", prod(NS_PROD_BASE_URL="https://1234567-sb1.suitetalk.api.netsuite.com"))
    assert error.key == "NS_PROD_BASE_URL"
    assert "sandbox account's host" in str(error)


@pytest.mark.parametrize(
    "url",
    [
        "https://proxy.example.com",
        "http://1234567.suitetalk.api.netsuite.com",
        "https://127.0.0.1.nip.io",
        "ftp://127.0.0.1",
        "https://127.0.0.1/?x=1",
        "https://user:pw@127.0.0.1",
        "not a url",
    ],
)
def test_base_url_override_elsewhere_is_refused(url: str) -> None:
    """Other hosts, plain http off loopback, queries and credentials are refused."""
    error = refused("prod", prod(NS_PROD_BASE_URL=url))
    assert error.key == "NS_PROD_BASE_URL"
    assert "pw" not in str(error)


# ---------------------------------------------------------------------------------------------
# Credentials


def test_auth_is_inferred_from_the_only_complete_set() -> None:
    """With tba variables only, auth is tba."""
    settings = from_env("prod", prod())
    assert settings.netsuite is not None
    assert isinstance(settings.netsuite.auth, TbaCredentials)
    assert settings.netsuite.auth.token_id == "token-id"
    assert settings.netsuite.realm == "1234567"


def test_two_complete_sets_without_auth_are_refused_as_ambiguous() -> None:
    """Complete oauth2 and tba sets with no NS_<ENV>_AUTH is ambiguous."""
    env = prod(NS_PROD_CLIENT_ID="c", NS_PROD_CLIENT_SECRET="s", NS_PROD_REFRESH_TOKEN="r")
    error = refused("prod", env)
    assert error.key == "NS_PROD_AUTH"
    assert "oauth2 and tba" in str(error)


def test_explicit_auth_resolves_ambiguity() -> None:
    """NS_<ENV>_AUTH picks one set when several are present."""
    env = prod(
        NS_PROD_AUTH="oauth2",
        NS_PROD_CLIENT_ID="c",
        NS_PROD_CLIENT_SECRET="s",
        NS_PROD_REFRESH_TOKEN="r",
    )
    settings = from_env("prod", env)
    assert settings.netsuite is not None
    assert settings.netsuite.auth_kind == "oauth2"


def test_explicit_auth_with_missing_variables_names_them() -> None:
    """NS_<ENV>_AUTH=oauth2 without a refresh token names NS_<ENV>_REFRESH_TOKEN."""
    env = prod(NS_PROD_AUTH="oauth2", NS_PROD_CLIENT_ID="c", NS_PROD_CLIENT_SECRET="s")
    error = refused("prod", env)
    assert error.key == "NS_PROD_REFRESH_TOKEN"
    assert "NS_PROD_AUTH=oauth2 also needs NS_PROD_REFRESH_TOKEN" in str(error)


def test_unknown_auth_kind_is_refused() -> None:
    """NS_<ENV>_AUTH must be m2m, oauth2 or tba."""
    error = refused("prod", prod(NS_PROD_AUTH="basic"))
    assert error.key == "NS_PROD_AUTH"


def test_incomplete_credentials_name_the_missing_variables() -> None:
    """A half-set tba configuration names each missing variable."""
    env = without(prod(), "NS_PROD_TOKEN_ID", "NS_PROD_TOKEN_SECRET")
    error = refused("prod", env)
    assert error.key == "NS_PROD_TOKEN_ID"
    assert "NS_PROD_TOKEN_ID, NS_PROD_TOKEN_SECRET" in str(error)


def test_no_credentials_at_all_is_refused() -> None:
    """An account id without any credentials is refused."""
    error = refused("prod", {"NS_PROD_ACCOUNT_ID": "1234567"})
    assert error.key == "NS_PROD_AUTH"
    assert "no NetSuite credentials" in str(error)


def m2m(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A production m2m configuration whose key file is in `tmp_path`."""
    key_file = tmp_path / "key.pem"
    key_file.write_text(PEM, encoding="utf-8")
    env = {
        "NS_PROD_ACCOUNT_ID": "1234567",
        "NS_PROD_CLIENT_ID": "client-id",
        "NS_PROD_CERTIFICATE_ID": "cert-id",
        "NS_PROD_PRIVATE_KEY_FILE": str(key_file),
    }
    env.update(extra)
    return env


def test_m2m_reads_the_key_file_into_a_secret(tmp_path: Path) -> None:
    """The PEM file is read at startup and held as a Secret, with the default scope; with no
    NS_<ENV>_JWT_ALGORITHM the algorithm is left to the key's type (None)."""
    settings = from_env("prod", m2m(tmp_path))
    assert settings.netsuite is not None
    auth = settings.netsuite.auth
    assert isinstance(auth, M2MCredentials)
    assert auth.private_key.reveal() == PEM
    assert (auth.certificate_id, auth.algorithm, auth.scopes) == (
        "cert-id",
        None,
        ("rest_webservices",),
    )


def test_m2m_key_can_be_given_inline_with_escaped_newlines(tmp_path: Path) -> None:
    """NS_<ENV>_PRIVATE_KEY holds the PEM itself; one-line `\\n` escapes are unescaped."""
    env = without(m2m(tmp_path), "NS_PROD_PRIVATE_KEY_FILE")
    env["NS_PROD_PRIVATE_KEY"] = PEM.replace("\n", "\\n")
    settings = from_env("prod", env)
    assert settings.netsuite is not None
    assert isinstance(settings.netsuite.auth, M2MCredentials)
    assert settings.netsuite.auth.private_key.reveal() == PEM


def test_unreadable_key_file_is_refused_naming_the_variable(tmp_path: Path) -> None:
    """A key file that cannot be read names NS_<ENV>_PRIVATE_KEY_FILE."""
    error = refused("prod", m2m(tmp_path, NS_PROD_PRIVATE_KEY_FILE=str(tmp_path / "nope.pem")))
    assert error.key == "NS_PROD_PRIVATE_KEY_FILE"
    assert "cannot read" in str(error)


def test_key_file_that_is_not_pem_is_refused_without_echoing_it(tmp_path: Path) -> None:
    """A key file without PEM markers is refused; its content is not in the message."""
    bad = tmp_path / "bad.pem"
    bad.write_text("TOPSECRETKEYMATERIAL", encoding="utf-8")
    error = refused("prod", m2m(tmp_path, NS_PROD_PRIVATE_KEY_FILE=str(bad)))
    assert error.key == "NS_PROD_PRIVATE_KEY_FILE"
    assert "TOPSECRETKEYMATERIAL" not in str(error)


def test_key_file_and_inline_key_together_are_refused(tmp_path: Path) -> None:
    """Only one of NS_<ENV>_PRIVATE_KEY_FILE and NS_<ENV>_PRIVATE_KEY may be set."""
    error = refused("prod", m2m(tmp_path, NS_PROD_PRIVATE_KEY=PEM))
    assert error.key == "NS_PROD_PRIVATE_KEY_FILE"


def test_es256_and_scopes_are_read(tmp_path: Path) -> None:
    """NS_<ENV>_JWT_ALGORITHM=ES256 and a comma list of scopes are honoured."""
    env = m2m(tmp_path, NS_PROD_JWT_ALGORITHM="es256", NS_PROD_SCOPES="rest_webservices, restlets")
    settings = from_env("prod", env)
    assert settings.netsuite is not None
    assert isinstance(settings.netsuite.auth, M2MCredentials)
    assert settings.netsuite.auth.algorithm == "ES256"
    assert settings.netsuite.auth.scopes == ("rest_webservices", "restlets")


def test_rs256_is_refused_because_netsuite_rejects_pkcs1_v15(tmp_path: Path) -> None:
    """RS256 is refused with the reason (netsuite.md §1c)."""
    error = refused("prod", m2m(tmp_path, NS_PROD_JWT_ALGORITHM="RS256"))
    assert error.key == "NS_PROD_JWT_ALGORITHM"
    assert "PKCS#1 v1.5" in str(error)


@pytest.mark.parametrize("scopes", ["", " , ", "rest_webservices,admin"])
def test_unknown_scopes_are_refused(tmp_path: Path, scopes: str) -> None:
    """Scopes must be restlets, rest_webservices or suite_analytics."""
    env = m2m(tmp_path, NS_PROD_SCOPES=scopes or ",")
    error = refused("prod", env)
    assert error.key == "NS_PROD_SCOPES"


# ---------------------------------------------------------------------------------------------
# Limits


@pytest.mark.parametrize("name", ["NS_PROD_CONCURRENCY", "WOO_PROD_CONCURRENCY"])
@pytest.mark.parametrize("value", ["0", "-3", "1.5", "many"])
def test_malformed_concurrency_is_refused(name: str, value: str) -> None:
    """Concurrency caps must be positive integers; the variable is named."""
    error = refused("prod", prod(**{name: value}))
    assert error.key == name
    assert repr(value) in str(error)


@pytest.mark.parametrize("name", ["NS_PROD_TIMEOUT", "WOO_PROD_TIMEOUT"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_malformed_timeout_is_refused(name: str, value: str) -> None:
    """Timeouts must be positive finite seconds; the variable is named."""
    error = refused("prod", prod(**{name: value}))
    assert error.key == name


def test_limits_are_read() -> None:
    """Caps and timeouts are parsed as int and float."""
    settings = from_env(
        "prod",
        prod(
            NS_PROD_CONCURRENCY="15",
            NS_PROD_TIMEOUT="12.5",
            WOO_PROD_CONCURRENCY="8",
            WOO_PROD_TIMEOUT="60",
        ),
    )
    assert settings.netsuite is not None
    assert settings.woocommerce is not None
    assert (settings.netsuite.concurrency, settings.netsuite.timeout) == (15, 12.5)
    assert (settings.woocommerce.concurrency, settings.woocommerce.timeout) == (8, 60.0)


# ---------------------------------------------------------------------------------------------
# WooCommerce


def test_store_url_is_normalised_and_webhook_secret_read() -> None:
    """Scheme and host are lower-cased, the default port and trailing slash dropped."""
    settings = from_env(
        "prod",
        prod(WOO_PROD_URL="HTTPS://Shop.Example:443/store/", WOO_PROD_WEBHOOK_SECRET="whsec"),
    )
    woo = settings.woocommerce
    assert woo is not None
    assert woo.url == "https://shop.example/store"
    assert woo.api_url == "https://shop.example/store/wp-json/wc/v3"
    assert woo.webhook_secret is not None
    assert woo.webhook_secret.reveal() == "whsec"


@pytest.mark.parametrize("url", ["http://localhost:8081", "http://127.0.0.1:8081/", "http://[::1]"])
def test_plain_http_store_is_allowed_on_loopback(url: str) -> None:
    """Simulators and local stores may use http://."""
    settings = from_env("prod", prod(WOO_PROD_URL=url))
    assert settings.woocommerce is not None
    assert settings.woocommerce.url.startswith("http://")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://shop.example", "http:// only for a loopback host"),
        ("https://", "must name a host"),
        ("https://shop.example/?page=1", "query string"),
        ("https://shop.example/#top", "fragment"),
        ("https://admin:hunter2@shop.example", "credentials"),
        ("shop.example", "https://"),
    ],
)
def test_bad_store_urls_are_refused_naming_the_variable(url: str, words: str) -> None:
    """Store URLs must be https (http on loopback), with a host, no query/fragment/credentials."""
    error = refused("prod", prod(WOO_PROD_URL=url))
    assert error.key == "WOO_PROD_URL"
    assert words in str(error)
    assert "hunter2" not in str(error)


@pytest.mark.parametrize(
    "missing", ["WOO_PROD_URL", "WOO_PROD_CONSUMER_KEY", "WOO_PROD_CONSUMER_SECRET"]
)
def test_partial_woocommerce_configuration_names_what_is_missing(missing: str) -> None:
    """Any WOO_<ENV>_* variable set makes WooCommerce configured; the rest is required."""
    error = refused("prod", without(prod(), missing))
    assert error.key == missing


@pytest.mark.parametrize(
    "sandbox_url",
    [
        "https://shop.example",
        "https://SHOP.example/",
        "https://shop.example:443",
        "HTTPS://shop.example",
    ],
)
def test_shared_store_url_between_environments_is_refused(sandbox_url: str) -> None:
    """Production and sandbox may not share a WooCommerce store, however it is spelt."""
    error = refused("prod", prod(WOO_SANDBOX_URL=sandbox_url))
    assert error.key == "WOO_PROD_URL"
    assert "WOO_SANDBOX_URL" in str(error)
    error = refused(
        "sandbox", sandbox(WOO_SANDBOX_URL="https://shop.example", WOO_PROD_URL=sandbox_url)
    )
    assert error.key == "WOO_SANDBOX_URL"


def test_different_paths_on_one_host_are_different_stores() -> None:
    """A staging store under another path of the same host is a different store."""
    settings = from_env("prod", prod(WOO_SANDBOX_URL="https://shop.example/staging"))
    assert settings.woocommerce is not None


# ---------------------------------------------------------------------------------------------
# Store, limiter, config path


@pytest.mark.parametrize(
    "store",
    ["sqlite:///var/lib/nswoo.db", "postgresql://nswoo:pw@db:5432/nswoo", "postgres://db/nswoo"],
)
def test_store_urls_are_accepted(store: str) -> None:
    """SQLite paths and PostgreSQL URLs are accepted as given."""
    assert from_env("prod", prod(NSWOO_PROD_STORE=store)).store_url == store


@pytest.mark.parametrize("store", ["sqlite:///", "mysql://db/x", "nswoo.db", "postgresql://"])
def test_bad_store_urls_are_refused(store: str) -> None:
    """Anything but sqlite:///<path> or postgresql://... is refused."""
    assert refused("prod", prod(NSWOO_PROD_STORE=store)).key == "NSWOO_PROD_STORE"


def test_store_and_limiter_passwords_are_masked_in_repr() -> None:
    """A password inside the store or limiter URL does not appear in repr(settings)."""
    settings = from_env(
        "prod",
        prod(
            NSWOO_PROD_STORE="postgresql://nswoo:dbpass123@db/nswoo",
            NSWOO_PROD_LIMITER="rediss://:redispass456@cache:6380/0",
        ),
    )
    assert settings.limiter_url == "rediss://:redispass456@cache:6380/0"
    text = repr(settings)
    assert "dbpass123" not in text
    assert "redispass456" not in text
    assert "postgresql://nswoo:**********@db/nswoo" in text


@pytest.mark.parametrize("limiter", ["redis", "memcached://x", "redis://"])
def test_bad_limiter_is_refused(limiter: str) -> None:
    """The limiter is `local` or a redis:// / rediss:// URL."""
    assert refused("prod", prod(NSWOO_PROD_LIMITER=limiter)).key == "NSWOO_PROD_LIMITER"


def test_config_path_is_recorded() -> None:
    """NSWOO_<ENV>_CONFIG is recorded (and read by the commands that need it)."""
    assert from_env("prod", prod(NSWOO_PROD_CONFIG="/etc/nswoo.toml")).config_path == (
        "/etc/nswoo.toml"
    )


def test_require_methods_name_the_variable_to_set() -> None:
    """Settings without a system or mapping file say which variable would provide it."""
    settings = from_env("sandbox", {})
    with pytest.raises(ConfigurationError) as ns:
        settings.require_netsuite()
    assert ns.value.key == "NS_SANDBOX_ACCOUNT_ID"
    with pytest.raises(ConfigurationError) as woo:
        settings.require_woocommerce()
    assert woo.value.key == "WOO_SANDBOX_URL"
    with pytest.raises(ConfigurationError) as config:
        settings.require_config_path()
    assert config.value.key == "NSWOO_SANDBOX_CONFIG"
