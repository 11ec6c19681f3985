"""A round's review policy holds on every surface: result page, API, home card and history."""

from datetime import timedelta

from tests.conftest import api_login

EXPLANATION = "Nghị quyết 76/NQ-CP ngày 15/7/2021 ban hành"


def _submitted(client, round_) -> int:
    """Start and submit an attempt through the API; returns its id."""
    token = api_login(client, "an@example.vn")
    attempt = client.post(f"/api/v1/rounds/{round_.id}/attempts", headers={"X-CSRFToken": token})
    attempt_id = attempt.get_json()["id"]
    client.post(f"/api/v1/attempts/{attempt_id}/submit", headers={"X-CSRFToken": token})
    return attempt_id


def test_after_close_shows_keys_only_once_the_last_saves_are_over(
    app, make_user, make_round, clock
):
    # Two people at once: each request in its own app context, as in production (the test's
    # own context would otherwise keep the last login's user for both clients).
    make_user("an@example.vn")
    make_user("binh@example.vn")
    round_ = make_round(
        review="after_close",
        closes_at=clock.at + timedelta(minutes=30),
        grace_seconds=15,
        draw=[("Cải cách hành chính", 4, None)],
    )
    early, late = app.test_client(), app.test_client()

    def result_page() -> str:
        with app.app_context():
            page = early.get(f"/attempts/{attempt_id}/result")
        assert page.status_code == 200
        return page.get_data(as_text=True)

    with app.app_context():
        attempt_id = _submitted(early, round_)
    # Bình starts ten minutes before the close: her deadline is the close, saves run 15 s on.
    clock.at = round_.closes_at - timedelta(minutes=10)
    with app.app_context():
        token = api_login(late, "binh@example.vn")
        started = late.post(f"/api/v1/rounds/{round_.id}/attempts", headers={"X-CSRFToken": token})
    late_attempt = started.get_json()
    question = late_attempt["questions"][0]

    clock.at = round_.closes_at + timedelta(seconds=5)  # closed, but Bình may still save
    assert "Xem lại bài làm" not in result_page() and EXPLANATION not in result_page()
    with app.app_context():
        save = late.put(
            f"/api/v1/attempts/{late_attempt['id']}/answers/{question['id']}",
            json={"option_ids": [question["options"][0]["id"]]},
            headers={"X-CSRFToken": token},
        )
    assert save.status_code == 200  # still within her grace

    clock.at = round_.closes_at + timedelta(seconds=15)
    assert "Xem lại bài làm" in result_page() and EXPLANATION in result_page()


def test_review_none_hides_the_score_everywhere(app, make_user, make_round):
    make_user("an@example.vn")
    round_ = make_round(review="none")
    client = app.test_client()
    token = api_login(client, "an@example.vn")
    attempt_id = client.post(
        f"/api/v1/rounds/{round_.id}/attempts", headers={"X-CSRFToken": token}
    ).get_json()["id"]

    submitted = client.post(
        f"/api/v1/attempts/{attempt_id}/submit", headers={"X-CSRFToken": token}
    ).get_json()
    assert submitted["score"] is None and submitted["correct_count"] is None
    assert submitted["score_shown"] is False and submitted["max_score"] == 8
    again = client.get(f"/api/v1/attempts/{attempt_id}").get_json()["result"]
    assert again["score"] is None and again["correct_count"] is None

    home = client.get("/").get_data(as_text=True)
    assert "Điểm cao nhất" not in home  # the card's best score
    history = client.get("/history").get_data(as_text=True)
    assert "—/8" in history
    result = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert 'data-testid="score"' not in result


def test_review_score_shows_the_score_and_never_the_keys(app, make_user, make_round, clock):
    make_user("an@example.vn")
    round_ = make_round(review="score")
    client = app.test_client()
    attempt_id = _submitted(client, round_)
    assert client.get(f"/api/v1/attempts/{attempt_id}").get_json()["result"]["score"] == 0
    clock.at = round_.closes_at + timedelta(days=1)
    page = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert 'data-testid="score">0/8<' in page and EXPLANATION not in page
