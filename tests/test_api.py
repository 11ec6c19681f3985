"""The JSON API of DESIGN.md §4 through the test client."""

from datetime import timedelta

import pytest

from tests.conftest import api_login


@pytest.fixture
def participant(make_user):
    return make_user("an@example.vn")


def start(client, round_id, token):
    return client.post(f"/api/v1/rounds/{round_id}/attempts", headers={"X-CSRFToken": token})


def test_login_wrong_password_gives_no_hint(client, participant):
    wrong_password = client.post(
        "/api/v1/login", json={"login": "an@example.vn", "password": "nope"}
    )
    unknown_login = client.post(
        "/api/v1/login", json={"login": "who@example.vn", "password": "nope"}
    )
    assert wrong_password.status_code == unknown_login.status_code == 401
    assert wrong_password.get_json() == unknown_login.get_json()
    assert set(wrong_password.get_json()["error"]) == {"code", "message"}


def test_login_is_case_insensitive_and_returns_csrf(client, participant):
    response = client.post(
        "/api/v1/login", json={"login": " AN@Example.VN ", "password": "secret123"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["login"] == "an@example.vn" and body["csrf_token"]


def test_requires_login(client, make_round):
    round_ = make_round()
    assert client.get("/api/v1/rounds").status_code == 401
    assert client.post(f"/api/v1/rounds/{round_.id}/attempts").status_code == 401


def test_full_attempt_through_the_api(client, participant, make_round, clock):
    round_ = make_round(prediction_question="Bao nhiêu người?", prediction_target="participants")
    token = api_login(client, "an@example.vn")
    headers = {"X-CSRFToken": token}

    rounds = client.get("/api/v1/rounds").get_json()["rounds"]
    assert [(r["id"], r["attempts_used"], r["attempts_allowed"]) for r in rounds] == [
        (round_.id, 0, 3)
    ]
    created = start(client, round_.id, token)
    assert created.status_code == 201
    attempt = created.get_json()
    resumed = start(client, round_.id, token)
    assert resumed.status_code == 200 and resumed.get_json()["id"] == attempt["id"]

    assert attempt["remaining_seconds"] == 20 * 60
    assert attempt["prediction"] == {"question": "Bao nhiêu người?", "value": None}
    question = attempt["questions"][0]
    assert set(question) >= {"id", "position", "text", "multiple", "options", "selected"}
    assert all(set(option) == {"id", "text"} for option in question["options"])

    url = f"/api/v1/attempts/{attempt['id']}"
    saved = client.put(
        f"{url}/answers/{question['id']}",
        headers=headers,
        json={"option_ids": [question["options"][0]["id"]]},
    )
    assert saved.status_code == 200 and saved.get_json()["revision"] == 1
    assert client.put(f"{url}/prediction", headers=headers, json={"value": 42}).status_code == 200

    clock.advance(minutes=2)
    reread = client.get(url).get_json()
    assert reread["questions"][0]["selected"] == [question["options"][0]["id"]]
    assert reread["remaining_seconds"] == 18 * 60
    assert reread["prediction"]["value"] == 42

    result = client.post(f"{url}/submit", headers=headers)
    assert result.status_code == 200
    body = result.get_json()
    assert set(body) >= {
        "score",
        "max_score",
        "correct_count",
        "question_count",
        "duration_seconds",
        "submitted_at",
    }
    assert body["max_score"] == 8 and body["duration_seconds"] == 120.0
    again = client.post(f"{url}/submit", headers=headers).get_json()
    assert again == body


def test_correct_answers_never_sent_before_submit(client, participant, make_round):
    round_ = make_round()
    token = api_login(client, "an@example.vn")
    attempt = start(client, round_.id, token).get_json()
    raw = client.get(f"/api/v1/attempts/{attempt['id']}").get_data(as_text=True)
    assert '"correct"' not in raw and "explanation" not in raw and "is_correct" not in raw
    page = client.get(f"/attempts/{attempt['id']}").get_data(as_text=True)
    assert "Nghị quyết 76/NQ-CP ngày 15/7/2021 ban hành" not in page  # an explanation


def test_errors_for_bad_saves(client, participant, make_round, clock):
    round_ = make_round(time_limit_minutes=10, grace_seconds=15)
    token = api_login(client, "an@example.vn")
    headers = {"X-CSRFToken": token}
    attempt = start(client, round_.id, token).get_json()
    url = f"/api/v1/attempts/{attempt['id']}"
    first, second = attempt["questions"][0], attempt["questions"][1]

    foreign = client.put(
        f"{url}/answers/{first['id']}",
        headers=headers,
        json={"option_ids": [second["options"][0]["id"]]},
    )
    assert foreign.status_code == 422
    assert foreign.get_json()["error"]["code"] == "unknown_option"
    not_json = client.put(f"{url}/answers/{first['id']}", headers=headers, data="x")
    assert not_json.status_code == 422
    missing = client.put(f"{url}/answers/999999", headers=headers, json={"option_ids": []})
    assert missing.status_code == 404

    clock.advance(minutes=10, seconds=16)
    late = client.put(
        f"{url}/answers/{first['id']}",
        headers=headers,
        json={"option_ids": [first["options"][0]["id"]]},
    )
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "deadline_passed"
    finished = client.get(url).get_json()
    assert finished["status"] == "expired" and finished["result"]["score"] == 0


def test_other_users_attempt_is_404(app, participant, make_user, make_round):
    make_user("binh@example.vn")
    round_ = make_round()
    owner, intruder = app.test_client(), app.test_client()
    attempt = start(owner, round_.id, api_login(owner, "an@example.vn")).get_json()
    token = api_login(intruder, "binh@example.vn")
    url = f"/api/v1/attempts/{attempt['id']}"
    question = attempt["questions"][0]
    assert intruder.get(url).status_code == 404
    assert (
        intruder.put(
            f"{url}/answers/{question['id']}",
            headers={"X-CSRFToken": token},
            json={"option_ids": []},
        ).status_code
        == 404
    )
    assert intruder.post(f"{url}/submit", headers={"X-CSRFToken": token}).status_code == 404
    assert intruder.get(f"/attempts/{attempt['id']}").status_code == 404


def test_closed_round_and_limit_are_409(client, participant, make_round, clock):
    closed = make_round(opens_at=clock.at - timedelta(days=3), closes_at=clock.at)
    token = api_login(client, "an@example.vn")
    response = start(client, closed.id, token)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "round_closed"

    once = make_round(max_attempts=1)
    attempt = start(client, once.id, token).get_json()
    client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers={"X-CSRFToken": token})
    limited = start(client, once.id, token)
    assert limited.status_code == 409
    assert limited.get_json()["error"]["code"] == "attempt_limit"


def test_writes_need_the_csrf_token(app, client, participant, make_round):
    round_ = make_round()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        token = api_login(client, "an@example.vn")
        assert client.post(f"/api/v1/rounds/{round_.id}/attempts").status_code == 400
        assert start(client, round_.id, token).status_code == 201
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_leaderboard_api_shape(client, participant, make_round):
    round_ = make_round()
    token = api_login(client, "an@example.vn")
    attempt = start(client, round_.id, token).get_json()
    client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers={"X-CSRFToken": token})
    board = client.get(f"/api/v1/rounds/{round_.id}/leaderboard?limit=10").get_json()
    assert [e["rank"] for e in board["entries"]] == [1]
    assert set(board["entries"][0]) >= {
        "rank",
        "name",
        "unit",
        "score",
        "duration_seconds",
        "prediction",
        "submitted_at",
        "decided_by",
    }


def test_openapi_describes_the_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/v1/login",
        "/api/v1/rounds",
        "/api/v1/rounds/{round_id}/attempts",
        "/api/v1/attempts/{attempt_id}",
        "/api/v1/attempts/{attempt_id}/submit",
        "/api/v1/attempts/{attempt_id}/answers/{question_id}",
        "/api/v1/attempts/{attempt_id}/prediction",
        "/api/v1/rounds/{round_id}/leaderboard",
    ):
        assert path in document["paths"], path
