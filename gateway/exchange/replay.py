"""The replay guard for client assertions, shared by every worker through the database.

A ``jti`` is kept until its assertion expires (plus the clock skew). ``consume`` refuses a ``jti``
already stored. The check is the insert itself (``ON CONFLICT DO NOTHING``): of two workers that
see the same token at the same instant, the second waits for the first's transaction and inserts
nothing, which is a replay.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from gateway.errors import ReplayError
from gateway.store.models import SeenAssertion, table_of
from gateway.store.upsert import insert_if_absent
from gateway.trust.assertions import VerifiedAssertion

#: Expired entries are swept at most this often per process; they are harmless until then.
SWEEP_INTERVAL_SECONDS = 60.0
_last_sweep = 0.0
_sweep_lock = threading.Lock()
_SEEN = table_of(SeenAssertion)


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
        session.execute(delete(_SEEN).where(_SEEN.c.expires_at < now - skew))
    row = {"issuer": assertion.caller, "jti": assertion.jti, "expires_at": assertion.expires_at}
    if not insert_if_absent(session, _SEEN, row):
        raise ReplayError("this assertion (jti) was used before; sign a new one for every call")
