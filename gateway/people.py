"""People and their roles: local accounts with argon2id password hashes (argon2-cffi).

Roles: ``officer`` (works cases), ``supervisor`` (also approves: the second officer of four
eyes), ``analyst`` (RILO trend reports), ``auditor`` (the exchange log), ``admin`` (accounts).
A person may hold several. A disabled account signs in nowhere; an account without a password
signs in only through a trusted single-sign-on header. Every change is an audit event, and a
new password, a change of roles or disabling ends every session the account holds
(:mod:`gateway.sessions`), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.errors import ConflictError, DocumentError, NotFoundError
from gateway.store.db import Database
from gateway.store.models import Account, AccountSession

ROLES = ("officer", "supervisor", "analyst", "auditor", "admin")
MIN_PASSWORD_LENGTH = 12
USERNAME_PATTERN = "abcdefghijklmnopqrstuvwxyz0123456789._-"
_HASHER = PasswordHasher()  # argon2id with the library's current parameters
# Verified against when the username is unknown, so that the answer takes as long either way.
_DUMMY_HASH = _HASHER.hash("not a password of anyone's")


@dataclass(frozen=True)
class Person:
    """Who is acting: an active account's name and roles (read afresh on every request)."""

    username: str
    display_name: str
    roles: frozenset[str]

    def actor(self, role: str) -> str:
        """How the audit log names this person acting in ``role`` (``officer:tanaka``)."""
        return f"{role}:{self.username}"

    @property
    def case_role(self) -> str:
        return "supervisor" if "supervisor" in self.roles else "officer"


def person_of(account: Account) -> Person:
    return Person(account.username, account.display_name, frozenset(account.roles))


def _check_roles(roles: Iterable[str]) -> list[str]:
    chosen = sorted(set(roles))
    unknown = [r for r in chosen if r not in ROLES]
    if unknown or not chosen:
        raise DocumentError(f"roles are one or more of {', '.join(ROLES)}; not {unknown}")
    return chosen


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DocumentError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")


def end_sessions(session: Session, username: str, *, because: str, now: datetime) -> int:
    """End every open session of ``username`` (in the caller's transaction); how many."""
    result = session.execute(
        update(AccountSession)
        .where(AccountSession.username == username, AccountSession.ended_at.is_(None))
        .values(ended_at=now, ended_because=because)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class Accounts:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create(
        self,
        username: str,
        *,
        roles: Iterable[str],
        display_name: str,
        password: str | None,
        actor: str,
        now: datetime,
    ) -> Person:
        if not username or any(c not in USERNAME_PATTERN for c in username) or len(username) > 64:
            raise DocumentError("a username is 1-64 of a-z, 0-9, '.', '_', '-'")
        chosen = _check_roles(roles)
        if password is not None:
            _check_password(password)
        with self._db.transaction() as session:
            if self._find(session, username) is not None:
                raise ConflictError(f"the account {username} exists")
            account = Account(
                username=username,
                display_name=display_name or username,
                password_hash=_HASHER.hash(password) if password is not None else None,
                roles=chosen,
                active=True,
                created_at=now,
            )
            session.add(account)
            self._log(session, "admin:account:created", actor, now, username, {"roles": chosen})
            return person_of(account)

    def set_password(self, username: str, password: str, *, actor: str, now: datetime) -> None:
        _check_password(password)
        with self._db.transaction() as session:
            account = self._existing(session, username)
            account.password_hash = _HASHER.hash(password)
            ended = end_sessions(session, username, because="password-changed", now=now)
            self._log(session, "admin:account:password-set", actor, now, username, {"ended": ended})

    def set_roles(
        self, username: str, roles: Iterable[str], *, actor: str, now: datetime
    ) -> Person:
        chosen = _check_roles(roles)
        with self._db.transaction() as session:
            account = self._existing(session, username)
            before = list(account.roles)
            account.roles = chosen
            ended = end_sessions(session, username, because="roles-changed", now=now)
            self._log(
                session,
                "admin:account:roles-changed",
                actor,
                now,
                username,
                {"from": before, "to": chosen, "ended": ended},
            )
            return person_of(account)

    def disable(self, username: str, *, actor: str, now: datetime) -> None:
        with self._db.transaction() as session:
            self._existing(session, username).active = False
            ended = end_sessions(session, username, because="disabled", now=now)
            self._log(session, "admin:account:disabled", actor, now, username, {"ended": ended})

    def authenticate(self, username: str, password: str, *, now: datetime) -> Person | None:
        """The person if the password is theirs and the account active; None otherwise (in
        about the same time whether or not the account exists)."""
        with self._db.transaction() as session:
            account = self._find(session, username)
            stored = account.password_hash if account is not None else None
            try:
                _HASHER.verify(stored or _DUMMY_HASH, password)
            except (VerificationError, InvalidHashError):
                return None
            if account is None or stored is None or not account.active:
                return None
            if _HASHER.check_needs_rehash(stored):
                account.password_hash = _HASHER.hash(password)
            account.last_sign_in_at = now
            return person_of(account)

    def person(self, username: str) -> Person | None:
        """The active account ``username`` (None if absent or disabled)."""
        with self._db.transaction() as session:
            account = self._find(session, username)
            return person_of(account) if account is not None and account.active else None

    def all(self) -> list[tuple[Person, bool]]:
        with self._db.transaction() as session:
            return [
                (person_of(a), a.active)
                for a in session.execute(select(Account).order_by(Account.username)).scalars()
            ]

    def _find(self, session: Session, username: str) -> Account | None:
        found: Account | None = session.execute(
            select(Account).where(Account.username == username)
        ).scalar_one_or_none()
        return found

    def _existing(self, session: Session, username: str) -> Account:
        account = self._find(session, username)
        if account is None:
            raise NotFoundError(f"no account {username}")
        return account

    def _log(
        self,
        session: Session,
        tag: str,
        actor: str,
        now: datetime,
        username: str,
        detail: dict[str, object],
    ) -> None:
        audit_log.append(
            session,
            audit_log.Event(
                tag=tag, occurred_at=now, actor=actor, detail={"account": username, **detail}
            ),
        )
