"""Two app hosts (gunicorn on two ports) over one database, as behind a load balancer.

On the PostgreSQL pass (QUIZAPP_TEST_DATABASE_URL) both share one PostgreSQL database; on the
SQLite pass they share one SQLite file. A browser's cookie is for the host name, not the port,
so one httpx client plays one browser whose requests the balancer sends to either host.
"""

import copy
import threading

import httpx
import pytest
from sqlalchemy import func, select

from quizapp.attempts.models import Answer, Attempt, AttemptQuestion
from quizapp.attempts.services import is_correct
from quizapp.extensions import db
from tests.live.conftest import PASSWORD, make_participants
from tests.live.test_live_races import demo_round_id
from tests.live_server import LiveServer, free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Host A; the conftest's `database` fixture binds to its database."""
    live = LiveServer(tmp_path_factory.mktemp("host-a"), workers=1, threads=4)
    live.seed()
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def host_b(server, tmp_path_factory):
    """Host B: its own gunicorn and port, host A's database and secret key."""
    other = copy.copy(server)
    other.folder = tmp_path_factory.mktemp("host-b")
    other.port = free_port()
    other.url = f"http://127.0.0.1:{other.port}"
    other.database = None  # host A drops the PostgreSQL database; B only stops
    other.process = None
    other.start()
    yield other
    other.stop()


class Browser:
    """One browser: one cookie jar, whichever host serves the request."""

    def __init__(self, login: str, host: LiveServer):
        self.http = httpx.Client(timeout=10)
        response = self.http.post(
            f"{host.url}/api/v1/login", json={"login": login, "password": PASSWORD}
        )
        response.raise_for_status()
        self.headers = {"X-CSRFToken": response.json()["csrf_token"]}

    def start(self, host, round_id) -> httpx.Response:
        return self.http.post(f"{host.url}/api/v1/rounds/{round_id}/attempts", headers=self.headers)

    def attempt(self, host, attempt_id) -> dict:
        response = self.http.get(f"{host.url}/api/v1/attempts/{attempt_id}")
        response.raise_for_status()
        return response.json()

    def save(self, host, attempt_id, question_id, option_ids, revision=None) -> httpx.Response:
        body = {"option_ids": option_ids}
        if revision is not None:
            body["revision"] = revision
        return self.http.put(
            f"{host.url}/api/v1/attempts/{attempt_id}/answers/{question_id}",
            headers=self.headers,
            json=body,
        )

    def submit(self, host, attempt_id) -> httpx.Response:
        return self.http.post(
            f"{host.url}/api/v1/attempts/{attempt_id}/submit", headers=self.headers
        )


def stored_answers(attempt_id: int) -> dict[int, tuple[list[int], int]]:
    return {
        question_id: (selected, revision)
        for question_id, selected, revision in db.session.execute(
            select(AttemptQuestion.question_id, Answer.selected, Answer.revision)
            .join(Answer, Answer.attempt_question_id == AttemptQuestion.id)
            .where(AttemptQuestion.attempt_id == attempt_id)
        )
    }


def test_participant_moves_between_hosts_mid_attempt(server, host_b, database):
    [login] = make_participants(1, "moving")
    round_id = demo_round_id()
    a, b = server, host_b
    browser = Browser(login, a)

    started = browser.start(a, round_id)
    assert started.status_code == 201
    attempt = started.json()
    questions = attempt["questions"]
    half = len(questions) // 2
    acknowledged: dict[int, tuple[list[int], int]] = {}

    def save(host, question, index, revision=None):
        choice = [question["options"][index % len(question["options"])]["id"]]
        response = browser.save(host, attempt["id"], question["id"], choice, revision)
        assert response.status_code == 200, response.text
        acknowledged[question["id"]] = (choice, response.json()["revision"])

    for n, question in enumerate(questions[:half]):
        save(a, question, n)

    # The balancer now sends this browser to host B: the same attempt, with A's answers.
    assert browser.start(b, round_id).status_code == 200
    on_b = browser.attempt(b, attempt["id"])
    assert on_b["id"] == attempt["id"]
    assert [q["id"] for q in on_b["questions"]] == [q["id"] for q in questions]
    for question in on_b["questions"]:
        if question["id"] in acknowledged:
            choice, revision = acknowledged[question["id"]]
            assert (question["selected"], question["revision"]) == (sorted(choice), revision)
    for n, question in enumerate(questions[half:], start=half):
        save(b, question, n)

    # Back and forth: a change on A, then B refuses a replay based on the revision before it.
    first = questions[0]
    _choice, old_revision = acknowledged[first["id"]]
    save(a, first, 1, revision=old_revision)
    stale = browser.save(b, attempt["id"], first["id"], [first["options"][0]["id"]], old_revision)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_revision"

    result = browser.submit(b, attempt["id"])
    assert result.status_code == 200
    again = browser.submit(a, attempt["id"])
    assert again.json() == result.json()  # one result, whichever host is asked
    late = browser.save(a, attempt["id"], first["id"], [first["options"][0]["id"]])
    assert late.status_code == 409

    db.session.rollback()  # a fresh snapshot of what the hosts committed
    stored = stored_answers(attempt["id"])
    assert {qid: (sorted(choice), rev) for qid, (choice, rev) in acknowledged.items()} == stored
    snapshots = dict(
        db.session.execute(
            select(AttemptQuestion.question_id, AttemptQuestion.snapshot).where(
                AttemptQuestion.attempt_id == attempt["id"]
            )
        ).all()
    )
    expected_score = sum(is_correct(snapshots[qid], sel) for qid, (sel, _rev) in stored.items())
    assert result.json()["score"] == expected_score
    assert result.json()["question_count"] == len(questions)
    browser.http.close()


def test_attempt_limits_hold_across_hosts(server, host_b, database):
    [login] = make_participants(1, "limits")
    round_id = demo_round_id()
    a, b = server, host_b
    browser = Browser(login, b)

    # Start pressed on both hosts at once: one attempt.
    barrier = threading.Barrier(2)
    presses = [None, None]

    def press(index, host):
        barrier.wait()
        presses[index] = browser.start(host, round_id)

    threads = [threading.Thread(target=press, args=pair) for pair in enumerate((a, b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in presses) == [200, 201]
    assert presses[0].json()["id"] == presses[1].json()["id"]

    # The demo round allows three attempts; hosts take turns, the fourth is refused by both.
    assert browser.submit(a, presses[0].json()["id"]).status_code == 200
    for host in (b, a):
        started = browser.start(host, round_id)
        assert started.status_code == 201
        assert browser.submit(host, started.json()["id"]).status_code == 200
    for host in (a, b):
        refused = browser.start(host, round_id)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "attempt_limit"

    db.session.rollback()
    owner = select(Attempt.user_id).where(Attempt.id == presses[0].json()["id"])
    count = select(func.count()).where(
        Attempt.user_id == owner.scalar_subquery(), Attempt.round_id == round_id
    )
    assert db.session.scalar(count) == 3
    browser.http.close()
