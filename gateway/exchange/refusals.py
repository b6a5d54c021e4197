"""Recording refusals: the only trace a refused message leaves (PROTOCOL §4).

Every refusal is recorded. Those nobody is accountable for would let anyone who reaches the port
grow the log without bound, so these are recorded one by one only within an allowance of
their source, and beyond it as counts:

* a call that did not authenticate (its source: the client's address);
* a partner's call refused for its rate limit (its source: the partner);
* a refused sign-in on the pages (a wrong password or account, too many attempts; its source:
  the client's address, with an allowance apart from its API calls').

The counts of a source go into one ``partner:excess:refused`` (``web:excess:refused`` for the
pages) event (how many, of which problems, subjects and paths, between which times, the last
instance) written every summary interval, at shutdown, and by the next refusal once one is due.
Every other refusal (an authenticated partner's message refused for its signature, form,
policy…) is recorded one by one: those are bounded by the partner's rate limit, and each
concerns a message someone may ask about.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.audit import log as audit_log
from gateway.errors import RateLimitedError
from gateway.exchange.inbound import Clock, utc_now
from gateway.store.db import Database

logger = logging.getLogger(__name__)

#: The tags of a source's refusals beyond its allowance, counted: the partner API's, the pages'.
EXCESS_TAG = "partner:excess:refused"
WEB_EXCESS_TAG = "web:excess:refused"
#: The problem of a partner over its rate limit (its refusals are counted beyond the allowance).
RATE_LIMITED = RateLimitedError.kind
#: Distinct paths named in one count (the rest are counted under ``other``): paths come from the
#: caller, and a count must stay small.
MAX_PATHS = 20
MAX_PATH_LENGTH = 200
#: Sources counted at once in a worker; the excess of any further source goes under ``other``.
MAX_SOURCES = 10_000
OTHER = "other"


@dataclass
class _Excess:
    """A source's refusals beyond its allowance, not yet written, for the event ``tag``
    (``EXCESS_TAG`` for the API, ``WEB_EXCESS_TAG`` for the pages)."""

    tag: str
    source: str
    partner: str | None
    first_at: datetime
    last_at: datetime
    last_instance: str | None
    opened: float
    count: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    subjects: Counter[str] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)

    @property
    def key(self) -> str:
        return _key(self.tag, self.source)

    def add(
        self, *, kind: str, subject: str, path: str, at: datetime, instance: str | None
    ) -> None:
        self.count += 1
        self.problems[kind] += 1
        self.subjects[subject] += 1
        self.paths[_bounded(self.paths, path[:MAX_PATH_LENGTH])] += 1
        self.last_at = at
        self.last_instance = instance

    def merge(self, later: _Excess) -> None:
        """Fold in ``later`` (counted since this was taken to be written)."""
        self.count += later.count
        self.problems.update(later.problems)
        self.subjects.update(later.subjects)
        for path, count in later.paths.items():
            self.paths[_bounded(self.paths, path)] += count
        self.last_at = later.last_at
        self.last_instance = later.last_instance

    def event(self) -> audit_log.Event:
        return audit_log.Event(
            tag=self.tag,
            occurred_at=self.last_at,
            actor=self.partner or "unauthenticated",
            partner=self.partner,
            detail={
                "source": self.source,
                "count": self.count,
                "first_at": self.first_at.isoformat(),
                "last_at": self.last_at.isoformat(),
                "problems": dict(self.problems),
                "subjects": dict(self.subjects),
                "paths": dict(self.paths),
                **({"last_instance": self.last_instance} if self.last_instance else {}),
            },
        )


class RefusalLog:
    """Appends refusals to the audit log; thread-safe.

    ``admits(source)`` spends one of the source's allowance of refusals recorded one by one
    (None: every refusal is); ``summary_seconds`` is how long a count may wait to be written;
    beyond ``max_sources`` sources counted at once, the excess is counted under ``other``.
    """

    def __init__(
        self,
        database: Database,
        clock: Clock = utc_now,
        *,
        admits: Callable[[str], bool] | None = None,
        summary_seconds: float = 60.0,
        max_sources: int = MAX_SOURCES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = database
        self._clock = clock
        self._admits = admits
        self._summary_seconds = summary_seconds
        self._max_sources = max_sources
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._excess: dict[str, _Excess] = {}
        #: When the oldest count waiting is due (monotonic): no scan of the counts before.
        self._next_due = math.inf

    def record(
        self,
        *,
        subject: str,
        kind: str,
        status: int,
        detail: str,
        caller: str | None,
        message_id: str | None,
        body_sha256: str | None,
        method: str,
        path: str,
        instance: str,
        rule: str | None = None,
        decision: Mapping[str, Any] | None = None,
        address: str | None = None,
    ) -> int | None:
        """Append ``<source>:<subject>:refused``, committed before this returns (in a transaction
        of its own or shared with other writes of the moment); returns its index, or None when
        the refusal was counted instead (beyond its source's allowance: module docstring).

        The source is the caller's kind for the gateway's own systems and auditors (callers
        ``operator:<name>``, ``auditor:<name>``), ``partner`` otherwise; only a partner's id goes
        in the event's partner field. ``address`` is the client's, for an unauthenticated call.
        """
        now = self._clock()
        counted_by = _counted_source(caller, kind, address)
        if counted_by is not None and self._counted(
            EXCESS_TAG,
            counted_by,
            caller,
            kind=kind,
            subject=subject,
            path=path,
            at=now,
            instance=instance,
        ):
            return None
        source = caller.split(":", 1)[0] if caller and ":" in caller else "partner"
        event = audit_log.Event(
            tag=f"{source}:{subject}:refused",
            occurred_at=now,
            actor=caller or "unauthenticated",
            partner=caller if source == "partner" else None,
            message_id=message_id,
            body_sha256=body_sha256,
            detail={
                "problem": kind,
                "status": status,
                "detail": detail,
                "method": method,
                "path": path,
                "instance": instance,
                **({"rule": rule} if rule else {}),
                **({"decision": dict(decision)} if decision else {}),
                **({"address": address} if caller is None and address else {}),
            },
        )
        # Group commit: refusals that come at once (a flood of bad calls) share a commit.
        return self._db.grouped(lambda session: audit_log.append(session, event).log_index)

    def record_sign_in_refusal(
        self, *, username: str, reason: str | None, address: str | None, path: str
    ) -> int | None:
        """Append ``web:session:refused`` for a sign-in refused at ``path`` (a wrong password
        or account; or ``reason``, e.g. too many attempts), within the allowance of the client's
        address; beyond it, count it into ``web:excess:refused`` and return None."""
        now = self._clock()
        if self._counted(
            WEB_EXCESS_TAG,
            f"address {address or 'unknown'}",
            None,
            kind="too-many-attempts" if reason else "sign-in-failed",
            subject="session",
            path=path,
            at=now,
            instance=None,
        ):
            return None
        event = audit_log.Event(
            tag="web:session:refused",
            occurred_at=now,
            actor="web",
            detail={
                "username": username[:64],
                **({"reason": reason} if reason else {}),
                **({"address": address} if address else {}),
            },
        )
        return self._db.grouped(lambda session: audit_log.append(session, event).log_index)

    def flush(self, *, due_only: bool = False) -> int:
        """Write the counts waiting (only those older than the summary interval if
        ``due_only``); returns how many events were written. A count that cannot be written
        now is kept for the next time (and the failure logged), never dropped."""
        with self._lock:
            now = self._monotonic()
            if due_only and now < self._next_due:
                return 0
            horizon = now - self._summary_seconds if due_only else math.inf
            taken = [e for e in self._excess.values() if e.opened <= horizon]
            for excess in taken:
                del self._excess[excess.key]
            self._next_due = min(
                (e.opened + self._summary_seconds for e in self._excess.values()),
                default=math.inf,
            )
        if not taken:
            return 0
        events = [excess.event() for excess in taken]
        try:
            self._db.grouped(lambda session: audit_log.append_all(session, events))
        except Exception:
            logger.exception("could not write %d refusal counts; kept for later", len(taken))
            with self._lock:
                for excess in taken:
                    later = self._excess.pop(excess.key, None)
                    if later is not None:
                        excess.merge(later)
                    self._excess[excess.key] = excess
                self._next_due = min(self._next_due, self._monotonic() + self._summary_seconds)
            return 0
        return len(events)

    def _counted(
        self,
        tag: str,
        source: str,
        caller: str | None,
        *,
        kind: str,
        subject: str,
        path: str,
        at: datetime,
        instance: str | None,
    ) -> bool:
        """Whether this refusal of ``source`` is past its allowance: then it is counted for
        ``tag`` (and the counts due are written), and is not to be recorded alone."""
        if self._admits is None or self._admits(_key(tag, source)):
            return False
        with self._lock:
            key = _key(tag, source)
            if key not in self._excess and len(self._excess) >= self._max_sources:
                source, caller, key = OTHER, None, _key(tag, OTHER)
            excess = self._excess.get(key)
            if excess is None:
                excess = _Excess(
                    tag=tag,
                    source=source,
                    partner=caller,
                    first_at=at,
                    last_at=at,
                    last_instance=instance,
                    opened=self._monotonic(),
                )
                self._excess[key] = excess
                self._next_due = min(self._next_due, excess.opened + self._summary_seconds)
            excess.add(kind=kind, subject=subject, path=path, at=at, instance=instance)
        self.flush(due_only=True)
        return True


def _key(tag: str, source: str) -> str:
    """Where a source's allowance and count are kept: its own for each kind of count."""
    return f"{tag} {source}"


def _bounded(paths: Counter[str], path: str) -> str:
    """``path``, or ``other`` once ``MAX_PATHS`` distinct paths are counted."""
    return path if path in paths or len(paths) < MAX_PATHS else OTHER


def _counted_source(caller: str | None, kind: str, address: str | None) -> str | None:
    """The source whose allowance this refusal spends, or None if it is always recorded."""
    if caller is None:
        return f"address {address or 'unknown'}"
    if kind == RATE_LIMITED and ":" not in caller:
        return f"partner {caller}"
    return None
