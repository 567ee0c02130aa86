"""`nswoo check`: settings, guards and the mapping file, then one probe per system."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

import anyio

from .._settings import Settings, SettingsRefused, load_config, redact_url
from ..errors import ApiError, NswooError, StorageError, System
from ..store._ports import StoreBinding
from ._runtime import backend_problems, inspect_store, store_key
from ._types import Command, Context, ExitCode, Probe, exit_code_for

__all__ = ["COMMANDS", "probes"]


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
# the probes `check` runs


async def _probe_netsuite(settings: Settings) -> str:
    from ..netsuite._client import open_netsuite, probe

    async with open_netsuite(settings.require_netsuite()) as ns:
        result = await probe(ns)
    return f"SuiteQL item query answered (account {result.account_id})"


async def _probe_woocommerce(settings: Settings) -> str:
    from ..woocommerce._client import check_store

    return await check_store(settings.require_woocommerce())


def probes() -> tuple[Probe, ...]:
    """The network probes of `nswoo check`: one SuiteQL query on `item` (limit 1) and one
    `GET products?per_page=1`, per the CLI contract, and the store's order webhooks (missing,
    disabled, paused or pointing elsewhere: a warning, never a failure).
    """
    from ._webhooks import probe_webhooks

    return (
        Probe("netsuite", _probe_netsuite),
        Probe("woocommerce", _probe_woocommerce),
        Probe("woocommerce", probe_webhooks),
    )


COMMANDS: tuple[Command, ...] = (CHECK,)
