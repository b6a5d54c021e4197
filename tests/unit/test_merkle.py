"""The Merkle tree against RFC 6962 / certificate-transparency test vectors, and against a
plain re-computation written here from the RFC's definition."""

from __future__ import annotations

import hashlib
import random

import pytest

from gateway.audit import merkle
from gateway.audit.hashing import leaf_hash

# certificate-transparency's testonly constants (the RFC 6962 reference test data)
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CONSISTENCY = {
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
HASHES = [leaf_hash(leaf) for leaf in LEAVES]


def naive_root(entries: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, written out directly from the definition."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < len(entries):
        k *= 2
    return hashlib.sha256(b"\x01" + naive_root(entries[:k]) + naive_root(entries[k:])).digest()


def test_empty_root():
    assert (
        merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_reference_vectors(size):
    assert merkle.root(HASHES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size"), list(INCLUSION))
def test_inclusion_proofs_match_the_reference_vectors(index, size):
    proof = merkle.inclusion_proof(index, HASHES[:size])
    assert [p.hex() for p in proof] == INCLUSION[(index, size)]
    assert merkle.verify_inclusion(
        index, size, HASHES[index], proof, bytes.fromhex(ROOTS[size - 1])
    )


@pytest.mark.parametrize(("first", "second"), list(CONSISTENCY))
def test_consistency_proofs_match_the_reference_vectors(first, second):
    proof = merkle.consistency_proof(first, HASHES[:second])
    assert [p.hex() for p in proof] == CONSISTENCY[(first, second)]
    assert merkle.verify_consistency(
        first, second, bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1]), proof
    )


def test_every_proof_of_random_trees_verifies_and_tampering_fails():
    rng = random.Random(9162)
    for size in [*range(1, 40), 64, 65, 100, 257]:
        entries = [rng.randbytes(rng.randrange(0, 40)) for _ in range(size)]
        hashes = [leaf_hash(e) for e in entries]
        tree_root = merkle.root(hashes)
        assert tree_root == naive_root(entries)
        for index in {0, size // 2, size - 1, rng.randrange(size)}:
            proof = merkle.inclusion_proof(index, hashes)
            assert merkle.verify_inclusion(index, size, hashes[index], proof, tree_root)
            assert not merkle.verify_inclusion(index, size, leaf_hash(b"forged"), proof, tree_root)
            if proof:
                bent = [*proof[:-1], hashlib.sha256(proof[-1]).digest()]
                assert not merkle.verify_inclusion(index, size, hashes[index], bent, tree_root)
        for first in {1, size // 2 or 1, size}:
            proof = merkle.consistency_proof(first, hashes)
            first_root = merkle.root(hashes[:first])
            assert merkle.verify_consistency(first, size, first_root, tree_root, proof)
            if first < size:
                assert not merkle.verify_consistency(first, size, leaf_hash(b"x"), tree_root, proof)
