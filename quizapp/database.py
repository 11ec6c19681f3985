"""Engine set-up: SQLite pragmas and write transactions that queue instead of failing."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_writing: ContextVar[bool] = ContextVar("quizapp_writing", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Declare that transactions begun inside will write (outside requests: CLI, jobs)."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def begin_writing(session) -> None:
    """From here on this request writes, though it began as a read (lazy expiry on a GET).

    SQLite refuses to turn a deferred read transaction into a write once another connection has
    committed since it began ("database is locked", no waiting): end the read, and let the
    next transaction begin IMMEDIATE, queueing for the write lock like any writer.
    """
    if _writing.get() or not has_app_context() or g.get("quizapp_writing"):
        return
    if has_request_context() and request.method not in READ_ONLY_METHODS:
        return  # began IMMEDIATE already
    g.quizapp_writing = True
    current = session()  # the request's Session behind Flask-SQLAlchemy's scoped proxy
    if current.get_bind().dialect.name == "sqlite" and current.in_transaction():
        current.commit()


def configure_sqlite(engine: Engine) -> None:
    """WAL journal, busy timeout, foreign keys; BEGIN IMMEDIATE where a write is coming.

    A deferred SQLite transaction that reads and then writes fails at once with "database is
    locked" when another writer committed in between; starting writers with BEGIN IMMEDIATE
    makes them queue on the busy timeout instead. Writing requests (POST, PUT, …) and code
    inside `writing()` begin IMMEDIATE; reads stay deferred so they never hold the write lock.
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

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        if _writing.get() or (has_app_context() and g.get("quizapp_writing")):
            immediate = True
        elif has_request_context():
            immediate = request.method not in READ_ONLY_METHODS
        else:
            immediate = False
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
