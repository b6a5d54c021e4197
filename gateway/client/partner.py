"""A partner's side of PROTOCOL v1: sign a call and a message, send it, verify the answer.

Used by ``gateway send``, the functional tests and the benchmarks; the delivery worker of the
outbound path will build on it. It holds the receiver's keys pinned: a receipt that does not verify
against them is not a receipt.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from gateway.client.bounded import read_bounded
from gateway.errors import GatewayError, SignatureError
from gateway.trust.assertions import make_assertion
from gateway.trust.jws import MessageHeader, sign_detached, verify_detached
from gateway.trust.keys import PinnedKey, SigningKey

SIGNATURE_HEADER = "X-JWS-Signature"
#: The largest answer read (a receipt or problem is a few hundred bytes; a message read back is
#: at most the receiver's body limit, 1 MiB by default), and the time it may take in all.
MAX_ANSWER_BYTES = 1_048_576
ANSWER_SECONDS = 30.0


@dataclass(frozen=True)
class Answer:
    """The receiver's answer: status, body, and its verified signature header (or the reason it
    did not verify)."""

    status: int
    body: bytes
    content_type: str
    signature: MessageHeader | None
    signature_error: str | None
    raw_signature: str | None
    #: Seconds the receiver asked us to wait before trying again (``Retry-After``), if it did.
    retry_after: int | None = None

    def json(self) -> Any:
        return json.loads(self.body)


class PartnerClient:
    def __init__(
        self,
        *,
        base_url: str,
        caller: str,
        receiver: str,
        key: SigningKey,
        receiver_keys: Sequence[PinnedKey],
        http: httpx.Client | None = None,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        answer_seconds: float = ANSWER_SECONDS,
    ) -> None:
        """``max_answer_bytes`` and ``answer_seconds`` bound each answer (AnswerOutOfBounds
        beyond them): its body's size, and the time from the call to its last byte."""
        self.base_url = base_url.rstrip("/")
        self.max_answer_bytes = max_answer_bytes
        self.answer_seconds = answer_seconds
        self.caller = caller
        self.receiver = receiver
        self.key = key
        self.receiver_keys = tuple(receiver_keys)
        self.http = http or httpx.Client(timeout=answer_seconds)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PartnerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def assertion(self, method: str, path: str) -> str:
        return make_assertion(
            self.key,
            caller=self.caller,
            receiver_id=self.receiver,
            method=method,
            url=self.base_url + path,
            now=datetime.now(UTC),
        )

    def sign(self, body: bytes, *, content_type: str, message_type: str, message_id: str) -> str:
        return sign_detached(
            body,
            self.key,
            content_type=content_type,
            message_id=message_id,
            issuer=self.caller,
            audience=self.receiver,
            message_type=message_type,
            issued_at=datetime.now(UTC),
        )

    def send(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str,
        message_type: str,
        message_id: str | None = None,
    ) -> Answer:
        """POST a signed message; the answer's signature is verified against the pinned keys."""
        message_id = message_id or str(uuid.uuid4())
        headers = {
            "Authorization": f"Bearer {self.assertion('POST', path)}",
            "Content-Type": content_type,
            SIGNATURE_HEADER: self.sign(
                body, content_type=content_type, message_type=message_type, message_id=message_id
            ),
        }
        return self._call("POST", path, headers, body)

    def get(self, path: str) -> Answer:
        """GET ``path`` (which may carry a query; ``htu`` binds the URL without it, PROTOCOL §3)."""
        headers = {"Authorization": f"Bearer {self.assertion('GET', path.split('?', 1)[0])}"}
        return self._call("GET", path, headers)

    def _call(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> Answer:
        started = time.monotonic()
        with self.http.stream(method, self.base_url + path, content=body, headers=headers) as got:
            content = read_bounded(
                got, max_bytes=self.max_answer_bytes, seconds=self.answer_seconds, since=started
            )
        return self._answer(got, content)

    def _answer(self, response: httpx.Response, content: bytes) -> Answer:
        header: MessageHeader | None = None
        error: str | None = None
        signature = response.headers.get(SIGNATURE_HEADER)
        if signature is None:
            error = "the answer carries no signature"
        else:
            try:
                verified = verify_detached(
                    signature,
                    content,
                    self.receiver_keys,
                    now=datetime.now(UTC),
                    clock_skew=timedelta(seconds=60),
                )
                if verified.iss == self.receiver:
                    header = verified
                else:
                    error = f"the answer is signed by {verified.iss}, not {self.receiver}"
            except GatewayError as failure:
                error = failure.detail
        return Answer(
            response.status_code,
            content,
            response.headers.get("content-type", ""),
            header,
            error,
            signature,
            retry_after_of(response.headers.get("retry-after")),
        )


def retry_after_of(value: str | None) -> int | None:
    """``Retry-After`` in seconds (PROTOCOL §7 sends seconds; an HTTP date is not used)."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def check_receipt(answer: Answer, body: bytes, message_id: str) -> dict[str, Any]:
    """The receipt in ``answer``, if it is signed, names ``message_id`` and the body's digest."""
    if answer.signature is None:
        raise SignatureError(f"the receipt is not verified: {answer.signature_error}")
    receipt: dict[str, Any] = answer.json()
    if receipt.get("message_id") != message_id or answer.signature.msgid != message_id:
        raise SignatureError("the receipt names another message")
    if receipt.get("body_sha256") != hashlib.sha256(body).hexdigest():
        raise SignatureError("the receipt's digest is not the digest of what was sent")
    return receipt
