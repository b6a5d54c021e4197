"""Which leaves of the log a partner may have proved to it: those about its own messages.

A partner holds a receipt (``log_index``, ``leaf_hash``) for every message it sent, and may want
to prove the leaves recorded about the messages this gateway sent it. Any other leaf is none of
its business: proving it would let a partner walk the log leaf by leaf and see where another
partner's traffic sits. Auditors see every leaf (they read the events themselves).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.store.models import AuditEvent, Message, OutboxMessage


def concerns_partner(session: Session, partner: str, index: int) -> bool:
    """Whether leaf ``index`` is an event recorded under ``partner`` about a message ``partner``
    sent this gateway (stored, ``direction`` in) or that this gateway addressed to it.

    False for a leaf that does not exist, an event without a message (a refusal before the
    message was read, a policy load) or about a message that was never stored (a refused one),
    and an event recorded under ``partner`` about another partner's message (an onward decision
    names the recipient as its partner and the source message as its message)."""
    event = session.execute(
        select(AuditEvent.partner, AuditEvent.message_id).where(AuditEvent.log_index == index)
    ).first()
    if event is None or event.partner != partner or event.message_id is None:
        return False
    sent = select(Message.id).where(
        Message.message_id == event.message_id,
        Message.sender == partner,
        Message.direction == "in",
    )
    addressed = select(OutboxMessage.id).where(
        OutboxMessage.message_id == event.message_id, OutboxMessage.recipient == partner
    )
    return bool(session.execute(select(or_(sent.exists(), addressed.exists()))).scalar_one())
