"""NetSuite auth: M2M client assertions, the refresh-token grant, TBA signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from nswoo._settings import (
    M2MCredentials,
    NetSuiteSettings,
    OAuth2Credentials,
    Secret,
    TbaCredentials,
)
from nswoo.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidPayload,
    RateLimited,
    ServiceUnavailable,
)
from nswoo.netsuite import M2MTokenSource, RefreshTokenSource, TbaAuth, netsuite_auth
from nswoo.netsuite._auth import ASSERTION_LIFETIME
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
TOKEN_URL = f"{BASE}/services/rest/auth/oauth2/v1/token"


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    """An RSA key for PS256 (2048 bits keeps the suite fast; NetSuite wants 3072+)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    """A P-256 key for ES256."""
    return ec.generate_private_key(ec.SECP256R1())


def m2m(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, algorithm: str = "PS256", **kw: object
) -> M2MCredentials:
    """M2M credentials around `key`."""
    fields: dict[str, object] = {
        "client_id": "client-abc",
        "certificate_id": "cert-kid-1",
        "private_key": Secret(_pem(key)),
        "algorithm": algorithm,
    }
    fields.update(kw)
    return M2MCredentials(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("algorithm", ["PS256", "ES256"])
async def test_assertion_has_exactly_the_required_header_and_claims(
    algorithm: str, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    """The JWT verifies with the public key and carries exactly NetSuite's header and claims."""
    key = rsa_key if algorithm == "PS256" else ec_key
    clock = FakeClock()
    async with httpx.AsyncClient() as http:
        source = M2MTokenSource(
            m2m(key, algorithm, scopes=("rest_webservices", "restlets")),
            token_url=TOKEN_URL,
            http=http,
            clock=clock,
            new_id=lambda: "jti-1",
        )
        assertion = source.client_assertion()
    assert jwt.get_unverified_header(assertion) == {
        "alg": algorithm,
        "typ": "JWT",
        "kid": "cert-kid-1",
    }
    claims = jwt.decode(
        assertion,
        key.public_key(),
        algorithms=[algorithm],
        audience=TOKEN_URL,
        options={"verify_exp": False, "verify_iat": False},
    )
    iat = int(clock.time())
    assert claims == {
        "iss": "client-abc",
        "scope": "rest_webservices,restlets",
        "aud": TOKEN_URL,
        "iat": iat,
        "exp": iat + ASSERTION_LIFETIME,
        "jti": "jti-1",
    }
    assert claims["exp"] - claims["iat"] < 3600


async def test_token_request_form_and_response(rsa_key: rsa.RSAPrivateKey) -> None:
    """fetch_token posts the client-credentials form and reads access_token and expires_in."""
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.post(TOKEN_URL).respond(
            200, json={"access_token": "tok-1", "expires_in": "3600", "token_type": "bearer"}
        )
        source = M2MTokenSource(m2m(rsa_key), token_url=TOKEN_URL, http=http, clock=FakeClock())
        grant = await source.fetch_token()
    assert grant.access_token.reveal() == "tok-1"
    assert grant.expires_in == 3600.0
    form = dict(parse_qsl(route.calls.last.request.content.decode()))
    assert form.keys() == {"grant_type", "client_assertion_type", "client_assertion"}
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert jwt.get_unverified_header(form["client_assertion"])["kid"] == "cert-kid-1"


def test_rs256_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    """RS256 is refused with a message pointing at PS256/ES256."""
    with pytest.raises(ConfigurationError, match=r"RS256.*PS256"):
        M2MTokenSource(
            m2m(rsa_key, "RS256"), token_url=TOKEN_URL, http=httpx.AsyncClient(), clock=FakeClock()
        )


def test_wrong_key_type_for_algorithm_is_refused(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    """An EC key for PS256, an RSA key for ES256, or a P-384 key for ES256 is refused."""
    with pytest.raises(ConfigurationError, match="PS256 needs an RSA"):
        M2MTokenSource(
            m2m(ec_key, "PS256"), token_url=TOKEN_URL, http=httpx.AsyncClient(), clock=FakeClock()
        )
    with pytest.raises(ConfigurationError, match="ES256 needs an EC"):
        M2MTokenSource(
            m2m(rsa_key, "ES256"), token_url=TOKEN_URL, http=httpx.AsyncClient(), clock=FakeClock()
        )
    with pytest.raises(ConfigurationError, match="P-256"):
        M2MTokenSource(
            m2m(ec.generate_private_key(ec.SECP384R1()), "ES256"),
            token_url=TOKEN_URL,
            http=httpx.AsyncClient(),
            clock=FakeClock(),
        )


def test_malformed_pem_is_refused_without_printing_it(rsa_key: rsa.RSAPrivateKey) -> None:
    """A damaged PEM is a ConfigurationError naming the variable, never quoting the key."""
    pem = _pem(rsa_key)
    damaged = pem[:200] + "!!!" + pem[260:]
    settings = NetSuiteSettings(
        environment="sandbox",
        account_id="1234567_SB1",
        base_url=BASE,
        auth=M2MCredentials(client_id="c", certificate_id="k", private_key=Secret(damaged)),
    )
    with pytest.raises(ConfigurationError) as info:
        netsuite_auth(settings, http=httpx.AsyncClient(), clock=FakeClock())
    assert info.value.key == "NS_SANDBOX_PRIVATE_KEY"
    assert "PEM" in str(info.value)
    assert pem[40:80] not in str(info.value)
    assert info.value.__cause__ is None


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [("certificate_id", " ", "NS_PROD_CERTIFICATE_ID"), ("client_id", "", "NS_PROD_CLIENT_ID")],
)
def test_empty_ids_are_refused(
    rsa_key: rsa.RSAPrivateKey, field: str, value: str, key: str
) -> None:
    """An empty certificate id (the kid) or client id is refused at startup."""
    settings = NetSuiteSettings(
        environment="prod", account_id="1234567", base_url=BASE, auth=m2m(rsa_key, **{field: value})
    )
    with pytest.raises(ConfigurationError) as info:
        netsuite_auth(settings, http=httpx.AsyncClient(), clock=FakeClock())
    assert info.value.key == key


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (400, {"error": "invalid_client"}, AuthenticationError, "invalid_client"),
        (
            401,
            {"error": "invalid_grant", "error_description": "assertion rejected"},
            AuthenticationError,
            "invalid_grant",
        ),
        (429, {"error": "too_many"}, RateLimited, "too_many"),
        (503, None, ServiceUnavailable, None),
    ],
)
async def test_token_endpoint_errors(  # noqa: PLR0917 - parametrized cases plus fixtures
    rsa_key: rsa.RSAPrivateKey,
    status: int,
    body: object,
    error: type[Exception],
    code: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refusals are AuthenticationError with the mapping hint; load and outages stay retryable."""
    caplog.set_level(logging.DEBUG)
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.post(TOKEN_URL)
        if body is None:
            route.respond(status, text="<html>down</html>")
        else:
            route.respond(status, json=body)
        source = M2MTokenSource(m2m(rsa_key), token_url=TOKEN_URL, http=http, clock=FakeClock())
        with pytest.raises(error) as info:
            await source.fetch_token()
    assert getattr(info.value, "code", None) == code
    if isinstance(info.value, AuthenticationError):
        assert "sandbox refresh" in str(info.value)
        assert "certificate" in str(info.value)
    assert "BEGIN" not in str(info.value) + caplog.text


async def test_token_response_without_token_is_invalid_payload(rsa_key: rsa.RSAPrivateKey) -> None:
    """A 200 without access_token is InvalidPayload listing the path."""
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        mock.post(TOKEN_URL).respond(200, json={"expires_in": 3600})
        source = M2MTokenSource(m2m(rsa_key), token_url=TOKEN_URL, http=http, clock=FakeClock())
        with pytest.raises(InvalidPayload) as info:
            await source.fetch_token()
    assert any("access_token" in p for p in info.value.problems)


async def test_refresh_grant_uses_basic_auth_and_keeps_the_rotated_token() -> None:
    """The refresh grant sends Basic client auth and persists a rotated refresh token."""
    saved: list[Secret] = []

    async def save(token: Secret) -> None:
        saved.append(token)

    creds = OAuth2Credentials(
        client_id="cid", client_secret=Secret("csecret"), refresh_token=Secret("rt-1")
    )
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.post(TOKEN_URL).respond(
            200, json={"access_token": "at-1", "expires_in": 3600, "refresh_token": "rt-2"}
        )
        source = RefreshTokenSource(creds, token_url=TOKEN_URL, http=http, on_rotate=save)
        grant = await source.fetch_token()
        route.respond(200, json={"access_token": "at-2", "expires_in": 3600})
        await source.fetch_token()
    first, second = route.calls[0].request, route.calls[1].request
    assert first.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:csecret").decode()
    assert dict(parse_qsl(first.content.decode())) == {
        "grant_type": "refresh_token",
        "refresh_token": "rt-1",
    }
    assert dict(parse_qsl(second.content.decode()))["refresh_token"] == "rt-2"
    assert grant.access_token.reveal() == "at-1"
    assert [s.reveal() for s in saved] == ["rt-2"]
    assert source.refresh_token.reveal() == "rt-2"


async def test_invalid_grant_tells_the_user_to_reauthorize(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """invalid_grant is an AuthenticationError naming re-authorization and sandbox refreshes."""
    caplog.set_level(logging.DEBUG)
    creds = OAuth2Credentials(
        client_id="cid", client_secret=Secret("csecret"), refresh_token=Secret("rt-secret-1")
    )
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        mock.post(TOKEN_URL).respond(400, json={"error": "invalid_grant"})
        with pytest.raises(AuthenticationError) as info:
            await RefreshTokenSource(creds, token_url=TOKEN_URL, http=http).fetch_token()
    text = str(info.value)
    assert "Re-authorize" in text
    assert "sandbox refresh" in text
    for secret in ("rt-secret-1", "csecret"):
        assert secret not in text + repr(info.value) + caplog.text


# ---------------------------------------------------------------------------------------------
# TBA


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def independent_signature(
    method: str, url: str, oauth: dict[str, str], consumer_secret: str, token_secret: str
) -> str:
    """RFC 5849 §3.4 HMAC-SHA256 computed from scratch, without oauthlib."""
    parts = urlsplit(url)
    params = [(unquote(k), unquote(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    params += [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
    base_uri = f"{parts.scheme}://{parts.hostname}{parts.path}"
    base = "&".join([method.upper(), _enc(base_uri), _enc(normalized)])
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()


def header_params(header: str) -> dict[str, str]:
    """The key="value" pairs of an OAuth Authorization header, decoded."""
    assert header.startswith("OAuth ")
    return {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}


async def test_tba_signature_verifies_independently() -> None:
    """A TBA-signed request (query included) verifies with an independent RFC 5849 computation."""
    clock = FakeClock()
    creds = TbaCredentials(
        consumer_key="ck",
        consumer_secret=Secret("cs&1"),
        token_id="tid",
        token_secret=Secret("ts 2"),
    )
    auth = TbaAuth(creds, realm="1234567_SB1", clock=clock, nonce=lambda: "nonce123")
    request = httpx.Request(
        "POST",
        f"{BASE}/services/rest/query/v1/suiteql",
        params={"limit": "1000", "offset": "0", "q": "a b/c%"},
    )
    credential = await auth.authorize(request)
    params = header_params(request.headers["Authorization"])
    assert params["realm"] == "1234567_SB1"
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    assert params["oauth_version"] == "1.0"
    assert params["oauth_timestamp"] == str(int(clock.time()))
    assert (params["oauth_consumer_key"], params["oauth_token"], params["oauth_nonce"]) == (
        "ck",
        "tid",
        "nonce123",
    )
    expected = independent_signature("POST", str(request.url), params, "cs&1", "ts 2")
    assert params["oauth_signature"] == expected
    assert "%2520" not in request.headers["Authorization"]
    assert await auth.invalidate(credential) is False


async def test_tba_signs_each_attempt_afresh() -> None:
    """Every attempt gets a new nonce and the clock's current timestamp."""
    clock = FakeClock()
    nonces = iter(["n1", "n2"])
    creds = TbaCredentials(
        consumer_key="ck", consumer_secret=Secret("cs"), token_id="tid", token_secret=Secret("ts")
    )
    auth = TbaAuth(creds, realm="1234567", clock=clock, nonce=lambda: next(nonces))
    request = httpx.Request("GET", f"{BASE}/services/rest/record/v1/customer/647")
    await auth.authorize(request)
    first = header_params(request.headers["Authorization"])
    clock.advance(30)
    await auth.authorize(request)
    second = header_params(request.headers["Authorization"])
    assert (first["oauth_nonce"], second["oauth_nonce"]) == ("n1", "n2")
    assert int(second["oauth_timestamp"]) - int(first["oauth_timestamp"]) == 30
    assert first["oauth_signature"] != second["oauth_signature"]


def test_tba_needs_all_four_credentials() -> None:
    """Missing TBA token parts are refused at startup."""
    with pytest.raises(ConfigurationError, match="TBA needs"):
        TbaAuth(
            TbaCredentials(consumer_key="ck", consumer_secret=Secret("cs")),
            realm="1234567",
            clock=FakeClock(),
        )
