"""NetSuite authentication: OAuth 2.0 M2M and refresh-token grants, and TBA (OAuth 1.0a).

The token sources mint access tokens for `nswoo._http.BearerAuth`, which caches them and
refreshes once for all callers after a 401. `TbaAuth` signs every request attempt itself.
`netsuite_auth(settings, …)` picks the right one for `settings.auth`.

Token requests go straight to the token endpoint over the injected `httpx.AsyncClient`, not
through the limiter: they are made while a request may already hold a limiter slot, and
whether the token endpoint counts against the account's concurrency pool is not documented
(the reference is silent).
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, cast

import anyio
import attrs
import cattrs
import httpx
import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from oauthlib import oauth1

from .._clock import Clock
from .._http import BearerAuth, Credential, RequestAuth, TokenGrant, error_context
from .._settings import (
    M2MCredentials,
    NetSuiteAuth,
    NetSuiteSettings,
    OAuth2Credentials,
    Secret,
    TbaCredentials,
)
from ..errors import (
    ApiContext,
    ApiError,
    AuthenticationError,
    ConfigurationError,
    InvalidPayload,
    RateLimited,
    ResponseInvalid,
    ServiceUnavailable,
)

__all__ = [
    "ASSERTION_LIFETIME",
    "M2MTokenSource",
    "RefreshTokenSource",
    "TbaAuth",
    "build_client_assertion",
    "load_signing_key",
    "netsuite_auth",
    "signing_algorithm",
    "unauthorized_hint",
]

ASSERTION_LIFETIME = 3500
"""Seconds between a client assertion's `iat` and `exp`. Reference §1c: `exp` "must be less
than 60 minutes" after `iat`; 3500 s stays strictly under with room for clock rounding."""

# Reference §1c: Oracle accepts PS256/384/512 and ES256/384/512; nswoo signs PS256 (RSA
# keys) or ES256 (EC keys on P-256), the one the key's type says unless set explicitly.
# RS256 (RSA PKCS#1 v1.5) is no longer on Oracle's list, so an RSA key never means RS256.
_KEY_TYPES: Mapping[str, type[Any]] = {
    "PS256": rsa.RSAPrivateKey,
    "ES256": ec.EllipticCurvePrivateKey,
}
_SCOPES = frozenset({"rest_webservices", "restlets", "suite_analytics", "mcp"})

_HttpMethod = Literal[
    "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"
]
_JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

_M2M_HINT = (
    "Check the client id, the certificate id and the algorithm, and that the M2M mapping "
    "exists in this account: mappings are per account, cleared by every sandbox refresh, and "
    "must be recreated when the certificate is revoked or expires"
)
_OAUTH2_HINT = (
    "Re-authorize the application: the refresh token expired (they last 7 days) or was "
    "revoked, and a sandbox refresh invalidates every authorization"
)
_TBA_HINT = (
    "Check that the token belongs to this account (realm) and was created after the last "
    "sandbox refresh; a 401 under heavy load can also be NetSuite's concurrency limit in "
    "disguise, so lower the concurrency if the credentials are right"
)


def unauthorized_hint(credentials: NetSuiteAuth) -> str:
    """What to tell the user when NetSuite answers 401 under this kind of credentials."""
    if isinstance(credentials, M2MCredentials):
        return _M2M_HINT
    if isinstance(credentials, OAuth2Credentials):
        return _OAUTH2_HINT
    return _TBA_HINT


# ---------------------------------------------------------------------------------------------
# OAuth 2.0 client credentials (M2M)


def _config_error(message: str, key: str | None) -> ConfigurationError:
    return ConfigurationError(message, key=key)


def load_signing_key(
    pem: Secret,
    algorithm: str | None,
    *,
    key: str | None = None,
    algorithm_key: str | None = None,
) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """Load the M2M private key and check it fits `algorithm`.

    Args:
        pem: the PEM text of an unencrypted private key.
        algorithm: `PS256` (RSA key) or `ES256` (EC key on P-256); None: either, whichever
            the key is (see `signing_algorithm`).
        key: the setting to name in errors (`NS_PROD_PRIVATE_KEY`), never its value.
        algorithm_key: the setting the algorithm came from (`NS_PROD_JWT_ALGORITHM`),
            named when the key does not fit it.

    Raises:
        ConfigurationError: unsupported algorithm (RS256 included), unreadable PEM, or a key
            of the wrong type or curve. The message never contains the key.
    """
    if algorithm == "RS256":
        raise _config_error(
            "RS256 (RSA PKCS#1 v1.5) is no longer accepted by NetSuite for M2M; use PS256 with "
            "the same RSA key, or ES256 with a P-256 key",
            key,
        )
    if algorithm is not None and algorithm not in _KEY_TYPES:
        raise _config_error(f"unsupported algorithm {algorithm!r}; use PS256 or ES256", key)
    try:
        loaded = serialization.load_pem_private_key(pem.reveal().encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The exception text can quote key material: never chain or repeat it.
        raise _config_error(
            "the M2M private key is not a readable, unencrypted PEM private key", key
        ) from None
    if algorithm is None:
        if not isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise _config_error(
                "the M2M private key must be an RSA key (signs PS256) or an EC key on P-256 "
                "(signs ES256); this key is another type",
                key,
            )
    elif not isinstance(loaded, _KEY_TYPES[algorithm]):
        wanted = "an RSA" if algorithm == "PS256" else "an EC (P-256)"
        fits = "ES256" if isinstance(loaded, ec.EllipticCurvePrivateKey) else None
        hint = ""
        if fits and algorithm_key:
            hint = f": set {algorithm_key}={fits}, or leave it unset to sign as the key's type says"
        raise _config_error(
            f"{algorithm} needs {wanted} private key; this key is another type{hint}", key
        )
    if isinstance(loaded, ec.EllipticCurvePrivateKey) and not isinstance(
        loaded.curve, ec.SECP256R1
    ):
        raise _config_error("ES256 needs an EC key on the P-256 curve", key)
    assert isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)  # noqa: S101
    return loaded


def signing_algorithm(
    signing_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
) -> Literal["PS256", "ES256"]:
    """The algorithm a key's type says: PS256 for RSA (never RS256), ES256 for EC (P-256)."""
    return "PS256" if isinstance(signing_key, rsa.RSAPrivateKey) else "ES256"


def build_client_assertion(
    *,
    client_id: str,
    certificate_id: str,
    signing_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    algorithm: str,
    scopes: tuple[str, ...],
    audience: str,
    issued_at: int,
    jwt_id: str,
) -> str:
    """Sign the JWT client assertion for the client-credentials grant (reference §1c).

    Header: `typ` JWT, `alg`, `kid` = certificate id. Claims: `iss` = client id, `scope`
    comma-separated (Oracle: "separated by a comma"; whether an array also works is
    unconfirmed, Unconfirmed item 10), `aud` = the token endpoint URL, `iat`,
    `exp` = `iat` + `ASSERTION_LIFETIME`, and a unique `jti`.
    """
    claims = {
        "iss": client_id,
        "scope": ",".join(scopes),
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + ASSERTION_LIFETIME,
        "jti": jwt_id,
    }
    return jwt.encode(
        claims, signing_key, algorithm=algorithm, headers={"typ": "JWT", "kid": certificate_id}
    )


@attrs.frozen
class _TokenWire:
    access_token: str
    # Reference §1b/§1c: NetSuite access tokens live 60 minutes and the response states
    # `expires_in`; the default only matters for a response that leaves it out.
    expires_in: float = 3600.0
    refresh_token: str | None = None
    token_type: str | None = None


def _token_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=False)

    def structure_str(value: object, _type: object) -> str:
        if not isinstance(value, str) or not value:
            raise TypeError("expected a non-empty string")
        return value

    def structure_float(value: object, _type: object) -> float:
        # NetSuite's samples show a number; a numeric string is accepted as well.
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError("expected a number of seconds")
        number = float(value)
        if not number > 0:
            raise ValueError("expected a positive number of seconds")
        return number

    converter.register_structure_hook(str, structure_str)
    converter.register_structure_hook(float, structure_float)
    return converter


def _token_failure(response: httpx.Response, *, hint: str) -> ApiError:
    """A token endpoint answer that is not a token → the error to raise.

    The body shape `{"error": "invalid_grant", "error_description": …}` is RFC 6749 §5.2;
    the reference confirms only that NetSuite answers `invalid_grant` for an expired refresh
    token (§1b), so any 400/401/403 is treated as refused credentials.
    """
    ctx = error_context(response, "netsuite")
    status = response.status_code
    code: str | None = None
    description: str | None = None
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        raw_code = payload.get("error")
        code = raw_code if isinstance(raw_code, str) else None
        raw_description = payload.get("error_description")
        description = raw_description if isinstance(raw_description, str) else None
        if code is None:
            # A REST-style error body (reference §4) from the same host.
            details = payload.get("o:errorDetails")
            if isinstance(details, list) and details and isinstance(details[0], Mapping):
                found = details[0].get("o:errorCode")
                code = found if isinstance(found, str) else None
    coded: ApiContext = {**ctx, "code": code}
    if status == 429:
        return RateLimited("token endpoint is rate limited", **coded)
    if status >= 500 or (payload is None and status not in (400, 401, 403)):
        return ServiceUnavailable(f"token endpoint answered HTTP {status}", **ctx)
    detail = "token request refused"
    if code:
        detail += f": {code}"
    if description:
        detail += f" ({description})"
    return AuthenticationError(detail, hint=hint, **coded)


async def _post_token(
    http: httpx.AsyncClient,
    url: str,
    form: Mapping[str, str],
    headers: Mapping[str, str],
    *,
    hint: str,
    converter: cattrs.Converter,
) -> _TokenWire:
    try:
        response = await http.post(
            url, data=dict(form), headers={"Accept": "application/json", **headers}
        )
    except httpx.TimeoutException as exc:
        raise ServiceUnavailable("token endpoint timed out", system="netsuite") from exc
    except httpx.TransportError as exc:
        raise ServiceUnavailable(
            f"token endpoint unreachable ({type(exc).__name__})", system="netsuite"
        ) from exc
    if response.status_code != 200:
        raise _token_failure(response, hint=hint)
    try:
        payload = response.json()
    except ValueError:
        raise ResponseInvalid(
            "token endpoint answered 200 with a body that is not JSON",
            **error_context(response, "netsuite"),
        ) from None
    try:
        return converter.structure(payload, _TokenWire)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        # transform_error names paths and types, never the values (the token).
        problems = (
            cattrs.transform_error(exc)
            if isinstance(exc, cattrs.BaseValidationError)
            else ["$: expected a JSON object"]
        )
        raise InvalidPayload(
            "token response does not carry a usable access token",
            problems=problems,
            **error_context(response, "netsuite"),
        ) from None


class M2MTokenSource:
    """OAuth 2.0 client credentials: a signed JWT assertion buys a 60-minute access token.

    Reference §1c. The key is loaded and checked when the source is built, so a bad key
    fails at startup, not on the first request. The grant issues no refresh token: each
    `fetch_token()` signs a new assertion.

    Example:
        >>> source = M2MTokenSource(
        ...     settings.auth, token_url=settings.token_url, http=http, clock=SystemClock()
        ... )  # doctest: +SKIP
        >>> auth = BearerAuth(source, clock=SystemClock())  # doctest: +SKIP
    """

    def __init__(
        self,
        credentials: M2MCredentials,
        *,
        token_url: str,
        http: httpx.AsyncClient,
        clock: Clock,
        new_id: Callable[[], str] | None = None,
        setting_prefix: str | None = None,
    ) -> None:
        """Build the source.

        Args:
            credentials: client id, certificate id, private key, algorithm and scopes.
            token_url: the account's token endpoint (also the assertion's `aud`).
            http: the client that sends the token request.
            clock: `time()` gives the assertion's `iat`.
            new_id: makes each assertion's `jti` (default: a random UUID).
            setting_prefix: e.g. `NS_PROD_`, to name the variable at fault in errors.

        Raises:
            ConfigurationError: empty client or certificate id, unknown scope, RS256 or
                another unsupported algorithm, or a private key that does not fit.
        """
        prefix = setting_prefix or ""
        named = bool(setting_prefix)
        if not credentials.client_id.strip():
            raise _config_error(
                "the M2M client id is empty", f"{prefix}CLIENT_ID" if named else None
            )
        if not credentials.certificate_id.strip():
            raise _config_error(
                "the M2M certificate id is empty (it is the JWT 'kid'; NetSuite shows it on "
                "the OAuth 2.0 client credentials setup page)",
                f"{prefix}CERTIFICATE_ID" if named else None,
            )
        scopes = tuple(credentials.scopes)
        unknown = sorted(set(scopes) - _SCOPES)
        if not scopes or unknown:
            raise _config_error(
                f"M2M scopes must be among {sorted(_SCOPES)}; got unknown {unknown or 'none'}",
                None,
            )
        if "mcp" in scopes and len(scopes) > 1:
            # Reference §1b: the mcp scope cannot be combined with the others.
            raise _config_error("the 'mcp' scope cannot be combined with other scopes", None)
        self._signing_key = load_signing_key(
            credentials.private_key,
            credentials.algorithm,
            key=f"{prefix}PRIVATE_KEY" if named else None,
            algorithm_key=f"{prefix}JWT_ALGORITHM" if named else None,
        )
        self._algorithm = credentials.algorithm or signing_algorithm(self._signing_key)
        self._credentials = credentials
        self._scopes = scopes
        self._token_url = token_url
        self._http = http
        self._clock = clock
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self._converter = _token_converter()

    def client_assertion(self) -> str:
        """A freshly signed assertion (new `iat` and `jti`)."""
        return build_client_assertion(
            client_id=self._credentials.client_id,
            certificate_id=self._credentials.certificate_id,
            signing_key=self._signing_key,
            algorithm=self._algorithm,
            scopes=self._scopes,
            audience=self._token_url,
            issued_at=int(self._clock.time()),
            jwt_id=self._new_id(),
        )

    async def fetch_token(self) -> TokenGrant:
        """Sign an assertion and exchange it for an access token.

        Raises:
            AuthenticationError: the endpoint refused the assertion (`invalid_client`, …).
            RateLimited, ServiceUnavailable: try again later.
            ResponseInvalid, InvalidPayload: the answer carried no usable token.
        """
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": _JWT_BEARER,
            "client_assertion": self.client_assertion(),
        }
        wire = await _post_token(
            self._http, self._token_url, form, {}, hint=_M2M_HINT, converter=self._converter
        )
        return TokenGrant(access_token=Secret(wire.access_token), expires_in=wire.expires_in)


# ---------------------------------------------------------------------------------------------
# OAuth 2.0 refresh-token grant


class RefreshTokenSource:
    """OAuth 2.0 refresh-token grant with HTTP Basic client auth (reference §1b).

    When NetSuite returns a new refresh token the source keeps the newest and awaits
    `on_rotate(new_token)` so the caller can persist it (public clients get a single-use
    refresh token on every refresh). Refreshes are serialised: two callers never spend the
    same refresh token.

    Example:
        >>> async def save(token: Secret) -> None: ...
        >>> source = RefreshTokenSource(
        ...     settings.auth, token_url=settings.token_url, http=http, on_rotate=save
        ... )  # doctest: +SKIP
    """

    def __init__(
        self,
        credentials: OAuth2Credentials,
        *,
        token_url: str,
        http: httpx.AsyncClient,
        on_rotate: Callable[[Secret], Awaitable[None]] | None = None,
    ) -> None:
        """Build the source.

        Raises:
            ConfigurationError: the client id, client secret or refresh token is empty.
        """
        if not credentials.client_id.strip():
            raise _config_error("the OAuth 2.0 client id is empty", None)
        if not credentials.client_secret or not credentials.refresh_token:
            raise _config_error("the OAuth 2.0 client secret and refresh token must be set", None)
        self._credentials = credentials
        self._refresh_token = credentials.refresh_token
        self._token_url = token_url
        self._http = http
        self._on_rotate = on_rotate
        self._lock = anyio.Lock()
        self._converter = _token_converter()

    @property
    def refresh_token(self) -> Secret:
        """The newest refresh token."""
        return self._refresh_token

    def _basic(self) -> str:
        pair = f"{self._credentials.client_id}:{self._credentials.client_secret.reveal()}"
        return "Basic " + base64.b64encode(pair.encode()).decode("ascii")

    async def fetch_token(self) -> TokenGrant:
        """Exchange the refresh token for an access token, keeping a rotated refresh token.

        Raises:
            AuthenticationError: `invalid_grant` and other refusals: re-authorize.
            RateLimited, ServiceUnavailable: try again later.
            ResponseInvalid, InvalidPayload: the answer carried no usable token.
        """
        async with self._lock:
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token.reveal()}
            wire = await _post_token(
                self._http,
                self._token_url,
                form,
                {"Authorization": self._basic()},
                hint=_OAUTH2_HINT,
                converter=self._converter,
            )
            if wire.refresh_token and wire.refresh_token != self._refresh_token.reveal():
                self._refresh_token = Secret(wire.refresh_token)
                if self._on_rotate is not None:
                    await self._on_rotate(self._refresh_token)
            return TokenGrant(access_token=Secret(wire.access_token), expires_in=wire.expires_in)


# ---------------------------------------------------------------------------------------------
# TBA (OAuth 1.0a)


class TbaAuth:
    """Token-based authentication: OAuth 1.0a HMAC-SHA256, a fresh signature per attempt.

    Reference §1a: HMAC-SHA256 (SHA1 is no longer supported), realm = the account id in
    upper case with `_` (`1234567_SB1`), query parameters in the signature base string.
    oauthlib decodes the URL's query once and re-encodes it per RFC 5849, so values are
    never double-encoded. JSON bodies are not part of an OAuth 1.0a signature.

    TBA tokens do not refresh (§1a: Oracle documents no expiry), so `invalidate` returns
    False and a 401 is final.

    Example:
        >>> auth = TbaAuth(
        ...     settings.auth, realm=settings.realm, clock=SystemClock()
        ... )  # doctest: +SKIP
    """

    def __init__(
        self,
        credentials: TbaCredentials,
        *,
        realm: str,
        clock: Clock,
        nonce: Callable[[], str] | None = None,
    ) -> None:
        """Build the signer.

        Raises:
            ConfigurationError: a key, secret, token or the realm is empty.
        """
        if not (
            credentials.consumer_key
            and credentials.consumer_secret
            and credentials.token_id
            and credentials.token_secret
        ):
            raise _config_error(
                "TBA needs a consumer key, consumer secret, token id and token secret", None
            )
        if not realm:
            raise _config_error("TBA needs the account id as realm", None)
        self._credentials = credentials
        self._realm = realm
        self._clock = clock
        self._nonce = nonce or (lambda: secrets.token_hex(16))

    def sign(self, method: str, url: str) -> str:
        """The `Authorization` header value for one attempt of `method url`."""
        client = oauth1.Client(
            self._credentials.consumer_key,
            client_secret=self._credentials.consumer_secret.reveal(),
            resource_owner_key=self._credentials.token_id,
            resource_owner_secret=self._credentials.token_secret.reveal(),
            signature_method=oauth1.SIGNATURE_HMAC_SHA256,
            realm=self._realm,
            nonce=self._nonce(),
            timestamp=str(int(self._clock.time())),
        )
        # httpx methods are upper-case HTTP verbs; oauthlib types them as a Literal.
        verb = cast("_HttpMethod", method.upper())
        _uri, headers, _body = client.sign(url, http_method=verb)
        header: str = headers["Authorization"]
        return header

    async def authorize(self, request: httpx.Request) -> Credential:
        """Sign `request` (its URL including the query) and set `Authorization`."""
        request.headers["Authorization"] = self.sign(request.method, str(request.url))
        return Credential(generation=0)

    async def invalidate(self, credential: Credential) -> bool:
        """TBA tokens cannot be refreshed: a 401 is final."""
        return False


# ---------------------------------------------------------------------------------------------


def netsuite_auth(
    settings: NetSuiteSettings,
    *,
    http: httpx.AsyncClient,
    clock: Clock,
    on_rotate: Callable[[Secret], Awaitable[None]] | None = None,
) -> RequestAuth:
    """The `RequestAuth` for `settings.auth`: bearer tokens (M2M, OAuth 2.0) or TBA.

    Args:
        settings: the account; `settings.auth` picks the scheme.
        http: the client token requests are sent with.
        clock: token lifetimes (`now()`), assertion and OAuth timestamps (`time()`).
        on_rotate: persists a rotated OAuth 2.0 refresh token (refresh-token grant only).

    Raises:
        ConfigurationError: the credentials are unusable (see each source).
    """
    credentials = settings.auth
    prefix = f"NS_{settings.environment.upper()}_"
    if isinstance(credentials, M2MCredentials):
        source = M2MTokenSource(
            credentials,
            token_url=settings.token_url,
            http=http,
            clock=clock,
            setting_prefix=prefix,
        )
        return BearerAuth(source, clock=clock)
    if isinstance(credentials, OAuth2Credentials):
        refresh = RefreshTokenSource(
            credentials, token_url=settings.token_url, http=http, on_rotate=on_rotate
        )
        return BearerAuth(refresh, clock=clock)
    return TbaAuth(credentials, realm=settings.realm, clock=clock)
