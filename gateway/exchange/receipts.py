"""Signed receipts (PROTOCOL §5): the receiver's proof that it accepted a message."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.documents.hardened import parse_json
from gateway.errors import DocumentError, SignatureError
from gateway.trust.jws import sign_detached, verify_detached
from gateway.trust.keys import PinnedKey, SigningKey

RECEIPT_MEDIA_TYPE = "application/json"
#: A receipt is a few hundred bytes (PROTOCOL §5); a partner's larger one is not read.
MAX_RECEIPT_BYTES = 16_384
MAX_RECEIPT_DEPTH = 4


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


def check_receipt(
    body: bytes,
    signature: str | None,
    *,
    keys: Sequence[PinnedKey],
    issuer: str,
    message_id: str,
    body_sha256: str,
    now: datetime,
    clock_skew: timedelta,
) -> dict[str, object]:
    """The receipt's fields, if it is signed by ``issuer`` with one of ``keys`` and acknowledges
    exactly this message and these bytes; SignatureError otherwise (pushed or pulled alike)."""
    if not signature:
        raise SignatureError("the receipt carries no signature")
    header = verify_detached(signature, body, keys, now=now, clock_skew=clock_skew)
    if header.iss != issuer or header.msgtype != "receipt" or header.msgid != message_id:
        raise SignatureError("the receipt's signed header names another sender, type or message")
    try:
        # As strict as a message body: its fields go into the audit log.
        receipt = parse_json(body, max_bytes=MAX_RECEIPT_BYTES, max_depth=MAX_RECEIPT_DEPTH)
    except DocumentError as error:
        raise SignatureError(f"the receipt is not JSON as a message is: {error.detail}") from error
    if not isinstance(receipt, dict) or receipt.get("message_id") != message_id:
        raise SignatureError("the receipt names another message")
    if receipt.get("body_sha256") != body_sha256 or receipt.get("status") != "accepted":
        raise SignatureError("the receipt does not accept these bytes")
    return receipt
