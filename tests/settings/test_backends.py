"""One registry of store and limiter URL schemes, read by settings, `open_store`, the limiter
factory and `nswoo check`: a backend plugs in by registering, once.
"""

from __future__ import annotations

import io

import pytest

from nswoo._settings import SettingsRefused, _backends, from_env
from nswoo._settings._backends import Backend, backend_problem, register
from nswoo.cli._main import run
from nswoo.errors import ConfigurationError, MissingExtra
from nswoo.limits import LocalLimiter
from nswoo.limits._open import open_limiter
from nswoo.store import open_store
from nswoo.store.memory import MemoryStore

pytestmark = pytest.mark.anyio

SANDBOX = {
    "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
    "NS_SANDBOX_AUTH": "tba",
    "NS_SANDBOX_CONSUMER_KEY": "ck",
    "NS_SANDBOX_CONSUMER_SECRET": "cs",
    "NS_SANDBOX_TOKEN_ID": "tid",
    "NS_SANDBOX_TOKEN_SECRET": "ts",
}


@pytest.fixture(autouse=True)
def _registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backends a test registers are gone after it."""
    monkeypatch.setattr(_backends, "_REGISTRY", list(_backends._REGISTRY))


def test_a_registered_store_is_accepted_by_settings_and_opened_by_open_store() -> None:
    """A new scheme, registered once with the module that opens it, works everywhere."""
    register(
        Backend(
            kind="store",
            name="scratch",
            schemes=("scratch",),
            form="scratch://name",
            module="nswoo.store.memory",
        )
    )

    settings = from_env("sandbox", {**SANDBOX, "NSWOO_SANDBOX_STORE": "scratch://one"})

    assert settings.store_url == "scratch://one"


async def test_open_store_opens_a_registered_backend_with_its_module() -> None:
    """`open_store` finds the module by scheme and calls its `open_url`."""
    register(
        Backend(
            kind="store",
            name="scratch",
            schemes=("scratch",),
            form="scratch://name",
            module="nswoo.store.memory",
        )
    )
    async with await open_store("SCRATCH://one") as store:
        assert isinstance(store, MemoryStore)


async def test_a_backend_whose_extra_is_missing_names_the_pip_command() -> None:
    """A store whose driver is not installed raises an ImportError naming the extra."""
    register(
        Backend(
            kind="store",
            name="CockroachDB",
            schemes=("cockroach",),
            form="cockroach://...",
            module="nswoo.store.memory",
            extra="cockroach",
            requires="nswoo_no_such_driver",
        )
    )

    with pytest.raises(ImportError) as caught:
        await open_store("cockroach://app:hunter2@db/x", key="NSWOO_PROD_STORE")

    assert isinstance(caught.value, MissingExtra)
    assert isinstance(caught.value, ConfigurationError)
    assert caught.value.key == "NSWOO_PROD_STORE"
    assert caught.value.name == "nswoo_no_such_driver"
    assert "pip install 'nswoo[cockroach]'" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_limiter_whose_extra_is_missing_names_the_pip_command() -> None:
    """The limiter factory reads the same registry: a missing extra is `MissingExtra`."""
    register(
        Backend(
            kind="limiter",
            name="Valkey",
            schemes=("valkey",),
            form="valkey://...",
            module="nswoo.limits._open",
            extra="valkey",
            requires="nswoo_no_such_driver",
        )
    )

    with pytest.raises(MissingExtra, match=r"pip install 'nswoo\[valkey\]'") as caught:
        open_limiter("valkey://cache:6379", cap=5, key="NSWOO_PROD_LIMITER")
    assert caught.value.key == "NSWOO_PROD_LIMITER"


def test_check_reports_a_backend_it_could_not_open() -> None:
    """`nswoo check` refuses (exit 2) a store whose extra is missing, naming the command."""
    register(
        Backend(
            kind="store",
            name="CockroachDB",
            schemes=("cockroach",),
            form="cockroach://...",
            module="nswoo.store.memory",
            extra="cockroach",
            requires="nswoo_no_such_driver",
        )
    )
    environ = {**SANDBOX, "NSWOO_SANDBOX_STORE": "cockroach://db/x"}
    err = io.StringIO()

    code = run(
        ["check", "--env", "sandbox", "--offline"],
        environ=environ,
        stdout=io.StringIO(),
        stderr=err,
    )

    assert code == 2
    assert "NSWOO_SANDBOX_STORE" in err.getvalue()
    assert "pip install 'nswoo[cockroach]'" in err.getvalue()


def test_the_local_limiter_and_the_planned_redis_limiter() -> None:
    """`local` opens a LocalLimiter; `redis://` passes settings but is not built yet."""
    assert isinstance(open_limiter("local", cap=5), LocalLimiter)
    settings = from_env("sandbox", {**SANDBOX, "NSWOO_SANDBOX_LIMITER": "redis://cache:6379/0"})
    with pytest.raises(ConfigurationError, match=r"nswoo\[redis\]") as caught:
        open_limiter(settings.limiter_url, cap=5, key="NSWOO_SANDBOX_LIMITER")
    assert not isinstance(caught.value, ImportError)


@pytest.mark.parametrize(
    ("kind", "url", "words"),
    [
        ("store", "mysql://app:hunter2@db/x", "unknown store URL scheme 'mysql'"),
        ("store", "memory://", "unknown store URL scheme 'memory'"),
        ("store", "sqlite:///:memory:", "claims could not exclude each other"),
        ("store", "postgresql://", "needs a location"),
        ("limiter", "redis", "unknown limiter URL scheme; use 'local' or redis://"),
        ("limiter", "LOCAL", None),
        ("store", "Sqlite:///x.db", None),
    ],
)
def test_settings_judge_urls_by_the_registry(kind: str, url: str, words: str | None) -> None:
    """What settings refuse, and the forms they suggest, come from the registry."""
    problem = backend_problem("store" if kind == "store" else "limiter", url)
    if words is None:
        assert problem is None
    else:
        assert problem is not None
        assert words in problem
        assert "hunter2" not in problem


def test_memory_store_is_for_tests_not_for_settings() -> None:
    """`memory://` would forget every link at exit: `open_store` takes it, settings do not."""
    with pytest.raises(SettingsRefused) as caught:
        from_env("sandbox", {**SANDBOX, "NSWOO_SANDBOX_STORE": "memory://"})
    assert caught.value.keys == ("NSWOO_SANDBOX_STORE",)


def test_a_scheme_is_registered_once() -> None:
    """Two backends cannot claim one scheme of the same kind."""
    with pytest.raises(ValueError, match="sqlite"):
        register(
            Backend(kind="store", name="other", schemes=("sqlite",), form="sqlite://", module=None)
        )
