"""Signed receipts (PROTOCOL §5): the receiver's proof that it accepted a message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from gateway.trust.jws import sign_detached
from gateway.trust.keys import SigningKey

RECEIPT_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class SignedReceipt:
    body: bytes
    signature: str


def make_receipt(
    *,
    message_id: str,
    received_at: datetime,
    body_sha256: str,
    log_index: int,
    leaf_hash: bytes,
    key: SigningKey,
    issuer: str,
    audience: str,
) -> SignedReceipt:
    body = json.dumps(
        {
            "message_id": message_id,
            "received_at": received_at.isoformat().replace("+00:00", "Z"),
            "body_sha256": body_sha256,
            "status": "accepted",
            "log_index": log_index,
            "leaf_hash": leaf_hash.hex(),
        },
        separators=(",", ":"),
    ).encode()
    signature = sign_detached(
        body,
        key,
        content_type=RECEIPT_MEDIA_TYPE,
        message_id=message_id,
        issuer=issuer,
        audience=audience,
        message_type="receipt",
        issued_at=received_at,
    )
    return SignedReceipt(body, signature)
