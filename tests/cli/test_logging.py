"""nswoo logs like a library: silent until the application (or the CLI) configures logging."""

from __future__ import annotations

import argparse
import io
import logging
import subprocess
import sys

from nswoo.cli._main import run
from nswoo.cli._types import Command, Context


def test_importing_nswoo_prints_no_warning_without_logging_configured() -> None:
    """A warning from an nswoo logger reaches no stream unless the application asked:
    the `nswoo` logger has a NullHandler, so Python's last-resort handler stays quiet.
    """
    code = (
        "import logging, nswoo\n"
        "logging.getLogger('nswoo.orders').warning('order 1 dead-lettered')\n"
        "assert any(isinstance(h, logging.NullHandler) "
        "for h in logging.getLogger('nswoo').handlers)\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_the_cli_configures_its_handler_once_however_often_it_runs() -> None:
    """Running the CLI twice in one process leaves one CLI handler, so a record prints once."""
    err = io.StringIO()

    def talk(args: argparse.Namespace, ctx: Context) -> int:
        logging.getLogger("nswoo.orders").warning("said once")
        return 0

    commands = [Command(path=("talk",), help="talk", run=talk)]
    for _ in range(2):
        err = io.StringIO()
        assert run(["talk"], environ={}, stdout=io.StringIO(), stderr=err, commands=commands) == 0
    assert err.getvalue().count("said once") == 1
