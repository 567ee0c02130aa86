"""The M2M signing algorithm follows the key's type unless set: ES256 for an EC key, PS256 for
an RSA key, never RS256; a key that does not fit an explicit algorithm is refused.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import jwt
import pytest

from nswoo._settings import M2MCredentials, Secret, from_env
from nswoo.errors import ConfigurationError
from nswoo.netsuite import M2MTokenSource, open_netsuite, probe
from nswoo.testing import FakeClock, NetSuiteSimulator, generate_m2m_key_pair

pytestmark = pytest.mark.anyio

ACCOUNT = "1234567_SB1"


@pytest.fixture(scope="module")
def ec_keys() -> tuple[str, str]:
    """A P-256 key pair."""
    return generate_m2m_key_pair("ES256")


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    """An RSA key pair (3072 bits, as generate_m2m_key_pair makes for PS256)."""
    return generate_m2m_key_pair("PS256")


def m2m_environ(tmp_path: Path, private_pem: str, **extra: str) -> dict[str, str]:
    """A sandbox M2M environment with the key in a file, as users set it."""
    key_file = tmp_path / "netsuite.pem"
    key_file.write_text(private_pem, encoding="utf-8")
    return {
        "NS_SANDBOX_ACCOUNT_ID": ACCOUNT,
        "NS_SANDBOX_CLIENT_ID": "client-1",
        "NS_SANDBOX_CERTIFICATE_ID": "cert-1",
        "NS_SANDBOX_PRIVATE_KEY_FILE": str(key_file),
        **extra,
    }


def source(credentials: M2MCredentials) -> M2MTokenSource:
    """A token source named like `nswoo check` builds it (errors name NS_SANDBOX_*)."""
    return M2MTokenSource(
        credentials,
        token_url="https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token",
        http=httpx.AsyncClient(),
        clock=FakeClock(),
        setting_prefix="NS_SANDBOX_",
    )


async def test_an_ec_key_without_an_algorithm_signs_es256_and_netsuite_accepts_it(
    tmp_path: Path, ec_keys: tuple[str, str]
) -> None:
    """The issue's case: an EC (P-256) key and no NS_<ENV>_JWT_ALGORITHM. The settings take
    the algorithm from the key, the assertion says ES256, and the account answers a query.
    """
    private_pem, public_pem = ec_keys
    settings = from_env("sandbox", m2m_environ(tmp_path, private_pem))
    assert settings.netsuite is not None
    assert isinstance(settings.netsuite.auth, M2MCredentials)
    assert settings.netsuite.auth.algorithm is None

    clock = FakeClock()
    sim = NetSuiteSimulator(ACCOUNT, clock=clock)
    sim.register_m2m_client("client-1", "cert-1", public_pem)
    async with open_netsuite(settings.netsuite, clock=clock, transport=sim.transport()) as ns:
        answered = await probe(ns)

    assert answered.account_id == ACCOUNT
    assert sim.stats.tokens_minted == 1
    assertion = source(settings.netsuite.auth).client_assertion()
    assert jwt.get_unverified_header(assertion)["alg"] == "ES256"


def test_an_rsa_key_without_an_algorithm_signs_ps256_never_rs256(
    tmp_path: Path, rsa_keys: tuple[str, str]
) -> None:
    """RSA keys sign PS256: NetSuite no longer accepts RS256 (reference netsuite.md §1c)."""
    settings = from_env("sandbox", m2m_environ(tmp_path, rsa_keys[0]))
    assert settings.netsuite is not None
    assert isinstance(settings.netsuite.auth, M2MCredentials)
    assertion = source(settings.netsuite.auth).client_assertion()
    assert jwt.get_unverified_header(assertion)["alg"] == "PS256"


@pytest.mark.parametrize(("algorithm", "key"), [("PS256", "ec"), ("ES256", "rsa")])
def test_an_explicit_algorithm_the_key_does_not_fit_is_refused(
    tmp_path: Path,
    ec_keys: tuple[str, str],
    rsa_keys: tuple[str, str],
    algorithm: str,
    key: str,
) -> None:
    """Set explicitly, the algorithm is kept and a key of the other type is refused,
    naming the variables, never the key.
    """
    private_pem = ec_keys[0] if key == "ec" else rsa_keys[0]
    environ = m2m_environ(tmp_path, private_pem, NS_SANDBOX_JWT_ALGORITHM=algorithm)
    settings = from_env("sandbox", environ)
    assert settings.netsuite is not None
    assert isinstance(settings.netsuite.auth, M2MCredentials)

    with pytest.raises(ConfigurationError) as caught:
        source(settings.netsuite.auth)

    assert caught.value.key == "NS_SANDBOX_PRIVATE_KEY"
    assert f"{algorithm} needs" in str(caught.value)
    if key == "ec":
        assert "NS_SANDBOX_JWT_ALGORITHM=ES256" in str(caught.value)
    body = private_pem.splitlines()[1]
    assert body not in str(caught.value)


def test_credentials_built_in_python_infer_the_algorithm_too(ec_keys: tuple[str, str]) -> None:
    """`M2MCredentials` without `algorithm` signs as its key says, outside `from_env` too."""
    credentials = M2MCredentials(
        client_id="client-1", certificate_id="cert-1", private_key=Secret(ec_keys[0])
    )
    assertion = source(credentials).client_assertion()
    assert jwt.get_unverified_header(assertion)["alg"] == "ES256"
