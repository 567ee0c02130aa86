"""`nswoo schema snapshot|diff` as a user runs them, against simulators served on loopback.

Issue 14, "Must show": an admin renames the order custom field and adds a mandatory field;
`schema diff` then exits 1 naming both. The CLI runs in a worker thread with its own
environment variables, the simulators over real HTTP.
"""

from __future__ import annotations

import functools
import io
import json
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from tests.acceptance._sim import base_environ, parse_exports

from nswoo.cli._main import run
from nswoo.errors import ApiError
from nswoo.schema import take_snapshot
from nswoo.store import open_store
from nswoo.testing import NetSuiteSimulator, WooSimulator, build_world
from nswoo.testing._keys import generate_m2m_key_pair
from nswoo.testing._server import seed_demo_catalog, serve_simulators, sim_exports

pytestmark = pytest.mark.anyio

ORDER_FIELD = "custbody_nswoo_woo_order_id"


@asynccontextmanager
async def served(folder: Path) -> AsyncIterator[tuple[dict[str, str], NetSuiteSimulator]]:
    """The seeded simulators on loopback, and the variables pointing nswoo's sandbox at them."""
    netsuite = NetSuiteSimulator("1234567_SB1")
    private_pem, public_pem = generate_m2m_key_pair("PS256")
    netsuite.register_m2m_client("client", "cert", public_pem)
    shop = WooSimulator(
        "http://127.0.0.1",
        consumer_key="ck_" + secrets.token_hex(8),
        consumer_secret="cs_" + secrets.token_hex(8),
        webhook_secret=secrets.token_hex(8),
    )
    catalog = seed_demo_catalog(netsuite, shop)
    async with serve_simulators(netsuite.asgi_app(), shop.asgi_app()) as urls:
        shop.rebase(urls.woocommerce)
        lines = sim_exports(
            ns_sim=netsuite,
            woo_sim=shop,
            urls=urls,
            catalog=catalog,
            client_id="client",
            certificate_id="cert",
            private_key_pem=private_pem,
            directory=folder,
        )
        environ = base_environ() | parse_exports(lines)
        environ["NSWOO_SANDBOX_STORE"] = f"sqlite:///{folder / 'nswoo.db'}"
        yield environ, netsuite


async def nswoo(environ: dict[str, str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in a worker thread (it runs its own event loop)."""
    out, err = io.StringIO(), io.StringIO()
    call = functools.partial(run, list(argv), environ=environ, stdout=out, stderr=err)
    code = await anyio.to_thread.run_sync(call)
    return code, out.getvalue(), err.getvalue()


async def test_rename_and_new_mandatory_field_make_diff_exit_1_naming_both(
    tmp_path: Path,
) -> None:
    fixture = tmp_path / "schema.jsonl"
    async with served(tmp_path) as (environ, netsuite):
        code, out, err = await nswoo(
            environ, "schema", "snapshot", "--env", "sandbox", "-o", str(fixture)
        )
        assert (code, err) == (0, "")
        assert "fields written" in out
        unchanged = await nswoo(environ, "schema", "diff", str(fixture), "--env", "sandbox")
        assert unchanged[0] == 0, unchanged
        assert "no changes" in unchanged[1]

        # An admin's SuiteScript deploy: the order field gets a new script id, and a new
        # mandatory body field appears.
        netsuite.rename_field("salesOrder", ORDER_FIELD, "custbody_woo_order_ref")
        netsuite.define_custom_field("salesOrder", "custbody_region", "Region", mandatory=True)
        code, out, err = await nswoo(
            environ, "schema", "diff", str(fixture), "--env", "sandbox", "--json"
        )
        text_code, text, _ = await nswoo(
            environ, "schema", "diff", str(fixture), "--env", "sandbox"
        )

    assert (code, err) == (1, "")
    changes = json.loads(out)["changes"]
    assert changes == [
        {
            "record": "salesOrder",
            "kind": "added",
            "field": "custbody_region",
            "old_field": None,
            "label": "Region",
            "severity": "critical",
        },
        {
            "record": "salesOrder",
            "kind": "renamed",
            "field": "custbody_woo_order_ref",
            "old_field": ORDER_FIELD,
            "label": "WooCommerce Order ID",
            "severity": "critical",
        },
    ]
    assert text_code == 1
    assert f"custbody_woo_order_ref (WooCommerce Order ID): renamed from {ORDER_FIELD}" in text
    assert "custbody_region (Region): added" in text


async def test_snapshot_to_stdout_is_the_fixture_text(tmp_path: Path) -> None:
    async with served(tmp_path) as (environ, _):
        code, out, err = await nswoo(environ, "schema", "snapshot", "--env", "sandbox")

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert json.loads(lines[0]) == {"format": "nswoo-schema", "version": 1}
    order_field = [json.loads(line) for line in lines[1:] if ORDER_FIELD in line]
    assert order_field == [
        {
            "record": "salesOrder",
            "id": ORDER_FIELD,
            "label": "WooCommerce Order ID",
            "type": "string",
            "mandatory": False,
        }
    ]


async def test_a_hand_edited_fixture_is_refused_with_its_line_before_netsuite_is_called(
    tmp_path: Path,
) -> None:
    fixture = tmp_path / "schema.jsonl"
    fixture.write_text(
        '{"format": "nswoo-schema", "version": 1}\n{"record": "salesOrder", "id": "memo"}\n'
    )
    environ = base_environ() | {"NSWOO_ENV": "sandbox"}

    code, out, err = await nswoo(environ, "schema", "diff", str(fixture), "--json")

    assert code == 2
    assert f"{fixture}:2" in out + err
    assert "lacks" in out + err
    assert "Traceback" not in out + err


async def test_a_record_type_the_simulator_lacks_is_named() -> None:
    """The simulator answers 501 for record types it does not model: the error names it."""
    world = build_world()
    async with world.netsuite_client() as client:
        with pytest.raises(ApiError) as caught:
            await take_snapshot(client, ("salesOrder", "assemblyBuild"))

    assert "assemblyBuild" in str(caught.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_watch_reports_drift_by_exit_code_and_keeps_the_page_smtp_could_not_take(
    tmp_path: Path,
) -> None:
    """The weekly job with an unreachable SMTP server: exit 1 all the same, the e-mail
    alerts wait in the store, and the next run does not raise them again."""
    fixture = tmp_path / "schema.jsonl"
    async with served(tmp_path) as (environ, netsuite):
        config = anyio.Path(environ["NSWOO_SANDBOX_CONFIG"])
        await config.write_text(
            await config.read_text()
            + "\n[notify]\n"
            + 'email = { to = ["ops@example.com"], sender = "nswoo@example.com",'
            + f' smtp_url = "smtp://127.0.0.1:{_closed_port()}" }}\n'
            + 'office_hours = { timezone = "UTC", days = "mon,tue,wed,thu,fri,sat,sun",'
            + ' start = "00:00", end = "23:59" }\n'
        )
        await nswoo(environ, "schema", "snapshot", "--env", "sandbox", "-o", str(fixture))
        netsuite.rename_field("salesOrder", ORDER_FIELD, "custbody_woo_order_ref")
        netsuite.define_custom_field("salesOrder", "custbody_region", "Region", mandatory=True)

        code, out, err = await nswoo(
            environ, "schema", "watch", str(fixture), "--env", "sandbox", "--json"
        )
        again, out_again, _ = await nswoo(
            environ, "schema", "watch", str(fixture), "--env", "sandbox", "--json"
        )

    assert code == 1, err
    report = json.loads(out)
    assert {c["field"] for c in report["changes"]} == {"custbody_region", "custbody_woo_order_ref"}
    assert report["alerts"]["raised"] == 2
    assert report["alerts"]["waiting"] == 2  # the e-mails, kept for the next run
    assert again == 1
    assert json.loads(out_again)["alerts"]["raised"] == 0  # identical: not raised twice
    assert json.loads(out_again)["alerts"]["waiting"] == 2


async def test_orders_sync_pages_a_drifted_field_once_and_keeps_the_page_it_could_not_send(
    tmp_path: Path,
) -> None:
    """`orders sync` after an admin adds a mandatory field: the order is dead-lettered with
    the field named and one alert per field waits in the store for the unreachable SMTP
    server, raised again by no later run."""
    async with served(tmp_path) as (environ, netsuite):
        config = anyio.Path(environ["NSWOO_SANDBOX_CONFIG"])
        await config.write_text(
            await config.read_text()
            + "\n[notify]\n"
            + 'email = { to = ["ops@example.com"], sender = "nswoo@example.com",'
            + f' smtp_url = "smtp://127.0.0.1:{_closed_port()}" }}\n'
            + 'office_hours = { timezone = "UTC", days = "mon,tue,wed,thu,fri,sat,sun",'
            + ' start = "00:00", end = "23:59" }\n'
        )
        netsuite.define_custom_field("salesOrder", "custbody_region", "Region", mandatory=True)
        before = netsuite.sales_orders_by_woo_id()
        code, out, err = await nswoo(environ, "orders", "sync", "--env", "sandbox", "--json")
        again, _, _ = await nswoo(environ, "orders", "replay", "--env", "sandbox", "--json")
        after = netsuite.sales_orders_by_woo_id()

    assert code == 3, err
    report = json.loads(out)
    assert report["dead_lettered"] >= 1
    reasons = [d["reason"] for d in report["dead_letters"]]
    assert all("custbody_region" in r or "Region" in r for r in reasons), reasons
    assert again == 3
    assert after == before  # nothing booked without the mandatory field
    store = await open_store(environ["NSWOO_SANDBOX_STORE"])
    async with store:
        waiting = await store.pending_alerts.waiting()
    assert len({row.key for row in waiting}) == 1  # one page for the field, not one per order
    assert "custbody_region" in waiting[0].key
