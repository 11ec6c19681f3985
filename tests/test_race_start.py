"""Simultaneous Start presses by one person make exactly one attempt, within the limit."""

import threading

import pytest
from sqlalchemy import func, select

from quizapp.attempts.models import Attempt
from quizapp.attempts.services import start_attempt, submit_attempt
from quizapp.extensions import db
from tests.conftest import api_login


def press_start_at_once(app, round_id: int, login: str, presses: int) -> list[tuple[int, int]]:
    """`presses` browsers of one person press Start together; (status, attempt id) of each."""
    url = f"/api/v1/rounds/{round_id}/attempts"
    clients = [app.test_client() for _ in range(presses)]
    tokens = [api_login(c, login) for c in clients]
    db.session.rollback()  # the test's own session must not hold SQLite's write lock
    barrier = threading.Barrier(presses)
    answers: list[tuple[int, int]] = []

    def press(client, token):
        barrier.wait()
        response = client.post(url, headers={"X-CSRFToken": token})
        answers.append((response.status_code, (response.get_json() or {}).get("id")))

    threads = [
        threading.Thread(target=press, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_simultaneous_starts_make_one_attempt(app, make_user, make_round):
    make_user("an@example.vn")
    answers = press_start_at_once(app, make_round(max_attempts=3).id, "an@example.vn", 50)

    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1
    attempt_id = db.session.scalar(select(Attempt.id))
    assert sorted(code for code, _ in answers) == [200] * 49 + [201]
    assert {attempt for _, attempt in answers} == {attempt_id}


@pytest.mark.parametrize(
    "limits", [{"max_attempts": 2}, {"max_attempts": 5, "daily_limit": 2}], ids=["round", "day"]
)
def test_simultaneous_starts_never_pass_the_attempt_limit(
    app, make_user, make_round, clock, limits
):
    """Start reads its counts before taking the write lock; the limit still holds under a race,
    and no press is told the attempts are used up by the attempt another press just began."""
    round_ = make_round(**limits)
    user = make_user("an@example.vn")
    first, _ = start_attempt(user, round_, clock.at)
    submit_attempt(user, first.id, clock.at)
    answers = press_start_at_once(app, round_.id, "an@example.vn", 20)

    numbers = db.session.scalars(select(Attempt.number).order_by(Attempt.number)).all()
    assert numbers == [1, 2]
    assert sorted(code for code, _ in answers) == [200] * 19 + [201]
