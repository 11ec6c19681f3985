"""Engine set-up: SQLite pragmas, and writers that queue for the write lock (in turn, on a lock
file) instead of failing; a `reads_first` view takes that lock only where its writes begin."""

import fcntl
import os
import sqlite3
import threading
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache, wraps

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import MultipleResultsFound

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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
        g.quizapp_reads_first = True
        return view(*args, **kwargs)

    return wrapped


def _writes_from_start() -> bool:
    """Does this request's transaction begin IMMEDIATE, without waiting for `begin_writing`?"""
    if not has_request_context() or g.get("quizapp_reads_first"):
        return False
    return request.method not in READ_ONLY_METHODS


def begin_writing(session) -> None:
    """This transaction writes from here to its commit, though it began as a read (a GET, a
    `reads_first` view, a script).

    SQLite refuses to turn a deferred read transaction into a write once another connection has
    committed since it began ("database is locked", no waiting): the read is ended and a write
    transaction begun IMMEDIATE in its place, queueing for the write lock like any writer; what
    the read loaded is expired and read again under the lock. On PostgreSQL the transaction
    simply goes on (with its row locks).
    """
    if _writing.get() or not has_app_context() or g.get("quizapp_writing"):
        return
    if _writes_from_start():
        return  # began IMMEDIATE already
    current = session()  # the request's Session behind Flask-SQLAlchemy's scoped proxy
    if current.get_bind().dialect.name == "sqlite" and current.in_transaction():
        if current.new or current.dirty or current.deleted:
            current.commit()  # unflushed changes go with the read; the next transaction writes
        else:  # in place, without the ORM's commit and begin (a tenth of an answer save's CPU)
            current.expire_all()
            current.connection().connection.dbapi_connection.begin_writing_in_place()
    g.quizapp_writing = True  # after the commit above, which ends what the flag covered


class DriverStatement:
    """A Core statement compiled once for a dialect and run straight on a DBAPI cursor.

    For the answer save's fast paths: around each `Connection.execute` SQLAlchemy builds an
    execution context, fires events and wraps the result, and on SQLite that costs more than
    the database's own work (bench/RESULTS.md). The SQL, the order of its parameters and the
    conversions of their types (dates, JSON) are still SQLAlchemy's, taken from the compiled
    statement. A statement that needs more of Core at execution (expanding or escaped
    parameters, Python-side defaults) is refused here. Errors from the database are the
    driver's own, not wrapped in SQLAlchemy's; run it inside `driver_connection`.
    """

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        needs_core = (
            any(bind.expanding for bind in compiled.binds.values())
            or compiled.escaped_bind_names
            or compiled.literal_execute_params
            or compiled.post_compile_params
            or compiled.insert_prefetch
            or compiled.update_prefetch
        )
        if needs_core:
            raise ValueError(f"this statement needs Connection.execute: {compiled.string}")
        self.sql = compiled.string
        self._compiled = compiled
        self._order = compiled.positiontup  # None: the dialect's parameters go by name
        self._binds = {
            key: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for key, bind in compiled.binds.items()
        }
        columns = list(getattr(statement, "exported_columns", ()))
        self._row = namedtuple("Row", [column.key for column in columns])
        self._columns = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]

    def one_or_none(self, cursor, values: dict):
        """Run it with `values` (by parameter name): its row, converted, or None."""
        params = {}
        for name, value in self._compiled.construct_params(values, escape_names=False).items():
            process = self._binds.get(name)
            params[name] = value if process is None else process(value)
        if self._order is not None:
            params = [params[name] for name in self._order]
        cursor.execute(self.sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        if cursor.fetchone() is not None:  # also runs the statement to its end
            raise MultipleResultsFound(f"more than one row from {self.sql}")
        return self._row._make(
            value if process is None else process(value)
            for process, value in zip(self._columns, row, strict=True)
        )


@lru_cache(maxsize=64)
def driver_statement(statement, dialect) -> DriverStatement:
    """`statement` (a module-level constant) compiled for `dialect`, once."""
    return DriverStatement(statement, dialect)


@contextmanager
def driver_connection(engine: Engine, *, autocommit: bool = False) -> Iterator:
    """A pool connection to run `DriverStatement`s on, given back as the pool lent it.

    What the caller did not commit is rolled back here, whatever the pool's own reset. With
    `autocommit` (psycopg) each statement commits itself, and the connection is switched back
    before it returns to the pool; if anything fails meanwhile it is dropped from the pool
    instead, as is a connection the driver reports lost (as `Connection.execute` would).
    """
    connection = engine.raw_connection()
    try:
        if autocommit:
            connection.driver_connection.autocommit = True
        yield connection
        if autocommit:
            connection.driver_connection.autocommit = False
        else:
            connection.rollback()  # nothing left to roll back after the caller's commit
    except BaseException as error:
        lost = isinstance(error, engine.dialect.loaded_dbapi.Error) and (
            engine.dialect.is_disconnect(error, connection.driver_connection, None)
        )
        if autocommit or lost:
            connection.invalidate(error)
        else:
            connection.rollback()
        raise
    finally:
        connection.close()


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
        immediate = not connection.get_execution_options().get("quizapp_reads_only") and (
            _writing.get()
            or (has_app_context() and g.get("quizapp_writing"))
            or _writes_from_start()
        )
        if immediate:
            connection.connection.dbapi_connection.begin_immediate()
        else:
            connection.exec_driver_sql("BEGIN")
