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
import enum
import json
import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NoReturn, TextIO

import anyio
import attrs
import httpx

from .._settings import Environment, Settings, SettingsRefused, from_env, load_config, redact_url
from ..errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    NswooError,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    StorageError,
    System,
)
from ..store._ports import StoreBinding

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


class ExitCode(enum.IntEnum):
    """The exit codes of the CLI contract (DESIGN: CLI contract)."""

    OK = 0
    DIFFERENCES = 1
    REFUSED = 2
    FAILED = 3
    UNREACHABLE = 4


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code for an error that ended a command (the single mapping the CLI uses).

    Configuration and storage problems are refusals (2): nothing ran. Failing to reach or
    authenticate with a service is 4. Any other API failure, or an unexpected error, is 3:
    the command did not finish its work, and a crash must never read as "differences" (1).
    """
    if isinstance(exc, ConfigurationError | StorageError):
        return ExitCode.REFUSED
    if isinstance(
        exc,
        AuthenticationError | PermissionDenied | ServiceUnavailable | RateLimited,
    ):
        return ExitCode.UNREACHABLE
    if isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError | socket.gaierror):
        # Network failures only: a local file problem (an OSError too) is not "unreachable".
        return ExitCode.UNREACHABLE
    return ExitCode.FAILED


@attrs.frozen
class Probe:
    """A network check `nswoo check` runs after the settings pass.

    `check(settings)` returns a short detail on success ("SuiteQL item query answered") and
    raises an `nswoo.errors.NswooError` on failure (its message becomes the detail).
    """

    system: System
    check: Callable[[Settings], Awaitable[str]]


class _UsageError(Exception):
    """argparse found the command line malformed."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, so errors go through one place."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


@attrs.frozen
class Context:
    """What a command gets besides its arguments: streams, environment, output mode, probes.

    `environment` is None when neither `--env` nor `NSWOO_ENV` chose one; commands that
    need it call `require_environment()` or `settings()`.
    """

    environ: Mapping[str, str]
    stdout: TextIO
    stderr: TextIO
    json: bool = False
    environment: str | None = None
    probes: tuple[Probe, ...] = ()

    def require_environment(self) -> Environment:
        """The chosen environment.

        Raises:
            ConfigurationError: none was chosen, or `NSWOO_ENV` holds something else.
        """
        if self.environment is None:
            # No default on purpose: a default environment is how a command meant for the
            # sandbox runs against production.
            raise ConfigurationError(
                "no environment chosen: pass --env prod|sandbox or set NSWOO_ENV",
                key="NSWOO_ENV",
            )
        value = self.environment.strip().lower()
        if value == "prod":
            return "prod"
        if value == "sandbox":
            return "sandbox"
        raise ConfigurationError("must be 'prod' or 'sandbox'", key="NSWOO_ENV")

    def settings(self) -> Settings:
        """`from_env` for the chosen environment, over this context's variables."""
        return from_env(self.require_environment(), self.environ)

    def write_json(self, data: Mapping[str, Any]) -> None:
        """Print one JSON object on stdout (Decimal as a string, never a float)."""
        print(json.dumps(data, default=_json_default, ensure_ascii=False), file=self.stdout)

    def write(self, text: str = "") -> None:
        """Print a line of text output on stdout."""
        print(text, file=self.stdout)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """A command without options of its own."""


@attrs.frozen
class Command:
    """One `nswoo` command.

    Attributes:
        path: the words that name it, e.g. `("orders", "sync")`.
        help: a one-line summary for `--help`.
        run: `(args, ctx) -> int`, the exit code (see `ExitCode`); nswoo errors it raises
            are reported and mapped by `run`.
        configure: adds the command's own arguments to its parser.
    """

    path: tuple[str, ...]
    help: str
    run: Callable[[argparse.Namespace, Context], int]
    configure: Callable[[argparse.ArgumentParser], None] = _no_arguments


# ---------------------------------------------------------------------------------------------
# nswoo check


def _check(args: argparse.Namespace, ctx: Context) -> int:
    """Validate settings, guards and the mapping file; run the network probes; report."""
    settings = ctx.settings()
    env = settings.environment.upper()
    problems: list[tuple[str, str]] = []
    if settings.netsuite is None:
        problems.append(
            (f"NS_{env}_ACCOUNT_ID", "NetSuite is not configured: set it and the credentials")
        )
    if settings.woocommerce is None:
        problems.append(
            (f"WOO_{env}_URL", "WooCommerce is not configured: set it and the consumer key/secret")
        )
    if settings.config_path is not None:
        try:
            load_config(settings.config_path)
        except SettingsRefused as exc:
            problems.extend(exc.details)
    from ._runtime import backend_problems

    problems.extend(backend_problems(settings))
    bound = _store_binding(settings, problems)
    if problems:
        raise SettingsRefused(problems)
    netsuite, woocommerce = settings.netsuite, settings.woocommerce
    assert netsuite is not None  # noqa: S101 - refused above
    assert woocommerce is not None  # noqa: S101 - refused above

    probes = () if getattr(args, "offline", False) else ctx.probes
    outcomes = anyio.run(_run_probes, probes, settings) if probes else []
    by_system: dict[str, list[tuple[bool, str, ExitCode]]] = {"netsuite": [], "woocommerce": []}
    for system, ok, detail, code in outcomes:
        by_system[system].append((ok, detail, code))

    def status(system: str) -> dict[str, Any]:
        results = by_system[system]
        return {
            "ok": all(ok for ok, _, _ in results),
            "checked": bool(results),
            "detail": "; ".join(d for _, d, _ in results) if results else "network not checked",
        }

    ns, woo = status("netsuite"), status("woocommerce")
    checked = bool(outcomes)
    report: dict[str, Any] = {
        "environment": settings.environment,
        "ok": ns["ok"] and woo["ok"],
        "network_checked": checked,
        "netsuite": {
            "account_id": netsuite.account_id,
            "base_url": netsuite.base_url,
            "auth": netsuite.auth_kind,
            **ns,
        },
        "woocommerce": {"url": woocommerce.url, **woo},
        "limits": {
            "netsuite": {"concurrency": netsuite.concurrency, "timeout": netsuite.timeout},
            "woocommerce": {"concurrency": woocommerce.concurrency, "timeout": woocommerce.timeout},
            "limiter": redact_url(settings.limiter_url),
        },
        "store": redact_url(settings.store_url),
        "store_binding": None
        if bound is None
        else {"environment": bound.environment, "account_id": bound.account_id},
        "config": settings.config_path,
    }
    if ctx.json:
        ctx.write_json(report)
    else:
        ctx.write(f"environment   {settings.environment}")
        ctx.write(f"netsuite      account {netsuite.account_id}, auth {netsuite.auth_kind}")
        ctx.write(f"              {netsuite.base_url}")
        ctx.write(
            f"              concurrency {netsuite.concurrency}, timeout {netsuite.timeout:g}s"
        )
        ctx.write(f"              {_status_line(ns)}")
        ctx.write(f"woocommerce   {woocommerce.url}")
        ctx.write(
            f"              concurrency {woocommerce.concurrency}, timeout {woocommerce.timeout:g}s"
        )
        ctx.write(f"              {_status_line(woo)}")
        ctx.write(f"store         {redact_url(settings.store_url)}")
        ctx.write(f"              {'bound to ' + str(bound) if bound else 'not bound yet'}")
        ctx.write(f"limiter       {redact_url(settings.limiter_url)}")
        ctx.write(f"config        {settings.config_path or '(not set)'}")
        if not checked:
            ctx.write("settings ok; the network was not checked")
        else:
            ctx.write("all checks passed" if report["ok"] else "some checks failed")
    failures = [code for _, ok, _, code in outcomes if not ok]
    return max(failures, default=ExitCode.OK)


def _store_binding(settings: Settings, problems: list[tuple[str, str]]) -> StoreBinding | None:
    """The environment and account the store records, read without creating or changing it.

    A store bound to another environment or account, or unreadable, is added to `problems`:
    `check` refuses it as every command's start would.
    """
    from ._runtime import inspect_store, store_key

    key = store_key(settings)
    if settings.netsuite is None or any(k == key for k, _ in problems):
        return None
    try:
        return anyio.run(inspect_store, settings)
    except StorageError as exc:
        problems.append((key, str(exc)))
        return None


def _status_line(status: Mapping[str, Any]) -> str:
    if not status["checked"]:
        return "network: not checked"
    return f"network: {'ok' if status['ok'] else 'FAILED'} ({status['detail']})"


async def _run_probes(
    probes: Sequence[Probe], settings: Settings
) -> list[tuple[System, bool, str, ExitCode]]:
    """Run every probe concurrently; a failing probe is reported, not raised."""
    results: list[tuple[System, bool, str, ExitCode] | None] = [None] * len(probes)

    async def one(index: int, probe: Probe) -> None:
        try:
            detail = await probe.check(settings)
        except NswooError as exc:
            # A service that answers something unexpected is still one nswoo cannot use.
            code = ExitCode.UNREACHABLE if isinstance(exc, ApiError) else exit_code_for(exc)
            results[index] = (probe.system, False, str(exc), code)
        else:
            results[index] = (probe.system, True, detail, ExitCode.OK)

    async with anyio.create_task_group() as group:
        for index, probe in enumerate(probes):
            group.start_soon(one, index, probe)
    return [r for r in results if r is not None]


def _configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--offline",
        action="store_true",
        help="validate settings, guards and the mapping file only; send no request",
    )


CHECK = Command(
    path=("check",),
    help="validate settings and environment guards, then probe NetSuite and WooCommerce",
    run=_check,
    configure=_configure_check,
)


# ---------------------------------------------------------------------------------------------
# The registry and the entry points


def builtin_commands() -> tuple[Command, ...]:
    """Every command `nswoo` offers, in help order.

    A command module contributes its `Command` values here; import it inside this function
    so that `nswoo check` does not import what other commands need (the server stack).
    """
    from ._commands import commands

    return (CHECK, *commands())


def default_probes() -> tuple[Probe, ...]:
    """The probes `nswoo check` runs: one SuiteQL query on `item` (limit 1) and one
    `GET products?per_page=1`, per the CLI contract.
    """
    from ._commands import probes

    return probes()


def _build_parser(commands: Sequence[Command]) -> _Parser:
    # Options shared by every level, with SUPPRESS defaults so a value given before the
    # command is not overwritten by the subparser's default when given after it.
    common = _Parser(add_help=False)
    common.add_argument(
        "--env",
        type=str.lower,
        choices=("prod", "sandbox"),
        default=argparse.SUPPRESS,
        help="the environment to use (default: $NSWOO_ENV; required when that is unset)",
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
            command.path[-1], parents=[common], help=command.help, description=command.help
        )
        command.configure(parser)
        parser.set_defaults(_command=command)
    return root


def _version() -> str:
    try:
        return version("nswoo")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _error_payload(exc: BaseException, code: int) -> dict[str, Any]:
    kind = "UsageError" if isinstance(exc, _UsageError) else type(exc).__name__
    payload: dict[str, Any] = {"type": kind, "message": str(exc), "exit_code": code}
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


def _report(ctx: Context, exc: BaseException, code: int) -> None:
    if ctx.json:
        ctx.write_json({"error": _error_payload(exc, code)})
    else:
        print(f"nswoo: error: {exc}", file=ctx.stderr)


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
    ctx = attrs.evolve(
        ctx,
        json=bool(getattr(args, "json", False)),
        environment=getattr(args, "env", None) or source.get("NSWOO_ENV") or None,
        probes=tuple(default_probes() if probes is None else probes),
    )
    command: Command = args._command
    level = getattr(args, "log_level", None) or source.get("NSWOO_LOG_LEVEL", "warning")
    _configure_logging(err, level)
    try:
        return int(command.run(args, ctx))
    except KeyboardInterrupt:
        return 130
    except NswooError as exc:
        code = exit_code_for(exc)
        _report(ctx, exc, code)
        return code
    except Exception as exc:
        # A bug, not an outcome: show the traceback, and exit 3 so that a crash is never
        # read as "differences found" (1, which an uncaught exception would give).
        traceback.print_exc(file=err)
        code = exit_code_for(exc)
        _report(ctx, exc, code)
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
