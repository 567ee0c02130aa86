"""Run-wide failures (a system unreachable, credentials refused) end every command with one
line naming the system, the cause and the variable to check, and the contract's exit code;
never an ExceptionGroup (issue 11, item 2).
"""

from __future__ import annotations

import argparse
import io
import json
import socket
from pathlib import Path

import anyio
import attrs
import pytest

from nswoo import Secret
from nswoo.cli._main import Command, Context, run
from nswoo.errors import AuthenticationError, ServiceUnavailable
from nswoo.orders import OrderSync
from nswoo.store.memory import MemoryStore
from nswoo.testing._world import build_world
from nswoo.woocommerce import WooClient

_CONFIG = '[orders]\nstore = "main"\ncustomer = { strategy = "by-email" }\n'


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _environ(tmp_path: Path, woo_url: str) -> dict[str, str]:
    config = tmp_path / "nswoo.toml"
    config.write_text(_CONFIG, encoding="utf-8")
    return {
        "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
        "NS_SANDBOX_CLIENT_ID": "cid",
        "NS_SANDBOX_CLIENT_SECRET": "sec",
        "NS_SANDBOX_REFRESH_TOKEN": "rt",
        "WOO_SANDBOX_URL": woo_url,
        "WOO_SANDBOX_CONSUMER_KEY": "ck_test",
        "WOO_SANDBOX_CONSUMER_SECRET": "cs_test",
        "NSWOO_SANDBOX_CONFIG": str(config),
        "NSWOO_SANDBOX_STORE": f"sqlite:///{tmp_path / 'nswoo.db'}",
    }


@pytest.mark.parametrize("as_json", [False, True])
def test_orders_sync_against_an_unreachable_store_is_one_line_and_exit_4(
    tmp_path: Path, as_json: bool
) -> None:
    """An unreachable `WOO_SANDBOX_URL` ends `orders sync` with exit 4 and one line naming
    WooCommerce and `WOO_SANDBOX_URL`; with `--json`, the error object names the typed
    error (`ServiceUnavailable`), not `ExceptionGroup`. Before: ~70 lines of
    ExceptionGroup traceback, exit 3.
    """
    environ = _environ(tmp_path, f"http://127.0.0.1:{_closed_port()}")
    out, err = io.StringIO(), io.StringIO()
    args = ["orders", "sync", "--env", "sandbox", *(["--json"] if as_json else [])]
    code = run(args, environ=environ, stdout=out, stderr=err)
    assert code == 4
    assert "ExceptionGroup" not in out.getvalue() + err.getvalue()
    assert "Traceback" not in err.getvalue()
    if as_json:
        error = json.loads(out.getvalue())["error"]
        assert error["type"] == "ServiceUnavailable"
        assert error["system"] == "woocommerce"
        assert error["exit_code"] == 4
        assert "WOO_SANDBOX_URL" in error["message"]
    else:
        lines = [line for line in err.getvalue().splitlines() if line.startswith("nswoo:")]
        assert len(lines) == 1, err.getvalue()
        assert "WooCommerce" in lines[0]
        assert "WOO_SANDBOX_URL" in lines[0]
        assert out.getvalue() == ""


@pytest.mark.anyio
async def test_order_sync_raises_the_typed_error_itself_when_listing_fails() -> None:
    """`OrderSync.sync()` with refused WooCommerce credentials raises `AuthenticationError`,
    not an ExceptionGroup holding it (the paging ran inside the import task group).
    """
    world = build_world()
    settings = attrs.evolve(world.woo_settings, consumer_secret=Secret("cs_wrong"))
    woo = WooClient.from_settings(settings, transport=world.woocommerce.transport())
    store = MemoryStore()
    async with world.netsuite_client() as netsuite, woo:
        sync = OrderSync(
            netsuite=netsuite, woocommerce=woo, store=store, config=world.config.orders
        )
        with pytest.raises(AuthenticationError) as caught:
            await sync.sync()
    assert caught.value.system == "woocommerce"
    assert await store.cursors.get(sync.cursor_name) is None


def _raising(error: BaseException) -> Command:
    def go(args: argparse.Namespace, ctx: Context) -> int:
        raise error

    return Command(path=("go",), help="raise", run=go)


def test_an_exception_group_of_one_error_is_reported_as_that_error() -> None:
    """A command ending in an ExceptionGroup (from any task group) is reported as the error
    inside: its type in `--json`, its exit code, the real variable for `<ENV>`.
    """
    refused = AuthenticationError(
        "consumer key refused",
        hint="Check WOO_<ENV>_CONSUMER_KEY",
        system="woocommerce",
        status=401,
    )
    group = ExceptionGroup("unhandled errors in a TaskGroup", [ExceptionGroup("inner", [refused])])
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["go", "--json"],
        environ={"NSWOO_ENV": "sandbox"},
        stdout=out,
        stderr=err,
        commands=[_raising(group)],
    )
    assert code == 4
    error = json.loads(out.getvalue())["error"]
    assert error["type"] == "AuthenticationError"
    assert "WOO_SANDBOX_CONSUMER_KEY" in error["message"]
    assert "<ENV>" not in error["message"]
    assert err.getvalue() == ""


def test_several_errors_in_a_group_report_the_first_nswoo_error_and_count_the_rest() -> None:
    """Two distinct errors: the nswoo one is reported, the other counted; no traceback."""
    down = ServiceUnavailable("could not connect (ConnectError)", system="netsuite")
    group = ExceptionGroup("x", [anyio.BrokenResourceError(), down, down])
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["go", "--env", "prod"],
        environ={},
        stdout=out,
        stderr=err,
        commands=[_raising(group)],
    )
    assert code == 4
    assert err.getvalue().splitlines() == [
        f"nswoo: error: {down}; check NS_PROD_ACCOUNT_ID (and 1 more error)"
    ]


def test_a_service_message_ending_in_a_full_stop_is_not_doubled() -> None:
    """WooCommerce says "Consumer secret is invalid." and nswoo adds its hint: one full
    stop between them, not "invalid.. Check".
    """
    refused = AuthenticationError(
        "Consumer secret is invalid.",
        hint="Check WOO_<ENV>_CONSUMER_SECRET",
        system="woocommerce",
        status=401,
    )
    assert "invalid. Check WOO_<ENV>_CONSUMER_SECRET" in str(refused)
    assert ".." not in str(refused)
