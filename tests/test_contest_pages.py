"""Organizer pages: contests and rounds made on the page equal those from a file; live-round
limits; the contest password on the page and the API; roles; the share panel."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from quizapp.admin.models import AuditLog
from quizapp.attempts.models import Attempt
from quizapp.attempts.services import start_attempt
from quizapp.auth.models import Role
from quizapp.banks.models import Category
from quizapp.contests.models import Contest, ContestAccess, Round, RoundDraw
from quizapp.contests.services import create_contest_from_file
from quizapp.extensions import db
from tests.conftest import START, api_login

BANK = "Ngân hàng thử nghiệm"

CONTEST_YAML = """\
slug: {slug}
title: Cuộc thi thử nghiệm
description: Tìm hiểu CCHC
rules: "Mỗi người thi tối đa 3 lần."
audience: [SGTVT]
self_registration: true
unit_rank_threshold: 0.6
public_leaderboard: true
ranking: [score, duration, submitted_at]
password: mat-khau-1
rounds:
  - title: Tuần 1
    opens_at: 2026-10-12T08:00:00+07:00
    closes_at: 2026-10-18T17:30:00+07:00
    time_limit_minutes: 15
    max_attempts: 2
    daily_limit: 1
    counting: last
    review: score
    grace_seconds: 20
    prediction:
      question: "Bao nhiêu bài đúng hết?"
      target: perfect_scores
    draw:
      - {{bank: "Ngân hàng thử nghiệm", category: "Cải cách hành chính", count: 3}}
      - {{bank: "Ngân hàng thử nghiệm", category: "Chuyển đổi số", count: 2, difficulty: 1}}
"""


def login(client, user, password="secret123"):
    response = client.post("/login", data={"login": user.login, "password": password})
    assert response.status_code == 302


@pytest.fixture
def organizer(make_user):
    return make_user("btc@example.vn", role=Role.ORGANIZER, full_name="Ban Tổ Chức")


@pytest.fixture
def as_organizer(client, organizer):
    login(client, organizer)
    return client


def category_id(name):
    return db.session.scalar(select(Category.id).where(Category.name == name))


def contest_form(slug, unit_id, **overrides):
    data = {
        "title": "Cuộc thi thử nghiệm",
        "slug": slug,
        "description": "Tìm hiểu CCHC",
        "rules": "Mỗi người thi tối đa 3 lần.",
        "audience_mode": "units",
        "units": [str(unit_id)],
        "self_registration": "y",
        "password": "mat-khau-1",
        "public_leaderboard": "y",
        "threshold_percent": "60",
        "rank_1": "score",
        "rank_2": "duration",
        "rank_3": "submitted_at",
        "rank_4": "",
    }
    data.update(overrides)
    return data


def round_form(**overrides):
    data = {
        "title": "Tuần 1",
        "opens_at": "12/10/2026 08:00",
        "closes_at": "18/10/2026 17:30",
        "time_limit_minutes": "15",
        "max_attempts": "2",
        "daily_limit": "1",
        "counting": "last",
        "review": "score",
        "grace_seconds": "20",
        "prediction_question": "Bao nhiêu bài đúng hết?",
        "prediction_target": "perfect_scores",
        "draws-0-category": str(category_id("Cải cách hành chính")),
        "draws-0-count": "3",
        "draws-0-difficulty": "",
        "draws-1-category": str(category_id("Chuyển đổi số")),
        "draws-1-count": "2",
        "draws-1-difficulty": "1",
        "draws-2-category": "0",
        "draws-2-count": "",
        "draws-2-difficulty": "",
    }
    data.update(overrides)
    return data


def contest_rows(slug):
    """Everything a contest is made of, as comparable values (ids and timestamps left out)."""
    contest = db.session.scalar(select(Contest).where(Contest.slug == slug))
    settings = {
        key: getattr(contest, key)
        for key in (
            "title",
            "description",
            "rules",
            "self_registration",
            "unit_rank_threshold",
            "ranking",
            "public_leaderboard",
            "created_by_id",
        )
    }
    settings["audience"] = sorted(u.code for u in contest.audience)
    settings["organizers"] = sorted(u.login for u in contest.organizers)
    settings["has_password"] = contest.password_hash is not None
    rounds = []
    for r in contest.rounds:
        row = {
            key: getattr(r, key)
            for key in Round.__table__.columns.keys()  # noqa: SIM118
            if key not in ("id", "contest_id")
        }
        row["draws"] = [
            {
                k: getattr(d, k)
                for k in RoundDraw.__table__.columns.keys()  # noqa: SIM118
                if k not in ("id", "round_id")
            }
            for d in r.draws
        ]
        rounds.append(row)
    return settings, rounds


def test_page_made_contest_equals_the_file_made_one(as_organizer, organizer, bank, make_unit):
    unit = make_unit("SGTVT")
    create_contest_from_file(CONTEST_YAML.format(slug="tu-file"), "c.yaml", actor=organizer)

    response = as_organizer.post("/manage/contests/new", data=contest_form("tu-trang", unit.id))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/manage/contests/tu-trang"
    response = as_organizer.post("/manage/contests/tu-trang/rounds/new", data=round_form())
    assert response.status_code == 302, response.get_data(as_text=True)

    assert contest_rows("tu-trang") == contest_rows("tu-file")
    page_made = db.session.scalar(select(Contest).where(Contest.slug == "tu-trang"))
    assert page_made.rounds[0].opens_at == START + timedelta(days=7)  # 08:00 Vietnam time
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.action != "bank.import").order_by(AuditLog.id)
    ).all()
    assert actions == ["contest.create", "contest.create", "round.create"]


def test_draw_is_checked_against_the_bank(as_organizer, organizer, bank, make_unit):
    create_contest_from_file(
        CONTEST_YAML.format(slug="c"), "c.yaml", actor=organizer
    ) if False else None
    unit = make_unit("SGTVT")
    as_organizer.post("/manage/contests/new", data=contest_form("cc", unit.id))
    response = as_organizer.post(
        "/manage/contests/cc/rounds/new",
        data=round_form(**{"draws-1-count": "3", "draws-1-difficulty": "2"}),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Chủ đề Chuyển đổi số chỉ có 1 câu mức độ 2, cần 3." in html
    assert db.session.scalar(select(func.count()).select_from(Round)) == 0


def test_two_lines_of_one_category_add_up(as_organizer, bank, make_unit):
    unit = make_unit("SGTVT")
    as_organizer.post("/manage/contests/new", data=contest_form("cc", unit.id))
    cchc = str(category_id("Cải cách hành chính"))
    response = as_organizer.post(
        "/manage/contests/cc/rounds/new",
        data=round_form(
            **{"draws-1-category": cchc, "draws-1-count": "2", "draws-1-difficulty": ""}
        ),
    )
    assert response.status_code == 422
    assert "chỉ có 4 câu, cần 5." in response.get_data(as_text=True)


def test_bad_dates_and_empty_draw_are_refused(as_organizer, bank, make_unit):
    unit = make_unit("SGTVT")
    as_organizer.post("/manage/contests/new", data=contest_form("cc", unit.id))
    response = as_organizer.post(
        "/manage/contests/cc/rounds/new",
        data=round_form(
            opens_at="2026-10-12 08:00",
            closes_at="01/10/2026 08:00",
            time_limit_minutes="mười",
            max_attempts="0",
            **{"draws-0-category": "0", "draws-1-category": "0"},
        ),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "dd/mm/yyyy HH:MM" in html
    assert "Hãy nhập một số nguyên." in html  # WTForms' own messages in Vietnamese too
    assert "Số phải trong khoảng từ 1 đến 100." in html
    assert "Thêm ít nhất một dòng câu hỏi." in html
    assert db.session.scalar(select(func.count()).select_from(Round)) == 0


def test_slug_taken_is_shown_on_the_field(as_organizer, make_unit, make_round):
    taken = make_round().contest.slug
    unit = make_unit("SGTVT")
    response = as_organizer.post("/manage/contests/new", data=contest_form(taken, unit.id))
    assert response.status_code == 422
    assert "đã có" in response.get_data(as_text=True) or taken in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Contest)) == 1


def test_contest_edit_is_audited_before_and_after(as_organizer, organizer, bank, make_unit):
    unit = make_unit("SGTVT")
    as_organizer.post("/manage/contests/new", data=contest_form("cc", unit.id))
    response = as_organizer.post(
        "/manage/contests/cc/edit",
        data=contest_form("cc", unit.id, title="Tên mới", password="", audience_mode="everyone"),
    )
    assert response.status_code == 302
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "contest.update")).one()
    assert entry.user_id == organizer.id
    assert entry.details["before"] == {"title": "Cuộc thi thử nghiệm", "audience": ["SGTVT"]}
    assert entry.details["after"] == {"title": "Tên mới", "audience": []}
    contest = db.session.scalar(select(Contest))
    db.session.refresh(contest)
    assert contest.password_hash is not None  # an empty password field keeps the password


# --- live rounds ---------------------------------------------------------------------------


@pytest.fixture
def live_round(organizer, make_round, make_user):
    """A round that opened an hour ago, run by `organizer`, with one attempt in progress."""
    round_ = make_round(time_limit_minutes=20)
    round_.contest.organizers.append(organizer)
    db.session.commit()
    attempt, _ = start_attempt(make_user(), round_, START)
    return round_, attempt


def edits() -> list[AuditLog]:
    return db.session.scalars(
        select(AuditLog).where(AuditLog.action == "round.update").order_by(AuditLog.id)
    ).all()


def edit_data(round_, **overrides):
    data = round_form(
        title=round_.title,
        opens_at="05/10/2026 07:00",
        closes_at="12/10/2026 08:00",
        time_limit_minutes="20",
        max_attempts="3",
        daily_limit="",
        counting="best",
        review="after_close",
        grace_seconds="15",
        prediction_question="",
        **{
            "draws-0-count": "4",
            "draws-1-count": "4",
            "draws-1-difficulty": "",
        },
    )
    data.update(overrides)
    return data


def test_live_round_form_round_trips_unchanged(as_organizer, live_round):
    round_, _ = live_round
    response = as_organizer.post(f"/manage/rounds/{round_.id}/edit", data=edit_data(round_))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert edits() == []


def test_live_round_may_close_later_and_get_more_time(as_organizer, live_round, organizer):
    round_, attempt = live_round
    response = as_organizer.post(
        f"/manage/rounds/{round_.id}/edit",
        data=edit_data(round_, closes_at="13/10/2026 08:00", time_limit_minutes="30"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(round_)
    db.session.refresh(attempt)
    assert round_.closes_at == START + timedelta(days=8)
    assert round_.time_limit_minutes == 30
    assert attempt.deadline == attempt.started_at + timedelta(minutes=30)  # the running attempt
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "round.update")).one()
    assert entry.user_id == organizer.id and entry.details["live"] is True
    assert entry.details["before"] == {
        "closes_at": "2026-10-12T01:00:00+00:00",
        "time_limit_minutes": 20,
    }
    assert entry.details["after"] == {
        "closes_at": "2026-10-13T01:00:00+00:00",
        "time_limit_minutes": 30,
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"closes_at": "11/10/2026 08:00"}, "chỉ có thể lùi"),
        ({"time_limit_minutes": "10"}, "chỉ có thể kéo dài"),
        ({"max_attempts": "5"}, "Số lần thi"),
        ({"draws-0-count": "3"}, "Câu hỏi"),
        ({"opens_at": "05/10/2026 09:00"}, "Mở"),
    ],
)
def test_live_round_refuses_other_changes(as_organizer, live_round, change, message):
    round_, attempt = live_round
    before = (round_.closes_at, round_.time_limit_minutes, round_.max_attempts, attempt.deadline)
    response = as_organizer.post(
        f"/manage/rounds/{round_.id}/edit", data=edit_data(round_, **change)
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    round_ = db.session.get(Round, round_.id)
    attempt = db.session.get(Attempt, attempt.id)
    assert (
        round_.closes_at,
        round_.time_limit_minutes,
        round_.max_attempts,
        attempt.deadline,
    ) == before
    assert round_.draws[0].count == 4
    assert edits() == []


def test_closed_round_cannot_be_extended(as_organizer, live_round, clock):
    round_, _ = live_round
    clock.advance(days=8)
    response = as_organizer.post(
        f"/manage/rounds/{round_.id}/edit", data=edit_data(round_, closes_at="20/10/2026 08:00")
    )
    assert response.status_code == 422
    assert "đã đóng" in response.get_data(as_text=True)


def test_upcoming_round_without_attempts_is_fully_editable(as_organizer, organizer, make_round):
    round_ = make_round(opens_at=START + timedelta(days=1))
    round_.contest.organizers.append(organizer)
    db.session.commit()
    response = as_organizer.post(
        f"/manage/rounds/{round_.id}/edit",
        data=edit_data(
            round_, opens_at="06/10/2026 09:00", max_attempts="1", **{"draws-0-count": "2"}
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    round_ = db.session.get(Round, round_.id)
    assert round_.max_attempts == 1 and round_.draws[0].count == 2
    (entry,) = edits()
    assert entry.details["live"] is False
    assert set(entry.details["after"]) == {"opens_at", "max_attempts", "draw"}


# --- the contest password ----------------------------------------------------------------


@pytest.fixture
def protected_round(organizer, bank, make_unit):
    make_unit("SGTVT")
    text = (
        CONTEST_YAML.format(slug="co-mat-khau")
        .replace("opens_at: 2026-10-12T08:00:00+07:00", "opens_at: 2026-10-05T07:00:00+07:00")
        .replace("audience: [SGTVT]\n", "")
    )
    contest = create_contest_from_file(text, "c.yaml", actor=organizer)
    return contest.rounds[0]


def test_contest_password_on_the_page(client, make_user, protected_round):
    user = make_user()
    login(client, user)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/contests/co-mat-khau"' in home and "Nhập mật khẩu cuộc thi" in home
    assert 'data-testid="start-attempt"' not in home
    response = client.post(f"/rounds/{protected_round.id}/start")
    assert response.status_code == 302
    assert response.headers["Location"] == "/contests/co-mat-khau"
    page = client.get("/contests/co-mat-khau").get_data(as_text=True)
    assert 'name="password"' in page and 'data-testid="start-attempt"' not in page
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0

    wrong = client.post("/contests/co-mat-khau/password", data={"password": "doan-bua"})
    assert wrong.status_code == 302
    assert "không phải mật khẩu" in client.get("/contests/co-mat-khau").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ContestAccess)) == 0

    client.post("/contests/co-mat-khau/password", data={"password": "mat-khau-1"})
    assert 'data-testid="start-attempt"' in client.get("/contests/co-mat-khau").get_data(
        as_text=True
    )
    assert 'data-testid="start-attempt"' in client.get("/").get_data(as_text=True)
    response = client.post(f"/rounds/{protected_round.id}/start")
    assert response.headers["Location"].startswith("/attempts/")
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_contest_password_on_the_api(client, make_user, protected_round):
    user = make_user()
    token = api_login(client, user.login)
    response = client.post(
        f"/api/v1/rounds/{protected_round.id}/attempts", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "contest_password_required"
    assert "mật khẩu" in error["message"]
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0

    client.post("/contests/co-mat-khau/password", data={"password": "mat-khau-1"})
    response = client.post(
        f"/api/v1/rounds/{protected_round.id}/attempts", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201


def test_wrong_passwords_are_limited(client, make_user, protected_round):
    login(client, make_user())
    for _n in range(10):
        client.post("/contests/co-mat-khau/password", data={"password": "sai"})
    client.post("/contests/co-mat-khau/password", data={"password": "mat-khau-1"})
    assert db.session.scalar(select(func.count()).select_from(ContestAccess)) == 0
    assert "15 phút" in client.get("/contests/co-mat-khau").get_data(as_text=True)


def test_new_password_withdraws_access(as_organizer, organizer, protected_round, make_user):
    db.session.add(ContestAccess(contest_id=protected_round.contest_id, user_id=make_user().id))
    db.session.commit()
    data = contest_form("co-mat-khau", 0, audience_mode="everyone", units=[], password="moi-hon")
    response = as_organizer.post("/manage/contests/co-mat-khau/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ContestAccess)) == 0
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "contest.update")).one()
    assert entry.details["after"]["password"] == "changed"
    assert "moi-hon" not in str(entry.details)


# --- roles and the share panel -----------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.HR])
def test_participants_and_hr_are_refused(client, make_user, make_round, role):
    round_ = make_round()
    login(client, make_user(role=role))
    slug = round_.contest.slug
    for method, url in [
        ("get", "/manage/contests"),
        ("get", "/manage/contests/new"),
        ("post", "/manage/contests/new"),
        ("get", f"/manage/contests/{slug}"),
        ("get", f"/manage/contests/{slug}/edit"),
        ("get", f"/manage/contests/{slug}/rounds/new"),
        ("get", f"/manage/rounds/{round_.id}/edit"),
        ("get", f"/manage/contests/{slug}/qr.png"),
        ("post", f"/manage/contests/{slug}/results"),
    ]:
        assert getattr(client, method)(url).status_code == 403, url


def test_another_organizers_contest_is_not_found(as_organizer, make_round):
    round_ = make_round()
    assert as_organizer.get(f"/manage/contests/{round_.contest.slug}").status_code == 404
    assert as_organizer.get(f"/manage/rounds/{round_.id}/edit").status_code == 404
    assert round_.contest.slug not in as_organizer.get("/manage/contests").get_data(as_text=True)


def test_admin_sees_every_contest(client, make_user, make_round):
    round_ = make_round()
    login(client, make_user(role=Role.ADMIN))
    assert round_.contest.slug in client.get("/manage/contests").get_data(as_text=True)
    assert client.get(f"/manage/rounds/{round_.id}/edit").status_code == 200


def test_share_panel_has_link_and_qr(as_organizer, organizer, protected_round):
    html = as_organizer.get("/manage/contests/co-mat-khau").get_data(as_text=True)
    assert 'value="http://localhost/contests/co-mat-khau"' in html
    assert "<svg" in html and 'class="qr-code"' in html
    png = as_organizer.get("/manage/contests/co-mat-khau/qr.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    svg = as_organizer.get("/manage/contests/co-mat-khau/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_organizer_pages_render(as_organizer, organizer, protected_round):
    for url in [
        "/manage/contests",
        "/manage/contests/new",
        "/manage/contests/co-mat-khau/edit",
        "/manage/contests/co-mat-khau/rounds/new",
        f"/manage/rounds/{protected_round.id}/edit",
    ]:
        response = as_organizer.get(url)
        assert response.status_code == 200, url
    edit = as_organizer.get(f"/manage/rounds/{protected_round.id}/edit").get_data(as_text=True)
    assert 'value="05/10/2026 07:00"' in edit  # Vietnam time, as typed
    assert "Chuyển đổi số" in edit


NASTY = [
    "",
    " ",
    "-1",
    "0",
    "99999999999999999999",
    "abc",
    "31/02/2026 08:00",
    "01/01/0001 00:00",
    "<script>",
    "x" * 3000,
    "\x00",
    "1e3",
    "12/10/2026 25:00",
]


@pytest.mark.parametrize("value", NASTY)
def test_round_form_never_fails_on_what_a_user_types(as_organizer, bank, make_unit, value):
    unit = make_unit("SGTVT")
    as_organizer.post("/manage/contests/new", data=contest_form("cc", unit.id))
    for field in round_form():
        response = as_organizer.post(
            "/manage/contests/cc/rounds/new", data=round_form(**{field: value})
        )
        assert response.status_code in (302, 422), (field, value)
    response = as_organizer.post(
        "/manage/contests/cc/rounds/new",
        data=round_form(**{f"draws-{i}-category": "0" for i in range(60)}, add_row="y"),
    )
    assert response.status_code == 200


@pytest.mark.parametrize("value", NASTY)
def test_contest_form_never_fails_on_what_a_user_types(as_organizer, make_unit, value):
    unit = make_unit("SGTVT")
    for field in contest_form("cc", unit.id):
        data = contest_form("dd", unit.id)
        data[field] = value
        response = as_organizer.post("/manage/contests/new", data=data)
        assert response.status_code in (302, 422), (field, value)


def test_contest_file_refuses_control_characters(bank, make_unit):
    from quizapp.contests.schema import ContestFileError

    make_unit("SGTVT")
    text = CONTEST_YAML.format(slug="nul").replace("title: Tuần 1", 'title: "Tuần\\0 1"')
    with pytest.raises(ContestFileError) as caught:
        create_contest_from_file(text, "c.yaml")
    assert caught.value.problems == [
        "c.yaml:12: rounds.0.title: control characters (such as NUL) are not allowed"
    ]


def test_ranking_chain_is_fixed_once_a_round_has_opened(as_organizer, live_round):
    round_, _ = live_round
    slug = round_.contest.slug
    data = contest_form(slug, 0, audience_mode="everyone", units=[], password="")
    data.update(rank_1="score", rank_2="duration", rank_3="prediction", rank_4="submitted_at")
    response = as_organizer.post(f"/manage/contests/{slug}/edit", data=data)
    assert response.status_code == 422
    assert "Không thể đổi thứ tự tiêu chí xếp hạng" in response.get_data(as_text=True)
    db.session.refresh(round_.contest)
    assert round_.contest.ranking == [
        "score",
        "prediction",
        "duration",
        "submitted_at",
        "attempt_id",
    ]

    data.update(rank_2="prediction", rank_3="duration", title="Tên mới")  # the chain as it is
    assert as_organizer.post(f"/manage/contests/{slug}/edit", data=data).status_code == 302


def test_co_organizers_from_the_form_and_the_file(
    as_organizer, organizer, make_user, make_unit, bank
):
    colleague = make_user("dong-btc@example.vn", role=Role.ORGANIZER)
    unit = make_unit("SGTVT")
    data = contest_form("cc", unit.id, organizers=[str(organizer.id), str(colleague.id)])
    assert as_organizer.post("/manage/contests/new", data=data).status_code == 302
    contest = db.session.scalar(select(Contest).where(Contest.slug == "cc"))
    assert sorted(u.login for u in contest.organizers) == ["btc@example.vn", "dong-btc@example.vn"]

    # Leaving oneself out of the list does not lock oneself out; the colleague is removed.
    data = contest_form("cc", unit.id, organizers=[], password="")
    assert as_organizer.post("/manage/contests/cc/edit", data=data).status_code == 302
    db.session.refresh(contest)
    assert [u.login for u in contest.organizers] == ["btc@example.vn"]
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "contest.update")).one()
    assert entry.details["after"] == {"organizers": ["btc@example.vn"]}

    text = CONTEST_YAML.format(slug="tu-file").replace(
        "audience: [SGTVT]\n", "audience: [SGTVT]\norganizers: [Dong-BTC@example.vn]\n"
    )
    contest = create_contest_from_file(text, "c.yaml")
    assert [u.login for u in contest.organizers] == ["dong-btc@example.vn"]


def test_unknown_organizer_in_the_file_names_its_line(bank, make_unit, make_user):
    from quizapp.contests.schema import ContestFileError

    make_unit("SGTVT")
    make_user("thisinh@example.vn")  # a participant cannot run a contest
    text = CONTEST_YAML.format(slug="x1").replace(
        "audience: [SGTVT]\n", "audience: [SGTVT]\norganizers: [thisinh@example.vn]\n"
    )
    with pytest.raises(ContestFileError) as caught:
        create_contest_from_file(text, "c.yaml")
    assert caught.value.problems == [
        "c.yaml:6: organizers.0: no organizer account with login 'thisinh@example.vn'"
    ]


def test_closed_round_refuses_a_longer_time_limit_too(as_organizer, live_round, clock):
    round_, _ = live_round
    clock.advance(days=8)
    response = as_organizer.post(
        f"/manage/rounds/{round_.id}/edit", data=edit_data(round_, time_limit_minutes="40")
    )
    assert response.status_code == 422
    db.session.refresh(round_)
    assert round_.time_limit_minutes == 20 and edits() == []


def test_more_time_never_passes_the_close_nor_revives_an_overdue_attempt(
    as_organizer, organizer, make_round, make_user, clock
):
    round_ = make_round(time_limit_minutes=20, closes_at=START + timedelta(minutes=30))
    round_.contest.organizers.append(organizer)
    db.session.commit()
    capped, _ = start_attempt(make_user(), round_, START + timedelta(minutes=15))  # ends at close
    overdue, _ = start_attempt(make_user(), round_, START - timedelta(minutes=25))
    clock.at = START + timedelta(minutes=20)  # the second is past its deadline and grace
    response = as_organizer.post(
        f"/manage/rounds/{round_.id}/edit",
        data=edit_data(round_, closes_at="05/10/2026 08:30", time_limit_minutes="40"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(capped)
    db.session.refresh(overdue)
    assert capped.deadline == round_.closes_at  # min(start + 40 min, close)
    assert overdue.status == "expired" and overdue.submitted_at == START - timedelta(minutes=5)


def test_an_empty_number_is_asked_for_in_vietnamese(as_organizer, bank, make_unit):
    unit = make_unit("SGTVT")
    as_organizer.post("/manage/contests/new", data=contest_form("so-trong", unit.id))
    response = as_organizer.post(
        "/manage/contests/so-trong/rounds/new", data=round_form(time_limit_minutes="")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Hãy nhập số này." in page and "This field is required" not in page
