"""Group commit: writes that arrive together share one transaction and one commit.

A commit is the costly part of a small write: BEGIN, the commit itself and (SQLite
``synchronous=FULL``, PostgreSQL's WAL flush) an fsync. When several request threads of one
process write at the same moment, the first becomes the *leader*: it takes every job queued so far
(and those that arrive while it waits for the write lock), runs each in a SAVEPOINT of one
transaction (a batch of one needs none), commits once and hands each job's outcome back to its
thread. Jobs that arrive while a batch runs wait for the next one, whose leader is the first of
them. A lone job is a batch of one: nothing waits for company.

Contract for a job: ``job(session)`` may read and write through ``session`` and return a value or
raise; it must not commit, open another transaction on the same database, or depend on the thread
it runs on (the leader runs it). Its own exception rolls back its own writes only (its savepoint;
the transaction when it is alone) and is raised in its submitter's thread. A failure of the
transaction itself (the database lost, the commit refused) reaches every job of the batch, and
nothing of the batch is kept.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

T = TypeVar("T")
Job = Callable[[Session], T]


@dataclass(eq=False)
class _Slot(Generic[T]):
    job: Job[T]
    done: threading.Event = field(default_factory=threading.Event)
    #: Set when this slot's thread is to lead the next batch rather than collect an outcome.
    lead: bool = False
    result: T | None = None
    error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


def database_lost(error: BaseException) -> bool:
    """The database cannot be reached, or the connection was lost, in ``error`` itself."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def _breaks_transaction(error: BaseException | None) -> bool:
    """The connection or the transaction is gone (here or in what led to this error, such as a
    failed rollback to the savepoint): nothing more can run in this transaction."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if database_lost(error):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _own_copy(error: BaseException) -> BaseException:
    """A copy of ``error`` for one submitter (they annotate their errors: message ids), or the
    error itself if it cannot be copied."""
    try:
        copied = copy.copy(error)
    except Exception:  # an exception whose constructor does not take its own args back
        return error
    copied.__cause__ = error.__cause__
    return copied


class GroupCommit:
    """Runs jobs in shared transactions, at most ``max_batch`` jobs to a transaction.

    ``transaction`` opens one transaction (committed when its block ends without an exception)
    and translates database failures into the gateway's errors; ``translate`` maps one job's
    database error the same way."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Session]],
        translate: Callable[[Exception], Exception],
        *,
        max_batch: int = 64,
    ) -> None:
        self._transaction = transaction
        self._translate = translate
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Slot[Any]] = []
        self._leading = False
        self._in_batch = threading.local()

    @property
    def waiting(self) -> int:
        """Jobs queued and not yet in a batch (a leader's own job is until its transaction
        opens)."""
        with self._lock:
            return len(self._queue)

    def run(self, job: Job[T]) -> T:
        """``job(session)``'s return value once the transaction it ran in has committed.

        RuntimeError if called from inside a job (it would wait for the batch it is part of)."""
        if getattr(self._in_batch, "active", False):
            raise RuntimeError("a grouped job cannot submit another: use the session it was given")
        slot: _Slot[T] = _Slot(job)
        with self._lock:
            self._queue.append(slot)
            leader = not self._leading
            self._leading = True
        if not leader:
            slot.done.wait()
            if not slot.lead:
                return slot.outcome()
            slot.done.clear()
        self._lead()
        slot.done.wait()
        return slot.outcome()

    def _lead(self) -> None:
        """Run one batch, then hand the lead to the first job that arrived meanwhile."""
        batch: list[_Slot[Any]] = []
        try:
            self._run_batch(batch)
        finally:
            with self._lock:
                following = self._queue[0] if self._queue else None
                self._leading = following is not None
            for slot in batch:
                slot.done.set()
            if following is not None:
                following.lead = True
                following.done.set()

    def _take(self, batch: list[_Slot[Any]]) -> None:
        """Move the first ``max_batch`` queued jobs into ``batch`` (the leader's own is first)."""
        with self._lock:
            batch.extend(self._queue[: self._max_batch])
            del self._queue[: self._max_batch]

    def _run_batch(self, batch: list[_Slot[Any]]) -> None:
        """Fill ``batch`` and run it; every slot of it holds its outcome when this returns."""
        self._in_batch.active = True
        try:
            with self._transaction() as session:
                # Taken once the transaction is open (it may have waited for the write lock):
                # the jobs that queued meanwhile join this batch instead of waiting for the next.
                self._take(batch)
                for slot in batch:
                    self._run_job(session, slot, alone=len(batch) == 1)
        except BaseException as error:  # the transaction failed: nothing of the batch is kept
            if not batch:  # it could not even open: the jobs queued so far share its failure
                self._take(batch)
            for slot in batch:
                if slot.error is None or _breaks_transaction(slot.error):
                    slot.error = _own_copy(error)
                slot.result = None
        finally:
            self._in_batch.active = False

    def _run_job(self, session: Session, slot: _Slot[Any], *, alone: bool) -> None:
        """Run one job, in a savepoint unless it is ``alone`` in its batch (a savepoint costs
        0.15-0.45 ms of a message's 2 ms, ADR 12): a lone job's failure rolls the whole
        transaction back instead, which holds only it. A failure that breaks the transaction is
        raised to the batch."""
        try:
            with nullcontext() if alone else session.begin_nested():
                slot.result = slot.job(session)
        except Exception as error:
            breaks = _breaks_transaction(error)
            slot.error = error if breaks else self._translate(error)
            if breaks or alone:
                raise
