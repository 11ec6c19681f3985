"""Writes that happen late: lazy expiry inside a read request, and saves after the grace."""

import threading
from datetime import timedelta

from sqlalchemy import func, select, text

from quizapp.attempts.models import Attempt, AttemptStatus, RoundResult
from quizapp.attempts.services import close_expired, start_attempt
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
        with db.engine.connect() as other:  # meanwhile another worker commits a write
            other.execute(text("UPDATE users SET full_name = full_name || '.'"))
            other.commit()
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
