"""Writes that happen late: lazy expiry inside a read request, saves after the grace, and the
reads of a Start and a save made before the write lock is taken."""

import os
import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from quizapp.attempts import saving, services
from quizapp.attempts.models import Answer, Attempt, AttemptStatus, RoundResult
from quizapp.attempts.services import close_expired, start_attempt
from quizapp.auth.models import User
from quizapp.database import begin_writing, writing
from quizapp.extensions import db
from tests.conftest import api_login


def test_lazy_expiry_in_a_read_request_after_another_workers_write(
    app, make_user, make_round, clock
):
    round_ = make_round(time_limit_minutes=10)
    start_attempt(make_user(), round_, clock.at)
    db.session.remove()
    later = clock.at + timedelta(minutes=30)
    with app.test_request_context("/contests/x/dashboard", method="GET"):
        db.session.scalar(select(Attempt.id))  # the request's read transaction has begun
        another_worker_writes()  # meanwhile
        # SQLite cannot turn that read into a write any more ("database is locked"); the
        # expiry must start a write transaction of its own instead.
        assert close_expired(later) == 1
        db.session.commit()
    db.session.remove()
    attempt = db.session.scalar(select(Attempt))
    assert (attempt.status, attempt.submitted_at) == (AttemptStatus.EXPIRED, attempt.deadline)


def test_simultaneous_late_saves_all_answer_409_and_expire_once(app, make_user, make_round, clock):
    round_ = make_round(time_limit_minutes=10)
    user = make_user("an@example.vn")
    attempt, _ = start_attempt(user, round_, clock.at)
    attempt_id = attempt.id
    url = f"/api/v1/attempts/{attempt_id}/answers/{attempt.questions[0].question_id}"
    option = attempt.questions[0].snapshot["options"][0]["id"]
    clients = [app.test_client() for _ in range(8)]
    tokens = [api_login(c, "an@example.vn") for c in clients]
    clock.at += timedelta(minutes=10, seconds=round_.grace_seconds + 1)
    db.session.rollback()  # the test's own session must not hold a lock
    barrier = threading.Barrier(len(clients))
    answers: list[tuple[int, str]] = []

    def save(client, token):
        barrier.wait()
        response = client.put(url, json={"option_ids": [option]}, headers={"X-CSRFToken": token})
        answers.append((response.status_code, (response.get_json() or {}).get("error", {})))

    pairs = zip(clients, tokens, strict=True)
    threads = [threading.Thread(target=save, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # 409 for all: the first closes the attempt, the others find it closed (or too late).
    assert [code for code, _ in answers] == [409] * len(clients)
    codes = {error.get("code") for _, error in answers}
    assert "deadline_passed" in codes and codes <= {"deadline_passed", "attempt_closed"}
    db.session.remove()
    closed = db.session.get(Attempt, attempt_id)
    assert (closed.status, closed.submitted_at) == (AttemptStatus.EXPIRED, closed.deadline)
    assert db.session.scalar(select(func.count()).select_from(RoundResult)) == 1


SQLITE_ONLY = pytest.mark.skipif(
    os.environ.get("QUIZAPP_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="SQLite's single write lock",
)


def another_worker_writes() -> None:
    with writing(), db.engine.connect() as other:  # a writer: its transaction begins IMMEDIATE
        other.execute(text("UPDATE users SET full_name = full_name || '.'"))
        other.commit()


def write_lock_is_free() -> bool:
    """Could another worker write to the SQLite database right now (without waiting)?"""
    other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@SQLITE_ONLY
def test_start_and_save_read_outside_the_write_lock(app, make_user, make_round, monkeypatch):
    """A Start draws its questions, and a save reads the attempt, while other writers write."""
    round_id = make_round().id
    make_user("an@example.vn")
    client = app.test_client()
    headers = {"X-CSRFToken": api_login(client, "an@example.vn")}
    db.session.remove()  # the test's own session must not hold SQLite's locks
    seen = {}

    def meanwhile(label, function):
        """`function`, noting whether the write lock is free and letting another worker write."""

        def watched(*args):
            seen[label] = write_lock_is_free()
            another_worker_writes()
            return function(*args)

        return watched

    monkeypatch.setattr(
        services, "_draw_questions", meanwhile("while drawing", services._draw_questions)
    )
    started = client.post(f"/api/v1/rounds/{round_id}/attempts", headers=headers)
    assert started.status_code == 201, started.get_json()
    attempt = started.get_json()

    monkeypatch.setattr(
        saving, "_validate_selection", meanwhile("while saving", saving._validate_selection)
    )
    question = attempt["questions"][0]
    path = f"/api/v1/attempts/{attempt['id']}/answers/{question['id']}"
    saved = client.put(path, json={"option_ids": [question["options"][0]["id"]]}, headers=headers)
    assert saved.status_code == 200, saved.get_json()
    assert seen == {"while drawing": True, "while saving": True}


@SQLITE_ONLY
def test_begin_writing_with_unflushed_changes_still_writes_under_the_lock(app, make_user):
    """Changes the ORM has not flushed yet when a read turns into a write wait for the write
    lock: they are written under it, never with the read."""
    user_id = make_user().id
    db.session.remove()
    with app.test_request_context("/dashboard", method="GET"):
        user = db.session.get(User, user_id)
        user.full_name = "Nguyễn Văn Đổi"
        begin_writing(db.session)
        db.session.scalar(select(User.id))  # the next transaction
        assert not write_lock_is_free()
        db.session.commit()
    db.session.remove()
    assert db.session.get(User, user_id).full_name == "Nguyễn Văn Đổi"


@SQLITE_ONLY
def test_a_submit_between_a_saves_read_and_its_update_wins(app, make_user, make_round, monkeypatch):
    """Another worker submits after the save read the attempt as in progress: the save's UPDATE
    applies nothing, the answer is 409 "attempt_closed", and the saved answer stays as it was."""
    round_id = make_round().id
    make_user("an@example.vn")
    client = app.test_client()
    headers = {"X-CSRFToken": api_login(client, "an@example.vn")}
    db.session.remove()  # the test's own session must not hold SQLite's locks
    with app.app_context():
        attempt = client.post(f"/api/v1/rounds/{round_id}/attempts", headers=headers).get_json()
    validate = saving._validate_selection

    def submitted_meanwhile(*args):
        with writing(), db.engine.connect() as other:
            other.execute(
                text("UPDATE attempts SET status = :closed WHERE id = :id"),
                {"closed": AttemptStatus.SUBMITTED.value, "id": attempt["id"]},
            )
            other.commit()
        return validate(*args)

    monkeypatch.setattr(saving, "_validate_selection", submitted_meanwhile)
    question = attempt["questions"][0]
    path = f"/api/v1/attempts/{attempt['id']}/answers/{question['id']}"
    with app.app_context():
        saved = client.put(
            path, json={"option_ids": [question["options"][0]["id"]]}, headers=headers
        )
    assert saved.status_code == 409, saved.get_json()
    assert saved.get_json()["error"]["code"] == "attempt_closed"
    with app.app_context():
        assert db.session.scalars(select(Answer.revision)).all() == [0] * len(attempt["questions"])
