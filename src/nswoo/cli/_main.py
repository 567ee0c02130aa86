"""The `nswoo` command line: a thin layer over the public API.

Every command is a `Command`: a path (`("check",)`, `("orders", "sync")`), a function that
adds its arguments, and a function `(args, ctx) -> int` returning an exit code. `run` builds
the parser from the registered commands, resolves `--env`/`--json` (accepted before or after
the command), and is the one place where nswoo errors become exit codes and messages:

    0 ok · 1 drift or differences · 2 usage, configuration or startup refused
    3 finished with items dead-lettered or failed · 4 could not reach or authenticate

With `--json`, a command prints one JSON object on stdout, and an error prints
`{"error": {...}}` on stdout too (so scripts read one stream); without it, errors go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import re
import select
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NoReturn, TextIO

import attrs

from .._settings import SettingsRefused
from ..errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    NswooError,
    PermissionDenied,
    ServiceUnavailable,
    StorageError,
)
from ._registry import COMMAND_GROUPS
from ._types import Command, Context, ExitCode, Probe, exit_code_for

__all__ = [
    "Command",
    "Context",
    "ExitCode",
    "Probe",
    "builtin_commands",
    "exit_code_for",
    "main",
    "run",
]


class _UsageError(Exception):
    """argparse found the command line malformed (`prog` is e.g. `nswoo orders sync`)."""

    def __init__(self, prog: str, detail: str) -> None:
        super().__init__(f"{prog}: {detail}")
        self.prog = prog
        self.detail = detail


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, so errors go through one place."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(self.prog, message)


# ---------------------------------------------------------------------------------------------
# The registry and the entry points


def builtin_commands() -> tuple[Command, ...]:
    """Every command `nswoo` offers, in help order: the groups `_registry` lists."""
    commands: list[Command] = []
    for name in COMMAND_GROUPS:
        module = importlib.import_module(name, __package__)
        commands.extend(module.COMMANDS)
    return tuple(commands)


def default_probes() -> tuple[Probe, ...]:
    """The probes `nswoo check` runs: one SuiteQL query on `item` (limit 1) and one
    `GET products?per_page=1`, per the CLI contract.
    """
    from ._check import probes

    return probes()


def _options(*, environment: bool) -> _Parser:
    """Options shared by every level, with SUPPRESS defaults so a value given before the
    command is not overwritten by the subparser's default when given after it.
    """
    common = _Parser(add_help=False)
    common.add_argument(
        "--env",
        type=str.lower,
        choices=("prod", "sandbox"),
        default=argparse.SUPPRESS,
        # Not offered where it does not apply, but parsed, so that it is refused by name.
        help="the environment to use (default: $NSWOO_ENV; required when that is unset)"
        if environment
        else argparse.SUPPRESS,
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON object on stdout instead of text",
    )
    common.add_argument(
        "--log-level",
        type=str.lower,
        choices=("debug", "info", "warning", "error"),
        default=argparse.SUPPRESS,
        help="what nswoo logs on stderr (default: warning; $NSWOO_LOG_LEVEL)",
    )
    return common


def _build_parser(commands: Sequence[Command]) -> _Parser:
    common = _options(environment=True)
    # Commands that work on no environment (demo, sim) are not offered --env at all.
    general = _options(environment=False)
    root = _Parser(
        prog="nswoo",
        parents=[common],
        description="Keep NetSuite and WooCommerce in sync.",
        epilog="exit codes: 0 ok, 1 differences, 2 refused, 3 failed, 4 unreachable",
    )
    root.add_argument("--version", action="version", version=f"nswoo {_version()}")
    groups: dict[tuple[str, ...], Any] = {
        (): root.add_subparsers(dest="command", metavar="COMMAND", required=True)
    }
    for command in commands:
        for depth in range(1, len(command.path)):
            prefix = command.path[:depth]
            if prefix not in groups:
                group = groups[prefix[:-1]].add_parser(
                    prefix[-1], parents=[common], help=f"{prefix[-1]} commands"
                )
                groups[prefix] = group.add_subparsers(
                    dest=f"command_{depth}", metavar="COMMAND", required=True
                )
        parser = groups[command.path[:-1]].add_parser(
            command.path[-1],
            parents=[common if command.environment else general],
            help=command.help,
            description=command.help,
        )
        command.configure(parser)
        parser.set_defaults(_command=command)
    return root


def _version() -> str:
    try:
        return version("nswoo")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _error_payload(exc: BaseException, code: int, message: str) -> dict[str, Any]:
    kind = "UsageError" if isinstance(exc, _UsageError) else type(exc).__name__
    payload: dict[str, Any] = {"type": kind, "message": message, "exit_code": code}
    if isinstance(exc, ConfigurationError):
        payload["key"] = exc.key
        problems = exc.problems if isinstance(exc, SettingsRefused) else (str(exc),)
        payload["problems"] = list(problems)
    if isinstance(exc, ApiError):
        payload.update(
            system=exc.system, status=exc.status, code=exc.code, request_id=exc.request_id
        )
    if isinstance(exc, StorageError):
        payload["backend"] = exc.backend
    return payload


def _report(ctx: Context, exc: BaseException, code: int, *, others: int = 0) -> None:
    message = explain(exc, ctx.environment)
    if others:
        message += f" (and {others} more {'error' if others == 1 else 'errors'})"
    if ctx.json:
        ctx.write_json({"error": _error_payload(exc, code, message)})
    elif isinstance(exc, _UsageError):
        # argparse's own form, with the command named once: `nswoo demo: error: ...`.
        print(f"{exc.prog}: error: {exc.detail}", file=ctx.stderr)
    else:
        print(f"nswoo: error: {message}", file=ctx.stderr)


_VARIABLE = re.compile(r"\b(?:NS|WOO|NSWOO)_[A-Z0-9<>_]+")


def explain(exc: BaseException, environment: str | None) -> str:
    """The one line the CLI prints for `exc`: its message, with the variable to check.

    Library errors do not know which environment they ran in, so they name variables as
    `WOO_<ENV>_URL`; with the environment known, the CLI names the real one
    (`WOO_SANDBOX_URL`). A failure to reach or authenticate with a system that names no
    variable gets the variables to check appended.
    """
    message = str(exc)
    env = (environment or "").strip().upper()
    if env not in {"PROD", "SANDBOX"}:
        return message
    message = message.replace("<ENV>", env)
    hint = _variables_to_check(exc, env)
    if hint and not _VARIABLE.search(message):
        message = f"{message}; check {hint}"
    return message


def _variables_to_check(exc: BaseException, env: str) -> str | None:
    if not isinstance(exc, ApiError):
        return None
    credentials = isinstance(exc, AuthenticationError | PermissionDenied)
    if exc.system == "woocommerce":
        if credentials:
            return f"WOO_{env}_CONSUMER_KEY and WOO_{env}_CONSUMER_SECRET"
        return f"WOO_{env}_URL" if isinstance(exc, ServiceUnavailable) else None
    if credentials:
        return f"NS_{env}_ACCOUNT_ID and the NS_{env}_ credentials"
    return f"NS_{env}_ACCOUNT_ID" if isinstance(exc, ServiceUnavailable) else None


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _unwrap(exc: BaseException) -> tuple[BaseException, int]:
    """The error to report for `exc`, and how many other distinct errors came with it.

    A task group wraps what its tasks raise in an `ExceptionGroup`; a user must see the
    errors inside, never the group. The first nswoo error is the one reported (it says
    what happened), else the first error.
    """
    distinct: dict[tuple[type[BaseException], str], BaseException] = {}
    for leaf in _leaves(exc):
        if isinstance(leaf, asyncio.CancelledError):
            continue  # a sibling cancelled because of the real error
        distinct.setdefault((type(leaf), str(leaf)), leaf)
    errors = list(distinct.values()) or [exc]
    primary = next((e for e in errors if isinstance(e, NswooError)), errors[0])
    return primary, len(errors) - 1


def _stdout_closed(out: TextIO) -> bool:
    """True when `out` is a pipe whose reader went away (`nswoo ... | head -1`).

    A BrokenPipeError may also come from a socket; only the write end of a pipe that
    reports an error condition (POLLERR: no reader left) is our own output closing.
    """
    try:
        fd = out.fileno()
    except (OSError, ValueError):
        return False
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _silence(out: TextIO) -> None:
    # Python flushes stdout once more at exit and would print "Exception ignored ... Broken
    # pipe"; point the descriptor at /dev/null so that last flush succeeds quietly.
    try:
        fd = out.fileno()
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _fail(ctx: Context, exc: BaseException) -> int:
    """Report the error that ended a command and return its exit code (the one place)."""
    primary, others = _unwrap(exc)
    if isinstance(primary, KeyboardInterrupt):
        return 130
    if isinstance(primary, BrokenPipeError) and _stdout_closed(ctx.stdout):
        # The reader of our output stopped reading: nothing is wrong, and nobody is left
        # to tell otherwise.
        _silence(ctx.stdout)
        return ExitCode.OK
    if not isinstance(primary, NswooError | Exception):
        raise exc
    if not isinstance(primary, NswooError):
        # A bug, not an outcome: show the traceback, and exit 3 so that a crash is never
        # read as "differences found" (1, which an uncaught exception would give).
        traceback.print_exception(primary, file=ctx.stderr)
    code = exit_code_for(primary)
    _report(ctx, primary, code, others=others)
    return code


def run(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    probes: Sequence[Probe] | None = None,
    commands: Sequence[Command] | None = None,
) -> int:
    """Run the `nswoo` command line and return its exit code (never calls `sys.exit`).

    Args:
        argv: the arguments after the program name (`sys.argv[1:]` when None).
        environ: the variables settings are read from (`os.environ` when None).
        stdout, stderr: where output goes (the process's streams when None).
        probes: the network probes `check` runs (`default_probes()` when None).
        commands: the commands offered (`builtin_commands()` when None).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    # The entry point hands the process environment to `from_env`; nothing else reads it.
    source = os.environ if environ is None else environ
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    # Before parsing succeeds, "--json" anywhere still asks for a JSON error.
    ctx = Context(environ=source, stdout=out, stderr=err, json="--json" in args_list)
    try:
        args = _build_parser(builtin_commands() if commands is None else commands).parse_args(
            args_list
        )
    except _UsageError as exc:
        _report(ctx, exc, ExitCode.REFUSED)
        return ExitCode.REFUSED
    except SystemExit as exc:  # --help and --version print and exit 0
        return exc.code if isinstance(exc.code, int) else ExitCode.REFUSED
    except BrokenPipeError as exc:  # `nswoo --help | head -1`
        return _fail(ctx, exc)
    ctx = attrs.evolve(
        ctx,
        json=bool(getattr(args, "json", False)),
        environment=getattr(args, "env", None) or source.get("NSWOO_ENV") or None,
        probes=tuple(default_probes() if probes is None else probes),
    )
    command: Command = args._command
    if not command.environment and getattr(args, "env", None) is not None:
        # Given before the command (`nswoo --env prod demo`): refused, never ignored.
        name = " ".join(command.path)
        refusal = _UsageError(f"nswoo {name}", "--env does not apply: it runs on simulators only")
        _report(ctx, refusal, ExitCode.REFUSED)
        return ExitCode.REFUSED
    level = getattr(args, "log_level", None) or source.get("NSWOO_LOG_LEVEL", "warning")
    _configure_logging(err, level)
    try:
        code = int(command.run(args, ctx))
        # Output still buffered must reach the reader now, so a closed pipe shows up here.
        out.flush()
    except (Exception, KeyboardInterrupt, BaseExceptionGroup) as exc:
        return _fail(ctx, exc)
    return code


class _CliLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler the CLI puts on the `nswoo` logger (replaced, never stacked)."""


def _configure_logging(stream: TextIO, level: str) -> None:
    """Send nswoo's log records to `stream` at `level`, one line each with a UTC time.

    Only the `nswoo` logger is touched: an application embedding nswoo keeps its own logging
    setup. Messages never carry secrets (see `nswoo.errors`).
    """
    logger = logging.getLogger("nswoo")
    for handler in [h for h in logger.handlers if isinstance(h, _CliLogHandler)]:
        logger.removeHandler(handler)
    handler = _CliLogHandler(stream)
    formatter = logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    logger.setLevel(level.upper() if level.upper() in _LEVELS else "WARNING")


_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def main(argv: Sequence[str] | None = None) -> int:
    """The `nswoo` console script and `python -m nswoo`: `run` on the process's streams."""
    return run(argv)
