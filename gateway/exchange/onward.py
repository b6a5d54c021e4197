"""Passing a received message on: the originator's consents and the policy's decision.

Nothing is sent from here yet (the outbound path is issue 5); what exists is the decision that
will gate it, taken on the stored document with the consents recorded for it, and written to the
audit log with the policy digest.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.errors import ConflictError, NotFoundError
from gateway.policy.engine import decide
from gateway.policy.model import Context, Decision, PolicySet
from gateway.registry import Registry
from gateway.store.db import Database
from gateway.store.models import Message, OriginatorConsent


def _stored(session: Session, message_id: str) -> Message:
    message = session.execute(
        select(Message).where(Message.message_id == message_id)
    ).scalar_one_or_none()
    if message is None:
        raise NotFoundError(f"no message {message_id}")
    return message


def record_consent(
    database: Database,
    registry: Registry,
    *,
    message_id: str,
    recipient: str,
    reference: str,
    recorded_by: str,
    now: datetime,
) -> None:
    """Record that the message's originator consented to its going on to ``recipient``."""
    if recipient not in registry.partners:
        raise NotFoundError(f"{recipient} is not in the partner registry")
    try:
        with database.transaction() as session:
            message = _stored(session, message_id)
            session.add(
                OriginatorConsent(
                    message_id=message_id,
                    recipient=recipient,
                    reference=reference,
                    recorded_by=recorded_by,
                    recorded_at=now,
                )
            )
            session.flush()
            audit_log.append(
                session,
                audit_log.Event(
                    tag="officer:consent:recorded",
                    occurred_at=now,
                    actor=recorded_by,
                    partner=message.originator,
                    message_id=message_id,
                    body_sha256=message.body_sha256,
                    detail={"recipient": recipient, "reference": reference},
                ),
            )
    except IntegrityError as error:
        raise ConflictError(f"consent for {recipient} is already recorded") from error


def decide_onward(
    database: Database,
    policies: PolicySet,
    registry: Registry,
    *,
    message_id: str,
    recipient: str,
    purpose: str | None,
    on: date,
    actor: str,
    gateway_id: str,
    now: datetime,
) -> Decision:
    """The policy's decision on passing a stored message to ``recipient``; audited."""
    partner = registry.partners.get(recipient)
    if partner is None or partner.kind == "self":
        raise NotFoundError(f"{recipient} is not a partner of this gateway")
    with database.transaction() as session:
        message = _stored(session, message_id)
        consents = frozenset(
            session.execute(
                select(OriginatorConsent.recipient).where(
                    OriginatorConsent.message_id == message_id
                )
            ).scalars()
        )
        decision = decide(
            policies,
            Context(
                partner=partner,
                direction="out",
                message_type=message.message_type,
                on=on,
                document=message.in_force(),
                purpose=purpose,
                consents=consents,
                gateway_id=gateway_id,
            ),
        )
        audit_log.append(
            session,
            audit_log.Event(
                tag=f"policy:{message.message_type}:{'decided' if decision.allowed else 'denied'}",
                occurred_at=now,
                actor=actor,
                partner=recipient,
                message_id=message_id,
                body_sha256=message.body_sha256,
                detail=decision.to_dict(),
            ),
        )
    return decision
