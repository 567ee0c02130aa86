"""The `nswoo` CLI as a user runs it, against `nswoo sim` served on loopback."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tests.acceptance._sim import (
    ROOT,
    START_TIMEOUT,
    add_product,
    cli_environ,
    close_pipes,
    follow,
    nswoo_command,
    place_order,
    product_id,
    run_nswoo,
    running_sim,
    sales_order_counts,
    stop,
    woo_http,
)

from nswoo import Secret
from nswoo.woocommerce import sign_body

pytestmark = pytest.mark.slow

SYNC_KEYS = {"imported", "already_imported", "ignored", "dead_lettered", "dead_letters"}


def utc_instant(text: str) -> datetime:
    """Parse an ISO 8601 timestamp and insist that it is UTC."""
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None, f"{text} has no offset"
    assert moment.utcoffset() == UTC.utcoffset(None), f"{text} is not UTC"
    return moment


def test_check_reaches_both_simulators(tmp_path: Path) -> None:
    """`nswoo check --json` exits 0 with netsuite.ok, woocommerce.ok and the contract keys."""
    with running_sim() as exports:
        done = run_nswoo(
            cli_environ(exports, tmp_path / "nswoo.db"), "check", "--env", "sandbox", "--json"
        )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["environment"] == "sandbox"
    assert report["netsuite"]["ok"] is True
    assert report["netsuite"]["account_id"] == exports["NS_SANDBOX_ACCOUNT_ID"]
    assert report["woocommerce"]["ok"] is True
    assert report["woocommerce"]["url"] == exports["WOO_SANDBOX_URL"]


def test_sync_dead_letters_an_unknown_sku_and_lists_it(tmp_path: Path) -> None:
    """An unknown SKU makes `orders sync` exit 3, and `orders dead-letters` lists it."""
    with running_sim() as exports:
        with woo_http(exports) as woo:
            lamp = add_product(woo, "LAMP-UNKNOWN")
            mug = product_id(woo, "MUG-BLUE")
            good = place_order(woo, [(mug, 2)])
            bad = place_order(woo, [(lamp, 1), (mug, 1)])
            pending = place_order(woo, [(mug, 1)], status="pending")
        env = cli_environ(exports, tmp_path / "nswoo.db")
        synced = run_nswoo(env, "orders", "sync", "--env", "sandbox", "--json")
        listed = run_nswoo(env, "orders", "dead-letters", "--env", "sandbox", "--json")
        held = sales_order_counts(exports)

    assert synced.returncode == 3, synced.stderr
    report = json.loads(synced.stdout)
    assert set(report) >= SYNC_KEYS
    assert all(type(report[k]) is int for k in SYNC_KEYS - {"dead_letters"})
    # The seeded order and ours: imported; the pending one: ignored; the lamp: dead-lettered.
    assert report["imported"] == 2
    assert report["ignored"] == 1
    assert report["dead_lettered"] == 1
    assert [d["order_id"] for d in report["dead_letters"]] == [bad["id"]]
    assert type(report["dead_letters"][0]["order_id"]) is int
    assert "LAMP-UNKNOWN" in report["dead_letters"][0]["reason"]

    assert listed.returncode == 0, listed.stderr
    letters = json.loads(listed.stdout)["dead_letters"]
    assert len(letters) == 1
    letter = letters[0]
    assert set(letter) >= {"order_id", "reason", "attempts", "first_seen", "last_seen"}
    assert letter["order_id"] == bad["id"]
    assert type(letter["order_id"]) is int
    assert "LAMP-UNKNOWN" in letter["reason"]
    assert letter["attempts"] == 1
    assert utc_instant(letter["first_seen"]) <= utc_instant(letter["last_seen"])

    assert held[str(good["id"])] == 1
    assert str(bad["id"]) not in held
    assert str(pending["id"]) not in held
    assert set(held.values()) == {1}


def _receiver_url(lines: queue.Queue[str | None], proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"webhooks serve printed no URL in time: {seen}") from None
        if line is None:
            raise AssertionError(f"webhooks serve exited {proc.wait(5)}: {''.join(seen)}")
        seen.append(line)
        if "http://" in line:
            return "http://" + line.split("http://", 1)[1].split()[0]


def test_webhooks_serve_verifies_imports_and_stops_cleanly(tmp_path: Path) -> None:
    """`webhooks serve` refuses a forged delivery, imports a signed one, exits 0 on SIGTERM."""
    with running_sim() as exports:
        with woo_http(exports) as woo:
            order = place_order(woo, [(product_id(woo, "POSTER-A2"), 3)])
            body = woo.get(f"/orders/{order['id']}").content
        secret = Secret(exports["WOO_SANDBOX_WEBHOOK_SECRET"])
        headers = {
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": exports["WOO_SANDBOX_URL"] + "/",
            "X-WC-Webhook-Topic": "order.created",
            "X-WC-Webhook-Resource": "order",
            "X-WC-Webhook-Event": "created",
            "X-WC-Webhook-ID": "1",
            "X-WC-Webhook-Delivery-ID": "acceptance-1",
        }
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            nswoo_command("webhooks", "serve", "--env", "sandbox", "--port", "0"),
            cwd=ROOT,
            env=cli_environ(exports, tmp_path / "nswoo.db"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines, reader = follow(proc.stderr)
        try:
            url = _receiver_url(lines, proc)
            assert url.startswith("http://127.0.0.1:")
            assert url.endswith("/webhooks/woocommerce")
            forged = httpx.post(
                url,
                content=body,
                headers={**headers, "X-WC-Webhook-Signature": sign_body(body, Secret("wrong"))},
                timeout=10,
            )
            accepted = httpx.post(
                url,
                content=body,
                headers={**headers, "X-WC-Webhook-Signature": sign_body(body, secret)},
                timeout=10,
            )
            deadline = time.monotonic() + 15
            held = sales_order_counts(exports)
            while str(order["id"]) not in held:
                assert time.monotonic() < deadline, "the delivered order was never imported"
                time.sleep(0.1)
                held = sales_order_counts(exports)
        finally:
            code = stop(proc)
            close_pipes(proc, reader)
    assert forged.status_code == 401
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert held[str(order["id"])] == 1
    assert code == 0


def test_a_corrupt_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    """`orders sync` on a store of random bytes exits 2, says so, and leaves the file as it was."""
    store = tmp_path / "corrupt.db"
    garbage = os.urandom(8192)
    store.write_bytes(garbage)
    with running_sim() as exports:
        done = run_nswoo(cli_environ(exports, store), "orders", "sync", "--env", "sandbox")
        held = sales_order_counts(exports)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    message = done.stderr.lower()
    assert message.startswith("nswoo: error:")
    assert str(store).lower() in message
    assert "corrupt" in message or "not an sqlite database" in message
    assert store.read_bytes() == garbage
    assert held == {}


def test_refused_credentials_end_orders_sync_with_one_line_and_exit_4(tmp_path: Path) -> None:
    """A wrong consumer secret: one line naming WooCommerce, the cause and the real
    variables, exit 4; with `--json` the error is typed `AuthenticationError`. Before: ~70
    lines of ExceptionGroup and exit 3.
    """
    with running_sim() as exports:
        env = cli_environ(exports, tmp_path / "nswoo.db")
        env["WOO_SANDBOX_CONSUMER_SECRET"] = "cs_wrong"
        text = run_nswoo(env, "orders", "sync", "--env", "sandbox")
        as_json = run_nswoo(env, "orders", "sync", "--env", "sandbox", "--json")

    assert text.returncode == 4, text.stderr
    [line] = text.stderr.splitlines()
    assert line.startswith("nswoo: error: WooCommerce: ")
    assert "WOO_SANDBOX_CONSUMER_SECRET" in line
    assert "<ENV>" not in line
    assert as_json.returncode == 4
    error = json.loads(as_json.stdout)["error"]
    assert error["type"] == "AuthenticationError"
    assert error["system"] == "woocommerce"
    assert as_json.stderr == ""


def test_sync_reports_each_dead_letter_once_and_progress_when_asked(tmp_path: Path) -> None:
    """The report lists a dead letter on stdout and nothing repeats it on stderr; with
    `--progress` (stderr not a terminal) stderr carries `handled/read` progress lines.
    """
    with running_sim() as exports:
        with woo_http(exports) as woo:
            lamp = add_product(woo, "LAMP-ONCE")
            bad = place_order(woo, [(lamp, 1)])
        env = cli_environ(exports, tmp_path / "nswoo.db")
        quiet = run_nswoo(env, "orders", "sync", "--env", "sandbox")
        shown = run_nswoo(
            env, "orders", "replay", "--env", "sandbox", "--progress", "--log-level", "warning"
        )

    assert quiet.returncode == 3, quiet.stderr
    assert quiet.stdout.count(f"order {bad['id']}:") == 1
    assert quiet.stdout.count("LAMP-ONCE") == 1
    # stderr may carry warnings of its own (e.g. about the store's webhooks), never the
    # dead letter the report already shows.
    assert "LAMP-ONCE" not in quiet.stderr
    assert f"order {bad['id']}" not in quiet.stderr
    assert shown.returncode == 3, shown.stderr
    progress = [line for line in shown.stderr.splitlines() if line.startswith("orders replay")]
    assert progress, shown.stderr
    assert progress[-1] == "orders replay: 1/1 orders handled"
    assert "LAMP-ONCE" not in shown.stderr
