"""The rate limits' default store: counted hits as rows of the app's own database.

Without it (Flask-Limiter's memory store) each worker process counted apart, so two workers
accepted up to twice the documented failures. Rows in the database every worker and host
already share hold the limit across them, with no Redis to run. A limit is a moving window,
as with Redis: a hit is one row, kept until it leaves the window, and no more hits than the
limit are ever stored in any window. Hits are written in short transactions of their own (on
SQLite, queued for the write lock like any writer); look-ups only read.
"""

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from quizapp.auth.models import RateLimitHit
from quizapp.database import READS_ONLY, holds_write_lock, writing
from quizapp.extensions import db

SCHEME = "quizapp-database"
HITS = RateLimitHit.__table__
SWEEP = 100  # expired rows removed with each hit: the table stays the size of the live windows


class DatabaseStorage(Storage, MovingWindowSupport):
    """A `limits` storage on the current app's database (moving windows only), registered as
    `quizapp-database://`; or on `engine` when one is given."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        engine: Engine | None = None,
        **options,
    ):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.engine = engine

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    # --- moving windows ---------------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Count `amount` hits unless that would pass `limit` within the last `expiry` seconds."""
        if amount > limit:
            return False
        key = _stored_key(key)
        now = time.time()
        with self._write() as connection:
            if connection.dialect.name == "postgresql":
                # One counter at a time per key (SQLite's write lock already orders them all).
                connection.execute(
                    select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0)))
                )
            if _live(connection, key, now)[0] + amount > limit:
                return False
            connection.execute(insert(HITS), [{"key": key, "expires_at": now + expiry}] * amount)
            expired = (
                select(HITS.c.id)
                .where(HITS.c.expires_at <= now)
                .limit(SWEEP)
                .with_for_update(skip_locked=True)  # never wait for another counter's sweep
            )
            connection.execute(delete(HITS).where(HITS.c.id.in_(expired)))
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(when the oldest live hit was counted, how many are live) for `key`."""
        now = time.time()
        with self._read() as connection:
            count, first_to_leave = _live(connection, _stored_key(key), now)
        return (first_to_leave - expiry, count) if count else (now, 0)

    # --- the rest of the storage interface --------------------------------------------

    def check(self) -> bool:
        try:
            with self._read() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def clear(self, key: str) -> None:
        with self._write() as connection:
            connection.execute(delete(HITS).where(HITS.c.key == _stored_key(key)))

    def reset(self) -> int | None:
        with self._write() as connection:
            return connection.execute(delete(HITS)).rowcount

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError(_MOVING_WINDOW_ONLY)

    def get(self, key: str) -> int:
        raise NotImplementedError(_MOVING_WINDOW_ONLY)

    def get_expiry(self, key: str) -> float:
        raise NotImplementedError(_MOVING_WINDOW_ONLY)

    # --- transactions -----------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine().connect().execution_options(**READS_ONLY) as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if holds_write_lock():
            # The counter's own connection would wait for this thread's lock until the busy
            # timeout: the caller must end its write transaction first (or read first).
            raise RuntimeError("rate limit counted while this thread holds SQLite's write lock")
        with writing(), self._engine().begin() as connection:
            yield connection

    def _engine(self) -> Engine:
        # The app's, not one taken at start-up: Flask-Limiter keeps one store for the process,
        # and each app in it (tests, a CLI beside a server) counts in its own database.
        return self.engine if self.engine is not None else db.engine


_MOVING_WINDOW_ONLY = "the database store keeps moving windows: RATELIMIT_STRATEGY=moving-window"


def _live(connection: Connection, key: str, now: float) -> tuple[int, float | None]:
    """How many hits of `key` are still in their window, and the first of them to leave it."""
    return tuple(
        connection.execute(
            select(func.count(), func.min(HITS.c.expires_at)).where(
                HITS.c.key == key, HITS.c.expires_at > now
            )
        ).one()
    )


def _stored_key(key: str) -> str:
    """The key as stored: as the limits library makes it, or its digest when it is too long."""
    if len(key) <= HITS.c.key.type.length:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
