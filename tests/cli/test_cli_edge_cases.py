"""Edge cases of the TOML mapping file and of the `--json` output of `demo` and `sim`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nswoo._settings import SettingsRefused, parse_config
from nswoo.cli._main import run

_ENV = {
    "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
    "NS_SANDBOX_CLIENT_ID": "cid",
    "NS_SANDBOX_CLIENT_SECRET": "sec",
    "NS_SANDBOX_REFRESH_TOKEN": "rt",
    "WOO_SANDBOX_URL": "https://staging.shop.example",
    "WOO_SANDBOX_CONSUMER_KEY": "ck_edge",
    "WOO_SANDBOX_CONSUMER_SECRET": "cs_edge",
}


def test_office_hours_timezone_naming_a_zone_folder_is_a_configuration_refusal(
    tmp_path: Path,
) -> None:
    """`timezone = "America"` (a region, not a zone) is a bad TOML value: `check` refuses it
    with exit 2 and one JSON error naming `notify.office_hours.timezone`, without a
    traceback, not exit 4 ("could not reach") from an `IsADirectoryError`.
    """
    config = tmp_path / "nswoo.toml"
    config.write_text(
        '[orders]\nstore = "main"\ncustomer = { strategy = "by-email" }\n'
        '[notify]\noffice_hours = { timezone = "America" }\n',
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["check", "--env", "sandbox", "--offline", "--json"],
        environ={**_ENV, "NSWOO_SANDBOX_CONFIG": str(config)},
        stdout=out,
        stderr=err,
    )
    assert code == 2
    error = json.loads(out.getvalue())["error"]
    assert error["type"] == "SettingsRefused"
    assert "notify.office_hours.timezone" in " ".join(error["problems"])
    assert "Traceback" not in err.getvalue()


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('store = "main\\n"', "orders.store"),
        ('custom_field = "custbody_nswoo_woo_order_id\\n"', "orders.custom_field"),
        ('item_match = "itemid\\n"', "orders.item_match"),
        ('statuses = ["processing\\n"]', "orders.statuses[0]"),
    ],
)
def test_identifier_with_a_trailing_newline_is_refused(line: str, key: str) -> None:
    """Identifier-like TOML values (store name in the externalId, custom field and item
    column in SuiteQL, status slugs) are checked against their whole value: a trailing
    newline (as a TOML multi-line string leaves) is refused at load time, naming the key,
    rather than accepted and failing later in `order_key`/`ident()` mid-sync.
    """
    text = f'[orders]\n{line}\ncustomer = {{ strategy = "by-email" }}\n'
    if not line.startswith("store"):
        text = text.replace("[orders]\n", '[orders]\nstore = "main"\n')
    with pytest.raises(SettingsRefused) as caught:
        parse_config(text)
    assert key in caught.value.keys


def test_demo_json_scores_all_seven_behaviours() -> None:
    """`nswoo demo --json` prints one object whose `behaviours` holds all seven keys of the
    CLI contract (auth, rate_limits, environments, idempotent_orders, availability,
    schema_drift, reconciliation), each with its own `ok`; `ok: true` must not be claimed
    for behaviours that were never scored.
    """
    out, err = io.StringIO(), io.StringIO()
    code = run(["demo", "--orders", "12", "--json"], environ={}, stdout=out, stderr=err)
    report = json.loads(out.getvalue())
    assert set(report["behaviours"]) == {
        "auth",
        "rate_limits",
        "environments",
        "idempotent_orders",
        "availability",
        "schema_drift",
        "reconciliation",
    }
    assert all("ok" in card for card in report["behaviours"].values())
    assert code == (0 if report["ok"] else 1)


def test_sim_json_prints_one_json_object() -> None:
    """Every command accepts `--json` and then prints one JSON object on stdout instead of
    text (CLI contract); `nswoo sim --json` must not print `export NAME=VALUE` lines.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "nswoo", "sim", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("NS_", "WOO_", "NSWOO_"))},
    )
    first: list[str] = []
    reader = threading.Thread(
        target=lambda: first.append(proc.stdout.readline() if proc.stdout else "")
    )
    reader.start()
    reader.join(30)
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
    assert first, "sim printed nothing within 30 s"
    assert first[0].strip(), "sim printed nothing within 30 s"
    assert isinstance(json.loads(first[0]), dict)
