"""`nswoo demo`: the main job on simulators with every fault injected, and a scorecard."""

from __future__ import annotations

import argparse
import functools
import logging

import anyio

from ._options import positive_int
from ._types import Command, Context, ExitCode

__all__ = ["COMMANDS"]


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--orders",
        type=positive_int,
        default=300,
        help="orders the store takes (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=7,
        help="seed of every random choice and injected fault (default: %(default)s)",
    )


def _demo(args: argparse.Namespace, ctx: Context) -> int:
    from .._demo._run import DemoOptions, run_demo
    from .._demo._text import render_text

    def progress(line: str) -> None:
        # Progress goes to stderr with --json, so stdout holds exactly one JSON object.
        print(line, file=ctx.stderr if ctx.json else ctx.stdout, flush=True)

    options = DemoOptions(orders=args.orders, seed=args.seed)
    # The scorecard reports what the warnings would (dead letters, 429 pauses), counted.
    logger = logging.getLogger("nswoo")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        report = anyio.run(functools.partial(run_demo, options, progress=progress))
    finally:
        logger.setLevel(level)
    if ctx.json:
        ctx.write_json(report)
    else:
        for line in render_text(report):
            ctx.write(line)
    return ExitCode.OK if report["ok"] else ExitCode.DIFFERENCES


COMMANDS: tuple[Command, ...] = (
    Command(
        path=("demo",),
        help="run the main job on simulators with every fault injected; print a scorecard",
        run=_demo,
        configure=_configure_demo,
        environment=False,
    ),
)
