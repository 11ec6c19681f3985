"""Engine set-up: SQLite pragmas, and writers that queue for the write lock (in turn, on a lock
file) instead of failing; a `reads_first` view takes that lock only where its writes begin."""

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READS_FIRST = "quizapp.reads_first"  # in the request's environ: it is the request's own mark
# Execution options of a Core connection whose first statement, a read, runs alone: SQLite
# autocommits it (no BEGIN, outside the write lock); `begin_writing_aside` begins the write.
READ_ALONE = {"quizapp_read_alone": True}
# Execution options of a connection whose transactions only read: they begin deferred even in a
# writing request (the rate-limit counters looked up before a login's view runs).
READS_ONLY = {"quizapp_reads_only": True}
_writing: ContextVar[bool] = ContextVar("quizapp_writing", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Declare that transactions begun inside will write (outside requests: CLI, jobs)."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def reads_first(view):
    """A writing view that reads before it writes: its transactions begin as reads.

    For the answer save and Start: loading the user, the attempt, the questions need not hold
    SQLite's write lock, which every other writer waits for. The view calls `begin_writing`
    where its writes begin; that transaction takes the lock, and what follows its commit (the
    response) reads again.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        request.environ[_READS_FIRST] = True  # not g: requests may share an app context
        return view(*args, **kwargs)

    return wrapped


def _writes_from_start() -> bool:
    """Does this request's transaction begin IMMEDIATE, without waiting for `begin_writing`?"""
    if not has_request_context() or request.environ.get(_READS_FIRST):
        return False
    return request.method not in READ_ONLY_METHODS


def begin_writing(session) -> None:
    """This transaction writes from here to its commit, though it began as a read (a GET, a
    `reads_first` view, a script).

    SQLite refuses to turn a deferred read transaction into a write once another connection has
    committed since it began ("database is locked", no waiting): the read is ended and a write
    transaction begun IMMEDIATE in its place, queueing for the write lock like any writer; what
    the read loaded is expired and read again under the lock, and changes not yet flushed are
    written under it too (never with the read). On PostgreSQL the transaction simply goes on
    (with its row locks).
    """
    if _writing.get() or not has_app_context() or g.get("quizapp_writing"):
        return
    if _writes_from_start():
        return  # began IMMEDIATE already
    current = session()  # the request's Session behind Flask-SQLAlchemy's scoped proxy
    if current.get_bind().dialect.name == "sqlite" and current.in_transaction():
        # In place, without the ORM's commit and begin (a tenth of an answer save's CPU).
        changed = current.new | current.dirty | current.deleted
        for instance in list(current.identity_map.values()):
            if instance not in changed:  # a changed one keeps its changes for the flush
                current.expire(instance)
        current.connection().connection.dbapi_connection.begin_writing_in_place()
    g.quizapp_writing = True


def begin_writing_aside(connection: Connection) -> None:
    """`begin_writing` for a Core connection of its own, outside the ORM session: on SQLite its
    read transaction (if it has one: see READ_ALONE) is let go and a write one begun IMMEDIATE
    in its place, queueing for the write lock, unless it began as one; on PostgreSQL the
    transaction goes on."""
    if connection.dialect.name == "sqlite":
        connection.connection.dbapi_connection.begin_writing_in_place()


class QueuedWriterConnection(sqlite3.Connection):
    """A SQLite connection whose writers queue on a lock file instead of SQLite's busy handler.

    SQLite lets one writer in at a time; the others poll in its busy handler, sleeping 1, 2,
    5 … 100 ms between tries, so under load the write lock sits free while writers sleep (a
    fifth of an answer save's time, bench/RESULTS.md). Here `BEGIN IMMEDIATE` first takes an
    exclusive `flock` on `<database>-writers.lock`: waiting writers of every thread and worker
    process sleep in the kernel and the next one wakes the moment the lock is released, at
    commit or rollback. The kernel drops the lock of a killed process. SQLite's own lock still
    guards the data; this only decides who asks next.
    """

    _held = threading.local()  # a thread holding the lock through one connection must not
    # wait for it through another (that would wait forever): it falls back to the busy handler

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        path = os.fsdecode(database)
        in_memory = path in ("", ":memory:") or "mode=memory" in path or path.startswith("file::")
        self._lock_path = None if in_memory else path.removeprefix("file:") + "-writers.lock"
        self._lock_file = None
        self._locked = False
        self._immediate = False  # in a transaction begun IMMEDIATE (a write)

    def begin_immediate(self) -> None:
        if self._lock_path is not None and not getattr(self._held, "locked", False):
            if self._lock_file is None:
                self._lock_file = open(self._lock_path, "a+b")  # noqa: SIM115 (connection's)
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)  # the GIL is released while waiting
            self._locked = self._held.locked = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise
        self._immediate = True

    def begin_writing_in_place(self) -> None:
        """End this connection's read transaction and begin a write one in its place."""
        if self._immediate and self.in_transaction:
            return  # a write already
        if self.in_transaction:
            self.execute("COMMIT")  # a read: nothing to write, the snapshot is let go
        self.begin_immediate()

    def _release(self) -> None:
        self._immediate = False
        if self._locked:
            self._locked = self._held.locked = False
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None


def holds_write_lock() -> bool:
    """Does this thread hold SQLite's write lock (a transaction begun IMMEDIATE on a database
    file)? Another connection of this thread would then wait for it until its busy timeout."""
    return bool(getattr(QueuedWriterConnection._held, "locked", False))


def sqlite_engine_options(options: dict) -> dict:
    """Engine options for a SQLite database: connections of the queueing kind above (which
    `configure_sqlite` and `begin_writing` rely on)."""
    connect_args = {**options.get("connect_args", {}), "factory": QueuedWriterConnection}
    return {**options, "connect_args": connect_args}


def configure_sqlite(engine: Engine) -> None:
    """WAL journal, busy timeout, foreign keys; BEGIN IMMEDIATE where a write is coming.

    A deferred SQLite transaction that reads and then writes fails at once with "database is
    locked" when another writer committed in between; starting writers with BEGIN IMMEDIATE
    makes them queue instead. Writing requests (POST, PUT, …) other than `reads_first` views,
    code inside `writing()`, and the transaction after `begin_writing` begin IMMEDIATE; reads
    stay deferred so they never hold the write lock, as do connections given the `READS_ONLY`
    execution options (even in a writing request).
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def on_end(_connection):
        if has_app_context():
            g.pop("quizapp_writing", None)  # begin_writing held for one transaction

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        options = connection.get_execution_options()
        if options.get("quizapp_read_alone"):
            return  # READ_ALONE: no transaction until begin_writing_aside
        immediate = not options.get("quizapp_reads_only") and (
            _writing.get()
            or (has_app_context() and g.get("quizapp_writing"))
            or _writes_from_start()
        )
        if immediate:
            connection.connection.dbapi_connection.begin_immediate()
        else:
            connection.exec_driver_sql("BEGIN")
