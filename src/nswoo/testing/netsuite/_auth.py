"""The NetSuite simulator's authority: token endpoint, bearer tokens and TBA signatures.

Server-side on purpose: assertions are checked with PyJWT and TBA signatures with oauthlib,
never with nswoo's client code. Facts come from `reference/netsuite.md` §1 and §9.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from typing import Any

import attrs
import httpx
import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from oauthlib.common import safe_string_equals
from oauthlib.oauth1 import Client as OAuth1Client
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header, unescape

from nswoo._clock import Clock

from .._faults import FaultInjector
from ._bodies import ErrorBody, invalid_login

__all__ = ["ALLOWED_ASSERTION_ALGORITHMS", "SCOPES", "AuditEntry", "Authority", "TokenAnswer"]

# reference §1c (Oracle): the only algorithms accepted for client assertions.
ALLOWED_ASSERTION_ALGORITHMS = frozenset({"PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
# reference §1b (Oracle).
SCOPES = frozenset({"restlets", "rest_webservices", "suite_analytics"})
_JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ACCESS_TOKEN_SECONDS = 3600.0  # reference §1b/§1c: 60 minutes
_REFRESH_TOKEN_SECONDS = 604_800.0  # reference §1b: 7 days (derived from Oracle's samples)
_ROTATED_REFRESH_SECONDS = 10_800.0  # reference §1b: public clients' rotated tokens live 3 h
_MAX_ASSERTION_SECONDS = 3600  # reference §1c: exp must be within 60 minutes of iat

TokenAnswer = tuple[int, dict[str, Any], dict[str, str]]


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One failed login, like a row of NetSuite's Login Audit Trail.

    `detail` uses the trail's own codes where Oracle names one (reference §1d):
    `InvalidSignature`, `RefreshTokenExpired`, `InvalidScope`, `ClientAuthenticationFailed`.
    """

    time: float
    method: str
    detail: str


@attrs.define(kw_only=True)
class _M2MClient:
    client_id: str
    certificate_id: str
    public_key: Any
    scopes: frozenset[str]


@attrs.define(kw_only=True)
class _OAuth2Client:
    client_id: str
    client_secret: str
    rotate: bool


@attrs.define(kw_only=True)
class _RefreshToken:
    client_id: str
    expires_at: float


@attrs.define(kw_only=True)
class _TbaCredential:
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


@attrs.define(kw_only=True)
class _AccessToken:
    scopes: frozenset[str]
    expires_at: float


@attrs.define(kw_only=True)
class Authority:
    """Credentials one simulated account knows, and the checks NetSuite runs on them."""

    account_id: str
    clock: Clock
    injector: FaultInjector
    tba_timestamp_tolerance: float | None = 300.0
    clock_skew: float = 60.0
    expires_in_as_string: bool = False
    tokens_minted: int = attrs.field(init=False, default=0)
    audit_trail: list[AuditEntry] = attrs.field(init=False, factory=list)
    _certificates: dict[str, _M2MClient] = attrs.field(init=False, factory=dict)
    _oauth2_clients: dict[str, _OAuth2Client] = attrs.field(init=False, factory=dict)
    _refresh_tokens: dict[str, _RefreshToken] = attrs.field(init=False, factory=dict)
    _tba: dict[str, _TbaCredential] = attrs.field(init=False, factory=dict)
    _nonces: set[tuple[str, str, str]] = attrs.field(init=False, factory=set)
    _tokens: dict[str, _AccessToken] = attrs.field(init=False, factory=dict)

    @property
    def realm(self) -> str:
        """The TBA realm: the account id upper-case with underscores (reference §1a)."""
        return self.account_id.replace("-", "_").upper()

    @property
    def canonical_token_url(self) -> str:
        """The token URL on the account's conventional host (reference §1b, §2)."""
        host = self.account_id.lower().replace("_", "-")
        return f"https://{host}.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"

    # -- registration ----------------------------------------------------------------------

    def register_m2m(
        self, client_id: str, certificate_id: str, public_key_pem: str, scopes: frozenset[str]
    ) -> None:
        """Map a certificate (its id is the JWT `kid`) to an integration's client id."""
        unknown = scopes - SCOPES
        if unknown:
            raise ValueError(f"unknown scopes {sorted(unknown)}; NetSuite has {sorted(SCOPES)}")
        key = load_pem_public_key(public_key_pem.encode("ascii"))
        self._certificates[certificate_id] = _M2MClient(
            client_id=client_id, certificate_id=certificate_id, public_key=key, scopes=scopes
        )

    def revoke_certificate(self, certificate_id: str) -> None:
        """Forget a certificate mapping (revoked or expired, reference §1c)."""
        self._certificates.pop(certificate_id, None)

    def register_oauth2(
        self, client_id: str, client_secret: str, refresh_token: str, *, rotate: bool
    ) -> None:
        """Register an authorized application with one live refresh token (7 days)."""
        self._oauth2_clients[client_id] = _OAuth2Client(
            client_id=client_id, client_secret=client_secret, rotate=rotate
        )
        self._refresh_tokens[refresh_token] = _RefreshToken(
            client_id=client_id, expires_at=self.clock.now() + _REFRESH_TOKEN_SECONDS
        )

    def register_tba(
        self, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str
    ) -> None:
        """Register a TBA token; Oracle documents no expiry for these (reference §1a)."""
        self._tba[token_id] = _TbaCredential(
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            token_id=token_id,
            token_secret=token_secret,
        )

    def refresh_sandbox(self) -> None:
        """What a sandbox refresh does to credentials (reference §1c, §9).

        M2M mappings, TBA tokens, OAuth 2.0 authorizations and live tokens are all gone.
        """
        self._certificates.clear()
        self._oauth2_clients.clear()
        self._refresh_tokens.clear()
        self._tba.clear()
        self._tokens.clear()

    def revoke_access_tokens(self) -> None:
        """Kill every live access token (a revocation, or a role change in the account)."""
        self._tokens.clear()

    # -- token endpoint ----------------------------------------------------------------------

    def token_endpoint(self, request: httpx.Request, form: Mapping[str, str]) -> TokenAnswer:
        """Answer `POST /services/rest/auth/oauth2/v1/token`."""
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return self._client_credentials(request, form)
        if grant == "refresh_token":
            return self._refresh(request, form)
        # RFC 6749 §5.2; the reference has no NetSuite literal for this case.
        return 400, {"error": "unsupported_grant_type"}, {}

    def _fail(self, method: str, detail: str) -> TokenAnswer:
        self.audit_trail.append(AuditEntry(time=self.clock.time(), method=method, detail=detail))
        status, body = invalid_login()
        return status, body, {}

    def _client_credentials(self, request: httpx.Request, form: Mapping[str, str]) -> TokenAnswer:
        if form.get("client_assertion_type") != _JWT_BEARER:
            return self._fail("m2m", "ClientAuthenticationFailed")
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return self._fail("m2m", "ClientAuthenticationFailed")
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ASSERTION_ALGORITHMS:
            # RS256 (PKCS#1 v1.5) is refused since 1 March 2025 (reference §1c, community).
            return self._fail("m2m", "ClientAuthenticationFailed")
        if header.get("typ", "JWT") != "JWT":
            return self._fail("m2m", "ClientAuthenticationFailed")
        client = self._certificates.get(str(header.get("kid")))
        if client is None:
            return self._fail("m2m", "ClientAuthenticationFailed")
        # `aud` is "the token endpoint URL" (reference §1c); accept the URL this request was
        # sent to (simulators run on loopback) as well as the account's conventional host.
        own_url = str(request.url.copy_with(query=None))
        audiences = [own_url, self.canonical_token_url]
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                client.public_key,
                algorithms=[str(algorithm)],
                audience=audiences,
                issuer=client.client_id,
                # Time claims are checked below against the simulator's clock, not the host's.
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iss", "aud", "iat", "exp"],
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            return self._fail("m2m", "InvalidSignature")
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            return self._fail("m2m", "ClientAuthenticationFailed")
        now = self.clock.time()
        if exp - iat > _MAX_ASSERTION_SECONDS or exp <= now or iat > now + self.clock_skew:
            return self._fail("m2m", "ClientAuthenticationFailed")
        scopes = _parse_scopes(claims.get("scope"))
        if scopes is None or not scopes or not scopes <= client.scopes:
            return self._fail("m2m", "InvalidScope")
        # M2M issues no refresh token (reference §1c).
        return 200, self._mint(scopes), {}

    def _refresh(self, request: httpx.Request, form: Mapping[str, str]) -> TokenAnswer:
        client_id, secret = _basic_credentials(request.headers.get("authorization", ""))
        client = self._oauth2_clients.get(client_id or "")
        if client is None or not safe_string_equals(client.client_secret, secret or ""):
            self.audit_trail.append(
                AuditEntry(
                    time=self.clock.time(), method="oauth2", detail="ClientAuthenticationFailed"
                )
            )
            # RFC 6749 §5.2 answer for a bad client; the reference has no NetSuite literal.
            return 401, {"error": "invalid_client"}, {}
        presented = form.get("refresh_token", "")
        stored = self._refresh_tokens.get(presented)
        if stored is None or stored.client_id != client.client_id:
            return self._invalid_grant("RefreshTokenExpired")
        if stored.expires_at <= self.clock.now():
            del self._refresh_tokens[presented]
            # reference §1b (Oracle): an expired refresh token gets `invalid_grant`.
            return self._invalid_grant("RefreshTokenExpired")
        body = self._mint(frozenset({"rest_webservices"}))
        if client.rotate:
            # Public clients: a new refresh token each time, valid 3 h, usable once (§1b).
            del self._refresh_tokens[presented]
            fresh = secrets.token_urlsafe(32)
            self._refresh_tokens[fresh] = _RefreshToken(
                client_id=client.client_id, expires_at=self.clock.now() + _ROTATED_REFRESH_SECONDS
            )
            body["refresh_token"] = fresh
        return 200, body, {}

    def _invalid_grant(self, detail: str) -> TokenAnswer:
        self.audit_trail.append(AuditEntry(time=self.clock.time(), method="oauth2", detail=detail))
        # RFC 6749 §5.2 status for invalid_grant; reference §1b names the error only.
        return 400, {"error": "invalid_grant"}, {}

    def _mint(self, scopes: frozenset[str]) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        lifetime = _ACCESS_TOKEN_SECONDS
        if self.injector.plan.token_lifetime is not None:
            # The fault: the token dies early although expires_in still says 3600.
            lifetime = min(lifetime, self.injector.plan.token_lifetime)
        self._tokens[token] = _AccessToken(scopes=scopes, expires_at=self.clock.now() + lifetime)
        self.tokens_minted += 1
        # reference §1b: expires_in = 3600, token_type = bearer. Whether NetSuite sends
        # expires_in as a number or a string the reference does not say: configurable.
        expires_in: int | str = "3600" if self.expires_in_as_string else 3600
        return {"access_token": token, "expires_in": expires_in, "token_type": "bearer"}

    # -- resource requests -------------------------------------------------------------------

    def authenticate(self, request: httpx.Request) -> tuple[ErrorBody, dict[str, str]] | None:
        """Check a resource request's credentials; None when they are good."""
        authorization = request.headers.get("authorization", "")
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() == "bearer":
            token = self._tokens.get(rest.strip())
            if token is None or token.expires_at <= self.clock.now():
                return self._reject("bearer", "InvalidToken", {})
            if "rest_webservices" not in token.scopes:
                return self._reject("bearer", "InvalidScope", {})
            return None
        if scheme.lower() == "oauth":
            return self._check_tba(request, authorization)
        return self._reject("none", "MissingCredentials", {})

    def _reject(
        self, method: str, detail: str, headers: dict[str, str]
    ) -> tuple[ErrorBody, dict[str, str]]:
        self.audit_trail.append(AuditEntry(time=self.clock.time(), method=method, detail=detail))
        return invalid_login(), headers

    def _check_tba(
        self, request: httpx.Request, authorization: str
    ) -> tuple[ErrorBody, dict[str, str]] | None:
        # The header a rejected TBA request gets in a real log (reference §1a).
        rejected = {
            "www-authenticate": (
                f'OAuth realm="{self.realm}", error="token_rejected",'
                ' error_description="Invalid login attempt."'
            )
        }
        try:
            pairs = parse_authorization_header(authorization)
        except (ValueError, IndexError):
            return self._reject("tba", "InvalidSignature", rejected)
        # Header values are percent-encoded (reference §1a: each value rawurlencoded).
        params = {key: unescape(value) for key, value in pairs}
        if params.get("realm") != self.realm:
            # A production realm sent to a sandbox account, or the reverse (reference §9).
            # Stricter than the reference: §1a calls the upper-case, underscore form only "the
            # usual convention, not a documented rule". The simulator demands that exact form
            # (a lower-case or hyphenated realm is refused) so a client is held to the form
            # every known implementation sends; NetSuite may be more lenient.
            return self._reject("tba", "InvalidAccount", rejected)
        if params.get("oauth_signature_method") != "HMAC-SHA256":
            # HMAC-SHA1 stopped being supported in 2023.1 (reference §1a).
            return self._reject("tba", "InvalidSignature", rejected)
        credential = self._tba.get(params.get("oauth_token", ""))
        if credential is None or credential.consumer_key != params.get("oauth_consumer_key"):
            return self._reject("tba", "InvalidToken", rejected)
        nonce = params.get("oauth_nonce", "")
        timestamp = params.get("oauth_timestamp", "")
        if not nonce or not timestamp.isdigit():
            return self._reject("tba", "InvalidSignature", rejected)
        if (
            self.tba_timestamp_tolerance is not None
            and abs(int(timestamp) - self.clock.time()) > self.tba_timestamp_tolerance
        ):
            # The reference is silent on timestamp windows; 300 s is the usual OAuth 1.0a
            # server default, configurable (None turns the check off).
            return self._reject("tba", "InvalidTimestamp", rejected)
        nonce_key = (credential.token_id, nonce, timestamp)
        if nonce_key in self._nonces:
            return self._reject("tba", "InvalidNonce", rejected)
        if not self._tba_signature_matches(request, authorization, params, credential):
            return self._reject("tba", "InvalidSignature", rejected)
        self._nonces.add(nonce_key)
        return None

    @staticmethod
    def _tba_signature_matches(
        request: httpx.Request,
        authorization: str,
        params: Mapping[str, str],
        credential: _TbaCredential,
    ) -> bool:
        # Query parameters are part of the base string (reference §1a); form bodies too, per
        # RFC 5849 §3.4.1.3; JSON bodies are not.
        body: str | None = None
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = request.content.decode("utf-8", "replace")
        collected = oauth_signature.collect_parameters(
            uri_query=request.url.query.decode("ascii", "replace"),
            body=body,
            headers={"Authorization": authorization},
            exclude_oauth_signature=True,
            with_realm=False,
        )
        normalized = oauth_signature.normalize_parameters(collected)  # type: ignore[arg-type]
        base_uri = oauth_signature.base_string_uri(str(request.url))
        base_string = oauth_signature.signature_base_string(
            request.method,  # type: ignore[arg-type]
            base_uri,
            normalized,
        )
        signer = OAuth1Client(
            credential.consumer_key,
            client_secret=credential.consumer_secret,
            resource_owner_key=credential.token_id,
            resource_owner_secret=credential.token_secret,
        )
        expected = str(
            oauth_signature.sign_hmac_sha256_with_client(base_string, signer)  # type: ignore[no-untyped-call]
        )
        return safe_string_equals(expected, params.get("oauth_signature", ""))


def _parse_scopes(raw: object) -> frozenset[str] | None:
    """Scopes from the assertion: comma-separated per Oracle; a list is also accepted.

    Whether NetSuite accepts an array is unconfirmed (reference, open question 10).
    """
    if isinstance(raw, str):
        parts = [part.strip() for part in raw.replace(" ", ",").split(",")]
    elif isinstance(raw, list):
        parts = [str(part).strip() for part in raw]
    else:
        return None
    scopes = frozenset(part for part in parts if part)
    return scopes if scopes <= SCOPES else None


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)
