"""Signed tree heads (PROTOCOL §8): ``{tree_size, root_hash, timestamp}`` signed by the gateway.

The payload is canonical JSON; the signature a compact JWS (``typ: tree-head+jws``) that anyone
holding the gateway's public key can check offline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.errors import SignatureError
from gateway.trust.jws import sign_compact, verify_compact
from gateway.trust.keys import PinnedKey, SigningKey

TREE_HEAD_TYP = "tree-head+jws"


@dataclass(frozen=True)
class TreeHead:
    gateway: str
    tree_size: int
    root_hash: bytes
    timestamp: datetime

    def payload(self) -> bytes:
        return json.dumps(
            {
                "gateway": self.gateway,
                "tree_size": self.tree_size,
                "root_hash": self.root_hash.hex(),
                "timestamp": self.timestamp.isoformat(),
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def sign(self, key: SigningKey) -> str:
        return sign_compact(self.payload(), key, typ=TREE_HEAD_TYP)


def verify_tree_head(token: str, keys: Sequence[PinnedKey]) -> TreeHead:
    """The tree head in ``token`` if its signature verifies against ``keys``."""
    payload = verify_compact(token, keys, typ=TREE_HEAD_TYP)
    try:
        data = json.loads(payload)
        return TreeHead(
            gateway=data["gateway"],
            tree_size=int(data["tree_size"]),
            root_hash=bytes.fromhex(data["root_hash"]),
            timestamp=datetime.fromisoformat(data["timestamp"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise SignatureError(f"the tree head payload is malformed: {error}") from error
