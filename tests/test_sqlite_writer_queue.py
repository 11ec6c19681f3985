"""SQLite writers queue on a lock file (database.QueuedWriterConnection), woken in turn."""

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from quizapp.database import QueuedWriterConnection


def queue_is_held(database) -> bool:
    with open(f"{database}-writers.lock", "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "queue.db"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE saves (n INTEGER)")
    setup.commit()
    setup.close()
    return path


@pytest.fixture
def connect():
    opened = []

    def connect(path, timeout: float = 5.0) -> QueuedWriterConnection:
        connection = sqlite3.connect(
            path, timeout=timeout, isolation_level=None, check_same_thread=False,
            factory=QueuedWriterConnection,
        )  # fmt: skip
        opened.append(connection)
        return connection

    yield connect
    for connection in opened:
        connection.close()


def test_a_writer_waits_for_the_holder_and_goes_in_when_it_commits(database, connect):
    holder, waiter = connect(database), connect(database)
    holder.begin_immediate()
    assert queue_is_held(database)
    holder.execute("INSERT INTO saves VALUES (1)")
    entered = threading.Event()

    def write():
        waiter.begin_immediate()
        entered.set()
        waiter.execute("INSERT INTO saves VALUES (2)")
        waiter.commit()

    thread = threading.Thread(target=write)
    thread.start()
    assert not entered.wait(0.3)  # queued on the lock file, not in SQLite's busy handler
    holder.commit()
    assert entered.wait(5)
    thread.join(5)
    assert not queue_is_held(database)
    assert [n for (n,) in holder.execute("SELECT n FROM saves ORDER BY rowid")] == [1, 2]


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_rollback_and_close_release_the_queue(database, connect, end):
    first = connect(database)
    first.begin_immediate()
    getattr(first, end)()
    second = connect(database)
    started = time.monotonic()
    second.begin_immediate()
    second.commit()
    assert time.monotonic() - started < 1


def test_a_thread_holding_the_lock_never_waits_on_itself(database, connect):
    """A second connection in the same thread falls back to SQLite's busy timeout: an error, not
    a hang."""
    holder, nested = connect(database), connect(database, timeout=0.2)
    holder.begin_immediate()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        nested.begin_immediate()
    holder.commit()
    nested.begin_immediate()
    nested.commit()


def test_the_lock_of_a_killed_process_is_dropped(database, connect):
    code = (
        "import sqlite3, sys, time\n"
        "from quizapp.database import QueuedWriterConnection\n"
        f"c = sqlite3.connect({str(database)!r}, isolation_level=None,"
        " factory=QueuedWriterConnection)\n"
        "c.begin_immediate(); print('holding', flush=True); time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        assert process.stdout.readline().strip() == "holding"
        waiter = connect(database)
        os.kill(process.pid, signal.SIGKILL)
        waiter.begin_immediate()  # would block forever if the kernel kept the lock
        waiter.execute("INSERT INTO saves VALUES (3)")
        waiter.commit()
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_a_write_already_begun_is_kept_when_asked_to_write_in_place(database, connect):
    """begin_writing_in_place on a transaction begun IMMEDIATE goes on in it: nothing written
    so far is committed on the way, and the queue is held throughout."""
    writer = connect(database)
    writer.begin_immediate()
    writer.execute("INSERT INTO saves VALUES (1)")
    writer.begin_writing_in_place()
    assert writer.in_transaction and queue_is_held(database)
    writer.rollback()
    assert writer.execute("SELECT count(*) FROM saves").fetchone() == (0,)
    assert not queue_is_held(database)
