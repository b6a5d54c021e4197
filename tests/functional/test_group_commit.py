"""Group commit (gateway/store/group_commit.py) on SQLite and PostgreSQL: jobs that arrive together
share one commit, each keeps its own outcome, a failing job undoes only its own writes, and a
failed transaction keeps nothing of its batch. And SQLite's writers of several processes queue on
one lock file (gateway/store/db.py)."""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.audit import log as audit_log
from gateway.audit.hashing import GENESIS, chain_hash, leaf_hash
from gateway.errors import RequestInvalidError, StoreUnavailableError
from gateway.store.db import Database, translate_error
from gateway.store.group_commit import GroupCommit
from gateway.store.models import AuditEvent, SeenAssertion


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    with Database(database_url) as db:
        yield db


@pytest.fixture
def postgres(postgres_database: str) -> Iterator[Database]:
    """The PostgreSQL database alone, for faults only it can show."""
    from tests.conftest import _reset_postgres

    _reset_postgres(postgres_database)
    with Database(postgres_database) as db:
        yield db


@pytest.fixture
def commits(database: Database) -> list[int]:
    """One entry per COMMIT the engine sends (savepoint releases are not commits)."""
    seen: list[int] = []
    event.listen(database.engine, "commit", lambda _connection: seen.append(1))
    return seen


def appending(n: int) -> Callable[[Session], int]:
    """A job that appends audit event ``n`` and returns its log index."""

    def job(session: Session) -> int:
        leaf = audit_log.append(
            session,
            audit_log.Event(
                tag="test:group-commit:appended",
                occurred_at=datetime.now(UTC),
                actor="test",
                detail={"n": n},
            ),
        )
        return leaf.log_index

    return job


def stored_ns(database: Database) -> list[int]:
    """The ``n`` of every stored test event, in log order; the chain re-computed on the way."""
    with database.transaction() as session:
        events = session.execute(select(AuditEvent).order_by(AuditEvent.log_index)).scalars()
        chain, ns = GENESIS, []
        for index, stored in enumerate(events):
            assert stored.log_index == index  # no gap
            chain = chain_hash(chain, leaf_hash(stored.entry))
            assert stored.chain_hash == chain
            ns.append(stored.detail["n"])
    return ns


def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def batch_behind_a_blocker(
    group: GroupCommit, jobs: list[Callable[[Session], Any]]
) -> tuple[Future[Any], list[Future[Any]]]:
    """Submit a first job that holds its batch open until ``jobs`` are all queued behind it, so
    that they form the next batch together; returns the futures (blocker, jobs)."""
    started, release = threading.Event(), threading.Event()

    def blocker(session: Session) -> int:
        started.set()
        release.wait(timeout=30)
        return appending(-1)(session)

    pool = ThreadPoolExecutor(max_workers=len(jobs) + 1)
    first = pool.submit(group.run, blocker)
    assert started.wait(timeout=30)  # the blocker's batch is running
    futures = []
    for job in jobs:
        futures.append(pool.submit(group.run, job))
        expected = len(futures)
        wait_until(lambda expected=expected: group.waiting == expected)  # queued in order
    release.set()
    pool.shutdown(wait=True)
    return first, futures


def test_a_lone_job_commits_at_once(database, commits):
    assert database.grouped(appending(0)) == 0
    assert len(commits) == 1
    assert stored_ns(database) == [0]


def test_a_lone_failing_job_rolls_back_without_a_savepoint_and_keeps_nothing(database, commits):
    savepoints: list[str] = []
    event.listen(database.engine, "savepoint", lambda _connection, name: savepoints.append(name))

    def fails_after_writing(session: Session) -> int:
        appending(99)(session)
        raise ValueError("this job's own fault")

    with pytest.raises(ValueError, match="own fault"):
        database.grouped(fails_after_writing)
    assert commits == []  # rolled back whole: it was the only job of its transaction
    assert database.grouped(appending(0)) == 0  # no gap left by the failed job's leaf
    assert savepoints == []
    assert stored_ns(database) == [0]


def test_jobs_that_queue_while_the_leader_opens_its_transaction_join_its_batch(database, commits):
    """The leader takes its batch once its transaction is open (SQLite: once it holds the write
    lock), so the jobs that arrived while it waited commit with it."""
    may_open = threading.Event()

    @contextmanager
    def slow_to_open() -> Iterator[Session]:
        assert may_open.wait(timeout=30)  # as a writer waits for another process's lock
        with database.transaction() as session:
            yield session

    group = GroupCommit(slow_to_open, translate_error)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(group.run, appending(0))]
        wait_until(lambda: group.waiting == 1)  # the leader's own job, not taken yet
        for n in range(1, 4):
            futures.append(pool.submit(group.run, appending(n)))
            wait_until(lambda n=n: group.waiting == n + 1)
        may_open.set()
        assert sorted(f.result(timeout=30) for f in futures) == [0, 1, 2, 3]
    assert len(commits) == 1
    assert stored_ns(database) == [0, 1, 2, 3]


def test_jobs_that_arrive_together_share_one_commit(database, commits):
    group = GroupCommit(database.transaction, translate_error)
    first, futures = batch_behind_a_blocker(group, [appending(n) for n in range(5)])
    assert first.result() == 0
    assert [f.result() for f in futures] == [1, 2, 3, 4, 5]  # each its own outcome, in order
    assert len(commits) == 2  # the blocker's batch, then the five together
    assert stored_ns(database) == [-1, 0, 1, 2, 3, 4]


def test_a_batch_holds_at_most_max_batch_jobs(database, commits):
    group = GroupCommit(database.transaction, translate_error, max_batch=2)
    _, futures = batch_behind_a_blocker(group, [appending(n) for n in range(5)])
    assert [f.result() for f in futures] == [1, 2, 3, 4, 5]
    assert len(commits) == 1 + 3  # five queued jobs in batches of two, two and one


def test_a_failing_job_undoes_only_its_own_writes(database, commits):
    def fails_after_writing(session: Session) -> int:
        appending(99)(session)
        raise ValueError("this job's own fault")

    group = GroupCommit(database.transaction, translate_error)
    _, (before, failing, after) = batch_behind_a_blocker(
        group, [appending(0), fails_after_writing, appending(1)]
    )
    assert before.result() == 1
    with pytest.raises(ValueError, match="own fault"):
        failing.result()
    assert after.result() == 2  # the failed job's leaf was rolled back: no gap
    assert len(commits) == 2
    assert stored_ns(database) == [-1, 0, 1]


def test_a_duplicate_key_fails_only_its_own_job(database):
    """What the inbound path relies on when another worker stored the same message a moment ago:
    the job sees the IntegrityError, its neighbours commit."""
    row = {"issuer": "KR", "jti": "jti-duplicate", "expires_at": datetime.now(UTC)}

    def inserts_the_same_jti(session: Session) -> None:
        session.connection().execute(insert(SeenAssertion.__table__), row)

    database.grouped(inserts_the_same_jti)
    group = GroupCommit(database.transaction, translate_error)
    _, (before, duplicate, after) = batch_behind_a_blocker(
        group, [appending(0), inserts_the_same_jti, appending(1)]
    )
    assert (before.result(), after.result()) == (1, 2)
    with pytest.raises(IntegrityError):
        duplicate.result()
    assert stored_ns(database) == [-1, 0, 1]


@pytest.mark.postgres
def test_a_value_the_database_cannot_hold_fails_only_its_job(postgres):
    """PostgreSQL refuses a NUL in text (DataError): the job gets the same error a transaction of
    its own would raise, and its neighbours commit."""

    def stores_a_nul(session: Session) -> None:
        row = {"issuer": "KR", "jti": "nul\x00here", "expires_at": datetime.now(UTC)}
        session.connection().execute(insert(SeenAssertion.__table__), row)

    group = GroupCommit(postgres.transaction, translate_error)
    _, (before, refused, after) = batch_behind_a_blocker(
        group, [appending(0), stores_a_nul, appending(1)]
    )
    assert (before.result(), after.result()) == (1, 2)
    with pytest.raises(RequestInvalidError):
        refused.result()
    assert stored_ns(postgres) == [-1, 0, 1]


@pytest.mark.postgres
def test_a_lost_connection_fails_every_job_of_its_batch_and_keeps_nothing(postgres):
    def loses_the_connection(session: Session) -> None:
        session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    group = GroupCommit(postgres.transaction, translate_error)
    first, futures = batch_behind_a_blocker(
        group, [appending(0), loses_the_connection, appending(1)]
    )
    assert first.result() == 0
    errors = []
    for future in futures:
        with pytest.raises(StoreUnavailableError) as raised:
            future.result()
        errors.append(raised.value)
    # each submitter its own error object: they annotate it (message ids) independently
    assert len({id(error) for error in errors}) == 3
    assert stored_ns(postgres) == [-1]  # nothing of the failed batch
    assert group.run(appending(2)) == 1  # and the next batch works, no restart


def test_many_threads_each_get_their_own_outcome(database):
    threads, each = 8, 25
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = {n: pool.submit(database.grouped, appending(n)) for n in range(threads * each)}
        indexes = {n: future.result(timeout=120) for n, future in futures.items()}
    assert sorted(indexes.values()) == list(range(threads * each))
    ns = stored_ns(database)
    assert sorted(ns) == sorted(futures)
    assert all(ns[index] == n for n, index in indexes.items())  # each got its own leaf's index


def test_replayed_assertion_in_the_same_batch_is_refused(database):
    """Two jobs of one batch consuming the same jti: the second is a replay."""
    from gateway.errors import ReplayError
    from gateway.exchange import replay
    from gateway.trust.assertions import VerifiedAssertion

    now = datetime.now(UTC)
    assertion = VerifiedAssertion("KR", "jti-once-only", now, now + timedelta(minutes=2), "k")

    def consumes(session: Session) -> None:
        replay.consume(session, assertion, now=now, skew=timedelta(seconds=60))

    group = GroupCommit(database.transaction, translate_error)
    _, (once, twice) = batch_behind_a_blocker(group, [consumes, consumes])
    assert once.result() is None
    with pytest.raises(ReplayError):
        twice.result()


def test_a_job_that_submits_another_is_refused_not_deadlocked(database):
    def nests(session: Session) -> None:
        database.grouped(appending(1))

    with pytest.raises(RuntimeError, match="cannot submit another"):
        database.grouped(nests)
    assert database.grouped(appending(2)) == 0  # nothing of it kept; the next job runs


def test_a_refused_commit_reaches_every_job_and_keeps_nothing(database):
    class CommitRefused(Exception):
        def __init__(self, *, why: str) -> None:  # keyword-only: copy.copy cannot rebuild it
            super().__init__()
            self.why = why

    @contextmanager
    def refusing_commit() -> Iterator[Session]:
        with database.transaction() as session:
            yield session
            raise CommitRefused(why="refused at commit")  # the transaction rolls back

    group = GroupCommit(refusing_commit, translate_error)
    first, futures = batch_behind_a_blocker(group, [appending(0), appending(1)])
    for future in [first, *futures]:
        with pytest.raises(CommitRefused):
            future.result()
    assert stored_ns(database) == []


def test_sqlite_writers_of_other_processes_queue_on_the_lock_file(tmp_path, sqlite_template):
    """Worker processes and the CLI wait on an flock of ``<file>.write-lock`` (woken when it is
    free) rather than in SQLite's busy handler, which sleeps up to 100 ms at a time."""
    path = tmp_path / "gateway.sqlite3"
    shutil.copy(sqlite_template, path)
    with Database(f"sqlite:///{path}") as database:
        with database.transaction() as session:
            appending(0)(session)
            # another open file description: what another process holds
            other = os.open(f"{path}.write-lock", os.O_RDWR)
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once the transaction ended
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
        assert stored_ns(database) == [0]


def test_a_writer_that_cannot_get_the_sqlite_lock_is_told_the_store_is_busy(tmp_path):
    """A holder that keeps the lock (a long CLI job, another process stuck) makes the next writer
    fail as SQLite's busy timeout would, not wait for ever."""
    from gateway.store.db import SqliteWriteLock

    path = str(tmp_path / "gateway.sqlite3")
    holder = SqliteWriteLock(path)  # its own descriptor, as another process has
    with (
        holder,
        pytest.raises(StoreUnavailableError, match="busy"),
        SqliteWriteLock(path, timeout=0.2),
    ):
        pass
    with SqliteWriteLock(path, timeout=0.2):  # free again
        pass
