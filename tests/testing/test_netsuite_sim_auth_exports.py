"""`nswoo sim --auth m2m|tba|oauth2`: the printed variables authenticate nswoo's own client.

Each kind is registered with a served simulator, its export lines are read back as nswoo's
settings (`from_env("sandbox", ...)`, the variables `nswoo check` reads), and the real
`NetSuiteClient` runs a SuiteQL query over loopback HTTP with them: reference §1a (TBA),
§1b (refresh token), §1c (client credentials).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nswoo._settings import from_env
from nswoo.errors import ConfigurationError
from nswoo.netsuite import open_netsuite
from nswoo.testing._server import (
    SIM_AUTH_KINDS,
    SimAuth,
    register_sim_credentials,
    run_sim,
    seed_demo_catalog,
    serve_simulators,
    sim_exports,
)
from nswoo.testing.netsuite._sim import NetSuiteSimulator
from nswoo.testing.woocommerce._sim import WooSimulator

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WANTED = {
    "m2m": {"CLIENT_ID", "CERTIFICATE_ID", "PRIVATE_KEY_FILE"},
    "tba": {"CONSUMER_KEY", "CONSUMER_SECRET", "TOKEN_ID", "TOKEN_SECRET"},
    "oauth2": {"CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN"},
}


def parse(lines: list[str]) -> dict[str, str]:
    """`export NAME=VALUE` lines as a mapping (values unquoted as a shell would)."""
    exports = {}
    for line in lines:
        name, _, value = line.removeprefix("export ").partition("=")
        exports[name] = shlex.split(value)[0] if value else ""
    return exports


@pytest.mark.parametrize("auth", SIM_AUTH_KINDS)
async def test_each_auth_kind_prints_variables_nswoo_authenticates_with(
    auth: SimAuth, tmp_path: Path
) -> None:
    """The NS_SANDBOX_* variables of each kind are complete and open a working client."""
    ns = NetSuiteSimulator("1234567_SB1")
    woo = WooSimulator(consumer_key="ck_x", consumer_secret="cs_x")
    catalog = seed_demo_catalog(ns, woo)
    credentials = register_sim_credentials(ns, auth)
    async with serve_simulators(ns.asgi_app(), woo.asgi_app()) as urls:
        exports = parse(
            sim_exports(
                ns_sim=ns,
                woo_sim=woo,
                urls=urls,
                catalog=catalog,
                credentials=credentials,
                directory=tmp_path,
            )
        )
        netsuite = {k.removeprefix("NS_SANDBOX_") for k in exports if k.startswith("NS_")}
        assert netsuite == {"ACCOUNT_ID", "BASE_URL", "AUTH"} | WANTED[auth]
        assert exports["NS_SANDBOX_AUTH"] == auth
        settings = from_env("sandbox", exports)
        assert settings.netsuite is not None
        async with open_netsuite(settings.netsuite) as client:
            rows = [row async for row in client.suiteql("SELECT itemid FROM item ORDER BY id")]
            again = [row async for row in client.suiteql("SELECT COUNT(*) AS n FROM item")]
    assert [row["itemid"] for row in rows][: len(catalog.skus)] == list(catalog.skus)
    assert again[0]["n"] == len(rows)
    assert ns.audit_trail == []  # not one failed login


def test_an_unknown_auth_kind_is_refused() -> None:
    """Only the three kinds exist."""
    with pytest.raises(ValueError, match="m2m, tba, oauth2"):
        register_sim_credentials(NetSuiteSimulator(), "basic")  # type: ignore[arg-type]


async def test_run_sim_refuses_an_unknown_auth_naming_the_option() -> None:
    """`nswoo sim --auth basic` is a ConfigurationError on --auth, before anything listens."""
    with pytest.raises(ConfigurationError) as info:
        await run_sim(port=0, stdout=None, auth="basic")  # type: ignore[arg-type]
    assert info.value.key == "--auth"


def test_the_cli_flag_prints_the_chosen_kind() -> None:
    """`nswoo sim --auth tba` prints the TBA variables, then serves until terminated."""
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "nswoo", "sim", "--auth", "tba"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                lines.append(line.strip())
                if line.startswith("export NSWOO_SANDBOX_CONFIG="):
                    break
        finally:
            process.terminate()
            process.communicate(timeout=20)
    exports = parse(lines)
    assert exports["NS_SANDBOX_AUTH"] == "tba"
    assert {"NS_SANDBOX_TOKEN_ID", "NS_SANDBOX_CONSUMER_KEY"} <= set(exports)
    assert "NS_SANDBOX_PRIVATE_KEY_FILE" not in exports
