"""The `nswoo` commands beyond `check`: orders, sim (and the probes `check` runs).

Each function here is thin: parse arguments, open the runtime, call the public API, print
the CLI contract's text or JSON, and return its exit code.
"""

from __future__ import annotations

import argparse
import functools
import io
import logging
import shlex
from datetime import datetime
from typing import TextIO

import anyio

from .._settings import Settings
from ..errors import ConfigurationError
from ..orders._sync import SyncReport
from ._main import Command, Context, ExitCode, Probe
from ._runtime import open_runtime

__all__ = ["commands", "probes"]


# ---------------------------------------------------------------------------------------------
# check probes


async def _probe_netsuite(settings: Settings) -> str:
    from ..netsuite._client import open_netsuite, probe

    async with open_netsuite(settings.require_netsuite()) as ns:
        result = await probe(ns)
    return f"SuiteQL item query answered (account {result.account_id})"


async def _probe_woocommerce(settings: Settings) -> str:
    from ..woocommerce._client import check_store

    return await check_store(settings.require_woocommerce())


def probes() -> tuple[Probe, ...]:
    """The network probes of `nswoo check`: one SuiteQL query, one products page."""
    return (Probe("netsuite", _probe_netsuite), Probe("woocommerce", _probe_woocommerce))


# ---------------------------------------------------------------------------------------------
# orders


def _print_report(ctx: Context, report: SyncReport, verb: str) -> int:
    data = report.to_json()
    if ctx.json:
        ctx.write_json(data)
    else:
        ctx.write(
            f"{verb}: {data['imported']} imported, {data['already_imported']} already imported, "
            f"{data['ignored']} ignored, {data['dead_lettered']} dead-lettered"
            + (f", {data['deferred']} held by another worker" if data["deferred"] else "")
            + (
                f", {data['kept_dead_letters']} left for orders replay"
                if data["kept_dead_letters"]
                else ""
            )
        )
        for result in report.dead_letters:
            ctx.write(f"  order {result.order_id}: {result.reason}")
    return ExitCode.FAILED if report.dead_letters else ExitCode.OK


def _parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} has no time zone: add Z or an offset (e.g. 2026-11-27T00:00:00Z)"
        )
    return moment


def _configure_sync(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=_parse_since,
        default=None,
        help="poll orders modified after this ISO 8601 time (default: the stored cursor)",
    )


def _orders_sync(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings()

    async def go() -> SyncReport:
        async with open_runtime(settings) as runtime:
            return await runtime.order_sync().sync(since=args.since)

    return _print_report(ctx, anyio.run(go), "orders sync")


def _orders_replay(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings()

    async def go() -> SyncReport:
        async with open_runtime(settings) as runtime:
            return await runtime.order_sync().replay()

    return _print_report(ctx, anyio.run(go), "orders replay")


def _orders_dead_letters(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings()

    async def go() -> list[dict[str, object]]:
        async with open_runtime(settings) as runtime:
            letters = await runtime.store.dead_letters.list(runtime.config.orders.store)
        return [
            {
                "order_id": letter.order_id,
                "reason": letter.reason,
                "attempts": letter.attempts,
                "first_seen": letter.first_seen.isoformat().replace("+00:00", "Z"),
                "last_seen": letter.last_seen.isoformat().replace("+00:00", "Z"),
            }
            for letter in letters
        ]

    letters = anyio.run(go)
    if ctx.json:
        ctx.write_json({"dead_letters": letters})
    elif not letters:
        ctx.write("no dead letters")
    else:
        for letter in letters:
            ctx.write(
                f"order {letter['order_id']}  attempts {letter['attempts']}  "
                f"first {letter['first_seen']}  last {letter['last_seen']}"
            )
            ctx.write(f"  {letter['reason']}")
    return ExitCode.OK


# ---------------------------------------------------------------------------------------------
# webhooks serve


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (0: free)")


def _webhooks_serve(args: argparse.Namespace, ctx: Context) -> int:
    from ..orders._inbox import InboxWorker
    from ..orders._receiver import WebhookReceiver
    from ._serve import serve

    settings = ctx.settings()
    if not 0 <= args.port <= 65535:
        raise ConfigurationError("must be between 0 and 65535", key="--port")
    env = settings.environment.upper()

    def ready(host: str, port: int) -> None:
        print(
            f"nswoo: receiving webhooks on http://{host}:{port}/webhooks/woocommerce",
            file=ctx.stderr,
            flush=True,
        )

    async def go() -> int:
        async with open_runtime(settings) as runtime:
            woo = settings.woocommerce
            if woo is None or woo.webhook_secret is None:
                raise ConfigurationError(
                    "is required to verify deliveries", key=f"WOO_{env}_WEBHOOK_SECRET"
                )
            receiver = WebhookReceiver(
                store=runtime.store,
                store_name=runtime.config.orders.store,
                secret=woo.webhook_secret,
                max_body_bytes=runtime.config.webhooks.max_body_bytes,
            )
            worker = InboxWorker(store=runtime.store, order_sync=runtime.order_sync())
            try:
                return await serve(
                    receiver=receiver, worker=worker, host=args.host, port=args.port, ready=ready
                )
            except OSError as exc:
                raise _cannot_listen(args.host, args.port, exc) from exc

    return int(anyio.run(go))


# ---------------------------------------------------------------------------------------------
# sim


def _configure_sim(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="NetSuite on PORT, WooCommerce on PORT+1 (0: free ports)",
    )
    parser.add_argument("--faults", default=None, help="a TOML or JSON fault plan file")


def _sim(args: argparse.Namespace, ctx: Context) -> int:
    try:
        from ..testing._server import run_sim
    except ImportError as exc:  # pragma: no cover - uvicorn missing
        raise ConfigurationError(
            f"nswoo sim needs the server extra: pip install 'nswoo[server]' ({exc.name})"
        ) from exc
    if not 0 <= args.port <= 65534:
        raise ConfigurationError("must be between 0 and 65534", key="--port")
    stdout: TextIO = _ExportsAsJson(ctx) if ctx.json else ctx.stdout
    try:
        return int(
            anyio.run(
                functools.partial(run_sim, port=args.port, faults_path=args.faults, stdout=stdout)
            )
        )
    except OSError as exc:
        raise _cannot_listen("127.0.0.1", args.port, exc) from exc


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


def _cannot_listen(host: str, port: int, exc: OSError) -> ConfigurationError:
    """A bind failure as a start-up refusal (exit 2) naming the address, without a traceback."""
    return ConfigurationError(
        f"cannot listen on {host}:{port}: {exc.strerror or exc}", key="--port"
    )


# ---------------------------------------------------------------------------------------------
# demo


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--orders", type=_positive_int, default=300, help="orders the store takes (default 300)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed for every random choice")


def _demo(args: argparse.Namespace, ctx: Context) -> int:
    from .._demo._run import DemoOptions, render_text, run_demo

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


def commands() -> tuple[Command, ...]:
    """The commands this module contributes, in help order."""
    return (
        Command(
            path=("orders", "sync"),
            help="poll WooCommerce orders from the stored cursor and import each idempotently",
            run=_orders_sync,
            configure=_configure_sync,
        ),
        Command(
            path=("orders", "replay"),
            help="retry dead-lettered orders",
            run=_orders_replay,
        ),
        Command(
            path=("orders", "dead-letters"),
            help="list dead-lettered orders with their reasons",
            run=_orders_dead_letters,
        ),
        Command(
            path=("webhooks", "serve"),
            help="receive WooCommerce webhooks and import them (runs until SIGTERM)",
            run=_webhooks_serve,
            configure=_configure_serve,
        ),
        Command(
            path=("demo",),
            help="run the main job on simulators with every fault injected; print a scorecard",
            run=_demo,
            configure=_configure_demo,
        ),
        Command(
            path=("sim",),
            help="serve the NetSuite and WooCommerce simulators on loopback",
            run=_sim,
            configure=_configure_sim,
        ),
    )
