"""The store and limiter backends, by URL scheme: one registry every reader shares.

`NSWOO_<ENV>_STORE` and `NSWOO_<ENV>_LIMITER` name a backend by the scheme of a URL
(`sqlite:///nswoo.db`, `postgresql://…`, `redis://…`, or the bare word `local`). Settings
validation (`from_env`), `open_store` and the limiter factory all look the scheme up here,
so a backend is added in one place: `register(Backend(...))` with its schemes, its URL rule,
the extra that installs its dependency, and the module that opens it (imported only when a
URL of that scheme is opened: settings never import a driver). A store module offers
`open_url(url, *, clock)` and `read_url_binding(url)` (`nswoo.store._ports.StoreBackend`);
a limiter module offers `open_url(url, *, cap, clock)`.

A backend whose extra is not installed raises `MissingExtra` (an `ImportError` and a
`ConfigurationError`) naming `pip install 'nswoo[<extra>]'`. A backend known but not built
in this version (`module=None`) is accepted by settings and refused when opened.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from types import ModuleType
from typing import Literal

import attrs

from ..errors import ConfigurationError, MissingExtra

__all__ = [
    "Backend",
    "BackendKind",
    "backend_problem",
    "backends",
    "find_backend",
    "load_backend",
    "register",
    "sqlite_path",
    "unavailable",
]

BackendKind = Literal["store", "limiter"]
_WHAT: dict[BackendKind, str] = {"store": "store", "limiter": "limiter"}


def _has_location(url: str) -> str | None:
    """The default URL rule: something after `scheme://`."""
    if not url.partition("://")[2]:
        return "needs a location after '://'"
    return None


@attrs.frozen
class Backend:
    """One store or limiter implementation, as `NSWOO_<ENV>_*` URLs name it.

    Attributes:
        kind: `store` or `limiter`.
        name: how messages call it (`"SQLite"`, `"PostgreSQL"`).
        schemes: the URL schemes that select it (lower case). With `bare`, the whole
            setting is the word itself (`local`), not a URL.
        form: the URL form shown in messages (`sqlite:///path.db`).
        module: the module that opens it from a URL (see the module docstring); None when
            this version does not ship it yet.
        extra: the pip extra that installs its dependency (`postgres`), if any.
        requires: the module that extra installs (`psycopg`), checked before opening.
        in_settings: whether `NSWOO_<ENV>_*` may name it (`memory://` is for tests only).
        bare: the setting is the scheme word alone (`local`).
        rule: the URL's own rule: None when acceptable, else a message that never repeats
            the URL (it may carry a password).
    """

    kind: BackendKind
    name: str
    schemes: tuple[str, ...]
    form: str
    module: str | None
    extra: str | None = None
    requires: str | None = None
    in_settings: bool = True
    bare: bool = False
    rule: Callable[[str], str | None] = _has_location

    @property
    def install(self) -> str | None:
        """`pip install 'nswoo[<extra>]'`, or None when it needs no extra."""
        return f"pip install 'nswoo[{self.extra}]'" if self.extra else None


_REGISTRY: list[Backend] = []


def register(backend: Backend) -> Backend:
    """Add a backend; its schemes must be new for its kind.

    Raises:
        ValueError: a scheme is already registered for that kind.
    """
    taken = {scheme for known in backends(backend.kind) for scheme in known.schemes}
    clash = sorted(taken & set(backend.schemes))
    if clash:
        raise ValueError(f"{backend.kind} scheme already registered: {', '.join(clash)}")
    _REGISTRY.append(backend)
    return backend


def backends(kind: BackendKind) -> tuple[Backend, ...]:
    """The registered backends of `kind`, in registration order."""
    return tuple(backend for backend in _REGISTRY if backend.kind == kind)


def _forms(kind: BackendKind, *, in_settings: bool) -> str:
    forms = [b.form for b in backends(kind) if b.in_settings or not in_settings]
    return ", ".join(forms[:-1]) + f" or {forms[-1]}" if len(forms) > 1 else forms[0]


def _lookup(kind: BackendKind, url: str) -> Backend | None:
    scheme, sep, _ = url.strip().partition("://")
    for backend in backends(kind):
        if backend.bare and not sep and url.strip().lower() in backend.schemes:
            return backend
        if not backend.bare and sep and scheme.lower() in backend.schemes:
            return backend
    return None


def backend_problem(kind: BackendKind, url: str, *, in_settings: bool = True) -> str | None:
    """What is wrong with a store or limiter URL, or None; the message never repeats it.

    Args:
        kind: `store` or `limiter`.
        url: the setting's value.
        in_settings: judge it as `NSWOO_<ENV>_*` (test-only backends refused).
    """
    backend = _lookup(kind, url)
    if backend is None or (in_settings and not backend.in_settings):
        scheme, sep, _ = url.partition("://")
        # Name the scheme only when it is one: in a mangled URL the text before "://" may
        # hold a user name and password.
        shown = f" {scheme.lower()!r}" if sep and scheme.isalnum() else ""
        forms = _forms(kind, in_settings=in_settings)
        return f"unknown {_WHAT[kind]} URL scheme{shown}; use {forms}"
    return backend.rule(url)


def find_backend(kind: BackendKind, url: str, *, key: str, in_settings: bool = False) -> Backend:
    """The backend a URL names.

    Raises:
        ConfigurationError: the scheme is unknown or the URL breaks its backend's rule,
            naming `key` (the setting), never the URL.
    """
    problem = backend_problem(kind, url, in_settings=in_settings)
    if problem is not None:
        raise ConfigurationError(problem, key=key)
    backend = _lookup(kind, url)
    assert backend is not None  # noqa: S101 - backend_problem found it
    return backend


def unavailable(backend: Backend) -> str | None:
    """Why this installation cannot open `backend` (not built yet, extra missing), or None."""
    if backend.module is None:
        later = f" (when it is, it will need `{backend.install}`)" if backend.install else ""
        fallback = next(b.form for b in backends(backend.kind) if b.module and b.in_settings)
        return (
            f"the {backend.name} {_WHAT[backend.kind]} is not available in this version of "
            f"nswoo{later}; use {fallback}"
        )
    if backend.requires is not None and importlib.util.find_spec(backend.requires) is None:
        return f"the {backend.name} {_WHAT[backend.kind]} needs `{backend.install}`"
    return None


def load_backend(backend: Backend, *, key: str) -> ModuleType:
    """Import the module that opens `backend`.

    Raises:
        MissingExtra: the package its extra installs is missing (an `ImportError`).
        ConfigurationError: this version does not ship the backend yet.
    """
    reason = unavailable(backend)
    if reason is not None and backend.module is None:
        raise ConfigurationError(reason, key=key)
    if reason is not None:
        assert backend.extra is not None  # noqa: S101 - a missing package has an extra
        assert backend.requires is not None  # noqa: S101
        raise MissingExtra(
            f"the {backend.name} {_WHAT[backend.kind]}",
            extra=backend.extra,
            package=backend.requires,
            key=key,
        )
    assert backend.module is not None  # noqa: S101 - unavailable() said so
    return importlib.import_module(backend.module)


# ---------------------------------------------------------------------------------------------
# nswoo's own backends


def sqlite_path(url: str) -> str:
    """The file path of an SQLite store URL (`sqlite:///x.db` → `x.db`, `sqlite:////x.db` →
    `/x.db`, as in SQLAlchemy URLs, which users already know); "" when it names none."""
    rest = url.strip().partition("://")[2]
    return rest[1:] if rest.startswith("/") else ""


def _sqlite_rule(url: str) -> str | None:
    path = sqlite_path(url)
    if not path:
        return "an SQLite store URL needs a file path: sqlite:///path.db"
    if path == ":memory:" or path.startswith("file:"):
        # Each SQLite connection to :memory: is a separate, empty database, and the store
        # opens a connection per operation and is shared by several processes; every one
        # would see its own store and claims would not exclude each other.
        return (
            "sqlite:///:memory: would give every connection and process its own empty "
            "database, so claims could not exclude each other; use a file path, or "
            "memory:// for a single-process test store"
        )
    return None


SQLITE = register(
    Backend(
        kind="store",
        name="SQLite",
        schemes=("sqlite",),
        form="sqlite:///path.db",
        module="nswoo.store.sqlite",
        rule=_sqlite_rule,
    )
)
POSTGRESQL = register(
    Backend(
        kind="store",
        name="PostgreSQL",
        schemes=("postgresql", "postgres"),
        form="postgresql://...",
        module=None,
        extra="postgres",
        requires="psycopg",
    )
)
MEMORY = register(
    Backend(
        kind="store",
        name="in-memory",
        schemes=("memory",),
        form="memory://",
        module="nswoo.store.memory",
        in_settings=False,
        rule=lambda _url: None,
    )
)
LOCAL = register(
    Backend(
        kind="limiter",
        name="local",
        schemes=("local",),
        form="'local'",
        module="nswoo.limits._open",
        bare=True,
        rule=lambda _url: None,
    )
)
REDIS = register(
    Backend(
        kind="limiter",
        name="Redis",
        schemes=("redis", "rediss"),
        form="redis://... or rediss://...",
        module=None,
        extra="redis",
        requires="redis",
    )
)
