"""`nswoo webhooks ensure`, and the webhook warnings of `nswoo check` and `orders sync`.

Real processes on loopback: `nswoo sim` and the `nswoo` command, as a user runs them. The
store starts without webhooks (so orders arrive only by polling); WooCommerce disables a
webhook after repeated failed deliveries (reference/woocommerce.md §8).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.acceptance._sim import cli_environ, run_nswoo, running_sim, woo_http

pytestmark = pytest.mark.slow

RECEIVER = "http://127.0.0.1:8000/webhooks/woocommerce"


def test_ensure_creates_the_order_webhooks_then_changes_nothing(tmp_path: Path) -> None:
    """The first run creates order.created and order.updated to --url; the second creates
    and repairs nothing; the store then has exactly those two webhooks, active."""
    with running_sim() as exports:
        env = cli_environ(exports, tmp_path / "store.db")
        first = run_nswoo(env, "webhooks", "ensure", "--env", "sandbox", "--url", RECEIVER)
        second = run_nswoo(
            env, "webhooks", "ensure", "--env", "sandbox", "--url", RECEIVER, "--json"
        )
        with woo_http(exports) as woo:
            hooks = woo.get("/webhooks").json()
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("created   ") == 2
    assert second.returncode == 0, second.stderr
    result = json.loads(second.stdout)
    assert (result["created"], result["updated"], result["problems"]) == ([], [], [])
    assert len(result["rekeyed"]) == 2
    assert sorted((h["topic"], h["status"], h["delivery_url"]) for h in hooks) == [
        ("order.created", "active", RECEIVER),
        ("order.updated", "active", RECEIVER),
    ]


def test_check_and_sync_warn_until_ensure_repairs(tmp_path: Path) -> None:
    """Without webhooks `check` (exit 0) and `orders sync` warn naming the topics; after a
    webhook is disabled they name it; `ensure` re-enables it and the warnings stop."""
    with running_sim() as exports:
        env = cli_environ(exports, tmp_path / "store.db")
        check = run_nswoo(env, "check", "--env", "sandbox", "--json")
        sync = run_nswoo(env, "orders", "sync", "--env", "sandbox", "--json")
        run_nswoo(env, "webhooks", "ensure", "--env", "sandbox", "--url", RECEIVER)
        with woo_http(exports) as woo:
            created = next(h for h in woo.get("/webhooks").json() if h["topic"] == "order.created")
            woo.put(f"/webhooks/{created['id']}", json={"status": "disabled"}).raise_for_status()
        disabled = run_nswoo(env, "orders", "sync", "--env", "sandbox")
        repaired = run_nswoo(env, "webhooks", "ensure", "--env", "sandbox", "--url", RECEIVER)
        clean = run_nswoo(env, "check", "--env", "sandbox", "--json")
    assert check.returncode == 0, check.stderr
    detail = json.loads(check.stdout)["woocommerce"]["detail"]
    assert "warning: no order.created webhook delivers to nswoo" in detail
    assert "warning: no order.updated webhook delivers to nswoo" in detail
    assert "nswoo webhooks ensure --url URL" in detail
    assert sync.returncode == 0, sync.stderr
    assert "no order.created webhook delivers to nswoo" in sync.stderr
    assert json.loads(sync.stdout)["imported"] == 1  # the warning does not stop the sync
    assert f"order.created webhook {created['id']}" in disabled.stderr
    assert "is disabled" in disabled.stderr
    assert "repaired  order.created" in repaired.stdout
    assert json.loads(clean.stdout)["woocommerce"]["detail"].endswith("order webhooks ok")


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://hooks.example.com/webhooks/woocommerce", "loopback"),
        ("ftp://127.0.0.1/webhooks/woocommerce", "http"),
    ],
)
def test_ensure_refuses_a_bad_url_before_any_request(tmp_path: Path, url: str, needle: str) -> None:
    """A URL orders must not go to is refused with exit 2 naming --url; nothing is created."""
    with running_sim() as exports:
        env = cli_environ(exports, tmp_path / "store.db")
        done = run_nswoo(env, "webhooks", "ensure", "--env", "sandbox", "--url", url)
        with woo_http(exports) as woo:
            hooks = woo.get("/webhooks").json()
    assert done.returncode == 2
    assert "--url" in done.stderr
    assert needle in done.stderr
    assert "Traceback" not in done.stderr
    assert hooks == []


def test_ensure_needs_the_webhook_secret(tmp_path: Path) -> None:
    """Without WOO_SANDBOX_WEBHOOK_SECRET there is nothing to sign with: exit 2 naming it."""
    with running_sim() as exports:
        env = cli_environ(exports, tmp_path / "store.db")
        env.pop("WOO_SANDBOX_WEBHOOK_SECRET", None)
        done = run_nswoo(env, "webhooks", "ensure", "--env", "sandbox", "--url", RECEIVER)
    assert done.returncode == 2
    assert "WOO_SANDBOX_WEBHOOK_SECRET" in done.stderr
