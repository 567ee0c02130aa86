"""Environment guards: one store spelt with dot segments is still one store."""

from __future__ import annotations

import httpx
import pytest

from nswoo._settings import Secret, SettingsRefused, WooSettings, from_env


def woo(env: str, url: str) -> dict[str, str]:
    return {
        f"WOO_{env}_URL": url,
        f"WOO_{env}_CONSUMER_KEY": f"ck_{env.lower()}",
        f"WOO_{env}_CONSUMER_SECRET": f"cs_{env.lower()}",
    }


@pytest.mark.parametrize("sandbox_url", ["https://shop.example/.", "https://shop.example/x/.."])
def test_sandbox_store_spelt_with_dot_segments_is_still_the_production_store(
    sandbox_url: str,
) -> None:
    """Production and sandbox sharing a store is refused even when one URL has dot segments."""
    environ = {**woo("PROD", "https://shop.example"), **woo("SANDBOX", sandbox_url)}
    # Both spellings reach the very same wc/v3 endpoint: httpx removes dot segments.
    prod_api = WooSettings("prod", "https://shop.example", Secret("k"), Secret("s")).api_url
    sandbox_api = f"{sandbox_url.rstrip('/')}/wp-json/wc/v3"
    assert httpx.URL(prod_api) == httpx.URL(sandbox_api)
    with pytest.raises(SettingsRefused) as info:
        from_env("sandbox", environ)
    assert info.value.key == "WOO_SANDBOX_URL"
