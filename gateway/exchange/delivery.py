"""The delivery worker: takes signed messages from the outbox to partners' gateways.

A worker claims due messages (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never
send the same message at once; SQLite's single writer does the same), holds a lease on them, and
sends each with a fresh assertion and its stored signature, outside any database transaction.

* A receipt that verifies against the partner's pinned key and names this message and its
  digest → ``acknowledged``, receipt stored.
* A 2xx without such a receipt, a 5xx, 408, 425, 429 or no answer → ``retrying`` after an
  exponential backoff with jitter, until the partner's attempt limit → ``failed`` (dead letter);
  never sooner than the partner's ``Retry-After`` (its rate limit, its own outage).
* Any other 4xx is the partner's considered refusal (e.g. its policy): ``failed`` at once, its
  problem stored; retrying blindly would only repeat it.
* What the partner wrote is bounded before it is stored anywhere (the outbox row's
  ``last_error`` and ``problem``, the audit event, the log): its problem's known members only,
  each string cut to a few hundred characters (:func:`gateway.client.bounded.partner_problem`),
  and every reason, which may quote it, too (:data:`MAX_REASON`).
* A worker that dies leaves its claims to expire; another worker takes them over. The partner's
  idempotency (same id, same body → the same receipt) makes the second send harmless.

Every attempt is an audit event.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import or_, select

from gateway.audit import log as audit_log
from gateway.client.bounded import (
    AnswerOutOfBounds,
    bounded_text,
    partner_problem,
    read_bounded,
)
from gateway.client.partner import retry_after_of
from gateway.errors import GatewayError
from gateway.exchange.receipts import check_receipt
from gateway.registry import Registry
from gateway.settings import Settings
from gateway.store.db import Database
from gateway.store.models import OutboxMessage
from gateway.trust.assertions import make_assertion
from gateway.trust.keys import Keyring

logger = logging.getLogger(__name__)

PATHS = {
    "seizure-report": "/v1/seizure-reports",
    "assistance-request": "/v1/assistance-requests",
    "assistance-answer": "/v1/assistance-answers",
    "withdrawal": "/v1/withdrawals",
    "marking-change": "/v1/marking-changes",
    "certificate-of-origin": "/v1/certificates-of-origin",
    "certificate-status": "/v1/certificate-status-notices",
    "origin-verification-request": "/v1/origin-verification-requests",
    "origin-verification-answer": "/v1/origin-verification-answers",
    "seizure-report-batch": "/v1/hub/seizure-report-batches",
}
RETRYABLE_4XX = frozenset({408, 425, 429})
#: The most characters of an attempt's reason kept (it may quote the partner: a problem's
#: ``type``, a key id in its receipt's header, its HTTP library's error).
MAX_REASON = 500


@dataclass(frozen=True)
class TransportResponse:
    status: int
    body: bytes
    headers: Mapping[str, str]


class TransportError(Exception):
    """No answer: connection refused, timeout, broken connection."""


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> TransportResponse: ...


class HttpTransport:
    """POSTs over httpx, with the partner's answer bounded: its body may hold at most
    ``max_answer_bytes`` and must have arrived ``timeout_seconds`` after the call began.

    A partner that answers without end (or a byte at a time, each within the read timeout)
    would otherwise hold the worker past its lease, and another worker would deliver the message
    again. ``timeout_seconds`` is also each step's own timeout (connect, write, each read); the
    status line and headers are bounded by that and by h11's header size limit."""

    def __init__(self, timeout_seconds: float, max_answer_bytes: int) -> None:
        self._client = httpx.Client(timeout=timeout_seconds)
        self._timeout = timeout_seconds
        self._max_answer_bytes = max_answer_bytes

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> TransportResponse:
        """The answer; TransportError if there was none, or none within the bounds."""
        started = time.monotonic()
        try:
            with self._client.stream("POST", url, content=body, headers=dict(headers)) as answer:
                content = read_bounded(
                    answer, max_bytes=self._max_answer_bytes, seconds=self._timeout, since=started
                )
        except AnswerOutOfBounds as error:
            raise TransportError(str(error)) from error
        except httpx.HTTPError as error:
            raise TransportError(f"{type(error).__name__}: {error}") from error
        return TransportResponse(answer.status_code, content, dict(answer.headers))

    def close(self) -> None:
        self._client.close()


def backoff_seconds(attempt: int, base: int, cap: int, rng: random.Random) -> float:
    """Exponential backoff with jitter: up to ±50 % around ``base · 2^(attempt-1)``, capped."""
    return float(min(cap, base * 2 ** max(attempt - 1, 0))) * rng.uniform(0.5, 1.5)


@dataclass(frozen=True)
class _Claimed:
    message_id: str
    recipient: str
    message_type: str
    content_type: str
    body: bytes
    body_sha256: str
    signature: str
    attempt: int


@dataclass(frozen=True)
class _Outcome:
    state: str  # acknowledged | retrying | failed
    reason: str
    status: int | None = None
    receipt: bytes | None = None
    receipt_signature: str | None = None
    problem: dict[str, Any] | None = None
    #: The partner's ``Retry-After`` (429, 503): no attempt before it, whatever the backoff.
    retry_after: float = 0.0


class DeliveryWorker:
    def __init__(
        self,
        *,
        settings: Settings,
        registry: Registry,
        keyring: Keyring,
        database: Database,
        transport: Transport,
        worker_id: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._keyring = keyring
        self._db = database
        self._transport = transport
        self._worker_id = worker_id
        self._clock = clock
        self._rng = rng or random.Random()  # jitter, not a secret  # nosec B311
        self._endpoints = _parse_endpoints(settings.partner_endpoints)

    def run_once(self, limit: int = 10) -> int:
        """Claim and attempt up to ``limit`` due messages; returns how many were attempted."""
        claimed = self._claim(limit)
        for message in claimed:
            self._finish(message, self._attempt(message))
        return len(claimed)

    def _claim(self, limit: int) -> list[_Claimed]:
        now = self._clock()
        lease = timedelta(seconds=self._settings.delivery_lease_seconds)
        with self._db.transaction() as session:
            rows = (
                session.execute(
                    select(OutboxMessage)
                    .where(
                        or_(
                            OutboxMessage.state.in_(("queued", "retrying"))
                            & (OutboxMessage.next_attempt_at <= now),
                            (OutboxMessage.state == "sending")
                            & (OutboxMessage.claimed_until < now),
                        )
                    )
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            claimed = []
            for row in rows:
                row.state, row.claimed_by, row.claimed_until = (
                    "sending",
                    self._worker_id,
                    now + lease,
                )
                row.attempts += 1
                claimed.append(
                    _Claimed(
                        row.message_id,
                        row.recipient,
                        row.message_type,
                        row.content_type,
                        row.body,
                        row.body_sha256,
                        row.signature,
                        row.attempts,
                    )
                )
            return claimed

    def _attempt(self, message: _Claimed) -> _Outcome:
        partner = self._registry.partners.get(message.recipient)
        base = self._endpoints.get(message.recipient) or (partner.endpoint if partner else None)
        path = PATHS.get(message.message_type)
        if partner is None or not base or path is None:
            return _Outcome("failed", f"no endpoint for {message.recipient} {message.message_type}")
        url = base.rstrip("/") + path
        headers = {
            "Authorization": "Bearer "
            + make_assertion(
                self._keyring.active,
                caller=self._settings.gateway_id,
                receiver_id=message.recipient,
                method="POST",
                url=url,
                now=self._clock(),
            ),
            "Content-Type": message.content_type,
            "X-JWS-Signature": message.signature,
        }
        try:
            response = self._transport.post(url, message.body, headers)
        except TransportError as error:
            return self._retry_or_fail(message, partner.delivery, f"no answer: {error}")
        if response.status in (200, 202):
            return self._check_receipt(message, partner.keys, partner.delivery, response)
        if 400 <= response.status < 500 and response.status not in RETRYABLE_4XX:
            problem = partner_problem(response.body)
            return _Outcome(
                "failed",
                f"refused by {message.recipient}: HTTP {response.status} {problem.get('type', '')}",
                response.status,
                problem=problem,
            )
        outcome = self._retry_or_fail(
            message, partner.delivery, f"HTTP {response.status}", response.status
        )
        wait = retry_after_of(
            response.headers.get("retry-after") or response.headers.get("Retry-After")
        )
        return dataclasses.replace(outcome, retry_after=float(wait)) if wait else outcome

    def _check_receipt(
        self, message: _Claimed, keys: Any, limits: Mapping[str, int], response: TransportResponse
    ) -> _Outcome:
        signature = response.headers.get("x-jws-signature") or response.headers.get(
            "X-JWS-Signature"
        )
        try:
            check_receipt(
                response.body,
                signature,
                keys=keys,
                issuer=message.recipient,
                message_id=message.message_id,
                body_sha256=message.body_sha256,
                now=self._clock(),
                clock_skew=timedelta(seconds=self._settings.clock_skew_seconds),
            )
        except GatewayError as error:
            reason = f"receipt not accepted: {error.detail}"
            return self._retry_or_fail(message, limits, reason, response.status)
        return _Outcome(
            "acknowledged", "receipt verified", response.status, response.body, signature
        )

    def _retry_or_fail(
        self, message: _Claimed, limits: Mapping[str, int], reason: str, status: int | None = None
    ) -> _Outcome:
        if message.attempt >= limits.get("max_attempts", self._settings.delivery_max_attempts):
            return _Outcome("failed", f"{reason} (after {message.attempt} attempts)", status)
        return _Outcome("retrying", reason, status)

    def _finish(self, message: _Claimed, outcome: _Outcome) -> None:
        now = self._clock()
        outcome = dataclasses.replace(outcome, reason=bounded_text(outcome.reason, MAX_REASON))
        with self._db.transaction() as session:
            row = session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.message_id == message.message_id)
                .with_for_update()
            ).scalar_one()
            if row.state == "acknowledged":
                return  # another worker took over an expired claim and finished first
            row.state, row.claimed_by, row.claimed_until = outcome.state, None, None
            row.last_error = None if outcome.state == "acknowledged" else outcome.reason
            if outcome.state == "acknowledged":
                row.receipt, row.receipt_signature, row.acknowledged_at = (
                    outcome.receipt,
                    outcome.receipt_signature,
                    now,
                )
            elif outcome.state == "retrying":
                partner = self._registry.partners.get(message.recipient)
                limits = partner.delivery if partner else {}
                backoff = backoff_seconds(
                    message.attempt,
                    limits.get(
                        "backoff_base_seconds", self._settings.delivery_backoff_base_seconds
                    ),
                    limits.get("backoff_cap_seconds", self._settings.delivery_backoff_cap_seconds),
                    self._rng,
                )
                row.next_attempt_at = now + timedelta(seconds=max(backoff, outcome.retry_after))
            else:
                row.problem = outcome.problem
            action = {
                "acknowledged": "delivered",
                "retrying": "delivery-failed",
                "failed": "dead-lettered",
            }
            detail: dict[str, Any] = {
                "attempt": message.attempt,
                "reason": outcome.reason,
                "status": outcome.status,
                "worker": self._worker_id,
            }
            if outcome.receipt:
                receipt = json.loads(outcome.receipt)
                detail["receipt"] = {
                    k: receipt.get(k) for k in ("log_index", "leaf_hash", "received_at")
                }
                detail["receipt_sha256"] = hashlib.sha256(outcome.receipt).hexdigest()
            audit_log.append(
                session,
                audit_log.Event(
                    tag=f"system:{message.message_type}:{action[outcome.state]}",
                    occurred_at=now,
                    actor=f"worker:{self._worker_id}",
                    partner=message.recipient,
                    message_id=message.message_id,
                    body_sha256=message.body_sha256,
                    detail=detail,
                ),
            )
        logger.info(
            "%s to %s: %s (%s)",
            message.message_id,
            message.recipient,
            outcome.state,
            outcome.reason,
        )


def _parse_endpoints(setting: str) -> dict[str, str]:
    endpoints = {}
    for entry in filter(None, (part.strip() for part in setting.split(","))):
        partner, _, url = entry.partition("=")
        endpoints[partner.strip()] = url.strip()
    return endpoints
