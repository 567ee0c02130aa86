"""`nswoo sim`: the NetSuite and WooCommerce simulators on loopback."""

from __future__ import annotations

import argparse
import functools
import io
import shlex
from typing import TextIO

import anyio

from ..errors import ConfigurationError
from ._options import cannot_listen, require_server_extra
from ._types import Command, Context

__all__ = ["COMMANDS"]


def _configure_sim(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="NetSuite on PORT, WooCommerce on PORT+1; 0 picks free ports (default: %(default)s)",
    )
    parser.add_argument(
        "--faults", default=None, help="a TOML or JSON fault plan file (default: no faults)"
    )
    parser.add_argument(
        "--auth",
        choices=("m2m", "tba", "oauth2"),
        default="m2m",
        help="the NetSuite credentials to register and print (default: %(default)s)",
    )


def _sim(args: argparse.Namespace, ctx: Context) -> int:
    require_server_extra("sim")
    from ..testing._server import run_sim

    if not 0 <= args.port <= 65534:
        raise ConfigurationError("must be between 0 and 65534", key="--port")
    stdout: TextIO = _ExportsAsJson(ctx) if ctx.json else ctx.stdout
    try:
        return int(
            anyio.run(
                functools.partial(
                    run_sim,
                    port=args.port,
                    faults_path=args.faults,
                    stdout=stdout,
                    auth=args.auth,
                )
            )
        )
    except OSError as exc:
        raise cannot_listen("127.0.0.1", args.port, exc) from exc


class _ExportsAsJson(io.StringIO):
    """With `--json`, `nswoo sim` prints its variables as one JSON object instead of
    `export NAME=VALUE` lines: `{"variables": {...}}`, written when the lines are flushed.
    """

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self._ctx = ctx
        self._done = False

    def flush(self) -> None:
        super().flush()
        text = self.getvalue()
        if self._done or not text.endswith("\n"):
            return
        variables: dict[str, str] = {}
        for line in text.splitlines():
            words = shlex.split(line)
            if len(words) == 2 and words[0] == "export" and "=" in words[1]:
                name, _, value = words[1].partition("=")
                variables[name] = value
        self._done = True
        self._ctx.write_json({"variables": variables})
        self._ctx.stdout.flush()


COMMANDS: tuple[Command, ...] = (
    Command(
        path=("sim",),
        help="serve the NetSuite and WooCommerce simulators on loopback",
        run=_sim,
        configure=_configure_sim,
        environment=False,
    ),
)
