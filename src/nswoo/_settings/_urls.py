"""URL rules, in one place: loopback hosts, masking, allowed schemes, http only on loopback.

Settings (`NS_<ENV>_BASE_URL`, `WOO_<ENV>_URL`), the mapping file (`notify.webhook_url`,
`notify.email.smtp_url`) and both clients check URLs with `url_problem`, so a URL refused
by one is refused by all, with the same words. A problem message never repeats the URL: it
may carry a password or a token.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

__all__ = [
    "LOOPBACK_NAMES",
    "is_loopback_host",
    "normalise_site_url",
    "redact_url",
    "same_site",
    "url_problem",
]

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
"""Host names that always mean this machine (besides 127.0.0.0/8 and ::1)."""

_REDACTED = "**********"
# Query parameters that carry credentials in libpq and redis-py URLs (`?password=…`).
_QUERY_SECRET = re.compile(
    r"([?&](?:password|pass|passwd|sslpassword|secret|token|auth))=[^&#]*", re.IGNORECASE
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback_host(host: str) -> bool:
    """Whether `host` is this machine: `localhost`, an address in 127.0.0.0/8, or `::1`.

    Accepts a bracketed IPv6 literal (`[::1]`, as in a URL) and a trailing root dot.

    Example:
        >>> [is_loopback_host(h) for h in ("LOCALHOST", "127.9.9.9", "[::1]", "127.0.0.1.nip.io")]
        [True, True, True, False]
    """
    name = host.strip().lower().strip("[]").removesuffix(".")
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """`postgresql://user:pw@db/x` → `postgresql://user:**********@db/x` (for repr and output).

    Works on the text rather than a parsed URL: a password with an unescaped `/`, `?` or `#`
    would make a parser see it as a path, and it must be masked all the same. Credentials
    in the query string (`?password=…`, as libpq and redis-py read them) are masked too.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    rest = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}={_REDACTED}", rest)
    if "@" not in rest:
        return f"{scheme}://{rest}"
    userinfo, _, hostpart = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not colon:
        # Only a user name (no password), unless the "user" is a token (redis://token@host).
        return f"{scheme}://{_REDACTED}@{hostpart}"
    return f"{scheme}://{user}:{_REDACTED}@{hostpart}"


def url_problem(
    url: str,
    *,
    schemes: tuple[str, ...] = ("https", "http"),
    credentials: bool = False,
    query: bool = False,
) -> str | None:
    """What is wrong with `url` for nswoo to send anything to it, or None when nothing is.

    The rules: one of `schemes` (case-insensitive), a host, a valid port; no `user:password@`
    unless `credentials` (they end up in logs; the key variables carry them instead); no
    query string or fragment unless `query`; and plain `http://` only to a loopback host,
    because whatever authenticates the request (a consumer secret, a bearer token, a
    signed webhook) would otherwise cross the network in clear text.

    Returns:
        A message for `ConfigurationError` / `SettingsRefused` that never repeats the URL.

    Example:
        >>> url_problem("http://shop.example")
        'may use http:// only for a loopback host (localhost, 127.0.0.0/8, ::1); use https://'
        >>> url_problem("http://127.0.0.1:8081") is None
        True
    """
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        return f"must be a {' or '.join(s + '://' for s in schemes)} URL"
    if not parts.hostname:
        return "must name a host"
    if not credentials and (parts.username is not None or parts.password is not None):
        return "must not carry credentials (user:password@); they would end up in logs"
    if not query and (parts.query or parts.fragment or url.rstrip().endswith(("?", "#"))):
        return "must not have a query string or fragment"
    if scheme == "http" and not is_loopback_host(parts.hostname):
        return (
            "may use http:// only for a loopback host (localhost, 127.0.0.0/8, ::1); use https://"
        )
    return None


def normalise_site_url(url: str) -> str | None:
    """One site, one spelling: `HTTPS://Shöp.Example.:443/a/./` → `https://xn--shp-sna.example/a`.

    Folds the spellings an HTTP client resolves to the same place: case, default port,
    trailing root dot, internationalised names (to IDNA), dot segments, empty segments and
    the trailing slash. The stored form of `WOO_<ENV>_URL`; the host is otherwise kept
    as written (`www.` included: it may be the only name the site answers to).

    Returns:
        The normal form, or None when `url` is not an http(s) URL with a host.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or scheme not in _DEFAULT_PORTS:
        return None
    if ":" in host:
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{_normal_path(parts.path)}"


def same_site(first: str, second: str) -> bool:
    """Whether two http(s) URLs name one site (`normalise_site_url`, and `www.` folded).

    `https://www.shop.example` and `https://shop.example` are one WordPress site: nobody
    runs a staging store on the `www.` alias. Malformed URLs are never the same site.
    """
    one, other = normalise_site_url(first), normalise_site_url(second)
    if one is None or other is None:
        return False
    return _without_www(one) == _without_www(other)


def _without_www(normal: str) -> str:
    scheme, _, rest = normal.partition("://")
    return f"{scheme}://{rest.removeprefix('www.')}"


def _normal_path(path: str) -> str:
    """The path as an HTTP client sends it: dot segments removed (RFC 3986 §5.2.4), empty
    segments and the trailing slash dropped, so two spellings of one site compare equal.
    """
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return "".join(f"/{segment}" for segment in segments)
