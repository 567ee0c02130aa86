"""`open_store()`: the `NSWOO_<ENV>_STORE` URL forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from nswoo.errors import ConfigurationError
from nswoo.store import open_store
from nswoo.store._ports import StoreBinding, StoreBindingError
from nswoo.store.memory import MemoryStore
from nswoo.store.sqlite import SqliteStore

pytestmark = pytest.mark.anyio


async def test_memory_url_opens_a_memory_store() -> None:
    """`memory://` gives a MemoryStore."""
    async with await open_store("memory://") as store:
        assert isinstance(store, MemoryStore)


async def test_sqlite_urls_relative_and_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sqlite:///x.db` is relative to the working directory, `sqlite:////x.db` absolute."""
    monkeypatch.chdir(tmp_path)
    async with await open_store("sqlite:///relative.db") as store:
        assert isinstance(store, SqliteStore)
    absolute = tmp_path / "sub" / "absolute.db"
    absolute.parent.mkdir()
    async with await open_store(f"sqlite:///{absolute}") as store:
        await store.cursors.set("c", "1")
    assert (tmp_path / "relative.db").exists()
    assert absolute.exists()


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://", "sqlite:///"])
async def test_sqlite_without_a_file_is_refused(url: str) -> None:
    """An SQLite URL must name a file: `:memory:` could not be shared by connections."""
    with pytest.raises(ConfigurationError, match="NSWOO_PROD_STORE") as caught:
        await open_store(url, key="NSWOO_PROD_STORE")
    assert caught.value.key == "NSWOO_PROD_STORE"


async def test_postgresql_names_the_extra_and_hides_the_password() -> None:
    """The PostgreSQL form is recognised, names its extra, and never echoes the URL."""
    url = "postgresql://nswoo:hunter2@db.internal/nswoo"
    with pytest.raises(ConfigurationError, match=r"pip install 'nswoo\[postgres\]'") as caught:
        await open_store(url)
    assert "hunter2" not in str(caught.value)
    assert "db.internal" not in str(caught.value)


@pytest.mark.parametrize("url", ["mysql://u:secret@h/db", "nswoo.db", ""])
async def test_unknown_forms_name_the_setting(url: str) -> None:
    """Anything else is a configuration error naming NSWOO_<ENV>_STORE, not the value."""
    with pytest.raises(ConfigurationError, match=r"NSWOO_<ENV>_STORE") as caught:
        await open_store(url)
    assert "secret" not in str(caught.value)


async def test_a_mangled_store_url_never_echoes_what_may_be_a_password() -> None:
    """An unknown 'scheme' that holds user:password text is not repeated in the error."""
    with pytest.raises(ConfigurationError) as info:
        await open_store("admin:hunter2@db.internal://nswoo")
    assert "hunter2" not in str(info.value)
    assert "unknown store URL scheme" in str(info.value)


async def test_open_store_binds_and_refuses_another_environment(tmp_path: Path) -> None:
    """Given environment and account, open_store binds the file; another pair is refused."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    async with await open_store(url, environment="sandbox", account_id="1234567_SB1") as store:
        await store.cursors.set("orders:main:modified_after", "2025-01-01")

    with pytest.raises(StoreBindingError) as refused:
        await open_store(url, environment="prod", account_id="1234567")

    assert str(tmp_path / "shared.db") in str(refused.value)
    async with await open_store(url, environment="sandbox", account_id="1234567_SB1") as store:
        assert await store.cursors.get("orders:main:modified_after") == "2025-01-01"


async def test_open_store_binds_a_memory_store_too() -> None:
    """A memory store takes the binding as well (it refuses a later bind() to another)."""
    store = await open_store("memory://", environment="prod", account_id="1234567")
    async with store:
        with pytest.raises(StoreBindingError, match=r"memory://"):
            await store.bind(StoreBinding("sandbox", "1234567_SB1"))


async def test_open_store_needs_both_environment_and_account() -> None:
    """Half a binding is a programming error, not a store that is silently left unbound."""
    with pytest.raises(ValueError, match="both environment and account_id"):
        await open_store("memory://", environment="prod")
