"""WooCommerce simulator auth: OAuth 1.0a over plain HTTP, Basic refused where WooCommerce does.

Requests are signed with oauthlib, an implementation independent of the simulator's, so a
simulator that checked its own idea of OAuth instead of WooCommerce's would fail here.
Facts: reference/woocommerce.md §1 and WooCommerce's `class-wc-rest-authentication.php`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from oauthlib import oauth1

from nswoo.testing import FakeClock, WooSimulator

pytestmark = pytest.mark.anyio

KEY, SECRET = "ck_oauth_test", "cs_oauth_test"
API = "/wp-json/wc/v3"


def _sim(**kwargs: object) -> WooSimulator:
    # A clock at the real time: oauthlib stamps requests with time.time() (§1: ±15 minutes).
    kwargs.setdefault("clock", FakeClock(epoch=time.time()))
    sim = WooSimulator(consumer_key=KEY, consumer_secret=SECRET, **kwargs)  # type: ignore[arg-type]
    sim.add_product("MUG-1", price="9.50", stock_quantity=3)
    return sim


@pytest.fixture
def sim() -> WooSimulator:
    return _sim()


@pytest.fixture
async def http(sim: WooSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=sim.transport()) as client:
        yield client


def signed(
    sim: WooSimulator,
    method: str,
    path: str,
    *,
    signature_method: str = oauth1.SIGNATURE_HMAC_SHA256,
    signature_type: str = oauth1.SIGNATURE_TYPE_QUERY,
    secret: str = SECRET,
    nonce: str | None = None,
    timestamp: str | None = None,
    body: str | None = None,
) -> httpx.Request:
    """A request signed by oauthlib the way §1 describes (consumer key and secret, no token)."""
    client = oauth1.Client(
        KEY,
        client_secret=secret,
        signature_method=signature_method,
        signature_type=signature_type,
        nonce=nonce,
        timestamp=timestamp,
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    uri, headers, body_out = client.sign(sim.url + API + path, method, body, headers)  # type: ignore[arg-type]
    return httpx.Request(method, uri, headers=headers, content=body_out)


@pytest.mark.parametrize(
    "signature_method", [oauth1.SIGNATURE_HMAC_SHA1, oauth1.SIGNATURE_HMAC_SHA256]
)
@pytest.mark.parametrize(
    "signature_type", [oauth1.SIGNATURE_TYPE_QUERY, oauth1.SIGNATURE_TYPE_AUTH_HEADER]
)
async def test_oauth_signed_request_over_http_is_answered(
    sim: WooSimulator, http: httpx.AsyncClient, signature_method: str, signature_type: str
) -> None:
    """§1: HMAC-SHA1 and HMAC-SHA256, in the query string or the header, are accepted."""
    request = signed(
        sim,
        "GET",
        "/products?sku=MUG-1&per_page=5",
        signature_method=signature_method,
        signature_type=signature_type,
    )
    response = await http.send(request)
    assert response.status_code == 200
    assert [p["sku"] for p in response.json()] == ["MUG-1"]


async def test_oauth_signed_write_is_applied(sim: WooSimulator, http: httpx.AsyncClient) -> None:
    """A signed PUT with a JSON body (not part of the signature, §1) changes the product."""
    product_id = sim.id_for_sku("MUG-1")
    request = signed(sim, "PUT", f"/products/{product_id}")
    request = httpx.Request(
        "PUT",
        request.url,
        headers={"Content-Type": "application/json"},
        json={"stock_quantity": 11},
    )
    response = await http.send(request)
    assert response.status_code == 200
    assert sim.stock_of("MUG-1") == 11


async def test_signed_form_body_parameters_are_part_of_the_signature(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """`$_POST` is signed: a form body signed as sent passes, the same body altered fails."""
    good = signed(sim, "POST", "/products", body="name=Cup&sku=CUP-1&regular_price=4.00")
    assert (await http.send(good)).status_code == 201
    tampered = signed(sim, "POST", "/products", body="name=Cup&sku=CUP-2&regular_price=4.00")
    forged = httpx.Request(
        "POST",
        tampered.url,
        headers=tampered.headers,
        content=b"name=Cup&sku=CUP-2&regular_price=0.01",
    )
    answer = await http.send(forged)
    assert answer.status_code == 401
    assert answer.json()["message"] == "Invalid signature - provided signature does not match."


async def test_wrong_secret_is_invalid_signature(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """§1 table: a bad signature is `woocommerce_rest_authentication_error`, 401, no Basic realm."""
    response = await http.send(signed(sim, "GET", "/products", secret="cs_wrong"))
    assert response.status_code == 401
    assert response.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Invalid signature - provided signature does not match.",
        "data": {"status": 401},
    }
    assert "www-authenticate" not in response.headers


async def test_unknown_key_is_refused(sim: WooSimulator, http: httpx.AsyncClient) -> None:
    """§1 table: OAuth with an unknown consumer key is `Consumer key is invalid.`"""
    request = signed(sim, "GET", "/products")
    url = str(request.url).replace(KEY, "ck_unknown")
    response = await http.get(url)
    assert response.status_code == 401
    assert response.json()["message"] == "Consumer key is invalid."


async def test_missing_oauth_parameters_are_named(http: httpx.AsyncClient) -> None:
    """§1 table: some OAuth parameters without the others name what is missing."""
    response = await http.get(
        f"http://127.0.0.1:8081{API}/products", params={"oauth_consumer_key": KEY}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_authentication_missing_parameter"
    assert response.json()["message"] == (
        "Missing OAuth parameters oauth_timestamp, oauth_nonce, oauth_signature, "
        "oauth_signature_method"
    )


async def test_reused_nonce_is_refused(sim: WooSimulator, http: httpx.AsyncClient) -> None:
    """§1: a nonce already used within 15 minutes is refused, even correctly signed."""
    first = signed(sim, "GET", "/products", nonce="n0nce0000000000000000000000000001")
    assert (await http.send(first)).status_code == 200
    again = signed(sim, "GET", "/products?page=1", nonce="n0nce0000000000000000000000000001")
    response = await http.send(again)
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid nonce - nonce has already been used."


async def test_stale_timestamp_is_refused(sim: WooSimulator, http: httpx.AsyncClient) -> None:
    """§1: a timestamp more than 15 minutes off is `Invalid timestamp.`"""
    stale = str(int(time.time()) - 16 * 60)
    response = await http.send(signed(sim, "GET", "/products", timestamp=stale))
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid timestamp."


async def test_signature_over_another_host_fails() -> None:
    """The base string uses the store's own URL (`home_url`), not whatever host was dialled."""
    sim = _sim(url="http://127.0.0.1:9999")
    async with httpx.AsyncClient(transport=sim.transport()) as http:
        request = signed(_sim(), "GET", "/products")  # signed for 127.0.0.1:8081
        response = await http.send(request)
    assert response.status_code == 401


async def test_basic_over_http_runs_anonymous_when_refused() -> None:
    """With `refuse_basic_over_http`, Basic over http:// is ignored as WooCommerce ignores it
    when `is_ssl()` is false: the request is anonymous and the permission check says 401."""
    sim = _sim(refuse_basic_over_http=True)
    async with httpx.AsyncClient(transport=sim.transport()) as http:
        basic = await http.get(f"{sim.url}{API}/products", auth=(KEY, SECRET))
        query = await http.get(
            f"{sim.url}{API}/products", params={"consumer_key": KEY, "consumer_secret": SECRET}
        )
        oauth = await http.send(signed(sim, "GET", "/products"))
    assert (basic.status_code, basic.json()["code"]) == (401, "woocommerce_rest_cannot_view")
    assert (query.status_code, query.json()["code"]) == (401, "woocommerce_rest_cannot_view")
    assert oauth.status_code == 200


async def test_basic_over_https_still_works_when_http_basic_is_refused() -> None:
    """§1: over HTTPS Basic is tried first, whatever the plain-HTTP switch says."""
    sim = _sim(url="https://shop.example", refuse_basic_over_http=True)
    async with httpx.AsyncClient(transport=sim.transport()) as http:
        response = await http.get(f"{sim.url}{API}/products", auth=(KEY, SECRET))
    assert response.status_code == 200


async def test_basic_over_http_is_accepted_by_default(
    sim: WooSimulator, http: httpx.AsyncClient
) -> None:
    """By default the loopback simulator stands in for an HTTPS store, so Basic works."""
    response = await http.get(f"{sim.url}{API}/products", auth=(KEY, SECRET))
    assert response.status_code == 200
    wrong = await http.get(f"{sim.url}{API}/products", auth=(KEY, "cs_wrong"))
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "Consumer secret is invalid."
    assert wrong.headers["www-authenticate"].startswith('Basic realm="WooCommerce API.')
