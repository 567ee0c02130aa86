"""The WooCommerce simulator signs webhooks as reference/woocommerce.md §8 says."""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx
import pytest

from nswoo.testing import FakeClock, WooSimulator

pytestmark = pytest.mark.anyio


async def test_signature_uses_secret_with_html_entities_decoded() -> None:
    """§8: Signature = base64(hash_hmac(sha256, $body, wp_specialchars_decode($secret,
    ENT_QUOTES), true)). A stored secret containing `&amp;` is signed with `&`, so a
    receiver configured with the stored text fails here as it would against WooCommerce.
    """
    sim = WooSimulator(consumer_key="ck", consumer_secret="cs", clock=FakeClock())
    sim.add_product("MUG-1", price="10.00", stock_quantity=5)
    stored_secret = "s3c&amp;r&quot;et"
    sim.subscribe("http://receiver.test/hook", "order.created", secret=stored_secret)
    sim.place_order([("MUG-1", 1)], status="processing")

    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        await sim.deliver_pending(http)

    assert len(seen) == 1
    decoded_secret = 's3c&r"et'  # wp_specialchars_decode(..., ENT_QUOTES)
    expected = base64.b64encode(
        hmac.new(decoded_secret.encode(), seen[0].content, hashlib.sha256).digest()
    ).decode()
    assert seen[0].headers["X-WC-Webhook-Signature"] == expected
