"""Sessions held by the server: who is signed in, on which door, until when.

A session is opened by a sign-in with a password (the pages, ``gateway login``, or
``POST /v1/officer-sessions`` by an operator system for one of its officers) and named by a
random token that only its holder has; the database keeps the token's SHA-256, never the token.
A session answers for its account while all of these hold:

- it has not been ended (sign-out, ``gateway accounts end-session``, or a new password, a change
  of roles or disabling of the account: :func:`gateway.people.end_sessions`);
- it was used within ``session_idle_seconds`` and opened within ``session_lifetime_seconds``;
- it is presented on the door it was opened for (``web``, ``cli``, ``api``), and an ``api``
  session by the operator system that opened it;
- the account is still active.

Every opening and ending is an audit event (``<kind>:session:opened|closed|ended``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.errors import NotFoundError
from gateway.people import Person, person_of
from gateway.store.db import Database
from gateway.store.models import Account, AccountSession

KINDS = ("web", "cli", "api")
#: A session's last use is written at most this often (a busy page costs no write per request).
_TOUCH_EVERY = timedelta(seconds=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Opened:
    """A new session: the token for its holder (shown once) and when it ends at the latest."""

    token: str
    session_id: int
    expires_at: datetime


class Sessions:
    def __init__(self, database: Database, *, idle_seconds: int, lifetime_seconds: int) -> None:
        self._db = database
        self._idle = timedelta(seconds=idle_seconds)
        self._lifetime = timedelta(seconds=lifetime_seconds)

    def open(self, person: Person, *, kind: str, via: str | None, now: datetime) -> Opened:
        """A session for ``person`` on door ``kind``, audited in the same transaction."""
        if kind not in KINDS:
            raise ValueError(f"a session is one of {KINDS}")
        token = secrets.token_urlsafe(32)
        with self._db.transaction() as session:
            row = AccountSession(
                token_sha256=_digest(token),
                username=person.username,
                kind=kind,
                via=(via or "")[:128] or None,
                created_at=now,
                last_seen_at=now,
                expires_at=now + self._lifetime,
            )
            session.add(row)
            session.flush()
            _log(session, f"{kind}:session:opened", f"user:{person.username}", now, row, {})
            return Opened(token, row.id, row.expires_at)

    def person(
        self, token: str | None, *, kind: str, now: datetime, via: str | None = None
    ) -> Person | None:
        """The active account whose live session ``token`` is, on door ``kind`` (and, for an
        ``api`` session, opened by operator system ``via``); None otherwise. A session found idle
        or past its lifetime is ended here."""
        if not token:
            return None
        with self._db.transaction() as session:
            row = session.execute(
                select(AccountSession).where(AccountSession.token_sha256 == _digest(token))
            ).scalar_one_or_none()
            if row is None or row.ended_at is not None or row.kind != kind:
                return None
            if kind == "api" and row.via != via:
                return None
            if now >= row.expires_at or now - row.last_seen_at > self._idle:
                because = "expired" if now >= row.expires_at else "idle"
                row.ended_at, row.ended_because = now, because
                _log(session, f"{kind}:session:ended", "system:sessions", now, row, {})
                return None
            account = session.execute(
                select(Account).where(Account.username == row.username)
            ).scalar_one_or_none()
            if account is None or not account.active:
                return None
            if now - row.last_seen_at >= _TOUCH_EVERY:
                row.last_seen_at = now
            return person_of(account)

    def close(self, token: str | None, *, now: datetime) -> bool:
        """Sign-out: end the session ``token`` names; whether there was one open."""
        if not token:
            return False
        with self._db.transaction() as session:
            row = session.execute(
                select(AccountSession).where(AccountSession.token_sha256 == _digest(token))
            ).scalar_one_or_none()
            if row is None or row.ended_at is not None:
                return False
            row.ended_at, row.ended_because = now, "signed-out"
            _log(session, f"{row.kind}:session:closed", f"user:{row.username}", now, row, {})
            return True

    def end(self, session_id: int, *, actor: str, now: datetime) -> None:
        """An admin ends a session by its id (``gateway accounts end-session``)."""
        with self._db.transaction() as session:
            row = session.get(AccountSession, session_id)
            if row is None:
                raise NotFoundError(f"no session {session_id}")
            if row.ended_at is None:
                row.ended_at, row.ended_because = now, "ended-by-admin"
                _log(session, f"{row.kind}:session:ended", actor, now, row, {})

    def listing(
        self, *, now: datetime, username: str | None = None, include_ended: bool = False
    ) -> list[dict[str, Any]]:
        """Sessions, the newest first: open ones (still within their limits) unless
        ``include_ended``. Never the token."""
        with self._db.transaction() as session:
            query = select(AccountSession).order_by(AccountSession.id.desc())
            if username:
                query = query.where(AccountSession.username == username)
            if not include_ended:
                query = query.where(
                    AccountSession.ended_at.is_(None),
                    AccountSession.expires_at > now,
                    AccountSession.last_seen_at >= now - self._idle,
                )
            return [
                {
                    "id": row.id,
                    "username": row.username,
                    "kind": row.kind,
                    "via": row.via,
                    "created_at": row.created_at.isoformat(),
                    "last_seen_at": row.last_seen_at.isoformat(),
                    "expires_at": row.expires_at.isoformat(),
                    **({"ended_at": row.ended_at.isoformat()} if row.ended_at else {}),
                    **({"ended_because": row.ended_because} if row.ended_because else {}),
                }
                for row in session.execute(query.limit(1000)).scalars()
            ]


def _log(
    session: Session,
    tag: str,
    actor: str,
    now: datetime,
    row: AccountSession,
    detail: dict[str, Any],
) -> None:
    audit_log.append(
        session,
        audit_log.Event(
            tag=tag,
            occurred_at=now,
            actor=actor,
            detail={
                "session": row.id,
                "account": row.username,
                **({"via": row.via} if row.via else {}),
                **({"because": row.ended_because} if row.ended_because else {}),
                **detail,
            },
        ),
    )
