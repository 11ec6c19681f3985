"""Against a live server: simultaneous Start, save and submit on one attempt; SIGKILLed workers.

Each thread is a separate browser tab or device of the same person, or a separate person.
"""

import random
import threading
import time

import httpx
from sqlalchemy import func, select

from quizapp.attempts.models import Answer, Attempt, AttemptQuestion
from quizapp.contests.models import Contest
from quizapp.extensions import db
from tests.live.conftest import PASSWORD, make_participants


class Participant:
    """One device: its own cookie jar and CSRF token."""

    def __init__(self, base: str, login: str):
        self.http = httpx.Client(base_url=base, timeout=10)
        try:
            response = self.http.post("/api/v1/login", json={"login": login, "password": PASSWORD})
            response.raise_for_status()
            self.headers = {"X-CSRFToken": response.json()["csrf_token"]}
        except BaseException:
            self.http.close()  # a worker killed mid-login must not leak the connection
            raise

    def start(self, round_id: int) -> httpx.Response:
        return self.http.post(f"/api/v1/rounds/{round_id}/attempts", headers=self.headers)

    def save(self, attempt_id, question_id, option_ids, revision=None) -> httpx.Response:
        body = {"option_ids": option_ids}
        if revision is not None:
            body["revision"] = revision
        return self.http.put(
            f"/api/v1/attempts/{attempt_id}/answers/{question_id}", headers=self.headers, json=body
        )

    def close(self) -> None:
        self.http.close()

    def submit(self, attempt_id) -> httpx.Response:
        return self.http.post(f"/api/v1/attempts/{attempt_id}/submit", headers=self.headers)


def demo_round_id() -> int:
    contest = db.session.scalar(select(Contest).where(Contest.slug == "cds-cchc-demo"))
    return contest.rounds[0].id


def all_at_once(functions) -> list:
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(index, function):
        barrier.wait()
        results[index] = function()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_simultaneous_start_save_submit_on_one_attempt(server, database):
    [login] = make_participants(1, "race")
    round_id = demo_round_id()
    devices = [Participant(server.url, login) for _ in range(12)]

    starts = all_at_once([lambda d=d: d.start(round_id) for d in devices])
    assert sorted(r.status_code for r in starts) == [200] * 11 + [201]
    attempt = starts[0].json()
    assert {r.json()["id"] for r in starts} == {attempt["id"]}
    db.session.rollback()  # a fresh snapshot: see what the server committed
    owner = db.session.scalar(select(Attempt.user_id).where(Attempt.id == attempt["id"]))
    count = select(func.count()).where(Attempt.user_id == owner, Attempt.round_id == round_id)
    assert db.session.scalar(count) == 1

    question = attempt["questions"][0]
    choices = [[option["id"]] for option in question["options"]]
    saves = all_at_once(
        [
            lambda d=d, i=i: d.save(attempt["id"], question["id"], choices[i % len(choices)])
            for i, d in enumerate(devices)
        ]
    )
    assert {r.status_code for r in saves} == {200}
    revisions = sorted(r.json()["revision"] for r in saves)
    assert revisions == list(range(1, len(devices) + 1))  # every save applied once, in order
    last = max(saves, key=lambda r: r.json()["revision"])
    winner = saves.index(last)

    # Replays based on an old revision change nothing.
    stale = all_at_once(
        [lambda d=d: d.save(attempt["id"], question["id"], choices[0], 1) for d in devices[:4]]
    )
    assert {r.status_code for r in stale} == {409}

    results = all_at_once([lambda d=d: d.submit(attempt["id"]) for d in devices])
    assert {r.status_code for r in results} == {200}
    assert len({r.text for r in results}) == 1  # one result, whoever pressed first
    late = devices[0].save(attempt["id"], question["id"], choices[0])
    assert late.status_code == 409
    for device in devices:
        device.close()

    db.session.rollback()
    stored = db.session.execute(
        select(Answer.selected, Answer.revision)
        .join(AttemptQuestion, AttemptQuestion.id == Answer.attempt_question_id)
        .where(
            AttemptQuestion.attempt_id == attempt["id"],
            AttemptQuestion.question_id == question["id"],
        )
    ).one()
    assert stored.revision == len(devices)
    assert stored.selected == choices[winner % len(choices)]


def test_killed_workers_lose_no_acknowledged_answer(server, database):
    logins = make_participants(16, "crash")
    round_id = demo_round_id()
    acknowledged: dict[tuple[int, int], tuple[list[int], int]] = {}
    lock = threading.Lock()
    errors: list[str] = []
    expected: set[tuple[int, int]] = set()
    saves = [0]  # every acknowledged save, revisions included

    def participant(login: str, seed: int) -> None:
        try:
            answer_everything(login, seed)
        finally:
            for client in clients.pop(login, []):
                client.close()

    clients: dict[str, list[Participant]] = {}

    def connect(login: str) -> Participant:
        device = Participant(server.url, login)
        clients.setdefault(login, []).append(device)
        return device

    def answer_everything(login: str, seed: int) -> None:
        rng = random.Random(seed)
        device = None
        for _ in range(20):
            try:
                device = device or connect(login)
                attempt = device.start(round_id).json()
                break
            except (httpx.HTTPError, ValueError):
                device = None
                time.sleep(0.1)
        else:
            errors.append(f"{login}: could not start")
            return
        with lock:
            expected.add((attempt["id"], len(attempt["questions"])))
        for _round in range(3):
            for question in attempt["questions"]:
                choice = [rng.choice(question["options"])["id"]]
                for _try in range(20):
                    try:
                        response = device.save(attempt["id"], question["id"], choice)
                    except httpx.HTTPError:
                        time.sleep(0.05)  # the worker died mid-request: not acknowledged
                        continue
                    if response.status_code == 200:
                        with lock:
                            acknowledged[(attempt["id"], question["id"])] = (
                                choice,
                                response.json()["revision"],
                            )
                            saves[0] += 1
                        break
                    time.sleep(0.05)
                time.sleep(0.005)

    threads = [
        threading.Thread(target=participant, args=(login, n)) for n, login in enumerate(logins)
    ]
    for thread in threads:
        thread.start()

    def wait_for(condition, what: str) -> None:
        deadline = time.monotonic() + 60
        while not condition():
            assert time.monotonic() < deadline, f"no progress: {what}"
            time.sleep(0.01)

    # Kill a worker at set points of the run's progress (not of the clock), so the kills land
    # in the middle of it however fast the saves are.
    wait_for(lambda: len(expected) == 16 or errors, "participants starting")
    planned = 3 * sum(count for _attempt, count in expected)
    killed = []
    for share in (0.15, 0.4, 0.65):
        wait_for(lambda share=share: saves[0] >= share * planned or errors, f"{share:.0%}")
        killed.append(server.kill_worker())
    with lock:
        done_at_last_kill = saves[0]
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(killed) == 3
    assert done_at_last_kill < saves[0] == planned  # the workers died in the middle of the run
    # Every question of every participant was acknowledged in the end.
    assert len(expected) == 16
    assert len(acknowledged) == sum(count for _attempt, count in expected)
    db.session.rollback()
    stored = {
        (attempt_id, question_id): (selected, revision)
        for attempt_id, question_id, selected, revision in db.session.execute(
            select(
                AttemptQuestion.attempt_id,
                AttemptQuestion.question_id,
                Answer.selected,
                Answer.revision,
            )
            .join(Answer, Answer.attempt_question_id == AttemptQuestion.id)
            .where(AttemptQuestion.attempt_id.in_({key[0] for key in acknowledged}))
        )
    }
    lost = []
    for key, (choice, revision) in acknowledged.items():
        selected, stored_revision = stored[key]
        # A later save may have been applied without its answer reaching us; never an older one.
        if stored_revision < revision or (stored_revision == revision and selected != choice):
            lost.append((key, choice, revision, selected, stored_revision))
    assert lost == []
