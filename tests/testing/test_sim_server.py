"""The simulators serve over loopback HTTP, and `nswoo sim`'s pieces point nswoo at them."""

from __future__ import annotations

import io
import os
import shlex
import signal
import socket
import tomllib

import anyio
import httpx
import pytest

from nswoo._settings import load_config
from nswoo.testing._server import run_sim, seed_demo_catalog, serve_simulators
from nswoo.testing.netsuite._sim import NetSuiteSimulator
from nswoo.testing.woocommerce._sim import WooSimulator

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

EXPECTED = {
    "NS_SANDBOX_ACCOUNT_ID",
    "NS_SANDBOX_BASE_URL",
    "NS_SANDBOX_AUTH",
    "NS_SANDBOX_CLIENT_ID",
    "NS_SANDBOX_CERTIFICATE_ID",
    "NS_SANDBOX_PRIVATE_KEY_FILE",
    "WOO_SANDBOX_URL",
    "WOO_SANDBOX_CONSUMER_KEY",
    "WOO_SANDBOX_CONSUMER_SECRET",
    "WOO_SANDBOX_WEBHOOK_SECRET",
    "NSWOO_SANDBOX_CONFIG",
}


def _port_is_closed(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


async def test_serve_simulators_answers_real_http_and_shuts_down() -> None:
    """Both apps listen on 127.0.0.1, Basic auth reaches the store, and exit closes the ports."""
    ns = NetSuiteSimulator()
    woo = WooSimulator(consumer_key="ck_x", consumer_secret="cs_x")
    woo.add_product("MUG", price="5.00", stock_quantity=4)
    async with serve_simulators(ns.asgi_app(), woo.asgi_app()) as urls:
        assert urls.netsuite.startswith("http://127.0.0.1:")
        assert urls.woocommerce.startswith("http://127.0.0.1:")
        assert urls.netsuite != urls.woocommerce
        async with httpx.AsyncClient(base_url=urls.woocommerce + "/wp-json/wc/v3") as http:
            ok = await http.get("/products", auth=("ck_x", "cs_x"))
            wrong = await http.get("/products", auth=("ck_x", "nope"))
        async with httpx.AsyncClient() as http:
            ns_answer = await http.get(urls.netsuite + "/services/rest/record/v1/customer/1")
    assert ok.status_code == 200
    assert [p["sku"] for p in ok.json()] == ["MUG"]
    assert ok.headers["X-WP-Total"] == "1"
    assert wrong.status_code == 401
    assert ns_answer.status_code == 401  # reached NetSuite's auth, not a dead port
    assert _port_is_closed(urls.netsuite)
    assert _port_is_closed(urls.woocommerce)


async def test_demo_catalog_matches_on_both_sides() -> None:
    """Every seeded WooCommerce SKU exists as a NetSuite item with stock in the two locations."""
    ns = NetSuiteSimulator()
    woo = WooSimulator(consumer_key="ck_x", consumer_secret="cs_x")
    catalog = seed_demo_catalog(ns, woo)
    assert len(catalog.locations) == 2
    _, rows = ns._store.query("SELECT itemid FROM item")
    netsuite_skus = {row[0] for row in rows}
    for sku in catalog.skus:
        woo.id_for_sku(sku)
        assert sku in netsuite_skus
    assert woo.stock_of("TEE-RED-M") == 24  # 25 seeded, one sold by the seeded order


async def test_run_sim_prints_exports_for_bound_ports_and_exits_on_sigterm() -> None:
    """run_sim prints every variable, pointing at live ports, and returns 0 on SIGTERM."""
    printed = anyio.Event()

    class Out(io.StringIO):
        def write(self, text: str) -> int:
            written = super().write(text)
            if "NSWOO_SANDBOX_CONFIG" in self.getvalue():
                printed.set()
            return written

    out = Out()
    result: list[int] = []

    async def runner() -> None:
        result.append(await run_sim(port=0, faults_path=None, stdout=out))

    async with anyio.create_task_group() as tg:
        tg.start_soon(runner)
        with anyio.fail_after(20):
            await printed.wait()
        exports = {}
        for line in out.getvalue().splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            exports[name] = shlex.split(value)[0] if value else ""
        assert set(exports) == EXPECTED
        assert exports["NS_SANDBOX_AUTH"] == "m2m"
        key = await anyio.Path(exports["NS_SANDBOX_PRIVATE_KEY_FILE"]).read_text()
        assert key.startswith("-----BEGIN")
        config = tomllib.loads(await anyio.Path(exports["NSWOO_SANDBOX_CONFIG"]).read_text())
        assert config["orders"]["store"] == "sim"
        assert config["orders"]["customer"]["strategy"] == "single"
        assert load_config(exports["NSWOO_SANDBOX_CONFIG"]).orders.store == "sim"
        async with httpx.AsyncClient(base_url=exports["WOO_SANDBOX_URL"]) as http:
            listed = await http.get(
                "/wp-json/wc/v3/products",
                params={"sku": "TEE-RED-M"},
                auth=(exports["WOO_SANDBOX_CONSUMER_KEY"], exports["WOO_SANDBOX_CONSUMER_SECRET"]),
            )
        assert listed.status_code == 200
        assert listed.json()[0]["_links"]["self"][0]["href"].startswith(exports["WOO_SANDBOX_URL"])
        os.kill(os.getpid(), signal.SIGTERM)
    assert result == [0]
    assert _port_is_closed(exports["NS_SANDBOX_BASE_URL"])
    assert _port_is_closed(exports["WOO_SANDBOX_URL"])
    assert not await anyio.Path(exports["NSWOO_SANDBOX_CONFIG"]).exists()
