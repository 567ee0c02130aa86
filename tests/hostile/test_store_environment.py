"""Hostile: production and sandbox pointed at one store file.

Found by hostile testing: with `NSWOO_SANDBOX_STORE` = `NSWOO_PROD_STORE` (separate NetSuite
accounts and shops, same `[orders] store` name), after a sandbox sync `orders sync --env prod`
said `already_imported: 6`, exited 0, and production NetSuite had no sales order. A store
must remember the environment and account it was first opened for and refuse any other
(DESIGN behaviour 3), while several WooCommerce stores of one environment may share it.

Both environments run here as a user runs them: the `nswoo` CLI (in a worker thread, with
its own environment variables) against NetSuite and WooCommerce simulators served on loopback.
"""

from __future__ import annotations

import functools
import io
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from tests.acceptance._sim import base_environ, parse_exports

from nswoo.cli._main import run
from nswoo.testing import NetSuiteSimulator, WooSimulator
from nswoo.testing._keys import generate_m2m_key_pair
from nswoo.testing._server import seed_demo_catalog, serve_simulators, sim_exports

pytestmark = pytest.mark.anyio

ACCOUNTS = {"sandbox": "1234567_SB1", "prod": "1234567"}
ORDERS = 6


@asynccontextmanager
async def served(
    environment: str, folder: Path
) -> AsyncIterator[tuple[dict[str, str], NetSuiteSimulator]]:
    """One environment's NetSuite account and shop, served on loopback, with six orders.

    Yields the variables that point nswoo's `environment` at them, and the NetSuite side.
    """
    await anyio.Path(folder).mkdir()
    netsuite = NetSuiteSimulator(ACCOUNTS[environment])
    client_id, certificate_id = f"client-{environment}", f"cert-{environment}"
    private_pem, public_pem = generate_m2m_key_pair("PS256")
    netsuite.register_m2m_client(client_id, certificate_id, public_pem)
    shop = WooSimulator(
        "http://127.0.0.1",
        consumer_key="ck_" + secrets.token_hex(8),
        consumer_secret="cs_" + secrets.token_hex(8),
        webhook_secret=secrets.token_hex(8),
    )
    catalog = seed_demo_catalog(netsuite, shop)  # places one order
    for _ in range(ORDERS - 1):
        shop.place_order([("MUG-BLUE", 1)])
    async with serve_simulators(netsuite.asgi_app(), shop.asgi_app()) as urls:
        shop.rebase(urls.woocommerce)
        lines = sim_exports(
            ns_sim=netsuite,
            woo_sim=shop,
            urls=urls,
            catalog=catalog,
            client_id=client_id,
            certificate_id=certificate_id,
            private_key_pem=private_pem,
            directory=folder,
        )
        exports = {
            name.replace("_SANDBOX_", f"_{environment.upper()}_"): value
            for name, value in parse_exports(lines).items()
        }
        yield exports, netsuite


async def nswoo(
    exports: dict[str, str], store: Path, *args: str, config: Path | None = None
) -> tuple[int, dict[str, Any]]:
    """Run `nswoo ARGS --json` with only these variables set; its exit code and JSON."""
    environment = args[args.index("--env") + 1]
    environ = base_environ() | exports
    environ[f"NSWOO_{environment.upper()}_STORE"] = f"sqlite:///{store}"
    if config is not None:
        environ[f"NSWOO_{environment.upper()}_CONFIG"] = str(config)
    out, err = io.StringIO(), io.StringIO()
    command = functools.partial(run, [*args, "--json"], environ=environ, stdout=out, stderr=err)
    # run() starts its own event loop, so it runs in a thread beside the simulators' loop.
    code = await anyio.to_thread.run_sync(command)
    return code, json.loads(out.getvalue())


async def test_a_store_bound_to_sandbox_refuses_production(tmp_path: Path) -> None:
    """Production refuses the sandbox's store (exit 2, naming both) and books nothing."""
    shared = tmp_path / "shared.db"
    async with (
        served("sandbox", tmp_path / "sandbox") as (sandbox, _),
        served("prod", tmp_path / "prod") as (prod, prod_netsuite),
    ):
        with anyio.fail_after(60):
            sandbox_code, sandbox_sync = await nswoo(
                sandbox, shared, "orders", "sync", "--env", "sandbox"
            )
            prod_code, refused = await nswoo(prod, shared, "orders", "sync", "--env", "prod")
            check_code, check = await nswoo(prod, shared, "check", "--env", "prod", "--offline")
            booked_with_the_shared_store = prod_netsuite.sales_orders_by_woo_id()
            own_code, own_sync = await nswoo(
                prod, tmp_path / "prod.db", "orders", "sync", "--env", "prod"
            )

    assert (sandbox_code, sandbox_sync["imported"]) == (0, ORDERS)
    assert prod_code == 2, refused
    error = refused["error"]
    assert error["type"] == "StoreBindingError"
    for named in (
        str(shared),
        "sandbox (NetSuite account 1234567_SB1)",
        "prod (NetSuite account 1234567)",
        "NSWOO_PROD_STORE",
    ):
        assert named in error["message"]
    assert booked_with_the_shared_store == {}
    assert check_code == 2, check
    assert "sandbox (NetSuite account 1234567_SB1)" in check["error"]["message"]
    assert "NSWOO_PROD_STORE" in check["error"]["message"]
    # Production on a store of its own works as before: the refusal was the store's, only.
    assert (own_code, own_sync["imported"]) == (0, ORDERS)
    assert len(prod_netsuite.sales_orders_by_woo_id()) == ORDERS


async def test_several_shops_of_one_environment_may_share_a_store(tmp_path: Path) -> None:
    """A second WooCommerce store name of the same environment and account is not refused."""
    shared = tmp_path / "shared.db"
    async with served("sandbox", tmp_path / "sandbox") as (sandbox, netsuite):
        text = await anyio.Path(sandbox["NSWOO_SANDBOX_CONFIG"]).read_text()
        outlet = tmp_path / "outlet.toml"
        await anyio.Path(outlet).write_text(text.replace('store = "sim"', 'store = "outlet"'))
        with anyio.fail_after(60):
            first, _ = await nswoo(sandbox, shared, "orders", "sync", "--env", "sandbox")
            second, report = await nswoo(
                sandbox, shared, "orders", "sync", "--env", "sandbox", config=outlet
            )
            check_code, check = await nswoo(
                sandbox, shared, "check", "--env", "sandbox", "--offline"
            )

    assert (first, second) == (0, 0)
    assert report["imported"] == ORDERS  # its own orders, not "already imported" by "sim"
    assert all(len(ids) == 2 for ids in netsuite.sales_orders_by_woo_id().values())
    assert check_code == 0, check
    assert check["store_binding"] == {"environment": "sandbox", "account_id": "1234567_SB1"}
