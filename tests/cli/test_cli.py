"""The nswoo command line: options, exit codes, error reporting, the check command."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from nswoo._settings import Settings
from nswoo.cli._main import Command, Context, ExitCode, Probe, exit_code_for, main, run
from nswoo.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    StorageError,
    System,
)

SANDBOX = {
    "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
    "NS_SANDBOX_CLIENT_ID": "client-id",
    "NS_SANDBOX_CLIENT_SECRET": "client-secret",
    "NS_SANDBOX_REFRESH_TOKEN": "refresh-token",
    "WOO_SANDBOX_URL": "http://127.0.0.1:8081",
    "WOO_SANDBOX_CONSUMER_KEY": "ck_test",
    "WOO_SANDBOX_CONSUMER_SECRET": "cs_test",
}


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A complete sandbox configuration in the process environment."""
    for name, value in SANDBOX.items():
        monkeypatch.setenv(name, value)


def json_out(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    """The one JSON object printed on stdout."""
    out = capsys.readouterr().out
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


@pytest.mark.usefixtures("sandbox_env")
def test_check_prints_environment_account_urls_and_limits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`nswoo check` reports what it validated and says the network was not checked."""
    assert main(["check", "--env", "sandbox", "--offline"]) == 0
    out = capsys.readouterr().out
    for part in (
        "sandbox",
        "1234567_SB1",
        "https://1234567-sb1.suitetalk.api.netsuite.com",
        "auth oauth2",
        "http://127.0.0.1:8081",
        "concurrency 5",
        "concurrency 4",
        "timeout 30s",
        "sqlite:///nswoo-sandbox.db",
        "the network was not checked",
    ):
        assert part in out


@pytest.mark.usefixtures("sandbox_env")
@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--env", "sandbox", "--json", "--offline"],
        ["--json", "check", "--env", "sandbox", "--offline"],
        ["--env", "sandbox", "--json", "check", "--offline"],
        ["--json", "--env", "SANDBOX", "check", "--offline"],
    ],
)
def test_check_json_has_the_contract_keys_wherever_options_go(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """--env and --json work before or after the command; the JSON has DESIGN's keys."""
    assert main(argv) == 0
    data = json_out(capsys)
    assert data["environment"] == "sandbox"
    assert data["netsuite"] == {
        "account_id": "1234567_SB1",
        "base_url": "https://1234567-sb1.suitetalk.api.netsuite.com",
        "auth": "oauth2",
        "ok": True,
        "checked": False,
        "detail": "network not checked",
    }
    assert data["woocommerce"] == {
        "url": "http://127.0.0.1:8081",
        "ok": True,
        "checked": False,
        "detail": "network not checked",
    }
    assert data["limits"] == {
        "netsuite": {"concurrency": 5, "timeout": 30.0},
        "woocommerce": {"concurrency": 4, "timeout": 30.0},
        "limiter": "local",
    }
    assert data["network_checked"] is False
    assert data["ok"] is True


@pytest.mark.usefixtures("sandbox_env")
def test_environment_defaults_to_nswoo_env(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --env, NSWOO_ENV chooses the environment."""
    monkeypatch.setenv("NSWOO_ENV", "sandbox")
    assert main(["check", "--json", "--offline"]) == 0
    assert json_out(capsys)["environment"] == "sandbox"


@pytest.mark.usefixtures("sandbox_env")
def test_no_environment_is_refused_naming_nswoo_env(capsys: pytest.CaptureFixture[str]) -> None:
    """There is no default environment: without --env or NSWOO_ENV the command exits 2."""
    assert main(["check", "--offline"]) == 2
    err = capsys.readouterr().err
    assert "NSWOO_ENV" in err
    assert "--env" in err


@pytest.mark.usefixtures("sandbox_env")
def test_bad_nswoo_env_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """NSWOO_ENV must be prod or sandbox."""
    monkeypatch.setenv("NSWOO_ENV", "staging")
    assert main(["check", "--json", "--offline"]) == 2
    error = json_out(capsys)["error"]
    assert isinstance(error, dict)
    assert error["key"] == "NSWOO_ENV"
    assert error["exit_code"] == 2


@pytest.mark.usefixtures("sandbox_env")
def test_prod_environment_with_only_sandbox_settings_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`check --env prod` against a sandbox-only setup names the missing production variables."""
    assert main(["check", "--env", "prod", "--json", "--offline"]) == 2
    error = json_out(capsys)["error"]
    assert isinstance(error, dict)
    assert error["type"] == "SettingsRefused"
    assert error["key"] == "NS_PROD_ACCOUNT_ID"
    assert "WOO_PROD_URL: WooCommerce is not configured" in str(error["problems"])


@pytest.mark.parametrize("argv", [["chek"], ["check", "--env", "staging"], [], ["check", "-x"]])
def test_usage_errors_exit_2_with_a_json_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed command line exits 2; with --json the error is a JSON object on stdout."""
    assert main([*argv, "--json"]) == 2
    error = json_out(capsys)["error"]
    assert isinstance(error, dict)
    assert error["type"] == "UsageError"


def test_usage_errors_in_text_mode_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json, a usage error is one line on stderr and nothing on stdout."""
    assert main(["frobnicate"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "invalid choice" in captured.err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """--help prints usage, lists check and the exit codes, and exits 0."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "check" in out
    assert "exit codes" in out


@pytest.mark.usefixtures("sandbox_env")
def test_unprefixed_variable_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unprefixed variable is refused at startup, naming the prefixed forms."""
    monkeypatch.setenv("NS_CLIENT_ID", "client-id")
    assert main(["check", "--env", "sandbox", "--json", "--offline"]) == 2
    error = json_out(capsys)["error"]
    assert isinstance(error, dict)
    assert error["key"] == "NS_CLIENT_ID"
    assert "NS_PROD_CLIENT_ID or NS_SANDBOX_CLIENT_ID" in str(error["message"])


@pytest.mark.usefixtures("sandbox_env")
def test_plain_http_store_off_loopback_exits_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """WOO_<ENV>_URL over http:// to a public host is refused."""
    monkeypatch.setenv("WOO_SANDBOX_URL", "http://staging.shop.example")
    assert main(["check", "--env", "sandbox", "--offline"]) == 2
    assert "WOO_SANDBOX_URL" in capsys.readouterr().err


@pytest.mark.usefixtures("sandbox_env")
def test_sandbox_pointed_at_production_host_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The behaviour-3 guard stops `check` before any request is made."""
    monkeypatch.setenv("NS_SANDBOX_BASE_URL", "https://1234567.suitetalk.api.netsuite.com")
    assert main(["check", "--env", "sandbox", "--offline"]) == 2
    assert "NS_SANDBOX_BASE_URL" in capsys.readouterr().err


@pytest.mark.usefixtures("sandbox_env")
def test_malformed_toml_config_exits_2_naming_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """check reads NSWOO_<ENV>_CONFIG when set; a syntax error names the file and line."""
    path = tmp_path / "nswoo.toml"
    path.write_text('[orders]\nstore = "main"\nstatuses = [\n', encoding="utf-8")
    monkeypatch.setenv("NSWOO_SANDBOX_CONFIG", str(path))
    assert main(["check", "--env", "sandbox", "--json", "--offline"]) == 2
    error = json_out(capsys)["error"]
    assert isinstance(error, dict)
    assert error["key"] == str(path)
    assert "line 3" in str(error["message"])


@pytest.mark.usefixtures("sandbox_env")
def test_unknown_toml_key_exits_2_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt key in the mapping file is named with its full path."""
    path = tmp_path / "nswoo.toml"
    path.write_text(
        '[orders]\nstore = "main"\ncustomer = { strategy = "by-email" }\n'
        "[inventory]\nsafety_stok = 2\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("NSWOO_SANDBOX_CONFIG", str(path))
    assert main(["check", "--env", "sandbox", "--offline"]) == 2
    assert "inventory.safety_stok" in capsys.readouterr().err


@pytest.mark.usefixtures("sandbox_env")
def test_valid_toml_config_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid mapping file passes and its path is reported."""
    path = tmp_path / "nswoo.toml"
    path.write_text('[orders]\nstore = "main"\ncustomer = { strategy = "by-email" }\n', "utf-8")
    monkeypatch.setenv("NSWOO_SANDBOX_CONFIG", str(path))
    assert main(["check", "--env", "sandbox", "--json", "--offline"]) == 0
    assert json_out(capsys)["config"] == str(path)


# ---------------------------------------------------------------------------------------------
# Probes


def probe(system: System, outcome: Exception | str) -> Probe:
    """A probe that returns `outcome` when it is a str and raises it otherwise."""

    async def check(settings: Settings) -> str:
        assert settings.environment == "sandbox"
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return Probe(system=system, check=check)


def run_check(probes: list[Probe]) -> tuple[int, dict[str, Any]]:
    """Run `check --json` with `probes`; return the exit code and the JSON object."""
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["check", "--env", "sandbox", "--json"],
        environ=SANDBOX,
        stdout=out,
        stderr=err,
        probes=probes,
    )
    return code, json.loads(out.getvalue())


def test_passing_probes_are_reported_as_checked() -> None:
    """With probes that pass, check exits 0 and reports the network as checked."""
    code, data = run_check(
        [probe("netsuite", "SuiteQL answered"), probe("woocommerce", "products answered")]
    )
    assert code == 0
    assert data["network_checked"] is True
    assert data["netsuite"]["ok"] is True
    assert data["netsuite"]["detail"] == "SuiteQL answered"
    assert data["woocommerce"]["checked"] is True


@pytest.mark.parametrize(
    "failure",
    [
        AuthenticationError("Invalid login attempt.", system="netsuite", status=401),
        ServiceUnavailable(system="netsuite", status=503),
        NotFound(system="netsuite", status=404),
    ],
)
def test_failing_probe_exits_4_and_reports_the_error(failure: Exception) -> None:
    """A probe that cannot reach or authenticate makes check exit 4 with ok false."""
    code, data = run_check([probe("netsuite", failure), probe("woocommerce", "ok")])
    assert code == 4
    assert data["ok"] is False
    assert data["netsuite"]["ok"] is False
    assert str(failure) in data["netsuite"]["detail"]
    assert data["woocommerce"]["ok"] is True


# ---------------------------------------------------------------------------------------------
# The registry and the error mapping


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigurationError("bad", key="X"), 2),
        (StorageError("locked", backend="sqlite"), 2),
        (AuthenticationError(system="netsuite"), 4),
        (PermissionDenied(system="woocommerce"), 4),
        (ServiceUnavailable(system="woocommerce"), 4),
        (RateLimited(system="netsuite"), 4),
        (httpx.ConnectError("refused"), 4),
        (NotFound(system="netsuite"), 3),
        (RuntimeError("bug"), 3),
    ],
)
def test_exit_code_mapping(error: BaseException, code: int) -> None:
    """Each error class maps to the exit code of the CLI contract."""
    assert exit_code_for(error) == code


def record_command(path: tuple[str, ...], outcome: int | Exception) -> Command:
    """A command that records its arguments and returns or raises `outcome`."""

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--since")

    def run_it(args: argparse.Namespace, ctx: Context) -> int:
        ctx.write(f"since={args.since} json={ctx.json} env={ctx.environment}")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return Command(path=path, help="test command", run=run_it, configure=configure)


def test_nested_commands_register_with_their_own_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A registered ("orders", "sync") command parses its options and common ones anywhere."""
    commands = [record_command(("orders", "sync"), 1)]
    code = run(["orders", "--env", "prod", "sync", "--since", "2024-01-01"], commands=commands)
    assert code == ExitCode.DIFFERENCES
    assert capsys.readouterr().out == "since=2024-01-01 json=False env=prod\n"


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (StorageError("database is locked", backend="sqlite"), 2),
        (AuthenticationError(system="woocommerce", status=401), 4),
        (NotFound(system="netsuite", status=404), 3),
    ],
)
def test_command_errors_are_mapped_and_reported_as_json(
    raised: Exception, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """An nswoo error from a command becomes its exit code and a JSON error object."""
    commands = [record_command(("orders", "sync"), raised)]
    assert run(["orders", "sync", "--json"], commands=commands) == code
    lines = capsys.readouterr().out.splitlines()
    error = json.loads(lines[-1])["error"]
    assert error["type"] == type(raised).__name__
    assert error["exit_code"] == code
    assert error["message"] == str(raised)


def test_unexpected_exceptions_exit_3_with_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bug exits 3 (never 1, which means differences) and shows the traceback."""
    commands = [record_command(("boom",), RuntimeError("unexpected"))]
    assert run(["boom"], commands=commands) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "RuntimeError: unexpected" in err


def test_python_dash_m_nswoo_runs_check() -> None:
    """`python -m nswoo check` works as a subprocess with the same exit codes and JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NS_", "WOO_", "NSWOO_"))}
    env.update(SANDBOX)
    done = subprocess.run(
        [sys.executable, "-m", "nswoo", "check", "--env", "sandbox", "--json", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["netsuite"]["account_id"] == "1234567_SB1"
    env["NS_ACCOUNT_ID"] = "1234567"
    refused = subprocess.run(
        [sys.executable, "-m", "nswoo", "check", "--env", "sandbox", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "NS_ACCOUNT_ID" in refused.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NSWOO_SANDBOX_STORE", "postgresql://db.internal/nswoo"),
        ("NSWOO_SANDBOX_LIMITER", "redis://127.0.0.1:6379/0"),
    ],
)
def test_check_refuses_backends_this_version_cannot_open(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store or limiter URL that no command could open fails check with exit 2."""
    for name, setting in SANDBOX.items():
        monkeypatch.setenv(name, setting)
    monkeypatch.setenv(variable, value)
    assert main(["check", "--env", "sandbox", "--offline"]) == 2
    assert variable in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "environ", "shown"),
    [
        (["talk"], {}, {"WARNING"}),
        (["talk", "--log-level", "info"], {}, {"INFO", "WARNING"}),
        (["talk"], {"NSWOO_LOG_LEVEL": "error"}, set()),
    ],
)
def test_log_level_chooses_what_nswoo_logs_on_stderr(
    argv: list[str], environ: dict[str, str], shown: set[str]
) -> None:
    """--log-level (or NSWOO_LOG_LEVEL) sets which nswoo records reach stderr."""

    def talk(args: argparse.Namespace, ctx: Context) -> int:
        log = logging.getLogger("nswoo.orders")
        log.info("order 1 imported")
        log.warning("order 2 dead-lettered")
        return 0

    err = io.StringIO()
    code = run(
        argv,
        environ=environ,
        stderr=err,
        stdout=io.StringIO(),
        commands=[Command(path=("talk",), help="talk", run=talk)],
    )
    assert code == 0
    lines = err.getvalue().splitlines()
    assert {line.split()[1] for line in lines} == shown
    assert all(" nswoo.orders: " in line for line in lines)


def test_sim_on_a_taken_port_is_refused_with_exit_2() -> None:
    """`nswoo sim --port P` with P taken exits 2 naming the address, without a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "nswoo", "sim", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert f"127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
