"""Who read what: officers opening cases, auditors searching the log, batched per person.

A read names what was read (its kind, its ids) and the filters of a search, never the data the
page or the answer showed. Reads are kept in memory per person and written as one audit event
``<role>:reads:recorded`` per person (its ``detail.reads`` lists them) when the person has
:data:`MAX_BATCH` waiting, when the oldest has waited ``flush_seconds`` (the lifespan task and the
next read both check), and when the worker stops; so a busy officer costs one row a minute, not
one per page. A batch that cannot be written is kept and written with the next.

Reads that carry their own weight are still written one by one, in the transaction of the read:
a message's journey (``auditor:message:read``), an export (``auditor:audit-log:exported``), a
certificate lookup (``officer:certificate-of-origin:looked-up``). :func:`reads_of` lists both
kinds for one person.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.audit import log as audit_log
from gateway.audit.queries import EventQuery, search_events
from gateway.store.db import Database

logger = logging.getLogger(__name__)
#: Reads of one person written as one event at the latest.
MAX_BATCH = 100
TAG_SUFFIX = ":reads:recorded"
#: Reads written one by one where they happen.
SINGLE_READ_TAGS = (
    "auditor:message:read",
    "auditor:audit-log:exported",
    "officer:certificate-of-origin:looked-up",
)


@dataclass
class _Batch:
    actor: str
    opened: float
    reads: list[dict[str, Any]] = field(default_factory=list)

    def event(self) -> audit_log.Event:
        return audit_log.Event(
            tag=self.actor.partition(":")[0] + TAG_SUFFIX,
            occurred_at=datetime.fromisoformat(self.reads[-1]["at"]),
            actor=self.actor,
            detail={"count": len(self.reads), "reads": self.reads},
        )


class ReadLog:
    """Batches reads per person and appends them to the audit log; thread-safe."""

    def __init__(
        self,
        database: Database,
        *,
        flush_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = database
        self._flush_seconds = flush_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._batches: dict[str, _Batch] = {}

    def record(
        self,
        actor: str,
        what: str,
        *,
        now: datetime | None = None,
        **names: Any,
    ) -> None:
        """``actor`` (``officer:tanaka``) read a ``what`` (``case``, ``case-preview``,
        ``events``, …) named by ``names`` (ids, a search's filters: never personal data)."""
        read = {
            "at": (now or datetime.now(UTC)).isoformat(),
            "what": what,
            **{k: v for k, v in names.items() if v not in (None, "", (), [])},
        }
        with self._lock:
            batch = self._batches.setdefault(actor, _Batch(actor, self._monotonic()))
            batch.reads.append(read)
            full = len(batch.reads) >= MAX_BATCH
        if full:
            self.flush(actor=actor)
        else:
            self.flush(due_only=True)

    def flush(self, *, due_only: bool = False, actor: str | None = None) -> int:
        """Write the batches waiting (only those older than ``flush_seconds`` if ``due_only``;
        only ``actor``'s if given); how many events were written."""
        with self._lock:
            horizon = self._monotonic() - self._flush_seconds if due_only else float("inf")
            taken = [
                b
                for b in self._batches.values()
                if b.opened <= horizon and (actor is None or b.actor == actor)
            ]
            for batch in taken:
                del self._batches[batch.actor]
        if not taken:
            return 0
        try:
            self._db.grouped(
                lambda session: audit_log.append_all(session, [b.event() for b in taken])
            )
        except Exception:
            logger.exception("could not write the reads of %d people; kept for later", len(taken))
            with self._lock:
                for batch in taken:
                    later = self._batches.pop(batch.actor, None)
                    if later is not None:
                        batch.reads += later.reads
                    self._batches[batch.actor] = batch
            return 0
        return len(taken)


def reads_of(
    database: Database, actor: str, *, start: datetime | None = None, end: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Every read ``actor`` made between ``start`` and ``end``, in the order of the log: the
    batched ones unpacked, the single ones as they are."""
    after = -1
    while True:
        events = search_events(
            database, EventQuery(actor=actor, start=start, end=end, after=after, limit=500)
        )
        for event in events:
            if event["tag"].endswith(TAG_SUFFIX):
                for read in event.get("detail", {}).get("reads", []):
                    yield {"log_index": event["log_index"], **read}
            elif event["tag"] in SINGLE_READ_TAGS:
                yield {
                    "log_index": event["log_index"],
                    "at": event["occurred_at"],
                    "what": event["tag"].split(":")[1],
                    **({"message_id": event["message_id"]} if event.get("message_id") else {}),
                }
        if len(events) < 500:
            return
        after = events[-1]["log_index"]


def as_mapping(names: Mapping[str, Any]) -> dict[str, Any]:
    """A search's filters as a read records them (strings; empty ones left out)."""
    return {k: str(v) for k, v in names.items() if v not in (None, "", -1)}
