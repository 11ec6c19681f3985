"""Fixtures: one app per session on a migrated database, cleaned between tests; a movable clock."""

import copy
import os
import re
import shutil
import socket
import subprocess
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from flask import has_request_context, request
from flask_migrate import upgrade
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from quizapp import create_app
from quizapp.auth import services as auth_services
from quizapp.auth.models import Role, Unit, User
from quizapp.auth.services import hash_password
from quizapp.banks.models import Category, QuestionBank
from quizapp.banks.services import import_bank
from quizapp.clock import FrozenClock
from quizapp.config import TestConfig
from quizapp.contests.models import Contest, Round, RoundDraw
from quizapp.database import QueuedWriterConnection
from quizapp.extensions import cache, db, limiter
from tests.live_server import free_port

DATA = Path(__file__).parent / "data"
START = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam, a Monday
MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


TRANSLATIONS = Path(__file__).resolve().parent.parent / "quizapp" / "translations"


def _compile_translations() -> None:
    """Compile the catalogs (as `make` does) so running pytest directly shows Vietnamese too."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    _compile_translations()
    url = os.environ.get("QUIZAPP_TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    )
    app = create_app(
        {
            **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
            "SQLALCHEMY_DATABASE_URI": url,
            "CLOCK": FrozenClock(START),
        }
    )
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    yield app
    with app.app_context():
        db.engine.dispose()  # close pooled connections (PostgreSQL warns otherwise)


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Each test starts with empty tables and the clock at START."""
    yield
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        cache.clear()  # ids are used again after the wipe: boards cached under them must go
    app.extensions["quizapp.clock"].at = START


WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class WriteInARead(AssertionError):
    """The app wrote inside a SQLite transaction that began as a read (deferred)."""


def _app_run():
    """The request or command the app runs here in (None: a test's own set-up)."""
    if has_request_context():
        return request.environ
    return click.get_current_context(silent=True)


@pytest.fixture(autouse=True)
def writes_in_reads(app):
    """SQLite: a write by the app (in a request or a command) inside a transaction that did
    not begin IMMEDIATE fails the test, whether or not another connection happened to commit.

    SQLite cannot turn a read transaction into a write once another connection has committed
    since it began: the write fails at once with "database is locked", without waiting. The
    app's writes begin IMMEDIATE and queue for the lock instead (quizapp.database: a writing
    request, `writing()`, or the transaction after `begin_writing`). A test's own set-up,
    outside any request or command, writes as it likes, and so does a request that goes on in a
    transaction begun before it (requests inside a test's app context share its session).
    """
    found: list[str] = []

    def began(connection):
        dbapi_connection = connection.connection.dbapi_connection
        if isinstance(dbapi_connection, QueuedWriterConnection):
            dbapi_connection.test_began_in = _app_run()

    def check(connection, _cursor, statement, *_args):
        dbapi_connection = connection.connection.dbapi_connection
        if not isinstance(dbapi_connection, QueuedWriterConnection):
            return  # PostgreSQL
        if dbapi_connection._immediate or not WRITES.match(statement):
            return
        run = _app_run()
        if run is None or getattr(dbapi_connection, "test_began_in", None) is not run:
            return
        where = " < ".join(
            f"{frame.filename.rsplit('/quizapp/', 1)[-1]}:{frame.lineno}"
            for frame in reversed(traceback.extract_stack())
            if "/quizapp/" in frame.filename
        )
        found.append(f"{statement.split('(')[0].strip()} at {where}")
        raise WriteInARead(f"a write inside a read transaction: {found[-1]}")

    event.listen(Engine, "begin", began)
    event.listen(Engine, "before_cursor_execute", check)
    yield found  # a test that makes one on purpose clears it
    event.remove(Engine, "before_cursor_execute", check)
    event.remove(Engine, "begin", began)
    assert not found, f"writes inside read transactions: {found}"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def clock(app) -> FrozenClock:
    return app.extensions["quizapp.clock"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_unit(ctx):
    def make(code="U1", name=None, parent=None, headcount=None) -> Unit:
        unit = Unit(code=code, name=name or f"Đơn vị {code}", parent=parent, headcount=headcount)
        db.session.add(unit)
        db.session.commit()
        return unit

    return make


@pytest.fixture
def make_user(ctx):
    counter = iter(range(1, 100000))

    def make(
        login=None, password="secret123", role=Role.PARTICIPANT, unit=None, full_name=None
    ) -> User:
        n = next(counter)
        user = User(
            login=(login or f"user{n}@example.vn").lower(),
            full_name=full_name or f"Người dùng {n}",
            password_hash=hash_password(password),
            role=role,
            unit=unit,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def bank(ctx) -> QuestionBank:
    """The small test bank: 4 questions on CCHC, 4 on digital transformation."""
    report = import_bank((DATA / "small-bank.yaml").read_bytes(), "small-bank.yaml")
    assert report.ok, report.problems
    return db.session.scalar(select(QuestionBank))


@pytest.fixture
def make_round(ctx, bank):
    def make(
        *,
        opens_at=None,
        closes_at=None,
        draw=None,
        audience=(),
        ranking=None,
        public_leaderboard=True,
        **fields,
    ) -> Round:
        categories = {c.name: c for c in db.session.scalars(select(Category))}
        draws = [
            RoundDraw(position=i, category=categories[name], count=count, difficulty=difficulty)
            for i, (name, count, difficulty) in enumerate(
                draw or [("Cải cách hành chính", 4, None), ("Chuyển đổi số", 4, None)]
            )
        ]
        contest = Contest(
            slug=f"contest-{db.session.query(Contest).count() + 1}",
            title="Cuộc thi thử",
            audience=list(audience),
            public_leaderboard=public_leaderboard,
        )
        if ranking:
            contest.ranking = ranking
        round_ = Round(
            contest=contest,
            number=1,
            title="Tuần 1",
            opens_at=opens_at or START - timedelta(hours=1),
            closes_at=closes_at or START + timedelta(days=7),
            draws=draws,
            **fields,
        )
        db.session.add(round_)
        db.session.commit()
        return round_

    return make


@pytest.fixture
def host(app):
    """Another app process over the same database (a worker, or a host behind nginx)."""
    made = []
    # Flask-Limiter keeps its storage on the one module-level Limiter, which each new app's
    # init_app takes over, and each app sizes the process's login line: give both back to the
    # session's app afterwards.
    limiter_state = dict(limiter.__dict__)
    # init_app replaces the limit manager's default and application limits in place: keep a
    # copy of the session's manager, whose lists are left as they were.
    limiter_state["limit_manager"] = copy.copy(limiter.limit_manager)
    login_line = auth_services._LOGIN_LINE

    def make(**config):
        settings = {key: app.config[key] for key in app.config if key.isupper()}
        made.append(create_app({**settings, "CLOCK": FrozenClock(START), **config}))
        return made[-1]

    yield make
    for each in made:  # close what each opened: pooled connections, Redis clients
        with each.app_context():
            db.engine.dispose()
            for name in ("_write_client", "_read_client"):
                client = getattr(cache.cache, name, None)
                if client is not None:
                    client.close()
    limiter.__dict__.clear()
    limiter.__dict__.update(limiter_state)
    auth_services._LOGIN_LINE = login_line


def api_login(client, login: str, password: str = "secret123") -> str:
    """Log in through the API; returns the CSRF token for writes."""
    response = client.post("/api/v1/login", json={"login": login, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["csrf_token"]


REDIS_SERVER = shutil.which("redis-server")


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway redis-server on a loopback port (skips where none is installed)."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server); CI installs it")
    port = free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)
