"""`from_env` edge cases: secrets in messages and `repr`, and the shared-store guard."""

from __future__ import annotations

import io

import pytest

from nswoo._settings import SettingsRefused, from_env
from nswoo.cli._main import run

_KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7edgecaseSECRET"
_PEM = "-----BEGIN PRIVATE KEY-----\n" + _KEY_BODY * 4 + "\n-----END PRIVATE KEY-----\n"

_SANDBOX = {
    "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
    "NS_SANDBOX_CLIENT_ID": "client-id",
    "NS_SANDBOX_CERTIFICATE_ID": "cert-id",
    "WOO_SANDBOX_URL": "https://staging.shop.example",
    "WOO_SANDBOX_CONSUMER_KEY": "ck_edge",
    "WOO_SANDBOX_CONSUMER_SECRET": "cs_edge",
}


@pytest.mark.parametrize("value", [_PEM, _PEM.replace("\n", "\\n")])
def test_private_key_pasted_into_the_file_variable_is_not_echoed(value: str) -> None:
    """A PEM pasted into NS_<ENV>_PRIVATE_KEY_FILE instead of
    NS_<ENV>_PRIVATE_KEY is refused with exit 2, and the refusal never repeats the value:
    secrets never appear in error messages (DESIGN behaviour 3), in text or `--json` output.
    """
    environ = {**_SANDBOX, "NS_SANDBOX_PRIVATE_KEY_FILE": value}
    for extra in ([], ["--json"]):
        out, err = io.StringIO(), io.StringIO()
        code = run(
            ["check", "--env", "sandbox", "--offline", *extra],
            environ=environ,
            stdout=out,
            stderr=err,
        )
        assert code == 2
        assert _KEY_BODY not in out.getvalue() + err.getvalue()


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        # libpq connection URIs take the password as a query parameter too.
        ("NSWOO_SANDBOX_STORE", "postgresql://db.example/nswoo?user=app&password=hunter2pw"),
        # redis-py's from_url reads `password` from the query string as well.
        ("NSWOO_SANDBOX_LIMITER", "redis://cache.example:6379/0?password=hunter2pw"),
    ],
)
def test_password_in_a_backend_url_query_is_masked_in_repr(variable: str, url: str) -> None:
    """`Settings` says its store and limiter URLs "may carry a password, so their `repr`
    masks it"; a password given as a query parameter must be masked as well.
    """
    settings = from_env("sandbox", {variable: url})
    assert "hunter2pw" not in repr(settings)


_BOTH_STORES = {
    "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
    "NS_SANDBOX_CLIENT_ID": "cid",
    "NS_SANDBOX_CLIENT_SECRET": "sec",
    "NS_SANDBOX_REFRESH_TOKEN": "rt",
    "WOO_SANDBOX_CONSUMER_KEY": "ck_sandbox",
    "WOO_SANDBOX_CONSUMER_SECRET": "cs_sandbox",
    "WOO_PROD_CONSUMER_KEY": "ck_live",
    "WOO_PROD_CONSUMER_SECRET": "cs_live",
}


@pytest.mark.parametrize(
    ("prod_url", "sandbox_url"),
    [
        # The normaliser strips a trailing dot from the host, but only when there is no port.
        ("https://shop.example:8443", "https://shop.example.:8443"),
        # One host, once as Unicode and once as its IDNA (punycode) form: httpx sends both
        # to xn--shp-tna.example.
        ("https://xn--shp-tna.example", "https://shöp.example"),
    ],
)
def test_one_store_in_two_spellings_is_refused(prod_url: str, sandbox_url: str) -> None:
    """Startup is refused when sandbox and production share a store URL (DESIGN behaviour 3),
    however the same host is spelt: a trailing root dot (with a port) or an IDN host in
    Unicode versus punycode names the same store.
    """
    environ = {**_BOTH_STORES, "WOO_PROD_URL": prod_url, "WOO_SANDBOX_URL": sandbox_url}
    with pytest.raises(SettingsRefused) as caught:
        from_env("sandbox", environ)
    assert "WOO_SANDBOX_URL" in caught.value.keys


def test_store_and_its_www_alias_are_one_store() -> None:
    """`https://www.shop.example` and `https://shop.example` are one WordPress site (the
    alias serves the same REST API, and nobody runs a staging store on `www.`), so a sandbox
    pointed at the production store's `www.` alias is refused like the plain shared URL.
    """
    environ = {
        **_BOTH_STORES,
        "WOO_PROD_URL": "https://shop.example",
        "WOO_SANDBOX_URL": "https://www.shop.example",
    }
    with pytest.raises(SettingsRefused) as caught:
        from_env("sandbox", environ)
    assert "WOO_SANDBOX_URL" in caught.value.keys
