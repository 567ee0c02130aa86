"""The values every command module shares: `Command`, `Context`, `ExitCode`, `Probe`.

Command modules import from here (never from `_main`), so `_main` can import the command
modules without an import circle.
"""

from __future__ import annotations

import argparse
import enum
import json
import socket
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, TextIO

import attrs
import httpx

from .._settings import Environment, Settings, from_env
from ..errors import (
    AuthenticationError,
    ConfigurationError,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    StorageError,
    System,
)

__all__ = ["Command", "Context", "ExitCode", "Probe", "exit_code_for"]


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
        environment: whether the command works on an environment (`--env`, `NSWOO_ENV`);
            a command that does not (`demo`, `sim`) is not offered `--env` and refuses it.
    """

    path: tuple[str, ...]
    help: str
    run: Callable[[argparse.Namespace, Context], int]
    configure: Callable[[argparse.ArgumentParser], None] = _no_arguments
    environment: bool = True
