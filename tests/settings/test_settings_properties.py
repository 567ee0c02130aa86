"""Properties: account id guards per environment, and secrets never shown anywhere."""

from __future__ import annotations

import io
import json
import logging
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswoo._settings import SettingsRefused, from_env
from nswoo.cli._main import run

TBA = {
    "CONSUMER_KEY": "consumer-key",
    "CONSUMER_SECRET": "consumer-secret",
    "TOKEN_ID": "token-id",
    "TOKEN_SECRET": "token-secret",
}


@st.composite
def account_ids(draw: st.DrawFn) -> tuple[str, bool]:
    """An account id with or without a `_SB<n>`/`-sb<n>` suffix in mixed case."""
    base = draw(st.text(string.ascii_letters + string.digits, min_size=1, max_size=12))
    if not draw(st.booleans()):
        return base, False
    sep = draw(st.sampled_from("_-"))
    sb = draw(st.sampled_from(["SB", "sb", "Sb", "sB"]))
    number = draw(st.integers(min_value=0, max_value=999))
    return f"{base}{sep}{sb}{number}", True


@given(account=account_ids(), environment=st.sampled_from(["prod", "sandbox"]))
def test_account_id_is_accepted_exactly_when_it_matches_the_environment(
    account: tuple[str, bool], environment: str
) -> None:
    """Production takes only non-sandbox ids, sandbox only sandbox ids, and the host follows."""
    account_id, is_sandbox = account
    env = environment.upper()
    environ = {f"NS_{env}_{k}": v for k, v in TBA.items()}
    environ[f"NS_{env}_ACCOUNT_ID"] = account_id
    if is_sandbox == (environment == "sandbox"):
        settings = from_env(environment, environ)
        assert settings.netsuite is not None
        host = account_id.lower().replace("_", "-")
        assert settings.netsuite.base_url == f"https://{host}.suitetalk.api.netsuite.com"
        assert settings.netsuite.account_id == account_id.upper().replace("-", "_")
    else:
        with pytest.raises(SettingsRefused) as info:
            from_env(environment, environ)
        assert info.value.key == f"NS_{env}_ACCOUNT_ID"


# A fixed marker keeps a random secret from colliding with public words ("rest_webservices").
SECRET_TEXT = st.text(string.ascii_letters + string.digits + "-_.+/=", min_size=8, max_size=40).map(
    lambda text: f"s3cr3t{text}"
)


@st.composite
def secret_environments(draw: st.DrawFn) -> tuple[dict[str, str], list[str]]:
    """A sandbox environment whose every secret variable holds a random secret."""
    names = [
        "NS_SANDBOX_CLIENT_SECRET",
        "NS_SANDBOX_REFRESH_TOKEN",
        "NS_SANDBOX_CONSUMER_SECRET",
        "NS_SANDBOX_TOKEN_SECRET",
        "NS_SANDBOX_PRIVATE_KEY",
        "WOO_SANDBOX_CONSUMER_KEY",
        "WOO_SANDBOX_CONSUMER_SECRET",
        "WOO_SANDBOX_WEBHOOK_SECRET",
        "STORE_PASSWORD",
        "LIMITER_PASSWORD",
    ]
    secrets = draw(st.lists(SECRET_TEXT, min_size=len(names), max_size=len(names), unique=True))
    values = dict(zip(names, secrets, strict=True))
    environ = {
        "NS_SANDBOX_ACCOUNT_ID": "1234567_SB1",
        "NS_SANDBOX_AUTH": draw(st.sampled_from(["m2m", "oauth2", "tba"])),
        "NS_SANDBOX_CLIENT_ID": "client-id",
        "NS_SANDBOX_CERTIFICATE_ID": "cert-id",
        "NS_SANDBOX_CONSUMER_KEY": "consumer-key",
        "NS_SANDBOX_TOKEN_ID": "token-id",
        "WOO_SANDBOX_URL": "https://staging.shop.example",
        "NSWOO_SANDBOX_STORE": f"postgresql://nswoo:{values.pop('STORE_PASSWORD')}@db/nswoo",
        "NSWOO_SANDBOX_LIMITER": f"redis://:{values.pop('LIMITER_PASSWORD')}@cache:6379/0",
    }
    values["NS_SANDBOX_PRIVATE_KEY"] = (
        f"-----BEGIN PRIVATE KEY-----\n{values['NS_SANDBOX_PRIVATE_KEY']}\n"
        "-----END PRIVATE KEY-----"
    )
    environ.update(values)
    # Optionally break the configuration so that the error paths are exercised as well.
    breakage = draw(
        st.sampled_from(
            [
                {},
                {"NS_SANDBOX_ACCOUNT_ID": "1234567"},
                {"NS_SANDBOX_AUTH": "nope"},
                {"WOO_SANDBOX_URL": "http://shop.example"},
                {"NS_SANDBOX_TIMEOUT": "x", "WOO_URL": "https://x.example"},
                {"NS_SANDBOX_JWT_ALGORITHM": "RS256", "NS_SANDBOX_AUTH": "m2m"},
            ]
        )
    )
    environ.update(breakage)
    return environ, [*secrets]


@given(case=secret_environments())
def test_no_secret_appears_in_repr_errors_logs_or_cli_output(
    case: tuple[dict[str, str], list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    """Secrets never reach repr(settings), str(error), a log line or the CLI's output."""
    environ, secrets = case
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        try:
            shown = repr(from_env("sandbox", environ))
        except SettingsRefused as exc:
            shown = f"{exc}\n{exc!r}\n{exc.problems}"
        outputs = [shown]
        for args in (["check", "--env", "sandbox"], ["check", "--env", "sandbox", "--json"]):
            out, err = io.StringIO(), io.StringIO()
            code = run(args, environ=environ, stdout=out, stderr=err, probes=())
            assert code in (0, 2)
            outputs += [out.getvalue(), err.getvalue()]
            if "--json" in args:
                json.loads(out.getvalue())
    outputs.append(caplog.text)
    everything = "\n".join(outputs)
    for secret in secrets:
        assert secret not in everything
