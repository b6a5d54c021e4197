"""Pure hashing for the audit log (no I/O).

Leaves are hashed as RFC 9162 §2.1.1 prescribes, ``SHA-256(0x00 || entry)``, so the same leaves
can later form the Merkle tree of PROTOCOL §8. Until then consecutive leaves are linked in a hash
chain, ``chain_i = SHA-256(chain_{i-1} || leaf_i)`` from 32 zero bytes, which makes any change,
deletion, insertion or reordering of stored events visible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS = bytes(32)


def canonical_entry(fields: Mapping[str, Any]) -> bytes:
    """The exact bytes of an event that are hashed: sorted-key, compact, UTF-8 JSON. ValueError
    for a non-finite number: Python would write NaN or Infinity, which no other JSON parser
    (an auditor's verifier) reads."""
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()
