"""WooCommerce's OAuth 1.0a "one-legged" check, as `WC_REST_Authentication` does it.

Reference §1 and WooCommerce's `includes/class-wc-rest-authentication.php`
(`get_oauth_parameters`, `parse_header`, `check_oauth_signature`, `normalize_parameters`,
`join_with_equals_sign`, `check_oauth_timestamp_and_nonce`) and `wc_rest_urlencode_rfc3986`
in `includes/wc-rest-functions.php`. It is written from that code, not from RFC 5849 or any
client library, so a client that deviates from what WooCommerce accepts is refused here too;
the tests sign with oauthlib and with the official `woocommerce` client to check it.

What WooCommerce does, and so what this module does:

- parameters are `$_GET` merged with `$_POST` (form bodies only; a JSON body is not signed),
  then the `oauth_*` parameters of an `Authorization: OAuth ...` header over them;
- if none of the five required parameters is present the request is not OAuth at all; if
  some but not all are, it is refused with `woocommerce_rest_authentication_missing_parameter`;
- the consumer key is looked up, then the signature checked (HMAC-SHA1 or HMAC-SHA256, key
  `consumer_secret&`, base string `METHOD&rawurlencode(home_url(path))&<params>` with the
  parameters sorted by name (`strcmp`), each `name=value` RFC 3986-encoded twice), then the
  timestamp (within 15 minutes) and the nonce (not seen for this key in 15 minutes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote, unquote_plus

import attrs

from ._store import RestError

__all__ = ["OAUTH_WINDOW", "NonceBook", "oauth_parameters", "verify_oauth"]

OAUTH_WINDOW = 15 * 60
"""Seconds a timestamp may be off and a nonce is remembered (`$valid_window`, §1)."""

_REQUIRED = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
# `parse_header`'s pattern, verbatim: only `oauth_*` names, quoted or bare values.
_HEADER_PARAM = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')
_ALGORITHMS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}

PhpValue = str | dict[str, "PhpValue"]


def _error(message: str, code: str = "woocommerce_rest_authentication_error") -> RestError:
    return RestError(401, code, message)


def php_params(pairs: Iterable[tuple[str, str]]) -> dict[str, PhpValue]:
    """Decoded query or form pairs as PHP's `$_GET`/`$_POST` hold them.

    A name seen twice keeps its last value; `name[]=v` and `name[key]=v` build an array
    (the only nesting WordPress clients send). Values are already URL-decoded.
    """
    out: dict[str, PhpValue] = {}
    for name, value in pairs:
        base, bracket, rest = name.partition("[")
        if not bracket or not rest.endswith("]") or not base:
            out[name] = value
            continue
        inner = rest[:-1]
        current = out.get(base)
        array: dict[str, PhpValue] = current if isinstance(current, dict) else {}
        key = inner if inner else str(1 + max((int(k) for k in array if k.isdigit()), default=-1))
        array[key] = value
        out[base] = array
    return out


def parse_header(header: str) -> dict[str, str]:
    """The `oauth_*` parameters of an `Authorization: OAuth ...` header (`parse_header`)."""
    if not header.startswith("OAuth "):
        return {}
    params: dict[str, str] = {}
    for match in _HEADER_PARAM.finditer(header):
        # PHP's urldecode: `+` is a space, as in a query string.
        params[match[1]] = unquote_plus(match[3] if match[3] else match[4])
    return params


def oauth_parameters(
    query: Iterable[tuple[str, str]],
    form: Iterable[tuple[str, str]],
    authorization: str,
) -> dict[str, PhpValue] | None:
    """`get_oauth_parameters`: every signed parameter, or None when this is not OAuth.

    Raises:
        RestError: some but not all required `oauth_*` parameters are present (401).
    """
    params = php_params([*query, *form])
    header = parse_header(authorization.strip())
    if header:
        params.update(header)
    missing = [name for name in _REQUIRED if _php_empty(params.get(name))]
    if len(missing) == len(_REQUIRED):
        return None  # "probably not even trying to use OAuth"
    if missing:
        noun = "parameter" if len(missing) == 1 else "parameters"
        raise _error(
            f"Missing OAuth {noun} {', '.join(missing)}",
            "woocommerce_rest_authentication_missing_parameter",
        )
    return params


def _php_empty(value: PhpValue | None) -> bool:
    # PHP's empty(): "" and "0" are empty strings too.
    return value is None or value in ("", "0") or value == {}


def rawurlencode(value: str) -> str:
    """PHP's `rawurlencode`: RFC 3986, only unreserved characters left as they are."""
    return quote(value, safe="-_.~")


def _joined(params: Mapping[str, PhpValue], prefix: str = "") -> list[str]:
    # `join_with_equals_sign` over already-normalised names and values: arrays flatten to
    # `name%5Bkey%5D`, each `name=value` pair is encoded once more.
    out: list[str] = []
    for name, value in params.items():
        key = f"{prefix}%5B{name}%5D" if prefix else name
        if isinstance(value, dict):
            out.extend(_joined(value, key))
        else:
            out.append(rawurlencode(f"{key}={value}"))
    return out


def _normalised(params: Mapping[str, PhpValue]) -> dict[str, PhpValue]:
    # `normalize_parameters`: names and values RFC 3986-encoded (arrays element-wise).
    out: dict[str, PhpValue] = {}
    for name, value in params.items():
        out[rawurlencode(name)] = (
            _normalised(value) if isinstance(value, dict) else rawurlencode(value)
        )
    return out


def signature_base_string(method: str, base_uri: str, params: Mapping[str, PhpValue]) -> str:
    """`check_oauth_signature`'s string to sign (without `oauth_signature`)."""
    signed = {k: v for k, v in params.items() if k != "oauth_signature"}
    # uksort($params, 'strcmp'): byte order of the decoded names.
    ordered = dict(sorted(signed.items(), key=lambda kv: kv[0].encode()))
    query = "%26".join(_joined(_normalised(ordered)))
    return f"{method.upper()}&{rawurlencode(base_uri)}&{query}"


@attrs.define
class NonceBook:
    """The nonces each consumer key used, as WooCommerce stores them (`nonces` column).

    WooCommerce keeps them in a PHP array keyed by timestamp (`$used_nonces[$timestamp] =
    $nonce`), so of two requests with the same timestamp only the later nonce is remembered;
    entries older than the window are dropped on each write. The same is done here.
    """

    used: dict[str, dict[int, str]] = attrs.field(factory=dict)

    def check_and_store(self, key: str, timestamp: int, nonce: str, now: float) -> None:
        """`check_oauth_timestamp_and_nonce`.

        Raises:
            RestError: `Invalid timestamp.` or `Invalid nonce - nonce has already been used.`
        """
        if timestamp < now - OAUTH_WINDOW or timestamp > now + OAUTH_WINDOW:
            raise _error("Invalid timestamp.")
        book = self.used.setdefault(key, {})
        if nonce in book.values():
            raise _error("Invalid nonce - nonce has already been used.")
        book[timestamp] = nonce
        for stamp in [s for s in book if s < now - OAUTH_WINDOW]:
            del book[stamp]


def verify_oauth(
    params: Mapping[str, PhpValue],
    *,
    method: str,
    base_uri: str,
    secrets: Mapping[str, str],
    nonces: NonceBook,
    now: float,
) -> str:
    """Check one OAuth 1.0a request; return the consumer key it authenticated.

    Args:
        params: from `oauth_parameters`.
        method: the HTTP method.
        base_uri: `home_url(path)` with the scheme WordPress sees (§1).
        secrets: consumer secret by consumer key.
        nonces: the nonces seen so far (updated on success).
        now: the server's Unix time.

    Raises:
        RestError: 401 with WooCommerce's code and message (reference §1's table).
    """
    key = params["oauth_consumer_key"]
    if not isinstance(key, str) or key not in secrets:
        raise _error("Consumer key is invalid.")
    provided = params["oauth_signature"]
    given = unquote(provided.replace(" ", "+")) if isinstance(provided, str) else ""
    string_to_sign = signature_base_string(method, base_uri, params)
    algorithm = _ALGORITHMS.get(str(params["oauth_signature_method"]))
    if algorithm is None:
        raise _error("Invalid signature - signature method is invalid.")
    digest = hmac.new(f"{secrets[key]}&".encode(), string_to_sign.encode(), algorithm).digest()
    expected = base64.b64encode(digest).decode()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise _error("Invalid signature - provided signature does not match.")
    stamp = params["oauth_timestamp"]
    nonce = params["oauth_nonce"]
    if not isinstance(stamp, str) or not stamp.strip().lstrip("-").isdigit():
        # PHP would compare the string with an integer; any non-number is simply out of
        # the window.
        raise _error("Invalid timestamp.")
    nonces.check_and_store(key, int(stamp), str(nonce), now)
    return key
