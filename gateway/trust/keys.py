"""Keys: pinned public keys of partners, this gateway's signing keys, JWKS and RFC 7638 kids.

Rules from PROTOCOL §2:

* Ed25519 is required, P-256 accepted. The key's type decides which ``alg`` values it may verify
  (:data:`ALGORITHMS_BY_CURVE`); nothing else (no HS*, no ``none``) is ever accepted.
* ``kid`` is the RFC 7638 thumbprint; it is a hint for choosing among pinned keys, never a way to
  bring a key in.
* A key may carry a validity window (``nbf``/``exp`` in its JWK, epoch seconds). A retired key still
  verifies what was signed while it was valid.

This gateway's private key is ``<ID>.private.jwk`` (mode 0600), or, protected by a passphrase,
``<ID>.private.pem``: PKCS#8 encrypted with the best scheme ``cryptography`` offers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gateway.errors import ConfigurationError
from gateway.files import open_private, write_private

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

#: Which JWS ``alg`` values a key of each curve may verify. ``Ed25519`` is RFC 9864's fully
#: specified name for what RFC 8037 calls ``EdDSA`` with an Ed25519 key.
ALGORITHMS_BY_CURVE: Mapping[str, frozenset[str]] = {
    "Ed25519": frozenset({"EdDSA", "Ed25519"}),
    "P-256": frozenset({"ES256"}),
}
#: What this gateway emits for each curve.
SIGNING_ALGORITHM_BY_CURVE: Mapping[str, str] = {"Ed25519": "EdDSA", "P-256": "ES256"}
ACCEPTED_ALGORITHMS: frozenset[str] = frozenset().union(*ALGORITHMS_BY_CURVE.values())

# RFC 7638 §3.2: the required members of each key type, in lexicographic order.
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url without padding)."""
    try:
        members = _THUMBPRINT_MEMBERS[jwk["kty"]]
        canonical = json.dumps(
            {name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True
        )
    except KeyError as error:
        raise ConfigurationError(f"JWK lacks member {error} needed for its thumbprint") from error
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def _epoch(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(int(value), tz=UTC)


def _curve_of(jwk: Mapping[str, Any]) -> str:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if (kty, crv) not in {("OKP", "Ed25519"), ("EC", "P-256")}:
        raise ConfigurationError(f"key type {kty}/{crv} is not accepted (Ed25519 or P-256 only)")
    return str(crv)


@dataclass(frozen=True)
class PinnedKey:
    """A partner's public key as pinned in the registry."""

    kid: str
    curve: str
    public_key: PublicKey
    not_before: datetime | None
    not_after: datetime | None
    public_jwk: Mapping[str, Any]

    @property
    def algorithms(self) -> frozenset[str]:
        return ALGORITHMS_BY_CURVE[self.curve]

    def valid_at(self, moment: datetime) -> bool:
        """True if ``moment`` lies within the key's validity window."""
        if self.not_before is not None and moment < self.not_before:
            return False
        return self.not_after is None or moment <= self.not_after

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PinnedKey:
        """Load a public JWK. A JWK with a private part (``d``) is refused: pins are public."""
        if "d" in jwk:
            raise ConfigurationError("a pinned key must be public; this JWK has a private part")
        curve = _curve_of(jwk)
        kid = jwk_thumbprint(jwk)
        if "kid" in jwk and jwk["kid"] != kid:
            raise ConfigurationError(f"JWK kid {jwk['kid']!r} is not its RFC 7638 thumbprint")
        try:
            key = jwt.PyJWK(dict(jwk), algorithm=SIGNING_ALGORITHM_BY_CURVE[curve]).key
        except jwt.PyJWKError as error:
            raise ConfigurationError(f"unreadable JWK: {error}") from error
        public_jwk = {
            k: jwk[k] for k in (*_THUMBPRINT_MEMBERS[jwk["kty"]], "nbf", "exp") if k in jwk
        }
        public_jwk.update(kid=kid, alg=SIGNING_ALGORITHM_BY_CURVE[curve], use="sig")
        return cls(kid, curve, key, _epoch(jwk.get("nbf")), _epoch(jwk.get("exp")), public_jwk)


@dataclass(frozen=True)
class SigningKey:
    """One of this gateway's own private keys."""

    kid: str
    algorithm: str
    private_key: PrivateKey
    pinned: PinnedKey

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> SigningKey:
        if "d" not in jwk:
            raise ConfigurationError("a signing key needs its private part (d)")
        curve = _curve_of(jwk)
        algorithm = SIGNING_ALGORITHM_BY_CURVE[curve]
        try:
            private_key = jwt.PyJWK(dict(jwk), algorithm=algorithm).key
        except jwt.PyJWKError as error:
            raise ConfigurationError(f"unreadable JWK: {error}") from error
        public = {k: v for k, v in jwk.items() if k not in {"d", "kid", "alg", "use", "key_ops"}}
        pinned = PinnedKey.from_jwk(public)
        return cls(pinned.kid, algorithm, private_key, pinned)


def generate_jwk(curve: str = "Ed25519") -> dict[str, Any]:
    """A new private JWK (with ``kid``) for ``curve``."""
    if curve == "Ed25519":
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(ed25519.Ed25519PrivateKey.generate()))
    elif curve == "P-256":
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1())))
    else:
        raise ConfigurationError(f"unsupported curve {curve!r}")
    jwk["kid"] = jwk_thumbprint(jwk)
    return dict(jwk)


def public_part(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The public members of a JWK (what may be published or pinned)."""
    return {k: v for k, v in jwk.items() if k != "d"}


def write_private_jwk(path: Path, jwk: Mapping[str, Any]) -> None:
    """Write a private JWK readable by the owner only (0600, its missing directories 0700,
    whatever the umask), never overwriting a key."""
    with open_private(path, "w", exclusive=True) as handle:
        json.dump(dict(jwk), handle, indent=2)


def write_encrypted_private_key(path: Path, jwk: Mapping[str, Any], passphrase: bytes) -> None:
    """Write a private JWK's key as encrypted PKCS#8 PEM (0600), never overwriting a key."""
    if not passphrase:
        raise ConfigurationError("an empty passphrase protects nothing")
    key = SigningKey.from_jwk(jwk).private_key
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    write_private(path, pem, exclusive=True)


def read_encrypted_private_key(path: Path, passphrase: bytes | None) -> dict[str, Any]:
    """The private JWK of an encrypted PKCS#8 PEM file; ConfigurationError without the right
    passphrase (the message never carries key material)."""
    if not passphrase:
        raise ConfigurationError(f"{path} is protected by a passphrase; set key_passphrase_file")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    except (OSError, ValueError, TypeError) as error:
        raise ConfigurationError(
            f"cannot open {path}: wrong passphrase or not an encrypted private key"
        ) from error
    if isinstance(key, ed25519.Ed25519PrivateKey):
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key))
    elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key))
    else:
        raise ConfigurationError(f"{path}: only Ed25519 and P-256 keys are used")
    return dict(jwk)


def private_key_path(keys_dir: Path, gateway_id: str) -> Path:
    """Where this gateway's private key is: the encrypted PEM if there is one, else the JWK."""
    encrypted = keys_dir / f"{gateway_id}.private.pem"
    return encrypted if encrypted.exists() else keys_dir / f"{gateway_id}.private.jwk"


def read_private_key(path: Path, passphrase: bytes | None) -> dict[str, Any]:
    """The private JWK in ``path``: an encrypted PEM (which needs ``passphrase``) or a JWK."""
    if path.suffix == ".pem":
        return read_encrypted_private_key(path, passphrase)
    return read_jwk_file(path)


def read_jwk_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"cannot read JWK file {path}: {error}") from error
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: a JWK is a JSON object")
    return data


@dataclass(frozen=True)
class Keyring:
    """This gateway's signing key (the newest) and every key it has published."""

    active: SigningKey
    published: tuple[PinnedKey, ...]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(key.public_jwk) for key in self.published]}

    @classmethod
    def load(cls, keys_dir: Path, gateway_id: str, passphrase: bytes | None = None) -> Keyring:
        """Load this gateway's private key (:func:`private_key_path`; an encrypted one needs
        ``passphrase``) and any retired ``<ID>.*.public.jwk`` beside it."""
        active = SigningKey.from_jwk(
            read_private_key(private_key_path(keys_dir, gateway_id), passphrase)
        )
        retired = [
            PinnedKey.from_jwk(read_jwk_file(path))
            for path in sorted(keys_dir.glob(f"{gateway_id}.*.public.jwk"))
        ]
        published = (active.pinned, *(k for k in retired if k.kid != active.kid))
        return cls(active, published)


def select_key(candidates: Iterable[PinnedKey], kid: str | None) -> PinnedKey | None:
    """The pinned key whose thumbprint is ``kid``, or None."""
    return next((key for key in candidates if kid is not None and key.kid == kid), None)
