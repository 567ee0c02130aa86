"""A secret pasted into the wrong (non-secret) variable or TOML key is never printed back.

Refusals name the variable and what is wrong; of the value they show at most its first four
characters and its length. Checked on the message, the `repr`, and the CLI's stderr and
`--json` output of `nswoo check --offline` run as a real subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nswoo._settings import SettingsRefused, from_env, load_config, parse_config
from nswoo._settings._env import shown_path, shown_value

# Secret-looking: long, random, letters and digits only, so it passes character checks
# (account ids) and reaches the checks that used to echo it.
SECRET = "Zq7vK2pXw9LmT4rB8nH3cJ6yF1dG5sA0uE"


def leaks(text: str, secret: str = SECRET) -> list[str]:
    """Every 8-character piece of `secret` that appears in `text`."""
    return sorted({secret[i : i + 8] for i in range(len(secret) - 7) if secret[i : i + 8] in text})


def refusal_texts(error: SettingsRefused) -> str:
    return "\n".join([str(error), repr(error), *error.problems, *error.keys, str(error.key)])


SANDBOX = {
    "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
    "NS_SANDBOX_AUTH": "tba",
    "NS_SANDBOX_CONSUMER_KEY": "consumer-key",
    "NS_SANDBOX_CONSUMER_SECRET": "consumer-secret",
    "NS_SANDBOX_TOKEN_ID": "token-id",
    "NS_SANDBOX_TOKEN_SECRET": "token-secret",
    "WOO_SANDBOX_URL": "https://staging.shop.example",
    "WOO_SANDBOX_CONSUMER_KEY": "ck_echo",
    "WOO_SANDBOX_CONSUMER_SECRET": "cs_echo",
}

# Each non-secret variable, and the secret-looking value it is given (always invalid there).
MISPLACED = {
    "NS_SANDBOX_ACCOUNT_ID": SECRET,  # letters and digits, but no _SB<n>: not a sandbox id
    "NS_SANDBOX_BASE_URL": SECRET,
    "NS_SANDBOX_AUTH": SECRET,
    "NS_SANDBOX_CONCURRENCY": SECRET,
    "NS_SANDBOX_TIMEOUT": SECRET,
    "NS_SANDBOX_JWT_ALGORITHM": SECRET,
    "NS_SANDBOX_SCOPES": SECRET,
    "WOO_SANDBOX_URL": SECRET,
    "WOO_SANDBOX_CONCURRENCY": SECRET,
    "WOO_SANDBOX_TIMEOUT": SECRET,
    "NSWOO_SANDBOX_STORE": SECRET,
    "NSWOO_SANDBOX_LIMITER": SECRET,
}
M2M_SANDBOX = {
    "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
    "NS_SANDBOX_CLIENT_ID": "client-id",
    "NS_SANDBOX_CERTIFICATE_ID": "cert-id",
}


@pytest.mark.parametrize("variable", sorted(MISPLACED))
def test_each_non_secret_variable_refuses_without_echoing_the_value(variable: str) -> None:
    """A secret in any non-secret variable is refused naming the variable, never the value."""
    environ = {**SANDBOX, variable: MISPLACED[variable]}
    if variable in ("NS_SANDBOX_JWT_ALGORITHM", "NS_SANDBOX_SCOPES"):
        # Read for m2m credentials only.
        environ = {**M2M_SANDBOX, "NS_SANDBOX_PRIVATE_KEY": _pem(), variable: SECRET}
    with pytest.raises(SettingsRefused) as info:
        from_env("sandbox", environ)
    assert variable in info.value.keys
    assert leaks(refusal_texts(info.value)) == []


def test_production_account_id_with_a_sandbox_suffix_is_not_echoed() -> None:
    """The production account-id check (ends in _SB<n>) names the variable, not the value."""
    environ = {"NS_PROD_ACCOUNT_ID": SECRET + "_SB1", "NS_PROD_AUTH": "tba"}
    with pytest.raises(SettingsRefused) as info:
        from_env("prod", environ)
    assert "NS_PROD_ACCOUNT_ID" in info.value.keys
    assert leaks(refusal_texts(info.value)) == []


def test_key_file_variable_holding_a_secret_is_not_echoed() -> None:
    """A key's base64 body pasted into NS_<ENV>_PRIVATE_KEY_FILE (no PEM armour) is not printed."""
    environ = {**M2M_SANDBOX, "NS_SANDBOX_PRIVATE_KEY_FILE": SECRET}
    with pytest.raises(SettingsRefused) as info:
        from_env("sandbox", environ)
    assert info.value.key == "NS_SANDBOX_PRIVATE_KEY_FILE"
    assert "cannot read" in str(info.value)
    assert leaks(refusal_texts(info.value)) == []


def test_key_file_named_like_one_is_still_shown_whole(tmp_path: Path) -> None:
    """A missing `.pem` file is named in full: it is evidently a path, and the path helps."""
    path = str(tmp_path / "netsuite-key.pem")
    with pytest.raises(SettingsRefused) as info:
        from_env("sandbox", {**M2M_SANDBOX, "NS_SANDBOX_PRIVATE_KEY_FILE": path})
    assert f"cannot read {path}: " in str(info.value)


def test_all_misplaced_at_once_lists_each_variable_without_a_value() -> None:
    """With every variable wrong at once, each is listed, and no value is."""
    with pytest.raises(SettingsRefused) as info:
        from_env("sandbox", {**SANDBOX, **MISPLACED})
    # The base URL is checked against a valid account id only; the JWT settings with m2m only.
    unchecked = {"NS_SANDBOX_BASE_URL", "NS_SANDBOX_JWT_ALGORITHM", "NS_SANDBOX_SCOPES"}
    assert set(info.value.keys) >= set(MISPLACED) - unchecked
    assert leaks(refusal_texts(info.value)) == []


def test_config_path_holding_a_secret_is_not_echoed() -> None:
    """NSWOO_<ENV>_CONFIG set to a secret: the file cannot be read, and the key is shortened."""
    with pytest.raises(SettingsRefused) as info:
        load_config(SECRET)
    assert "cannot read the configuration file" in str(info.value)
    assert leaks(refusal_texts(info.value)) == []


def test_config_path_ending_in_toml_is_named_whole(tmp_path: Path) -> None:
    """A missing `.toml` file is named in full, as before."""
    path = tmp_path / "absent.toml"
    with pytest.raises(SettingsRefused) as info:
        load_config(path)
    assert info.value.key == str(path)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('customer = {{ strategy = "{s}" }}', "orders.customer.strategy"),
        ('store = "{s}!"', "orders.store"),  # letters and digits alone are a valid name
        ('custom_field = "{s}"', "orders.custom_field"),
        ('statuses = ["{s}"]', "orders.statuses[0]"),
        ('item_match = "{s}"', "orders.item_match"),
        ('[inventory]\npolicy = "{s}"', "inventory.policy"),
        ('[inventory]\nowners = [{{ pattern = "*", owner = "{s}" }}]', "inventory.owners[0].owner"),
        ('[notify]\nwebhook_url = "{s}"', "notify.webhook_url"),
        ('[notify.email]\nsmtp_url = "{s}"', "notify.email.smtp_url"),
        ('[notify.email]\nto = ["{s}"]', "notify.email.to[0]"),
        ('[notify.office_hours]\ntimezone = "{s}"', "notify.office_hours.timezone"),
        ('[notify.office_hours]\ndays = "{s}"', "notify.office_hours.days"),
        ('[notify.office_hours]\nstart = "{s}"', "notify.office_hours.start"),
        ('[reconcile.tolerance]\ninventory_value = "{s}"', "reconcile.tolerance.inventory_value"),
    ],
)
def test_toml_values_are_not_echoed(toml: str, key: str) -> None:
    """A secret in any TOML string value is refused by its key path, never by its value."""
    base = '[orders]\nstore = "main"\ncustomer = { strategy = "single", id = 1 }\n'
    text = toml.format(s=SECRET)
    if text.startswith(("customer", "store", "custom_field", "statuses", "item_match")):
        lines = [line for line in base.splitlines() if not line.startswith(text.split(" ")[0])]
        document = "\n".join([*lines, text]) + "\n"
    else:
        document = base + text + "\n"
    with pytest.raises(SettingsRefused) as info:
        parse_config(document, source="nswoo.toml")
    assert key in info.value.keys
    assert leaks(refusal_texts(info.value)) == []


def test_shown_value_keeps_four_characters_and_the_length() -> None:
    """The helper every refusal uses: a four-character prefix, an ellipsis and the length."""
    assert shown_value(SECRET) == f"'Zq7v...' ({len(SECRET)} characters)"
    assert shown_value("ten") == "'ten'"
    assert shown_path("/etc/nswoo/prod.toml", suffixes=(".toml",)) == "/etc/nswoo/prod.toml"
    assert shown_path(SECRET, suffixes=(".toml",)) == shown_value(SECRET)


# ---------------------------------------------------------------------------------------------
# The CLI, in a subprocess


def _pem() -> str:
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
    return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"


def nswoo_check(environ: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NS_", "WOO_", "NSWOO_"))}
    env.update(environ)
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "nswoo", "check", "--env", "sandbox", "--offline", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli_cases(tmp_path: Path) -> dict[str, dict[str, str]]:
    store = f"sqlite:///{tmp_path / 'nswoo.db'}"
    config = tmp_path / "nswoo.toml"
    config.write_text(
        '[orders]\nstore = "main"\n'
        f'customer = {{ strategy = "{SECRET}" }}\n'
        f'[inventory]\npolicy = "{SECRET}"\n'
        f'[notify.office_hours]\ntimezone = "{SECRET}"\nstart = "{SECRET}"\n',
        encoding="utf-8",
    )
    valid = {**SANDBOX, "NSWOO_SANDBOX_STORE": store}
    return {
        "variables": {**SANDBOX, **MISPLACED},
        "key file": {**M2M_SANDBOX, **SANDBOX, "NS_SANDBOX_AUTH": "m2m"}
        | {"NS_SANDBOX_PRIVATE_KEY_FILE": SECRET, "NS_SANDBOX_JWT_ALGORITHM": SECRET},
        "config path": {**valid, "NSWOO_SANDBOX_CONFIG": SECRET},
        "config values": {**valid, "NSWOO_SANDBOX_CONFIG": str(config)},
    }


@pytest.mark.parametrize("case", ["variables", "key file", "config path", "config values"])
def test_cli_check_never_prints_the_misplaced_value(tmp_path: Path, case: str) -> None:
    """`nswoo check --offline`, as text and as `--json`, refuses (exit 2) without the value."""
    environ = cli_cases(tmp_path)[case]
    text = nswoo_check(environ)
    as_json = nswoo_check(environ, "--json")
    assert (text.returncode, as_json.returncode) == (2, 2), text.stderr
    assert "Traceback" not in text.stderr + as_json.stderr
    error = json.loads(as_json.stdout)["error"]
    assert error["type"] == "SettingsRefused"
    assert error["problems"]
    assert leaks(text.stdout + text.stderr) == []
    assert leaks(as_json.stdout + as_json.stderr) == []
