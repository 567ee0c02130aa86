"""Key pairs for NetSuite machine-to-machine (OAuth 2.0 client credentials) tests."""

from __future__ import annotations

from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = ["M2MAlgorithm", "generate_m2m_key_pair"]

M2MAlgorithm = Literal["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]

# NetSuite accepts only these JWT algorithms for client assertions (reference/netsuite.md §1c,
# Oracle). The curve is the one each ES* algorithm is defined over (RFC 7518 §3.4).
_CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}
# Community sources say RSA keys must be 3072 or 4096 bits (reference/netsuite.md §1c).
_RSA_BITS = 3072


def generate_m2m_key_pair(algorithm: M2MAlgorithm = "PS256") -> tuple[str, str]:
    """Generate a fresh key pair fit for signing NetSuite client-credentials assertions.

    PS* algorithms get an RSA 3072-bit key; ES256/ES384/ES512 get an EC key on P-256, P-384
    or P-521.

    Args:
        algorithm: the JWT `alg` the key will sign with.

    Returns:
        `(private_pem, public_pem)`: PKCS#8 private key and SubjectPublicKeyInfo public key,
        both PEM text.

    Raises:
        ValueError: `algorithm` is not one NetSuite accepts (RS256 is refused on purpose).

    Example:
        >>> private_pem, public_pem = generate_m2m_key_pair("ES256")
        >>> public_pem.startswith("-----BEGIN PUBLIC KEY-----")
        True
    """
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if algorithm in _CURVES:
        private_key = ec.generate_private_key(_CURVES[algorithm])
    elif algorithm in ("PS256", "PS384", "PS512"):
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    else:
        raise ValueError(f"NetSuite does not accept {algorithm!r} assertions; use PS256 or ES256")
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem
