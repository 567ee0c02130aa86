"""Scorecard `environments`: cross-wired start-up settings are refused, naming the variable."""

from __future__ import annotations

from .._settings import SettingsRefused, from_env
from ._types import Card, DemoRun, Scorecard

__all__ = ["SCORECARD"]


def _environment_checks() -> Card:
    """Start-up attempts with cross-wired settings: each must be refused, naming the variable."""
    good: dict[str, str] = {
        "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
        "NS_SANDBOX_CLIENT_ID": "demo-client",
        "NS_SANDBOX_CLIENT_SECRET": "demo-secret",
        "NS_SANDBOX_REFRESH_TOKEN": "demo-refresh",
        "WOO_SANDBOX_URL": "https://staging.shop.example",
        "WOO_SANDBOX_CONSUMER_KEY": "ck_demo",
        "WOO_SANDBOX_CONSUMER_SECRET": "cs_demo",
    }
    prod_creds = {
        k.replace("_SANDBOX_", "_PROD_"): v for k, v in good.items() if k.startswith("NS_")
    }
    attempts: list[tuple[str, str, dict[str, str], str]] = [
        (
            "sandbox account id under production variables",
            "prod",
            {**prod_creds, "NS_PROD_ACCOUNT_ID": "1234567_SB1"},
            "NS_PROD_ACCOUNT_ID",
        ),
        (
            "production account id under sandbox variables",
            "sandbox",
            {**good, "NS_SANDBOX_ACCOUNT_ID": "1234567"},
            "NS_SANDBOX_ACCOUNT_ID",
        ),
        (
            "sandbox settings pointed at the production host",
            "sandbox",
            {**good, "NS_SANDBOX_BASE_URL": "https://1234567.suitetalk.api.netsuite.com"},
            "NS_SANDBOX_BASE_URL",
        ),
        (
            "an unprefixed variable left in the shell",
            "sandbox",
            {**good, "NS_ACCOUNT_ID": "1234567"},
            "NS_ACCOUNT_ID",
        ),
        (
            "production and sandbox sharing one store",
            "sandbox",
            {
                **good,
                "WOO_PROD_URL": "https://staging.shop.example",
                "WOO_PROD_CONSUMER_KEY": "ck_live",
                "WOO_PROD_CONSUMER_SECRET": "cs_live",
            },
            "WOO_",
        ),
    ]
    results = []
    for name, environment, environ, expected_key in attempts:
        try:
            from_env(environment, environ)
        except SettingsRefused as exc:
            named = any(key.startswith(expected_key) for key in exc.keys)
            results.append({"attempt": name, "refused": True, "names_variable": named})
        else:
            results.append({"attempt": name, "refused": False, "names_variable": False})
    control_ok = True
    try:
        from_env("sandbox", good)
    except SettingsRefused:
        control_ok = False
    refused = sum(1 for r in results if r["refused"] and r["names_variable"])
    return {
        "ok": refused == len(attempts) and control_ok,
        "injected": len(attempts),
        "refused": refused,
        "correct_settings_accepted": control_ok,
        "attempts": results,
        "explain": [
            f"{len(attempts)} start-ups tried with cross-wired settings (a sandbox account "
            "under production variables, a sandbox pointed at the production host, ...): "
            f"{refused} refused, each naming the variable at fault",
            "the same settings without the mix-up were "
            + ("accepted" if control_ok else "REFUSED as well"),
        ],
    }


async def _score(run: DemoRun) -> Card:
    card = _environment_checks()
    run.stamp(f"environments: {card['refused']}/{card['injected']} cross-wired start-ups refused")
    return card


SCORECARD = Scorecard("environments", _score)
