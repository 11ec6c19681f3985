"""Engine set-up: SQLite pragmas and write transactions that queue instead of failing."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
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
        if _writing.get():
            immediate = True
        elif has_request_context():
            immediate = request.method not in READ_ONLY_METHODS
        else:
            immediate = False
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
