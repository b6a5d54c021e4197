"""Engine and transactions.

``Database.transaction()`` is the one way to write: everything inside commits together or not at
all (``Database.grouped()`` shares one such transaction among the writes of the moment). SQLite
runs in WAL mode with ``synchronous=FULL`` (an acknowledged message survives a power cut) and takes
its write lock at BEGIN, so concurrent writers queue instead of failing on lock upgrade; they queue
on :class:`SqliteWriteLock` first. A database that cannot be reached becomes
:class:`StoreUnavailableError`. A new SQLite file is created 0600 (its directory 0700) before SQLite
opens it, whatever the umask; SQLite gives its ``-wal``, ``-shm`` and ``-journal`` files the same
mode (:mod:`gateway.files`).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import RequestInvalidError, StoreUnavailableError
from gateway.files import create_private_file
from gateway.store.group_commit import GroupCommit, Job, T, database_lost


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite ``url``; None for an in-memory or URI-named database (or not
    SQLite)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or parsed.query.get("uri"):
        return None
    return Path(database)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" below issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # 64 MiB of page cache (the default is 2 MiB): the hub's rollups and indexes are
        # updated at random places on every batch, and re-reading evicted pages dominated.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


#: How long a writer waits for SQLite's write lock before the database counts as unavailable; the
#: same as the connection's ``busy_timeout`` below.
WRITE_LOCK_TIMEOUT_SECONDS = 30.0


class SqliteWriteLock:
    """The writers of one SQLite file, in a queue: this process's threads on a lock, and processes
    (uvicorn workers, the CLI beside a running gateway) on an ``flock`` of ``<file>.write-lock``.

    A waiter tries the file lock again at most 2 ms after it is freed (SQLite's own busy handler
    sleeps up to 100 ms a try), and gives up after ``timeout`` seconds with StoreUnavailableError,
    as SQLite's busy timeout would: a writer that holds on for minutes must not stall the others
    for as long."""

    def __init__(
        self, database: str | None, *, timeout: float = WRITE_LOCK_TIMEOUT_SECONDS
    ) -> None:
        self._threads = threading.Lock()
        in_memory = not database or database == ":memory:" or database.startswith("file:")
        self._path = None if in_memory else f"{database}.write-lock"
        self._timeout = timeout
        self._descriptor: int | None = None
        self._opened_by = 0

    def __enter__(self) -> SqliteWriteLock:
        deadline = time.monotonic() + self._timeout
        if not self._threads.acquire(timeout=self._timeout):
            raise _busy(self._timeout)
        try:
            if self._path is not None:
                if self._opened_by != os.getpid():  # a forked child must not share the parent's
                    self._descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                    self._opened_by = os.getpid()
                assert self._descriptor is not None
                self._lock_file(self._descriptor, deadline)
        except BaseException:
            self._threads.release()
            raise
        return self

    def _lock_file(self, descriptor: int, deadline: float) -> None:
        # flock cannot time out; a non-blocking try, then short sleeps until the deadline.
        pause = 0.0001
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy(self._timeout) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.002)

    def __exit__(self, *_: object) -> None:
        try:
            if self._descriptor is not None:
                fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def _busy(timeout: float) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"the database is busy: its write lock was not free for {timeout:g} s; retry later"
    )


def make_engine(url: str, *, statement_timeout_seconds: int = 0, **options: Any) -> Engine:
    """An engine for ``url``. On PostgreSQL, a statement running longer than
    ``statement_timeout_seconds`` (0: no limit) is cancelled and its transaction rolled back."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            create_private_file(path)  # SQLite itself would create it 0644
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        _configure_sqlite(engine)
        return engine
    connect_args = (
        {"options": f"-c statement_timeout={statement_timeout_seconds * 1000}"}
        if statement_timeout_seconds > 0
        else {}
    )
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **options)


def translate_error(error: Exception) -> Exception:
    """The gateway's error for a database error (others are returned as they are).

    The database unreachable (or a statement cancelled) → StoreUnavailableError; a value it cannot
    hold (out of range, a NUL character) → RequestInvalidError: whatever reached the database
    unchecked came from the request."""
    translated: Exception
    if isinstance(error, DataError):
        translated = RequestInvalidError(
            "a value in the request cannot be stored (out of range or not text)"
        )
    elif database_lost(error):
        translated = StoreUnavailableError("the database is unavailable; retry later")
    else:
        return error
    translated.__cause__ = error
    return translated


class Database:
    def __init__(self, url: str, *, statement_timeout_seconds: int = 0, **options: Any) -> None:
        self.engine = make_engine(
            url, statement_timeout_seconds=statement_timeout_seconds, **options
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer. Writers queue here instead of in SQLite's busy handler, which
        # sleeps in growing steps (up to 100 ms) and ruins tail latency.
        self._write_lock: AbstractContextManager[object] = (
            SqliteWriteLock(self.engine.url.database)
            if self.engine.dialect.name == "sqlite"
            else nullcontext()
        )
        self._group = GroupCommit(self.transaction, translate_error)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any exception.
        Database errors are raised as :func:`translate_error` maps them."""
        try:
            with self._write_lock, self._sessions() as session, session.begin():
                yield session
        except DBAPIError as error:
            translated = translate_error(error)
            if translated is error:
                raise
            raise translated from error

    def grouped(self, job: Job[T]) -> T:
        """``job(session)``'s value, run in a transaction shared with the jobs other threads of
        this process submit at the same moment (one commit for all; see
        :mod:`gateway.store.group_commit` for what a job may do). Its own exception is raised as
        :meth:`transaction` would raise it, and undoes only its own writes."""
        return self._group.run(job)

    def ping(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (OperationalError, DBAPIError) as error:
            raise StoreUnavailableError("the database is unavailable") from error

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_: object) -> None:
        """Short-lived users (CLI commands) close every connection when they are done."""
        self.dispose()
