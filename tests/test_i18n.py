"""Vietnamese by default, English on request; Vietnamese dates and numbers."""

from datetime import UTC, datetime, timedelta

from quizapp.i18n import format_datetime_local, format_number
from tests.conftest import api_login


def test_pages_are_vietnamese_by_default_and_english_on_request(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in page and "Mật khẩu" in page and 'lang="vi"' in page
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in english and "Đăng nhập" not in english
    assert "Log in" in client.get("/login").get_data(as_text=True)  # the choice sticks


def test_quiz_page_in_vietnamese(client, make_user, make_round):
    make_user("an@example.vn")
    round_ = make_round()
    client.post("/login", data={"login": "an@example.vn", "password": "secret123"})
    home = client.get("/").get_data(as_text=True)
    assert "Bắt đầu thi" in home and "Thể lệ" not in home
    quiz = client.get(client.post(f"/rounds/{round_.id}/start").headers["Location"])
    html = quiz.get_data(as_text=True)
    assert "Câu 1" in html and "Nộp bài" in html and "Đã lưu" in html


def test_api_errors_in_vietnamese(client, make_user, make_round, clock):
    make_user("an@example.vn")
    closed = make_round(opens_at=clock.at - timedelta(days=2), closes_at=clock.at)
    token = api_login(client, "an@example.vn")
    response = client.post(f"/api/v1/rounds/{closed.id}/attempts", headers={"X-CSRFToken": token})
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == "Đợt thi đã kết thúc."


def test_vietnamese_numbers_and_dates(app):
    with app.test_request_context("/"):
        assert format_number(1234.5, 1) == "1.234,5"
        assert format_number(269) == "269"
        # 17:30 UTC is 00:30 the next day in Vietnam.
        moment = datetime(2023, 10, 2, 17, 30, tzinfo=UTC)
        assert format_datetime_local(moment) == "03/10/2023 00:30"
    with app.test_request_context("/?lang=en"):
        assert format_number(1234.5, 1) == "1,234.5"
