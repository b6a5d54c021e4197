"""The Merkle tree of RFC 9162 §2.1 (= RFC 6962 §2.1) over audit leaf hashes. Pure, no I/O.

Inputs are leaf hashes (``SHA-256(0x00 || entry)``, see :mod:`gateway.audit.hashing`); interior
nodes are ``SHA-256(0x01 || left || right)``; the split of ``n`` leaves is at the largest power of
two smaller than ``n``. Proof generation follows §2.1.3.1 and §2.1.4.1; verification follows the
algorithms of §2.1.3.2 and §2.1.4.2 step by step, so an auditor can check them against the RFC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 1:
        return leaves[lo]
    k = _split(n)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the leaf hashes."""
    return _mth(leaves, 0, len(leaves)) if leaves else EMPTY_ROOT


def _path(m: int, leaves: Sequence[bytes], lo: int, hi: int) -> list[bytes]:
    n = hi - lo
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, leaves, lo, lo + k), _mth(leaves, lo + k, hi)]
    return [*_path(m - k, leaves, lo + k, hi), _mth(leaves, lo, lo + k)]


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) for the tree of ``leaves``."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of size {len(leaves)}")
    return _path(index, leaves, 0, len(leaves))


def _subproof(m: int, leaves: Sequence[bytes], lo: int, hi: int, complete: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if complete else [_mth(leaves, lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves, lo, lo + k, complete), _mth(leaves, lo + k, hi)]
    return [*_subproof(m - k, leaves, lo + k, hi, False), _mth(leaves, lo, lo + k)]


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(first, D[n]) between the tree of the first ``first`` leaves and all of ``leaves``."""
    if not 0 < first <= len(leaves):
        raise ValueError(f"no consistency proof from size {first} to {len(leaves)}")
    return _subproof(first, leaves, 0, len(leaves), True)


def verify_inclusion(
    index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2."""
    if first > second or first == 0:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:  # first is an exact power of two
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
