"""The participant's path through the HTML pages, without JavaScript (plain form posts)."""

import re

import pytest
from sqlalchemy import func, select

from quizapp.attempts.models import Attempt, AttemptStatus
from quizapp.auth.models import User
from quizapp.extensions import db


@pytest.fixture
def logged_in(client, make_user):
    make_user("an@example.vn", full_name="Nguyễn Văn An")
    response = client.post("/login", data={"login": "an@example.vn", "password": "secret123"})
    assert response.status_code == 302
    return client


def question_blocks(html: str) -> list[tuple[int, list[int]]]:
    """(question id, option ids) for each question block on the quiz page."""
    blocks = []
    for match in re.finditer(
        r'data-testid="question"\s+data-question-id="(\d+)"(.*?)</fieldset>', html, re.S
    ):
        options = [int(v) for v in re.findall(r'name="q\d+" value="(\d+)"', match.group(2))]
        blocks.append((int(match.group(1)), options))
    return blocks


def test_login_page_has_autocomplete_hooks(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html


def test_wrong_password_stays_on_login(client, make_user):
    make_user("an@example.vn")
    response = client.post("/login", data={"login": "an@example.vn", "password": "wrong"})
    assert response.status_code == 200
    assert 'autocomplete="current-password"' in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still logged out


def test_next_redirect_stays_on_this_site(client, make_user):
    make_user("an@example.vn")
    response = client.post(
        "/login?next=https://evil.example/x",
        data={"login": "an@example.vn", "password": "secret123"},
    )
    assert response.headers["Location"] == "/"


def test_full_path_without_javascript(logged_in, make_round):
    client = logged_in
    round_ = make_round()
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="start-attempt"' in home and "Tuần 1" in home

    started = client.post(f"/rounds/{round_.id}/start")
    assert started.status_code == 302
    quiz_url = started.headers["Location"]
    html = client.get(quiz_url).get_data(as_text=True)
    for hook in ("timer", "save-status", "submit-attempt", "confirm-submit"):
        assert f'data-testid="{hook}"' in html
    blocks = question_blocks(html)
    assert len(blocks) == 8

    # Answer half the questions and save (the "Save" button of the plain form).
    form = {f"q{qid}": str(options[0]) for qid, options in blocks[:4]}
    assert client.post(quiz_url, data={**form, "action": "save"}).status_code == 302

    # Reloading (or another device) shows the same attempt with the saved answers.
    again = client.get(quiz_url).get_data(as_text=True)
    assert question_blocks(again) == blocks
    for qid, options in blocks[:4]:
        assert re.search(rf'name="q{qid}" value="{options[0]}"\s+checked', again)
    assert client.post(f"/rounds/{round_.id}/start").headers["Location"] == quiz_url

    # Submit asks for confirmation first and lists the unanswered questions.
    confirm = client.post(quiz_url, data={**form, "action": "submit"})
    confirm_page = client.get(confirm.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="confirm-submit"' in confirm_page and "4/8" in confirm_page
    attempt = db.session.scalar(select(Attempt))
    assert attempt.status == AttemptStatus.IN_PROGRESS

    done = client.post(quiz_url, data={**form, "action": "confirm"})
    result = client.get(done.headers["Location"]).get_data(as_text=True)
    db.session.refresh(attempt)
    assert attempt.status == AttemptStatus.SUBMITTED
    assert re.search(r'data-testid="score">\d/8<', result)


def test_result_page_follows_review_policy(logged_in, make_round):
    client = logged_in
    hidden = make_round(review="none")
    started = client.post(f"/rounds/{hidden.id}/start").headers["Location"]
    client.post(started, data={"action": "confirm"})
    page = client.get(f"{started}/result").get_data(as_text=True)
    assert 'data-testid="score"' not in page

    immediate = make_round(review="immediate")
    started = client.post(f"/rounds/{immediate.id}/start").headers["Location"]
    client.post(started, data={"action": "confirm"})
    page = client.get(f"{started}/result").get_data(as_text=True)
    assert 'data-testid="score"' in page
    assert "Nghị quyết 76/NQ-CP ngày 15/7/2021 ban hành" in page  # explanation, after submit


def test_closed_round_shows_a_message_not_an_error(logged_in, make_round, clock):
    from datetime import timedelta

    round_ = make_round(opens_at=clock.at - timedelta(days=2), closes_at=clock.at)
    response = logged_in.post(f"/rounds/{round_.id}/start")
    assert response.status_code == 409
    assert "<html" in response.get_data(as_text=True)


def test_self_registration_when_a_contest_allows_it(app, client, make_unit, make_round):
    unit = make_unit("SGTVT", "Sở Giao thông vận tải")
    round_ = make_round()
    assert client.get("/register").status_code == 302  # closed: no contest allows it
    round_.contest.self_registration = True
    db.session.commit()
    page = client.get("/register").get_data(as_text=True)
    assert "Sở Giao thông vận tải" in page
    response = client.post(
        "/register",
        data={
            "full_name": "Trần Thị Bình",
            "login": "Binh@Example.vn",
            "unit_id": unit.id,
            "password": "matkhau1",
            "confirm": "matkhau1",
        },
    )
    assert response.status_code == 302
    assert "Trần Thị Bình" in client.get("/").get_data(as_text=True)
    other = app.test_client()
    duplicate = other.post(
        "/register",
        data={
            "full_name": "X",
            "login": "binh@example.vn",
            "unit_id": unit.id,
            "password": "matkhau1",
            "confirm": "matkhau1",
        },
    )
    assert duplicate.status_code == 200  # the form again, with the error
    assert 'aria-invalid="true"' in duplicate.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_claimed_unit_admits_only_to_contests_open_to_registration(
    app, client, make_unit, make_round
):
    """A stranger who registers choosing a department is not its staff: its own contest (no
    self-registration) neither lists, starts nor ranks them."""
    unit = make_unit("SGTVT", "Sở Giao thông vận tải")
    public = make_round()
    public.contest.self_registration = True
    staff_only = make_round(audience=[unit])
    db.session.commit()
    registered = client.post(
        "/register",
        data={
            "full_name": "Người lạ",
            "login": "nguoila@example.vn",
            "email": "nguoila@example.vn",
            "unit_id": unit.id,
            "password": "matkhau1",
            "confirm": "matkhau1",
        },
    )
    assert registered.status_code == 302
    stranger = db.session.scalar(select(User).where(User.login == "nguoila@example.vn"))
    assert stranger.self_registered and stranger.unit_id == unit.id

    listed = {r["id"] for r in client.get("/api/v1/rounds").get_json()["rounds"]}
    assert listed == {public.id}
    assert client.get(f"/contests/{staff_only.contest.slug}").status_code == 404
    assert client.post(f"/rounds/{staff_only.id}/start").status_code == 404
    assert client.get(f"/rounds/{staff_only.id}/leaderboard").status_code == 404
    assert client.post(f"/rounds/{public.id}/start").status_code == 302  # the open contest
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_a_mistyped_email_is_a_form_error_in_vietnamese(client, make_unit, make_round):
    unit = make_unit("SGTVT")
    make_round().contest.self_registration = True
    db.session.commit()
    response = client.post(
        "/register",
        data={
            "full_name": "Trần Thị Bình",
            "login": "0912345678",
            "email": "binh@@example",
            "unit_id": unit.id,
            "password": "matkhau1",
            "confirm": "matkhau1",
        },
    )
    assert response.status_code == 200  # was a 500: the validator's package was missing
    assert "Nhập địa chỉ email dạng" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_logout_ends_the_session(logged_in):
    assert logged_in.get("/").status_code == 200
    logged_in.post("/logout")
    assert logged_in.get("/").status_code == 302


def test_history_lists_every_attempt(logged_in, make_round, clock):

    client = logged_in
    round_ = make_round(time_limit_minutes=10)
    first = client.post(f"/rounds/{round_.id}/start").headers["Location"]
    client.post(first, data={"action": "confirm"})
    second = client.post(f"/rounds/{round_.id}/start").headers["Location"]
    assert second != first
    page = client.get("/history").get_data(as_text=True)
    assert page.count('<li class="card">') == 2  # one card per attempt
    assert f'href="{second}"' in page  # the one in progress can be continued
    clock.advance(hours=1)
    page = client.get("/history").get_data(as_text=True)
    assert f'href="{second}/result"' in page and "10:00" in page  # expired at its deadline


def test_unknown_page_says_so_in_vietnamese(logged_in):
    response = logged_in.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Trang này không tồn tại" in page and "requested URL" not in page
    # The API keeps its JSON shape, with the same plain message.
    body = logged_in.get("/api/v1/attempts/999999", headers={"Accept": "application/json"})
    assert body.status_code == 404 and body.get_json()["error"]["code"] == "not_found"


def test_registration_makes_people_choose_their_unit(client, make_unit, make_round):
    parent = make_unit("SGTVT", "Sở Giao thông vận tải")
    make_unit("SGTVT-VP", "Văn phòng", parent=parent)
    round_ = make_round()
    round_.contest.self_registration = True
    db.session.commit()
    page = client.get("/register").get_data(as_text=True)
    first_option = re.search(r'<select[^>]*name="unit_id"[^>]*>\s*(<option[^>]*>[^<]*)', page)
    assert first_option.group(1) == '<option value="0">— Chọn đơn vị của bạn —'
    assert "Văn phòng (Sở Giao thông vận tải)" in page  # which body's office
    response = client.post(
        "/register",
        data={
            "full_name": "Lý Thị Hoa",
            "login": "hoa@example.vn",
            "unit_id": "0",
            "password": "matkhau1",
            "confirm": "matkhau1",
        },
    )
    assert response.status_code == 200
    assert "Hãy chọn đơn vị của bạn." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
