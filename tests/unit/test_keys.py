from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk as jwcrypto_jwk

from gateway.errors import ConfigurationError
from gateway.trust.keys import (
    Keyring,
    PinnedKey,
    SigningKey,
    generate_jwk,
    jwk_thumbprint,
    public_part,
    write_private_jwk,
)


@pytest.mark.parametrize("curve", ["Ed25519", "P-256"])
def test_kid_is_the_rfc7638_thumbprint_computed_by_jwcrypto(curve):
    jwk = generate_jwk(curve)
    independent = jwcrypto_jwk.JWK(**public_part(jwk)).thumbprint()
    assert jwk_thumbprint(jwk) == jwk["kid"] == independent


def test_rfc7638_example_thumbprint():
    # RFC 7638 §3.1 gives this thumbprint for its RSA example; the same members rule applied to an
    # OKP key from RFC 8037 §A.3 gives the value published there.
    okp = {"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(okp) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_pinning_a_private_key_is_refused():
    with pytest.raises(ConfigurationError, match="must be public"):
        PinnedKey.from_jwk(generate_jwk())


def test_rsa_and_symmetric_keys_are_refused():
    rsa_jwk = jwcrypto_jwk.JWK.from_pyca(
        rsa.generate_private_key(65537, 2048).public_key()
    ).export_public(as_dict=True)
    with pytest.raises(ConfigurationError, match="not accepted"):
        PinnedKey.from_jwk(rsa_jwk)
    with pytest.raises(ConfigurationError, match="not accepted"):
        PinnedKey.from_jwk({"kty": "oct", "k": "c2VjcmV0"})


def test_a_kid_that_is_not_the_thumbprint_is_refused():
    jwk = public_part(generate_jwk())
    with pytest.raises(ConfigurationError, match="thumbprint"):
        PinnedKey.from_jwk({**jwk, "kid": "chosen-by-hand"})


def test_key_type_decides_the_algorithms():
    assert PinnedKey.from_jwk(public_part(generate_jwk("Ed25519"))).algorithms == {
        "EdDSA",
        "Ed25519",
    }
    assert PinnedKey.from_jwk(public_part(generate_jwk("P-256"))).algorithms == {"ES256"}


def test_retired_key_is_valid_only_within_its_window():
    now = datetime.now(UTC)
    jwk = {**public_part(generate_jwk()), "exp": int((now - timedelta(days=1)).timestamp())}
    key = PinnedKey.from_jwk(jwk)
    assert key.valid_at(now - timedelta(days=2))
    assert not key.valid_at(now)


def test_private_key_file_is_owner_only_and_never_overwritten(tmp_path):
    path = tmp_path / "keys" / "JP.private.jwk"
    write_private_jwk(path, generate_jwk())
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        write_private_jwk(path, generate_jwk())


def test_keyring_publishes_active_and_retired_keys_without_private_parts(tmp_path):
    active, retired = generate_jwk(), generate_jwk()
    write_private_jwk(tmp_path / "JP.private.jwk", active)
    (tmp_path / "JP.2025.public.jwk").write_text(json.dumps(public_part(retired)))
    keyring = Keyring.load(tmp_path, "JP")
    assert keyring.active.kid == SigningKey.from_jwk(active).kid
    assert [k["kid"] for k in keyring.jwks()["keys"]] == [active["kid"], retired["kid"]]
    assert all("d" not in k for k in keyring.jwks()["keys"])
