"""Reads settle what they read first, in a write transaction of their own: attempts past their
deadline and grace closed, a final round's prediction count fixed. Only the rounds read, never
the lock when nothing is unsettled; the sweeper settles everything else."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine

from quizapp.attempts.models import Attempt, AttemptStatus
from quizapp.attempts.services import save_prediction, start_attempt, submit_attempt
from quizapp.auth.models import Role
from quizapp.contests.models import Round
from quizapp.database import begin_writing, writing
from quizapp.extensions import db
from tests.conftest import WriteInARead, api_login


def another_worker_writes() -> None:
    """A commit from elsewhere: another worker saving an answer, say."""
    with writing(), db.engine.connect() as other:
        other.execute(text("UPDATE users SET full_name = full_name || '.'"))
        other.commit()


@contextmanager
def others_commit_after_every_read():
    """Meanwhile, each read a request makes outside SQLite's write lock is followed by another
    worker's commit: on SQLite, whatever that request then writes in the same transaction fails
    with "database is locked" (a write begun as a read cannot follow a newer commit)."""
    busy = []

    def after(connection, _cursor, statement, *_args):
        holds_the_lock = getattr(connection.connection.dbapi_connection, "_immediate", False)
        if busy or holds_the_lock or not statement.lstrip().upper().startswith("SELECT"):
            return
        busy.append(True)
        try:
            another_worker_writes()
        finally:
            busy.clear()

    event.listen(Engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(Engine, "after_cursor_execute", after)


@contextmanager
def locks_and_writes(app):
    """What the app asks of the database meanwhile: SQLite's write lock taken (BEGIN IMMEDIATE)
    and statements that write."""
    seen: list[str] = []

    def before(_connection, _cursor, statement, *_args):
        word = statement.split(None, 1)[0].upper()
        if word in ("INSERT", "UPDATE", "DELETE"):
            seen.append(word)

    def began(connection):
        if getattr(connection.connection.dbapi_connection, "_immediate", False):
            seen.append("BEGIN IMMEDIATE")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "begin", began)  # after the app's own, which began it
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "begin", began)


@pytest.fixture
def closed_prediction_round(app, make_user, make_round, clock, monkeypatch):
    """A round with a prediction question, now final: two people submitted the same score with
    different predictions, a third started just before the close and let the time run out (its
    attempt still marked in progress)."""
    round_ = make_round(
        prediction_question="Bao nhiêu người tham gia?",
        prediction_target="participants",
        time_limit_minutes=10,
        closes_at=clock.at + timedelta(hours=1),
    )
    organizer = make_user("btc@example.vn", role=Role.ORGANIZER)
    round_.contest.organizers.append(organizer)
    db.session.commit()
    people = {name: make_user(f"{name}@example.vn") for name in ("near", "far", "late")}
    for name, guess in (("far", 50), ("near", 3)):  # far first: the earlier submit
        attempt, _ = start_attempt(people[name], round_, clock.at)
        save_prediction(people[name], attempt.id, guess, clock.at)
        submit_attempt(people[name], attempt.id, clock.at + timedelta(minutes=1))
    late, _ = start_attempt(people["late"], round_, round_.closes_at - timedelta(minutes=5))
    ids = {"round": round_.id, "late attempt": late.id, "slug": round_.contest.slug}
    clock.at = round_.closes_at + timedelta(seconds=round_.grace_seconds + 1)
    db.session.remove()
    monkeypatch.setitem(app.config, "STANDINGS_CACHE_SECONDS", 0)  # every look reads anew
    return ids


def test_the_first_board_look_after_a_prediction_round_closes_while_others_commit(
    app, closed_prediction_round
):
    """The first look fixes the prediction count and closes the late attempt before it reads
    (on the code before: inside its read, "database is locked" once anyone committed); the
    next look of the settled round neither writes nor takes SQLite's write lock."""
    ids = closed_prediction_round
    client = app.test_client()
    api_login(client, "near@example.vn")
    url = f"/api/v1/rounds/{ids['round']}/leaderboard"

    with others_commit_after_every_read():
        response = client.get(url)

    assert response.status_code == 200, response.get_data(as_text=True)
    entries = response.get_json()["entries"]
    # Three took part (the late one's attempt counts, scored from what was saved): |3 - 3|
    # beats |50 - 3| at equal scores, though "far" was quicker.
    assert [entry["prediction"] for entry in entries[:2]] == [3, 50]
    assert entries[1]["decided_by"] == "prediction"
    with app.app_context():
        assert db.session.get(Round, ids["round"]).prediction_actual == 3
        late = db.session.get(Attempt, ids["late attempt"])
        assert (late.status, late.submitted_at) == (AttemptStatus.EXPIRED, late.deadline)

    with locks_and_writes(app) as seen:
        again = client.get(url)
    assert again.status_code == 200
    ranked = [(e["rank"], e["prediction"], e["decided_by"]) for e in entries]
    assert [(e["rank"], e["prediction"], e["decided_by"]) for e in again.get_json()["entries"]] == (
        ranked  # names aside: the other worker renamed people meanwhile
    )
    assert seen == []


@pytest.mark.parametrize(
    "read",
    ["leaderboard page", "leaderboard API", "dashboard", "statistics API", "participation page"],
)
def test_each_read_settles_its_own_rounds_and_no_others(
    app, closed_prediction_round, make_round, make_user, clock, runner, read
):
    """Every read that needs its rounds settled settles them, and only them: an overdue attempt
    of another contest stays as it is until the sweeper (`flask attempts close-expired`)."""
    ids = closed_prediction_round
    with app.app_context():
        other_round = make_round(
            time_limit_minutes=10,
            opens_at=clock.at - timedelta(hours=2),
            closes_at=clock.at + timedelta(hours=1),
        )
        forgotten, _ = start_attempt(make_user(), other_round, clock.at - timedelta(hours=1))
        forgotten_id = forgotten.id
        db.session.remove()
    client = app.test_client()
    who = "near@example.vn" if "leaderboard" in read else "btc@example.vn"
    with app.app_context():
        client.post("/login", data={"login": who, "password": "secret123"})
    url = {
        "leaderboard page": f"/rounds/{ids['round']}/leaderboard",
        "leaderboard API": f"/api/v1/rounds/{ids['round']}/leaderboard",
        "dashboard": f"/contests/{ids['slug']}/dashboard",
        "statistics API": f"/api/v1/contests/{ids['slug']}/stats",
        "participation page": f"/reports/participation?contest={ids['slug']}",
    }[read]

    with others_commit_after_every_read():
        response = client.get(url)

    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Attempt, ids["late attempt"]).status == AttemptStatus.EXPIRED
        assert db.session.get(Round, ids["round"]).prediction_actual == 3
        assert db.session.get(Attempt, forgotten_id).status == AttemptStatus.IN_PROGRESS

    result = runner.invoke(args=["attempts", "close-expired"])
    assert result.exit_code == 0, result.output
    assert "Closed 1 expired attempt(s)." in result.output
    with app.app_context():
        forgotten = db.session.get(Attempt, forgotten_id)
        assert (forgotten.status, forgotten.submitted_at) == (
            AttemptStatus.EXPIRED,
            forgotten.deadline,
        )


def test_the_sweeper_fixes_a_final_rounds_prediction_count(app, closed_prediction_round, runner):
    """Nobody looked at the board: `flask attempts close-expired` settles the round anyway."""
    result = runner.invoke(args=["attempts", "close-expired"])
    assert result.exit_code == 0, result.output
    assert "Closed 1 expired attempt(s)." in result.output
    with app.app_context():
        assert db.session.get(Round, closed_prediction_round["round"]).prediction_actual == 3


def test_a_round_in_its_last_grace_is_read_without_the_write_lock(
    app, closed_prediction_round, clock
):
    """Before the grace ends nothing is overdue and nothing is final: the board is read as it
    stands, without a write and without waiting for SQLite's write lock."""
    clock.at -= timedelta(seconds=2)  # the late attempt is still in its grace
    client = app.test_client()
    api_login(client, "near@example.vn")
    with locks_and_writes(app) as seen:
        response = client.get(f"/api/v1/rounds/{closed_prediction_round['round']}/leaderboard")
    assert response.status_code == 200
    assert seen == []
    with app.app_context():
        assert db.session.get(Round, closed_prediction_round["round"]).prediction_actual is None


def test_the_suite_refuses_a_write_inside_a_read(app, make_user, writes_in_reads):
    """The suite's own guard (tests/conftest.py): on SQLite, a write in a request's transaction
    begun as a read fails the test; after `begin_writing` it is a write like any other."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's deferred transactions")
    user_id = make_user().id
    db.session.remove()
    update = text("UPDATE users SET full_name = 'Nguyễn Văn A' WHERE id = :id")
    with app.test_request_context("/dashboard", method="GET"):
        db.session.scalar(select(Attempt.id))  # a read transaction has begun
        with pytest.raises(WriteInARead, match="UPDATE users"):
            db.session.execute(update, {"id": user_id})
        db.session.rollback()
    assert [write.split(" SET")[0] for write in writes_in_reads] == ["UPDATE users"]
    writes_in_reads.clear()  # seen and expected: the test passes
    with app.test_request_context("/dashboard", method="GET"):
        db.session.scalar(select(Attempt.id))
        begin_writing(db.session)
        db.session.execute(update, {"id": user_id})
        db.session.commit()
    assert writes_in_reads == []
