"""Registration flood: registrations throttled by address, and no password hashed (or checked)
while the database's write lock is held, on any path that stores one."""

import io
import sqlite3
import threading

import pytest
from limits import parse
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.engine import make_url
from werkzeug import security

from quizapp.auth.models import Role, User
from quizapp.contests.models import Contest
from quizapp.extensions import db
from tests.conftest import api_login

OFFICE = "203.0.113.7"  # one NAT address for a whole department (TEST-NET-3)


def write_transaction_open(url: str) -> bool:
    """Is a write transaction open on the database, as seen from a connection of its own?

    SQLite: someone holds the write lock (BEGIN IMMEDIATE fails at once). PostgreSQL, which
    has no such lock: a transaction that has written is open (it holds row locks)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        probe = sqlite3.connect(parsed.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # database is locked
            return True
        finally:
            if probe.in_transaction:
                probe.execute("ROLLBACK")
            probe.close()
        return False
    import psycopg

    with psycopg.connect(parsed.set(drivername="postgresql").render_as_string(False)) as probe:
        (writers,) = probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
        ).fetchone()
    return writers > 0


@pytest.fixture
def hashing(app, monkeypatch):
    """Every password hashed or checked by the app: whether a write transaction was open."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    seen: list[bool] = []

    def watch(original):
        def watched(*args, **kwargs):
            seen.append(write_transaction_open(url))
            return original(*args, **kwargs)

        return watched

    hashing_modules = ("quizapp.auth.services", "quizapp.units.roster", "quizapp.contests.services")
    for module in hashing_modules:
        for name in ("generate_password_hash", "check_password_hash"):
            original = getattr(security, name)
            monkeypatch.setattr(f"{module}.{name}", watch(original), raising=False)
    return seen


@pytest.fixture
def registration_open(make_unit, make_round):
    unit = make_unit("SGTVT", "Sở Giao thông vận tải")
    round_ = make_round()
    round_.contest.self_registration = True
    db.session.commit()
    return unit


def register(client, unit, login, address=OFFICE, password="matkhau1"):
    unit_id = unit if isinstance(unit, int) else unit.id
    with client.application.app_context():  # a fresh app context per request
        return client.post(
            "/register",
            data={
                "full_name": "Người đăng ký",
                "login": login,
                "unit_id": unit_id,
                "password": password,
                "confirm": password,
            },
            environ_base={"REMOTE_ADDR": address},
        )


def accounts() -> int:
    db.session.rollback()  # a fresh snapshot
    return db.session.scalar(select(func.count()).select_from(User))


# --- hashing outside the write lock ----------------------------------------------------------


def test_registering_hashes_the_password_outside_the_write_lock(app, registration_open, hashing):
    response = register(app.test_client(), registration_open, "binh@example.vn")
    assert response.status_code == 302
    assert hashing == [False]
    assert accounts() == 1


def test_users_create_hashes_outside_the_write_lock(app, runner, ctx, hashing):
    args = ["users", "create", "--login", "an@example.vn", "--password", "secret123"]
    result = runner.invoke(args=[*args, "--name", "An"])
    assert result.exit_code == 0, result.output
    assert hashing == [False]


def test_a_roster_import_hashes_first_passwords_outside_the_write_lock(
    app, make_unit, make_user, hashing
):
    unit = make_unit("SO")
    make_user("hr@so.vn", role=Role.HR, unit=unit)
    client = app.test_client()
    with app.app_context():
        api_login(client, "hr@so.vn")
    hashing.clear()
    roster = "full_name,unit_code,phone,password\nAn,SO,0912345678,\nBình,SO,0913000111,matkhau9\n"
    with app.app_context():
        page = client.post(
            "/roster/import",
            data={"file": (io.BytesIO(roster.encode()), "roster.csv")},
            content_type="multipart/form-data",
        )
    assert page.status_code == 200 and 'data-testid="created">2<' in page.get_data(as_text=True)
    assert hashing == [False, False]


def test_the_contest_password_is_hashed_and_checked_outside_the_write_lock(
    app, make_unit, make_user, hashing
):
    unit = make_unit("SO")
    make_user("btc@so.vn", role=Role.ORGANIZER, unit=unit)
    make_user("an@so.vn", unit=unit)
    organizer, participant = app.test_client(), app.test_client()
    with app.app_context():
        api_login(organizer, "btc@so.vn")
        api_login(participant, "an@so.vn")
    hashing.clear()
    form = {
        "title": "Cuộc thi có mật khẩu",
        "slug": "co-mat-khau",
        "audience_mode": "everyone",
        "password": "mat-khau-1",
        "threshold_percent": "50",
        "rank_1": "score",
    }
    with app.app_context():
        created = organizer.post("/manage/contests/new", data=form)
    assert created.status_code == 302, created.get_data(as_text=True)
    with app.app_context():
        organizer.post("/manage/contests/co-mat-khau/edit", data={**form, "password": "moi-1234"})
    for guess in ("doan-bua", "moi-1234"):
        with app.app_context():
            participant.post("/contests/co-mat-khau/password", data={"password": guess})
    assert hashing == [False] * 4  # two hashed, two checked
    db.session.rollback()
    contest = db.session.scalar(select(Contest))
    assert security.check_password_hash(contest.password_hash, "moi-1234")


# --- what may happen while a password is hashed ----------------------------------------------


def test_a_login_taken_while_the_password_was_hashed_is_refused_not_a_500(
    app, registration_open, monkeypatch
):
    """The hash is made before the write lock; someone may take the login meanwhile."""
    from quizapp.auth import services

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    original = services.generate_password_hash

    def hash_while_someone_takes_the_login(password, method):
        # Another worker's registration, on a connection of its own (which would wait at most
        # 2 s for a write lock this request held).
        engine = create_engine(url, connect_args={"timeout": 2} if "sqlite" in url else {})
        try:
            with engine.begin() as connection:
                connection.execute(
                    insert(User).values(
                        login="binh@example.vn", full_name="Người khác", password_hash="x"
                    )
                )
        finally:
            engine.dispose()
        return original(password, method)

    monkeypatch.setattr(services, "generate_password_hash", hash_while_someone_takes_the_login)
    response = register(app.test_client(), registration_open, "Binh@example.vn")
    assert response.status_code == 200  # the form again, saying the login is taken
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert accounts() == 1


def test_an_account_made_while_a_roster_was_hashed_is_reported_and_nothing_written(
    app, make_unit, monkeypatch
):
    from quizapp.auth import services
    from quizapp.auth.services import NewUser, create_user
    from quizapp.units.roster import import_roster

    make_unit("SO")
    original = services.hash_new_passwords

    def hash_while_someone_registers(passwords):
        hashes = original(passwords)
        with app.app_context():  # another request: the same phone number registers
            create_user(NewUser(login="0913000111", password="matkhau1", full_name="Người lạ"))
        return hashes

    monkeypatch.setattr("quizapp.units.roster.hash_new_passwords", hash_while_someone_registers)
    roster = "full_name,unit_code,phone\nAn,SO,0912345678\nBình,SO,0913000111\n"
    with app.app_context():
        report = import_roster(
            roster.encode(), "roster.csv", now=app.extensions["quizapp.clock"].at
        )
        assert not report.ok
        assert [problem.row for problem in report.problems] == [3]
        assert "hãy nhập lại tệp" in report.describe_problems()[0]
    assert accounts() == 1  # the stranger's; none of the roster's


# --- the throttle --------------------------------------------------------------------------


def test_the_default_lets_an_office_register_dozens_an_hour_but_stops_a_script(app):
    limit = parse(app.config["REGISTRATIONS_PER_ADDRESS"])
    assert 36 <= limit.amount <= 100 and limit.get_expiry() == 3600


def test_registrations_from_one_address_stop_at_the_limit(app, registration_open):
    client = app.test_client()
    for n in range(60):  # a department behind one address registers, then a script goes on
        assert register(client, registration_open, f"cb{n}@so.gov.vn").status_code == 302
    refused = register(app.test_client(), registration_open, "script61@example.vn")
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "Có quá nhiều tài khoản được đăng ký từ mạng của bạn" in html and "phút" in html
    assert 'name="full_name"' in html  # the form is still there
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert accounts() == 60
    # Another address is not affected; a look at the page is never counted.
    assert (
        register(app.test_client(), registration_open, "an@other.vn", "192.0.2.1").status_code
        == 302
    )
    with app.app_context():
        page = app.test_client().get("/register", environ_base={"REMOTE_ADDR": OFFICE})
    assert page.status_code == 200


def test_simultaneous_registrations_cannot_pass_the_limit(app, registration_open, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATIONS_PER_ADDRESS", "3 per hour")
    unit_id = registration_open.id  # the test's session stays in this thread
    start = threading.Barrier(6)
    statuses = []

    def one(n):
        start.wait()
        statuses.append(register(app.test_client(), unit_id, f"bot{n}@x.vn").status_code)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 302, 302, 429, 429, 429]
    assert accounts() == 3
