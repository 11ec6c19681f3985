"""The rate limits' database store: one count for every worker and host on the database."""

import threading
import time

import pytest
from limits import parse
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import create_engine, func, select

from quizapp.auth.limit_store import DatabaseStorage
from quizapp.auth.models import RateLimitHit
from quizapp.database import (
    QueuedWriterConnection,
    configure_sqlite,
    sqlite_engine_options,
    writing,
)
from quizapp.extensions import db, limiter

LIMIT = parse("5 per hour")


@pytest.fixture
def worker_store(app):
    """A store as another worker process has it: its own engine on the same database."""
    engines = []

    def make() -> DatabaseStorage:
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        options = sqlite_engine_options({}) if url.startswith("sqlite") else {}
        engine = create_engine(url, **options)
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine)
        engines.append(engine)
        return DatabaseStorage(engine=engine)

    yield make
    for engine in engines:
        engine.dispose()


def test_the_default_store_is_the_current_apps_database(app):
    assert isinstance(limiter.storage, DatabaseStorage)
    with app.app_context():
        assert limiter.storage._engine() is db.engine


def test_two_workers_count_together_and_never_past_the_limit(worker_store):
    first, second = MovingWindowRateLimiter(worker_store()), MovingWindowRateLimiter(worker_store())
    for n in range(5):
        worker = (first, second)[n % 2]
        assert worker.test(LIMIT, "login", "an") and worker.hit(LIMIT, "login", "an")
    assert not first.test(LIMIT, "login", "an") and not second.test(LIMIT, "login", "an")
    assert not second.hit(LIMIT, "login", "an")  # refused: nothing more is stored
    assert first.test(LIMIT, "login", "binh")  # another key counts apart
    stats = second.get_window_stats(LIMIT, "login", "an")
    assert stats.remaining == 0 and 3590 < stats.reset_time - time.time() <= 3600


def test_hits_leave_the_window_one_by_one(worker_store, monkeypatch):
    store = worker_store()
    clock = [1_000_000.0]
    monkeypatch.setattr("quizapp.auth.limit_store.time.time", lambda: clock[0])
    for _ in range(5):
        assert store.acquire_entry("k", 5, 3600)
        clock[0] += 600  # one every ten minutes
    assert not store.acquire_entry("k", 5, 3600)  # 50 minutes in: five in the last hour
    clock[0] = 1_000_000.0 + 3600.5  # the first has left the window, the others not
    assert store.get_moving_window("k", 5, 3600) == (1_000_600.0, 4)
    assert store.acquire_entry("k", 5, 3600)
    assert not store.acquire_entry("k", 5, 3600)


def test_simultaneous_hits_from_many_workers_stop_at_the_limit(worker_store):
    """Twelve hits at once from four workers' connections: exactly the limit is counted."""
    stores = [worker_store() for _ in range(4)]
    start = threading.Barrier(12)
    results = []

    def hit(store):
        start.wait()
        results.append(store.acquire_entry("LIMITER/rush", 5, 3600))

    threads = [threading.Thread(target=hit, args=(stores[n % 4],)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True] * 5
    assert stores[0].get_moving_window("LIMITER/rush", 5, 3600)[1] == 5


def test_expired_hits_are_swept_and_long_keys_kept_short(ctx, worker_store, monkeypatch):
    store = worker_store()
    clock = [1_000_000.0]
    monkeypatch.setattr("quizapp.auth.limit_store.time.time", lambda: clock[0])
    for n in range(30):
        assert store.acquire_entry(f"old/{n}", 1, 60)
    clock[0] += 61
    long_key = "LIMITER/quizapp/" + "x" * 400
    assert store.acquire_entry(long_key, 1, 60)
    assert not store.acquire_entry(long_key, 1, 60)
    keys = db.session.scalars(select(RateLimitHit.key)).all()
    assert len(keys) == 1 and keys[0].startswith("sha256:")  # the 30 expired rows are gone
    store.clear(long_key)
    db.session.rollback()  # a fresh snapshot
    assert db.session.scalar(select(func.count()).select_from(RateLimitHit)) == 0


def test_counting_while_this_thread_holds_the_write_lock_is_refused(ctx, worker_store):
    """On SQLite the store's connection would wait for this thread's own lock: say so at once."""
    store = worker_store()
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    with writing():
        db.session.execute(select(1))  # a transaction begun IMMEDIATE: the lock is held
        with pytest.raises(RuntimeError, match="write lock"):
            store.acquire_entry("k", 5, 60)
        db.session.rollback()
    assert store.acquire_entry("k", 5, 60)


def test_look_ups_in_a_writing_request_do_not_take_the_write_lock(app, worker_store, monkeypatch):
    """The limits are tested before a login's view runs: reading them must not queue for
    SQLite's write lock, even in a POST."""
    store = worker_store()
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    immediate = []
    original = QueuedWriterConnection.begin_immediate
    monkeypatch.setattr(
        QueuedWriterConnection,
        "begin_immediate",
        lambda connection: immediate.append(1) or original(connection),
    )
    with app.test_request_context("/login", method="POST"):
        assert store.get_moving_window("k", 5, 60)[1] == 0
        assert store.check()
        assert not immediate
        assert store.acquire_entry("k", 5, 60)  # a hit is a write: it queues like any writer
        assert immediate == [1]
