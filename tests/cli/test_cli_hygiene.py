"""CLI hygiene (issue 11, item 4): a closed stdout ends quietly, a missing extra is one line,
stores that cannot be opened name path, reason and variable, `--help` shows defaults and
offers no option a command ignores.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from nswoo.cli._main import run
from nswoo.store import open_store

ROOT = Path(__file__).parents[2]
_CONFIG = '[orders]\nstore = "main"\ncustomer = { strategy = "by-email" }\n'
_ACCOUNT = "1234567_SB1"

# Hides uvicorn from the interpreter, as if the `server` extra were not installed.
_WITHOUT_UVICORN = """
import sys

class _NoUvicorn:
    def find_spec(self, name, path=None, target=None):
        if name == "uvicorn" or name.startswith("uvicorn."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoUvicorn())
from nswoo.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _environ(tmp_path: Path, store: str | None = None) -> dict[str, str]:
    config = tmp_path / "nswoo.toml"
    config.write_text(_CONFIG, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NS_", "WOO_", "NSWOO_"))}
    environ.update(
        {
            "NS_SANDBOX_ACCOUNT_ID": _ACCOUNT,
            "NS_SANDBOX_CLIENT_ID": "cid",
            "NS_SANDBOX_CLIENT_SECRET": "sec",
            "NS_SANDBOX_REFRESH_TOKEN": "rt",
            "WOO_SANDBOX_URL": "https://staging.shop.example",
            "WOO_SANDBOX_CONSUMER_KEY": "ck_test",
            "WOO_SANDBOX_CONSUMER_SECRET": "cs_test",
            "WOO_SANDBOX_WEBHOOK_SECRET": "whsec",
            "NSWOO_SANDBOX_CONFIG": str(config),
            "NSWOO_SANDBOX_STORE": store or f"sqlite:///{tmp_path / 'nswoo.db'}",
        }
    )
    return environ


async def _dead_letters(url: str, count: int) -> None:
    store = await open_store(url, environment="sandbox", account_id=_ACCOUNT)
    async with store:
        for order_id in range(1, count + 1):
            await store.dead_letters.add("main", order_id, reason="no NetSuite item LAMP-1")


# ---------------------------------------------------------------------------------------------
# A closed stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["orders", "--help"],
        ["check", "--env", "sandbox", "--offline"],
        ["check", "--env", "sandbox", "--offline", "--json"],
        ["orders", "dead-letters", "--env", "sandbox"],
        ["orders", "dead-letters", "--env", "sandbox", "--json"],
        ["demo", "--orders", "4"],
        ["demo", "--orders", "4", "--json"],
        ["sim"],
    ],
    ids=" ".join,
)
def test_a_reader_that_closes_early_ends_the_command_quietly(
    tmp_path: Path, args: list[str]
) -> None:
    """`nswoo ... | head -1`: the reader is gone before the command writes; the command
    exits 0 with nothing on stderr (before: a BrokenPipeError traceback and exit 4).
    """
    url = f"sqlite:///{tmp_path / 'nswoo.db'}"
    anyio.run(_dead_letters, url, 300)
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "nswoo", *args],
        cwd=ROOT,
        env=_environ(tmp_path, url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader stops before the first line arrives
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert b"BrokenPipe" not in err
    assert b"Exception ignored" not in err


# ---------------------------------------------------------------------------------------------
# A missing extra


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["sim"], "sim"),
        (["webhooks", "serve", "--env", "sandbox", "--port", "0"], "webhooks serve"),
    ],
)
def test_a_missing_server_extra_is_one_line_naming_the_extra(
    tmp_path: Path, args: list[str], command: str
) -> None:
    """Without uvicorn, `nswoo sim` and `nswoo webhooks serve` print one line naming
    `pip install 'nswoo[server]'` and exit 2 (before: an import traceback, exit 3).
    """
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _WITHOUT_UVICORN, *args],
        cwd=ROOT,
        env=_environ(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"nswoo: error: nswoo {command} needs the server extra, which is not installed: "
        "pip install 'nswoo[server]'"
    ]
    assert done.stdout == ""


# ---------------------------------------------------------------------------------------------
# Stores that cannot be opened


def test_a_store_in_a_missing_folder_names_path_reason_and_variable(tmp_path: Path) -> None:
    """The error names the file, that its folder does not exist, and NSWOO_SANDBOX_STORE."""
    path = tmp_path / "gone" / "nswoo.db"
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["orders", "dead-letters", "--env", "sandbox"],
        environ=_environ(tmp_path, f"sqlite:///{path}"),
        stdout=out,
        stderr=err,
    )
    assert code == 2
    [line] = err.getvalue().splitlines()
    assert str(path) in line
    assert "does not exist" in line
    assert "NSWOO_SANDBOX_STORE" in line
    assert not path.parent.exists()


def _chattr(flag: str, path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(  # noqa: S603 - a fixed system tool on a test folder
        ["chattr", flag, str(path)],  # noqa: S607 - chattr from PATH
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def test_a_store_in_a_read_only_folder_names_path_reason_and_variable(tmp_path: Path) -> None:
    """A folder nswoo cannot write (immutable here, which binds even root): the error says
    which path, that it is not writable, and which variable to change; exit 2, with the
    JSON error typed `StorageError`.
    """
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
    elif not _chattr("+i", folder):
        pytest.skip("chattr +i is not available here")
    out = io.StringIO()
    try:
        code = run(
            ["orders", "dead-letters", "--env", "sandbox", "--json"],
            environ=_environ(tmp_path, f"sqlite:///{folder / 'nswoo.db'}"),
            stdout=out,
            stderr=io.StringIO(),
        )
    finally:
        if os.geteuid() == 0:
            _chattr("-i", folder)
        folder.chmod(0o755)
    assert code == 2
    error = json.loads(out.getvalue())["error"]
    assert error["type"] == "StorageError"
    assert str(folder) in error["message"]
    assert "not writable" in error["message"]
    assert "NSWOO_SANDBOX_STORE" in error["message"]


# ---------------------------------------------------------------------------------------------
# --help


@pytest.mark.parametrize(
    ("args", "defaults"),
    [
        (["demo"], ["(default: 300)", "(default: 7)"]),
        (["sim"], ["(default: 0)"]),
        (["webhooks", "serve"], ["(default: 127.0.0.1)", "(default: 8000)"]),
    ],
)
def test_help_shows_the_defaults(
    args: list[str], defaults: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Subcommand help states each option's default (port, host, seed, orders)."""
    assert run([*args, "--help"], environ={}) == 0
    text = " ".join(capsys.readouterr().out.split())
    for default in defaults:
        assert default in text


@pytest.mark.parametrize("command", ["demo", "sim"])
def test_commands_without_an_environment_neither_offer_nor_ignore_env(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`demo` and `sim` run on simulators only: `--env` is not in their help, and given
    either before or after the command it is refused (exit 2), never silently ignored.
    """
    assert run([command, "--help"], environ={}) == 0
    assert "--env" not in capsys.readouterr().out
    for args in ([command, "--env", "prod"], ["--env", "prod", command]):
        assert run(args, environ={}) == 2
        err = capsys.readouterr().err
        assert err.splitlines() == [
            f"nswoo {command}: error: --env does not apply: it runs on simulators only"
        ]


def test_nswoo_env_in_the_environment_does_not_stop_the_demo() -> None:
    """Only an explicit `--env` is refused: a shell that exports NSWOO_ENV still runs it."""
    out = io.StringIO()
    code = run(
        ["demo", "--orders", "6", "--json"],
        environ={"NSWOO_ENV": "prod"},
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0
    assert json.loads(out.getvalue())["orders"] == 6
