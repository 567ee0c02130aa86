"""One set of URL rules: settings, the mapping file and both clients accept and refuse alike."""

from __future__ import annotations

import httpx
import pytest

from nswoo._settings import (
    NetSuiteSettings,
    Secret,
    SettingsRefused,
    TbaCredentials,
    WooSettings,
    from_env,
    parse_config,
)
from nswoo._settings._urls import is_loopback_host, redact_url, same_site, url_problem
from nswoo.errors import ConfigurationError
from nswoo.netsuite import NetSuiteClient, TbaAuth
from nswoo.testing import FakeClock, UnlimitedLimiter
from nswoo.woocommerce import WooClient

pytestmark = pytest.mark.anyio

WOO_KEYS = {"WOO_PROD_CONSUMER_KEY": "ck_live", "WOO_PROD_CONSUMER_SECRET": "cs_live"}
TBA = TbaCredentials(
    consumer_key="ck", consumer_secret=Secret("cs"), token_id="tid", token_secret=Secret("ts")
)
MAPPING = '[orders]\nstore = "main"\ncustomer = {{ strategy = "by-email" }}\n[notify]\n{line}\n'

# (url, accepted): the same answer is expected from every place that checks a URL.
CASES = [
    ("https://shop.example", True),
    ("http://127.0.0.1:8081", True),
    ("http://localhost:8081", True),
    ("http://localhost.localdomain:8081", True),
    ("http://[::1]:8081", True),
    ("http://shop.example", False),
    ("http://10.0.0.5:8080", False),
    ("http://127.0.0.1.nip.io", False),
    ("ftp://127.0.0.1", False),
    ("https://", False),
    ("https://shop.example:notaport", False),
]


@pytest.mark.parametrize(("url", "accepted"), CASES)
async def test_settings_and_both_clients_agree_on_every_url(url: str, accepted: bool) -> None:
    """`WOO_<ENV>_URL`, the WooCommerce client and the NetSuite client take the same URLs."""
    refused_keys: list[str | None] = []
    try:
        from_env("prod", {"WOO_PROD_URL": url, **WOO_KEYS})
    except SettingsRefused as exc:
        refused_keys += exc.keys

    woo = WooSettings("prod", url, Secret("ck_live"), Secret("cs_live"))
    netsuite = NetSuiteSettings(environment="prod", account_id="1234567", auth=TBA, base_url=url)
    async with httpx.AsyncClient() as http:
        for build in (
            lambda: WooClient(woo, http=http, limiter=UnlimitedLimiter()),
            lambda: NetSuiteClient(
                netsuite,
                http=http,
                limiter=UnlimitedLimiter(),
                auth=TbaAuth(TBA, realm=netsuite.realm, clock=FakeClock()),
            ),
        ):
            try:
                build()
            except ConfigurationError as exc:
                refused_keys.append(exc.key)

    expected = [] if accepted else ["WOO_PROD_URL", "WOO_PROD_URL", "NS_PROD_BASE_URL"]
    assert refused_keys == expected


@pytest.mark.parametrize(
    "url", ["http://proxy.example/netsuite", "https://admin:hunter2@127.0.0.1:8443"]
)
async def test_netsuite_client_refuses_what_settings_would_refuse(url: str) -> None:
    """A NetSuite client built without `from_env` still never sends a token in clear text
    to another machine, nor takes credentials in its URL (they end up in logs).
    """
    settings = NetSuiteSettings(environment="sandbox", account_id="1_SB1", auth=TBA, base_url=url)
    async with httpx.AsyncClient() as http:
        with pytest.raises(ConfigurationError) as caught:
            NetSuiteClient(
                settings,
                http=http,
                limiter=UnlimitedLimiter(),
                auth=TbaAuth(TBA, realm="1_SB1", clock=FakeClock()),
            )
    assert caught.value.key == "NS_SANDBOX_BASE_URL"
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(("url", "accepted"), CASES)
def test_the_mapping_files_webhook_url_follows_the_same_rules(url: str, accepted: bool) -> None:
    """`notify.webhook_url` is refused exactly where the store URL is (it may carry a token)."""
    text = MAPPING.format(line=f'webhook_url = "{url}"')
    if accepted:
        assert parse_config(text).notify.webhook_url == url
    else:
        with pytest.raises(SettingsRefused) as caught:
            parse_config(text)
        assert caught.value.keys == ("notify.webhook_url",)


def test_the_www_host_is_kept_in_the_url_nswoo_calls() -> None:
    """`https://www.shop.example` is called as written: the bare domain may not answer.

    Only the check that production and sandbox are different stores folds `www.` away.
    """
    settings = from_env("prod", {"WOO_PROD_URL": "https://www.Shop.Example:443/", **WOO_KEYS})
    assert settings.woocommerce is not None
    assert settings.woocommerce.url == "https://www.shop.example"
    assert same_site("https://www.shop.example", "https://shop.example")
    assert not same_site("https://shop.example", "https://staging.shop.example")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://shop.example", "http:// only for a loopback host"),
        ("https://", "must name a host"),
        ("https://shop.example/?page=1", "query string"),
        ("https://admin:hunter2@shop.example", "credentials"),
        ("shop.example", "https://"),
        ("https://shop.example:99999", "not a valid URL"),
    ],
)
def test_url_problems_name_the_rule_never_the_url(url: str, words: str) -> None:
    """Each refusal says which rule was broken, and never repeats the URL or its password."""
    problem = url_problem(url)
    assert problem is not None
    assert words in problem
    assert "hunter2" not in problem
    assert "shop.example" not in problem


def test_loopback_hosts_and_masking() -> None:
    """Loopback: localhost names, 127.0.0.0/8, ::1; masking hides passwords and tokens."""
    assert all(map(is_loopback_host, ["localhost", "LOCALHOST.", "127.1.2.3", "[::1]"]))
    assert not any(map(is_loopback_host, ["localhost.example", "10.0.0.1", "::2"]))
    assert redact_url("postgresql://app:pw@db/x?password=pw2") == (
        "postgresql://app:**********@db/x?password=**********"
    )
    assert redact_url("redis://token@cache:6379") == "redis://**********@cache:6379"
