"""Cheating through the HTTP interfaces: what reaches the browser before submit, and requests
that edit late, replay an old revision, submit twice or start in two tabs."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from quizapp.attempts.models import Answer, Attempt, AttemptQuestion
from quizapp.banks.models import Option, Question
from quizapp.extensions import db
from tests.conftest import api_login


@pytest.fixture
def participant(make_user):
    return make_user("an@example.vn")


@pytest.fixture
def token(client, participant):
    return api_login(client, "an@example.vn")


def start(client, round_id, token):
    return client.post(f"/api/v1/rounds/{round_id}/attempts", headers={"X-CSRFToken": token})


def save(client, token, attempt_id, question_id, option_ids, **extra):
    return client.put(
        f"/api/v1/attempts/{attempt_id}/answers/{question_id}",
        headers={"X-CSRFToken": token},
        json={"option_ids": option_ids, **extra},
    )


def stored_answer(attempt_id, question_id) -> tuple[list[int], int]:
    db.session.expire_all()
    answer = db.session.scalar(
        select(Answer)
        .join(AttemptQuestion)
        .where(AttemptQuestion.attempt_id == attempt_id)
        .where(AttemptQuestion.question_id == question_id)
    )
    return answer.selected, answer.revision


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


def test_nothing_on_the_page_or_in_the_api_tells_the_right_option(client, token, make_round, bank):
    round_ = make_round()
    attempt = start(client, round_.id, token).get_json()
    api = client.get(f"/api/v1/attempts/{attempt['id']}").get_json()
    page = client.get(f"/attempts/{attempt['id']}").get_data(as_text=True)

    assert not keys_of(api) & {"correct", "is_correct", "explanation", "source", "answer"}
    explanations = [q.explanation for q in db.session.scalars(select(Question)) if q.explanation]
    assert explanations
    raw_api = json.dumps(api, ensure_ascii=False)
    for explanation in explanations:
        assert explanation not in raw_api and explanation not in page
    assert not re.search(r"data-[\w-]*correct|class=\"[^\"]*\bcorrect\b", page)

    # Option ids must not give the answer away either: bank ids follow the file's order, and
    # banks (ours too) mostly list the right answer first.
    bank_ids = set(db.session.scalars(select(Option.id)))
    shown = [o["id"] for q in api["questions"] for o in q["options"]]
    assert not set(shown) & bank_ids
    page_ids = {int(v) for v in re.findall(r'name="q\d+" value="(\d+)"', page)}
    assert page_ids == set(shown)
    first_listed_is_right = [
        min(aq.option_ids) in aq.correct_ids
        for aq in db.session.get(Attempt, attempt["id"]).questions
    ]
    assert not all(first_listed_is_right)  # 8 questions: all by chance is about 1 in 40,000


def test_a_save_after_deadline_and_grace_changes_nothing(client, token, make_round, clock):
    round_ = make_round(time_limit_minutes=10, grace_seconds=15)
    attempt = start(client, round_.id, token).get_json()
    question = attempt["questions"][0]
    first, second = (o["id"] for o in question["options"][:2])
    assert save(client, token, attempt["id"], question["id"], [first]).status_code == 200

    clock.advance(minutes=10, seconds=15)  # the last moment of grace still counts
    assert save(client, token, attempt["id"], question["id"], [second]).status_code == 200
    clock.advance(seconds=1)
    late = save(client, token, attempt["id"], question["id"], [first])
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "deadline_passed"
    assert stored_answer(attempt["id"], question["id"]) == ([second], 2)

    # The form without JavaScript cannot do it either.
    client.post(f"/attempts/{attempt['id']}", data={f"q{question['id']}": str(first)})
    assert stored_answer(attempt["id"], question["id"]) == ([second], 2)


def test_a_replayed_old_revision_changes_nothing(client, token, make_round):
    attempt = start(client, make_round().id, token).get_json()
    question = attempt["questions"][0]
    first, second = (o["id"] for o in question["options"][:2])
    saved = save(client, token, attempt["id"], question["id"], [first], revision=0)
    assert saved.status_code == 200 and saved.get_json()["revision"] == 1
    newer = save(client, token, attempt["id"], question["id"], [second], revision=1)
    assert newer.status_code == 200 and newer.get_json()["revision"] == 2

    replayed = save(client, token, attempt["id"], question["id"], [first], revision=0)
    assert replayed.status_code == 409
    assert replayed.get_json()["error"]["code"] == "stale_revision"
    assert stored_answer(attempt["id"], question["id"]) == ([second], 2)


def test_a_second_submit_returns_the_first_result_and_later_saves_are_refused(
    client, token, make_round, clock
):
    attempt = start(client, make_round().id, token).get_json()
    question = attempt["questions"][0]
    url = f"/api/v1/attempts/{attempt['id']}/submit"
    first = client.post(url, headers={"X-CSRFToken": token})
    assert first.status_code == 200
    clock.advance(minutes=2)
    again = client.post(url, headers={"X-CSRFToken": token})
    assert again.status_code == 200 and again.get_json() == first.get_json()
    late = save(client, token, attempt["id"], question["id"], [question["options"][0]["id"]])
    assert late.status_code == 409
    assert stored_answer(attempt["id"], question["id"]) == ([], 0)
    assert client.post(f"/attempts/{attempt['id']}/submit").status_code == 302  # the form: same
    assert client.get(url.removesuffix("/submit")).get_json()["result"] == first.get_json()


def test_two_tabs_pressing_start_share_one_attempt(app, participant, make_round):
    round_ = make_round()
    tab_one, tab_two = app.test_client(), app.test_client()
    token_one = api_login(tab_one, "an@example.vn")
    token_two = api_login(tab_two, "an@example.vn")
    first = start(tab_one, round_.id, token_one)
    second = start(tab_two, round_.id, token_two)
    page = tab_one.post(f"/rounds/{round_.id}/start")
    assert first.status_code == 201 and second.status_code == 200
    assert second.get_json()["id"] == first.get_json()["id"]
    assert page.headers["Location"] == f"/attempts/{first.get_json()['id']}"
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_foreign_attempt_and_answer_ids_are_404_everywhere(app, participant, make_user, make_round):
    make_user("binh@example.vn")
    round_ = make_round()
    owner, intruder = app.test_client(), app.test_client()
    attempt = start(owner, round_.id, api_login(owner, "an@example.vn")).get_json()
    question = attempt["questions"][0]
    token = api_login(intruder, "binh@example.vn")
    base = f"/api/v1/attempts/{attempt['id']}"
    answers = [
        intruder.get(base),
        intruder.put(f"{base}/prediction", headers={"X-CSRFToken": token}, json={"value": 1}),
        save(intruder, token, attempt["id"], question["id"], [question["options"][0]["id"]]),
        intruder.post(f"{base}/submit", headers={"X-CSRFToken": token}),
        intruder.get(f"/attempts/{attempt['id']}"),
        intruder.get(f"/attempts/{attempt['id']}/confirm"),
        intruder.get(f"/attempts/{attempt['id']}/result"),
        intruder.post(f"/attempts/{attempt['id']}", data={"action": "confirm"}),
        intruder.post(f"/attempts/{attempt['id']}/submit"),
    ]
    assert [r.status_code for r in answers] == [404] * len(answers)
    assert db.session.get(Attempt, attempt["id"]).status == "in_progress"
    assert stored_answer(attempt["id"], question["id"]) == ([], 0)


def test_statistics_still_count_wrong_choices_by_the_bank_option(make_user, make_round, clock):
    from quizapp.attempts.services import save_answer, start_attempt, submit_attempt
    from quizapp.contests.stats import question_stats

    round_ = make_round(closes_at=clock.at + timedelta(hours=1))
    target = None
    for _ in range(8):  # everyone right except one question, where all pick the same wrong option
        user = make_user()
        attempt, _ = start_attempt(user, round_, clock.at)
        target = target or attempt.questions[0].question_id
        for aq in attempt.questions:
            chosen = sorted(aq.correct_ids)
            if aq.question_id == target:
                wrong = [o for o in aq.snapshot["options"] if not o["correct"]]
                chosen = [min(wrong, key=lambda o: o["option_id"])["id"]]
            save_answer(user, attempt.id, aq.question_id, chosen, clock.at)
        submit_attempt(user, attempt.id, clock.at + timedelta(minutes=3))
    [item] = [
        q for q in question_stats(round_, clock.at + timedelta(hours=2)) if q.question_id == target
    ]
    assert item.top_wrong_share == 1.0
