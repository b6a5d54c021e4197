"""The replay guard for client assertions, shared by every worker through the database.

A ``jti`` is kept until its assertion expires (plus the clock skew). ``consume`` refuses a ``jti``
already stored; two workers that see the same token at the same instant both pass that check, but
the primary key lets only one of them commit: the other's IntegrityError is a replay (the caller
turns it into ReplayError, see :mod:`gateway.exchange.inbound`).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.errors import ReplayError
from gateway.store.models import SeenAssertion
from gateway.trust.assertions import VerifiedAssertion

#: Expired entries are swept at most this often per process; they are harmless until then.
SWEEP_INTERVAL_SECONDS = 60.0
_last_sweep = 0.0
_sweep_lock = threading.Lock()


def _sweep_due() -> bool:
    global _last_sweep
    with _sweep_lock:
        now = time.monotonic()
        if now - _last_sweep < SWEEP_INTERVAL_SECONDS:
            return False
        _last_sweep = now
        return True


def consume(
    session: Session, assertion: VerifiedAssertion, *, now: datetime, skew: timedelta
) -> None:
    """Record ``assertion.jti`` in the caller's transaction; ReplayError if it was seen before."""
    if _sweep_due():
        session.execute(delete(SeenAssertion).where(SeenAssertion.expires_at < now - skew))
    seen = session.execute(
        select(SeenAssertion.jti).where(
            SeenAssertion.issuer == assertion.caller, SeenAssertion.jti == assertion.jti
        )
    ).first()
    if seen is not None:
        raise ReplayError("this assertion (jti) was used before; sign a new one for every call")
    session.add(
        SeenAssertion(issuer=assertion.caller, jti=assertion.jti, expires_at=assertion.expires_at)
    )
