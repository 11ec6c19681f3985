"""Fifty simultaneous Start presses by one person make exactly one attempt."""

import threading

from sqlalchemy import func, select

from quizapp.attempts.models import Attempt
from quizapp.extensions import db
from tests.conftest import api_login


def test_simultaneous_starts_make_one_attempt(app, make_user, make_round):
    make_user("an@example.vn")
    url = f"/api/v1/rounds/{make_round(max_attempts=3).id}/attempts"
    clients = [app.test_client() for _ in range(50)]
    tokens = [api_login(c, "an@example.vn") for c in clients]
    db.session.rollback()  # the test's own session must not hold SQLite's write lock
    barrier = threading.Barrier(len(clients))
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

    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1
    attempt_id = db.session.scalar(select(Attempt.id))
    assert sorted(code for code, _ in answers) == [200] * 49 + [201]
    assert {attempt for _, attempt in answers} == {attempt_id}
