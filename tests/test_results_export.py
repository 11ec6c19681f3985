"""Results export: the leaderboard's order in XLSX (Vietnamese headers) and CSV (with BOM),
from the command line and the organizer's leaderboard page, each export audited."""

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from quizapp.admin.models import AuditLog
from quizapp.attempts.services import start_attempt, submit_attempt
from quizapp.auth.models import Role
from quizapp.contests.standings import standings
from quizapp.extensions import db
from tests.conftest import START

HEADERS = [
    "Đợt thi",
    "Hạng",
    "Họ và tên",
    "Đơn vị",
    "Điểm",
    "Điểm tối đa",
    "Dự đoán",
    "Thời gian làm bài (giây)",
    "Nộp bài lúc (giờ Việt Nam)",
    "Xếp sau người trên do",
]


@pytest.fixture
def finished_round(make_round, make_user, make_unit, clock):
    """Four people finished round 1 at different moments; an organizer's entry is not ranked."""
    unit = make_unit("SGTVT", name="Sở Giao thông vận tải")
    round_ = make_round()
    organizer = make_user("btc@example.vn", role=Role.ORGANIZER)
    round_.contest.organizers.append(organizer)
    db.session.commit()
    people = [
        make_user(full_name=name, unit=unit) for name in ("Lê Văn Cường", "Trần Thị Bình", "An Nhi")
    ]
    people.append(make_user(full_name="Đỗ Minh Đức"))
    attempts = [start_attempt(p, round_, START)[0] for p in [*people, organizer]]
    # Durations 5, 3, 3 (same second: entry order decides), 8 and 1 minutes (the organizer).
    for attempt, minutes in zip(attempts, (5, 3, 3, 8, 1), strict=True):
        submit_attempt(attempt.user, attempt.id, START + timedelta(minutes=minutes))
    clock.advance(minutes=10)
    return round_


def expected_names(round_, clock):
    return [row.name for row in standings(round_, clock.at)]


def test_cli_xlsx_has_the_standings_order(runner, finished_round, clock, tmp_path):
    path = tmp_path / "ket-qua.xlsx"
    slug = finished_round.contest.slug
    result = runner.invoke(
        args=[
            "export",
            "results",
            "--contest",
            slug,
            "--round",
            "1",
            "--format",
            "xlsx",
            "-o",
            str(path),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "4 ranked entries" in result.output
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert [r[2] for r in rows[1:]] == expected_names(finished_round, clock)
    assert [r[2] for r in rows[1:]] == ["Trần Thị Bình", "An Nhi", "Lê Văn Cường", "Đỗ Minh Đức"]
    assert [r[1] for r in rows[1:]] == [1, 2, 3, 4]
    assert rows[2][9] == "thứ tự bài thi" and rows[3][9] == "thời gian làm bài"
    assert rows[1][3] == "Sở Giao thông vận tải" and rows[4][3] is None
    assert rows[1][7] == 180.0
    assert rows[1][8].strftime("%d/%m/%Y %H:%M") == "05/10/2026 08:03"  # Vietnam time
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:J5"
    assert sheet.column_dimensions["C"].width > 20
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "export.results")).one()
    assert entry.user_id is None and entry.target == slug
    assert entry.details["rows"] == 4 and entry.details["format"] == "xlsx"
    assert entry.details["via"].startswith("cli:")


def test_cli_csv_starts_with_a_bom(runner, finished_round, clock, tmp_path):
    path = tmp_path / "ket-qua.csv"
    result = runner.invoke(
        args=[
            "export",
            "results",
            "--contest",
            finished_round.contest.slug,
            "--format",
            "csv",
            "-o",
            str(path),
        ]
    )
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert [r[2] for r in rows[1:]] == expected_names(finished_round, clock)
    assert rows[1][8] == "05/10/2026 08:03:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contest", "khong-co"], "No such contest"),
        (["--round", "9"], "No round 9"),
    ],
)
def test_cli_refuses_unknown_contest_or_round(
    runner, finished_round, tmp_path, args, message, english
):
    if args[0] == "--round":
        args = ["--contest", finished_round.contest.slug, *args]
    result = runner.invoke(args=["export", "results", *args, "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "x.xlsx").exists()


@pytest.fixture
def english(app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


def test_download_from_the_leaderboard_page(client, finished_round, clock):
    client.post("/login", data={"login": "btc@example.vn", "password": "secret123"})
    page = client.get(f"/rounds/{finished_round.id}/leaderboard").get_data(as_text=True)
    assert 'data-testid="export-results-xlsx"' in page
    slug = finished_round.contest.slug
    with client.post(
        f"/manage/contests/{slug}/results", data={"format": "xlsx", "round": "1"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["Cache-Control"] == "no-store"
        data = response.get_data()
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == expected_names(finished_round, clock)

    with client.post(f"/manage/contests/{slug}/results", data={"format": "csv"}) as response:
        assert response.get_data().startswith(b"\xef\xbb\xbf")
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "export.results").order_by(AuditLog.id)
    ).all()
    assert [(e.details["format"], e.details["round"]) for e in entries] == [
        ("xlsx", 1),
        ("csv", None),
    ]
    assert all(e.user_id is not None for e in entries)


def test_participants_see_no_download(client, finished_round, make_user):
    user = make_user()
    client.post("/login", data={"login": user.login, "password": "secret123"})
    page = client.get(f"/rounds/{finished_round.id}/leaderboard").get_data(as_text=True)
    assert "export-results" not in page
    slug = finished_round.contest.slug
    assert (
        client.post(f"/manage/contests/{slug}/results", data={"format": "csv"}).status_code == 403
    )


def test_organizer_of_another_contest_cannot_download(client, finished_round, make_user):
    make_user("khac@example.vn", role=Role.ORGANIZER)
    client.post("/login", data={"login": "khac@example.vn", "password": "secret123"})
    slug = finished_round.contest.slug
    assert (
        client.post(f"/manage/contests/{slug}/results", data={"format": "csv"}).status_code == 404
    )
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "export.results")) is None


@pytest.fixture
def two_rounds(finished_round, make_user, clock):
    """The contest of `finished_round` with a second round that two people finished."""
    from quizapp.contests.models import Round, RoundDraw

    contest = finished_round.contest
    second = Round(
        contest=contest,
        number=2,
        title="Tuần 2",
        opens_at=clock.at - timedelta(minutes=5),
        closes_at=clock.at + timedelta(days=7),
        draws=[
            RoundDraw(position=d.position, category=d.category, count=d.count)
            for d in finished_round.draws
        ],
    )
    db.session.add(second)
    db.session.commit()
    for name, minutes in (("Phan Thu Hà", 4), ("Vũ Quang Huy", 2)):
        person = make_user(full_name=name)
        attempt, _ = start_attempt(person, second, clock.at)
        submit_attempt(person, attempt.id, clock.at + timedelta(minutes=minutes))
    clock.advance(minutes=10)
    return contest


def organizer_download(app, url: str, data: dict) -> list[list]:
    """The organizer downloads a file on a thread of its own, as a production request is served:
    with its own app context and database session, removed when the view returns and before a
    streamed body is read (a test's app context would lend the request its session, hiding
    what that does). The whole body is read; its rows come back."""

    def download(client):
        client.post("/login", data={"login": "btc@example.vn", "password": "secret123"})
        with client.post(url, data=data) as response:
            assert response.status_code == 200
            return response.get_data()

    with ThreadPoolExecutor(1) as pool:
        body = pool.submit(download, app.test_client()).result()
    if data["format"] == "csv":
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_all_rounds_is_the_forms_default_and_downloads(app, two_rounds, file_format):
    """The form's default (round left at "All rounds") streams every round, one after the other."""
    url = f"/manage/contests/{two_rounds.slug}/results"
    rows = organizer_download(app, url, {"format": file_format, "round": ""})
    assert rows[0] == HEADERS
    assert [(r[0], r[2]) for r in rows[1:]] == [
        ("1. Tuần 1", "Trần Thị Bình"),
        ("1. Tuần 1", "An Nhi"),
        ("1. Tuần 1", "Lê Văn Cường"),
        ("1. Tuần 1", "Đỗ Minh Đức"),
        ("2. Tuần 2", "Vũ Quang Huy"),
        ("2. Tuần 2", "Phan Thu Hà"),
    ]
    db.session.rollback()  # the export committed elsewhere: read afresh
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "export.results")).one()
    assert entry.details["rows"] == 6 and entry.details["round"] is None


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_participation_export_streams_plain_values_too(app, two_rounds, file_format):
    """The same pattern (audit commit, then the body): the participation file of every round."""
    url = f"/reports/participation/export?contest={two_rounds.slug}"
    rows = organizer_download(app, url, {"format": file_format})
    assert sorted(r[3] for r in rows[1:] if r[7] == "Có") == sorted(
        ["An Nhi", "Lê Văn Cường", "Phan Thu Hà", "Trần Thị Bình", "Vũ Quang Huy", "Đỗ Minh Đức"]
    )
