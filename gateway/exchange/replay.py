"""The replay guard for client assertions, shared by every worker through the database.

A ``jti`` is kept until its assertion expires (plus the clock skew); the primary key makes the
second use fail even when two workers see the same token at the same instant.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.errors import ReplayError
from gateway.store.models import SeenAssertion
from gateway.trust.assertions import VerifiedAssertion


def consume(
    session: Session, assertion: VerifiedAssertion, *, now: datetime, skew: timedelta
) -> None:
    """Record ``assertion.jti`` in the caller's transaction; ReplayError if it was seen before.

    Expired entries of the same issuer are swept on the way, so the table stays small.
    """
    session.execute(
        delete(SeenAssertion).where(
            SeenAssertion.issuer == assertion.caller, SeenAssertion.expires_at < now - skew
        )
    )
    seen = session.execute(
        select(SeenAssertion.jti).where(
            SeenAssertion.issuer == assertion.caller, SeenAssertion.jti == assertion.jti
        )
    ).first()
    if seen is not None:
        raise ReplayError("this assertion (jti) was used before; sign a new one for every call")
    try:
        with session.begin_nested():
            session.add(
                SeenAssertion(
                    issuer=assertion.caller, jti=assertion.jti, expires_at=assertion.expires_at
                )
            )
    except IntegrityError as error:  # another worker recorded it a moment ago
        raise ReplayError("this assertion (jti) was used before") from error
