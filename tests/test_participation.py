"""Participation by unit: a roster of a few hundred people in nested units, some taking part
once, some three times, some never; the list, the rates, the subtree limits and the files."""

import csv
import io
import json
import random
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from quizapp.admin.models import AuditLog
from quizapp.attempts.models import Attempt, AttemptStatus
from quizapp.attempts.services import local_day
from quizapp.auth.models import Role, Unit, User
from quizapp.contests.models import Contest, Round
from quizapp.contests.round_results import record_result
from quizapp.contests.services import get_contest
from quizapp.extensions import db
from quizapp.reports.services import (
    participation,
    participation_scope,
)
from quizapp.units.services import UnitTree
from tests.conftest import START

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thị Thu", "Ngọc", ""]
# In Vietnamese alphabetical order (a < ă < â, tones after the letters): the expected order.
GIVEN = [
    "An",
    "Anh",
    "Ánh",
    "Ân",
    "Bình",
    "Cường",
    "Dũng",
    "Đức",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hoa",
    "Huy",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Oanh",
    "Ơn",
    "Phúc",
    "Quang",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trung",
    "Tú",
    "Uyên",
    "Ưng",
    "Vân",
    "Yến",
]

# code, name, parent, typed headcount, roster size, weights of (never, once, three times)
UNITS = [
    ("P", "UBND tỉnh", None, 900, 0, None),
    ("A", "Sở Giao thông vận tải", "P", 120, 30, (1, 1, 1)),
    ("A1", "Văn phòng Sở", "A", 40, 70, (2, 5, 3)),
    ("A2", "Phòng Kế hoạch - Tài chính", "A", None, 40, (6, 3, 1)),
    ("B", "Sở Tư pháp", "P", None, 20, (1, 0, 0)),
    ("B1", "Phòng Hành chính tư pháp", "B", None, 80, (1, 2, 2)),
    ("B2", "Thanh tra Sở", "B", 15, 57, (3, 1, 1)),
    ("C", "Sở Nội vụ", "P", 50, 0, None),
]


@dataclass
class Person:
    user_id: int
    unit: str
    on_roster: bool
    attempts: list[dict] = field(default_factory=list)

    @property
    def finished(self) -> list[dict]:
        return [a for a in self.attempts if a["status"] != AttemptStatus.IN_PROGRESS]

    @property
    def counted(self) -> dict | None:
        """Best score, then shortest time, then earliest: the leaderboard's chain."""
        finished = self.finished
        if not finished:
            return None
        return min(finished, key=lambda a: (-a["score"], a["duration"], a["submitted_at"]))


@dataclass
class Scenario:
    round: Round
    units: dict[str, Unit]
    people: dict[int, Person]
    organizer_id: int


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Assert messages by their English msgids, whatever the Vietnamese catalog says."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


def add_attempt(person: Person, round_: Round, number: int, *, score, duration, at, status=None):
    status = status or AttemptStatus.SUBMITTED
    started = at - timedelta(seconds=duration)
    person.attempts.append(
        {"score": score, "duration": duration, "submitted_at": at, "status": status}
    )
    attempt = Attempt(
        user_id=person.user_id,
        round_id=round_.id,
        number=number,
        day=local_day(started),
        day_number=number,
        status=status,
        started_at=started,
        deadline=started + timedelta(minutes=20),
        submitted_at=None if status == AttemptStatus.IN_PROGRESS else at,
        score=None if status == AttemptStatus.IN_PROGRESS else score,
        max_score=8,
        correct_count=score,
        duration=None if status == AttemptStatus.IN_PROGRESS else duration,
    )
    db.session.add(attempt)
    if status != AttemptStatus.IN_PROGRESS:
        db.session.flush()
        record_result(attempt)  # as the scoring service does when an attempt finishes


@pytest.fixture
def scenario(ctx, make_round, clock) -> Scenario:
    rng = random.Random(2023)
    units: dict[str, Unit] = {}
    for code, name, parent, typed, _size, _weights in UNITS:
        units[code] = Unit(code=code, name=name, parent=units.get(parent), headcount=typed)
        db.session.add(units[code])
    db.session.flush()
    round_ = make_round(closes_at=START + timedelta(days=14), max_attempts=3)
    clock.at = START + timedelta(days=10)

    people: dict[int, Person] = {}

    def new_user(unit_code: str, on_roster: bool, role=Role.PARTICIPANT) -> Person:
        name = " ".join(w for w in (rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN)) if w)
        user = User(
            login=f"u{len(people) + 1}@example.vn",
            full_name=name,
            password_hash="x",
            role=role,
            unit=units[unit_code],
            on_roster=on_roster,
            position=rng.choice(["Chuyên viên", "Trưởng phòng", None]),
        )
        db.session.add(user)
        db.session.flush()
        person = Person(user.id, unit_code, on_roster)
        people[user.id] = person
        return person

    for code, _name, _parent, _typed, size, weights in UNITS:
        for _ in range(size):
            person = new_user(code, on_roster=True)
            times = rng.choices([0, 1, 3], weights=weights)[0]
            for number in range(1, times + 1):
                at = START + timedelta(days=number * 2, minutes=rng.randint(0, 600))
                add_attempt(
                    person,
                    round_,
                    number,
                    score=rng.randint(3, 8),
                    duration=rng.choice([100.5, 200.25, 300.0]),
                    at=at,
                )
    # Two attempts with the best score: the shorter one counts.
    tie = new_user("A1", on_roster=True)
    add_attempt(tie, round_, 1, score=8, duration=300.0, at=START + timedelta(days=1))
    add_attempt(tie, round_, 2, score=8, duration=150.0, at=START + timedelta(days=3))
    # Overdue in progress: expired when the report is made, and counted with what was saved.
    overdue = new_user("B2", on_roster=True)
    add_attempt(
        overdue,
        round_,
        1,
        score=0,
        duration=1200.0,
        at=START + timedelta(days=2),
        status=AttemptStatus.IN_PROGRESS,
    )
    overdue.attempts[0].update(status=AttemptStatus.EXPIRED)
    # Still running: not an entry yet.
    running = new_user("B2", on_roster=True)
    add_attempt(
        running, round_, 1, score=0, duration=0.0, at=clock.at, status=AttemptStatus.IN_PROGRESS
    )
    running.attempts.clear()
    # Took part without being on the roster: three in A1, two in C (which has no roster).
    for code in ("A1", "A1", "A1", "C", "C"):
        outsider = new_user(code, on_roster=False)
        add_attempt(outsider, round_, 1, score=5, duration=222.0, at=START + timedelta(days=4))
    # Not on the roster and never took part: not listed.
    new_user("A1", on_roster=False)
    # An organizer's test attempt is not participation.
    organizer = new_user("A1", on_roster=False, role=Role.ORGANIZER)
    add_attempt(organizer, round_, 1, score=8, duration=50.0, at=START + timedelta(days=1))
    db.session.commit()
    return Scenario(round_, units, people, organizer.user_id)


def listed(people: dict[int, Person], organizer_id: int) -> set[int]:
    return {
        p.user_id
        for p in people.values()
        if p.on_roster or (p.finished and p.user_id != organizer_id)
    }


def expected_subtree(code: str) -> set[str]:
    codes = {code}
    while True:
        more = {c for c, _n, parent, *_ in UNITS if parent in codes} - codes
        if not more:
            return codes
        codes |= more


def make_report(scenario, clock, user=None, unit=None, round_number=None):
    contest = scenario.round.contest
    tree = UnitTree()
    scope = participation_scope(user, contest, unit, tree)
    return participation(contest, scope, clock.at, round_number=round_number, tree=tree)


def test_the_list_has_every_roster_member_and_outside_participants(scenario, clock):
    report = make_report(scenario, clock)
    people = scenario.people
    assert {row.user_id for row in report.rows} == listed(people, scenario.organizer_id)
    assert len(report.rows) == 300 + 5  # the roster (three special cases included), outsiders
    patterns = {len(p.finished) for p in people.values() if p.on_roster}
    assert patterns == {0, 1, 2, 3}  # never, once, (the tie twice), three times

    for row in report.rows:
        person = people[row.user_id]
        counted = person.counted
        assert row.on_roster == person.on_roster
        assert row.unit_code == person.unit
        assert row.entries == len(person.finished)
        assert row.took_part == bool(person.finished)
        if counted is None:
            assert (row.score, row.duration, row.counted_day) == (None, None, None)
        else:
            assert row.score == counted["score"]
            assert row.duration == pytest.approx(counted["duration"])
            assert row.counted_day == local_day(counted["submitted_at"])
            if counted["status"] == AttemptStatus.SUBMITTED:
                assert row.max_score == 8
    tie = next(r for r in report.rows if r.entries == 2)
    assert (tie.score, tie.duration) == (8, 150.0)
    expired = db.session.scalar(select(Attempt).where(Attempt.status == AttemptStatus.EXPIRED))
    assert expired is not None  # the overdue attempt was closed and counted


def test_rows_are_sorted_by_unit_tree_then_given_name(scenario, clock):
    report = make_report(scenario, clock)
    unit_order = [row.unit_code for row in report.rows]
    # Units in tree order; siblings alphabetically: "Phòng Kế hoạch" before "Văn phòng Sở",
    # "Sở Giao thông" < "Sở Nội vụ" < "Sở Tư pháp".
    seen = list(dict.fromkeys(unit_order))
    assert seen == ["A", "A2", "A1", "C", "B", "B1", "B2"]
    assert unit_order == sorted(unit_order, key=seen.index)
    for code in seen:
        given = [r.full_name.split()[-1] for r in report.rows if r.unit_code == code]
        # Given names appear grouped in alphabet order (spot-check a few known pairs).
        order = [g for g in GIVEN if g in given]
        assert list(dict.fromkeys(given)) == order


def test_per_unit_headcounts_and_rates(scenario, clock):
    report = make_report(scenario, clock)
    people = scenario.people.values()
    by_code = {s.node.code: s for s in report.units}

    def roster_in(codes):
        return [p for p in people if p.on_roster and p.unit in codes]

    for code in ("A", "A1", "A2", "B", "B1", "B2"):
        codes = expected_subtree(code)
        members = roster_in(codes)
        took_part = [p for p in members if p.finished]
        summary = by_code[code]
        assert summary.headcount == len(members), code  # the roster wins over typed numbers
        assert summary.headcount_from_roster
        assert summary.participants == len(took_part), code
        assert summary.rate == pytest.approx(len(took_part) / len(members))
        outsiders = [p for p in people if not p.on_roster and p.finished and p.unit in codes]
        assert summary.not_counted == len(
            [p for p in outsiders if p.user_id != scenario.organizer_id]
        )
        assert summary.entries == sum(
            len(p.finished) for p in members + outsiders if p.user_id != scenario.organizer_id
        )
    # Sở Nội vụ has no roster: its typed headcount, and everyone who took part.
    assert (by_code["C"].headcount, by_code["C"].participants) == (50, 2)
    assert not by_code["C"].headcount_from_roster
    assert by_code["C"].rate == pytest.approx(0.04)
    # The province: roster-based branches plus the typed 50; its own typed 900 is not used.
    assert by_code["P"].headcount == by_code["A"].headcount + by_code["B"].headcount + 50
    assert by_code["P"].participants == sum(by_code[c].participants for c in "ABC")
    assert report.total is by_code["P"]
    assert [s.node.code for s in report.chart_units] == ["A", "C", "B"]


def test_hr_sees_only_its_subtree(scenario, clock, make_user):
    hr = make_user(role=Role.HR, unit=scenario.units["A"])
    report = make_report(scenario, clock, user=hr)
    assert {row.unit_code for row in report.rows} == {"A", "A1", "A2"}
    assert {s.node.code for s in report.units} == {"A", "A1", "A2"}
    assert report.total.node.code == "A"
    assert [s.node.code for s in report.chart_units] == ["A2", "A1"]

    narrower = make_report(scenario, clock, user=hr, unit="A1")
    assert {row.unit_code for row in narrower.rows} == {"A1"}
    for outside in ("B", "P", "C", "NOPE"):
        with pytest.raises(Exception) as caught:
            make_report(scenario, clock, user=hr, unit=outside)
        assert getattr(caught.value, "status", None) == 404, outside
    participant = make_user(unit=scenario.units["A"])
    with pytest.raises(Exception) as caught:
        make_report(scenario, clock, user=participant)
    assert caught.value.status == 404


def test_several_rounds_add_up_counted_scores(scenario, clock, make_user):
    contest = scenario.round.contest
    second = Round(
        contest=contest,
        number=2,
        title="Tuần 2",
        opens_at=START,
        closes_at=START + timedelta(days=14),
        counting="last",
    )
    db.session.add(second)
    db.session.flush()
    person = next(p for p in scenario.people.values() if len(p.finished) == 3)
    first_round_best = person.counted["score"]
    later = START + timedelta(days=9)
    add_attempt(person, second, 1, score=7, duration=90.0, at=later - timedelta(hours=1))
    add_attempt(person, second, 2, score=2, duration=80.0, at=later)
    db.session.commit()

    whole = {r.user_id: r for r in make_report(scenario, clock).rows}[person.user_id]
    assert whole.entries == 3 + 2
    assert whole.score == first_round_best + 2  # round 2 counts the last entry
    assert whole.max_score == 16
    assert whole.counted_day == local_day(later)
    only_two = make_report(scenario, clock, round_number=2)
    row = {r.user_id: r for r in only_two.rows}[person.user_id]
    assert (row.entries, row.score, row.duration) == (2, 2, 80.0)
    assert sum(1 for r in only_two.rows if r.took_part) == 1
    with pytest.raises(Exception) as caught:
        make_report(scenario, clock, round_number=9)
    assert caught.value.status == 404


def login(client, user):
    response = client.post("/login", data={"login": user.login, "password": "secret123"})
    assert response.status_code == 302


def download(client, url, file_format):
    with client.post(url, data={"format": file_format}) as response:
        return response.status_code, response.headers, response.get_data()


def test_hr_page_and_files(scenario, client, make_user, clock):
    slug = scenario.round.contest.slug
    hr = make_user(role=Role.HR, unit=scenario.units["A"])
    login(client, hr)
    page = client.get(f"/reports/participation?contest={slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    report = make_report(scenario, clock, user=hr)
    assert f'data-testid="participants">{report.total.participants}<' in html
    assert 'data-testid="rate-chart"' in html and "<rect" in html
    assert "Sở Tư pháp" not in html  # another branch of the tree
    assert client.get(f"/reports/participation?contest={slug}&unit=B").status_code == 404
    assert client.get(f"/reports/participation?contest={slug}&unit=P").status_code == 404
    assert client.get("/reports/participation?contest=nope").status_code == 404

    url = f"/reports/participation/export?contest={slug}"
    status, headers, data = download(client, url, "xlsx")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert f"tham-gia-{slug}-A-" in headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Danh sách", "Tổng hợp theo đơn vị"]
    sheet = workbook["Danh sách"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{len(report.rows) + 1}"
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["STT", "Mã đơn vị", "Đơn vị", "Họ và tên"]
    assert "Tham gia" in header and "Ngày thi" in header
    assert sheet.column_dimensions["D"].width >= 20
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [v[3] for v in values] == [r.full_name for r in report.rows]
    assert {v[7] for v in values} == {"Có", "Không"}
    summary = workbook["Tổng hợp theo đơn vị"]
    assert summary.freeze_panes == "A2" and summary.auto_filter.ref == "A1:I4"
    top = list(summary.iter_rows(min_row=2, max_row=2, values_only=True))[0]
    assert (
        top[0] == "A" and top[3] == report.total.headcount and top[5] == report.total.participants
    )
    assert top[6] == pytest.approx(report.total.rate)

    status, headers, data = download(client, url + "&unit=A1", "csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "STT" and {r[1] for r in rows[1:]} == {"A1"}

    assert download(client, f"/reports/participation/export?contest={slug}&unit=B", "csv")[0] == 404
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "export.participation").order_by(AuditLog.id)
    ).all()
    assert [(e.user_id, e.target, e.details["scope"], e.details["format"]) for e in entries] == [
        (hr.id, slug, "A", "xlsx"),
        (hr.id, slug, "A1", "csv"),
    ]
    assert entries[0].details["rows"] == len(report.rows)
    assert entries[1].details["rows"] == len(rows) - 1
    assert all(e.at == clock.at for e in entries)


def test_cli_gives_the_same_file_as_the_page(scenario, client, runner, make_user, tmp_path):
    slug = scenario.round.contest.slug
    login(client, make_user(role=Role.ADMIN))
    _status, _headers, web = download(
        client, f"/reports/participation/export?contest={slug}&unit=B", "csv"
    )
    out = tmp_path / "b.csv"
    result = runner.invoke(
        args=[
            "export",
            "participation",
            "--contest",
            slug,
            "--unit",
            "B",
            "--format",
            "csv",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == web
    xlsx_out = tmp_path / "all.xlsx"
    result = runner.invoke(
        args=["export", "participation", "--contest", slug, "--format", "xlsx", "-o", str(xlsx_out)]
    )
    assert result.exit_code == 0, result.output
    assert load_workbook(xlsx_out)["Danh sách"].max_row == 305 + 1
    result = runner.invoke(
        args=["export", "participation", "--contest", "nope", "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 1 and "No such contest." in result.output
    cli_entry = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "export.participation").order_by(AuditLog.id)
    ).all()[-1]
    assert cli_entry.user_id is None and cli_entry.details["via"].startswith("cli:")


def test_organizers_of_the_contest_see_all_others_do_not(scenario, client, make_user):
    slug = scenario.round.contest.slug
    mine = make_user(role=Role.ORGANIZER)
    scenario.round.contest.organizers.append(mine)
    db.session.commit()
    login(client, mine)
    assert client.get(f"/reports/participation?contest={slug}&unit=B").status_code == 200
    client.post("/logout")
    login(client, make_user(role=Role.ORGANIZER))
    assert client.get(f"/reports/participation?contest={slug}").status_code == 404
    client.post("/logout")
    login(client, make_user(role=Role.PARTICIPANT))
    assert client.get(f"/reports/participation?contest={slug}").status_code == 403


def test_contest_lookup(scenario):
    assert get_contest(scenario.round.contest.slug) is scenario.round.contest


def test_rate_chart_geometry(ctx):
    from quizapp.reports.charts import BAR_AREA, rate_chart

    chart = rate_chart([("A", 0.25), ("B", 1.4), ("C", None)], 0.5)
    assert [bar.width for bar in chart.bars] == [BAR_AREA / 4, BAR_AREA, 0]
    assert [bar.below_threshold for bar in chart.bars] == [True, False, False]
    assert chart.bars[2].value_text == "—" and chart.threshold_x == BAR_AREA / 2
    assert [bar.y for bar in chart.bars] == [0, 40, 80]


# --- one number for participation: every surface shows the same rate -----------------------


@dataclass
class Province:
    contest: Contest
    units: dict[str, Unit]
    organizer: User


def took_part(user: User, round_: Round, times: int = 1) -> None:
    person = Person(user.id, user.unit.code if user.unit else "", user.on_roster)
    for number in range(1, times + 1):
        add_attempt(
            person, round_, number, score=6, duration=200.0, at=START + timedelta(hours=number)
        )


@pytest.fixture
def province(ctx, make_round, make_user, clock) -> Province:
    """Sở R: a roster of 4, one of them took part, and three accounts off the roster too.
    Sở T: no roster, a typed-in headcount of 8; two took part, one more in its division T1
    (no headcount of its own), and the contest's jury member and an admin, who never count.
    Sở Q: a roster of 2 whose second member runs the contest. Sở S: no headcount at all.
    Someone without a unit took part as well."""
    units: dict[str, Unit] = {}
    for code, parent, typed in [
        ("P", None, None),
        ("R", "P", None),
        ("T", "P", 8),
        ("T1", "T", None),
        ("Q", "P", None),
        ("S", "P", None),
    ]:
        units[code] = Unit(code=code, name=f"Sở {code}", parent=units.get(parent), headcount=typed)
        db.session.add(units[code])
    round_ = make_round(closes_at=START + timedelta(days=7), max_attempts=3)
    contest = round_.contest
    contest.unit_rank_threshold = 0.3
    clock.at = START + timedelta(days=1)

    def person(unit, *, roster=False, role=Role.PARTICIPANT, times=1, login=None) -> User:
        user = make_user(login, role=role, unit=units[unit] if unit else None)
        user.on_roster = roster
        db.session.commit()
        if times:
            took_part(user, round_, times)
        return user

    person("R", roster=True)
    for _ in range(3):
        person("R", roster=True, times=0)
    person("R", times=2)  # off the roster, two entries
    person("R")
    person("R")
    person("T")
    person("T")
    person("T", times=0)
    person("T1")
    jury = person("T")  # on the contest's jury with a participant's account: never counted
    contest.organizers.append(jury)
    person("T", role=Role.ADMIN)
    person("Q", roster=True)
    organizer = person("Q", roster=True, role=Role.ORGANIZER, login="btc@example.vn")
    contest.organizers.append(organizer)
    person("S")
    person(None)
    db.session.commit()
    return Province(contest, units, organizer)


# code: headcount, participants (the rate's numerator), not counted, entries, rate, rank
PROVINCE = {
    "P": (14, 5, 4, 10, 5 / 14, 1),
    "R": (4, 1, 3, 5, 0.25, None),
    "T": (8, 3, 0, 3, 0.375, 2),
    "T1": (None, 1, 0, 1, None, None),
    "Q": (2, 1, 0, 1, 0.5, 1),
    "S": (None, 0, 1, 1, None, None),
}


def cells(html: str, code: str) -> list[str]:
    """The text of each cell of the table row marked data-code=CODE."""
    row = re.search(rf'<tr data-code="{code}">(.*?)</tr>', html, re.S)
    assert row, code
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
    ]


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


def test_every_surface_shows_one_participation_rate(province, app, client, runner, make_user):
    from quizapp.contests.stats import contest_stats

    slug = province.contest.slug
    clock_at = app.extensions["quizapp.clock"].at

    def check_json(data, label, without_unit=1):
        by_unit = {u["code"]: u for u in data["by_unit"]}
        assert set(by_unit) == set(PROVINCE), label
        for code, (headcount, participants, not_counted, entries, rate, rank) in PROVINCE.items():
            unit = by_unit[code]
            got = (unit["headcount"], unit["participants"], unit["entries"], unit["rank"])
            assert got == (headcount, participants, entries, rank), (label, code)
            assert unit["rate"] == (None if rate is None else pytest.approx(rate, abs=1e-4))
            assert unit["not_counted"] == not_counted, (label, code)
        # Everyone in view who took part, counted in a rate or not; contest staff never.
        assert (data["participants"], data["entries"]) == (9 + without_unit, 10 + without_unit)
        assert data["without_unit"] == {"participants": without_unit, "entries": without_unit}

    stats = contest_stats(province.contest, clock_at)
    check_json(stats.as_json(), "service")
    cli = runner.invoke(args=["stats", "--contest", slug, "--json"])
    check_json(json.loads(cli.output), "cli")

    login(client, province.organizer)
    check_json(client.get(f"/api/v1/contests/{slug}/stats").get_json(), "api")
    dashboard = client.get(f"/contests/{slug}/dashboard").get_data(as_text=True)
    for code, (headcount, participants, not_counted, entries, rate, _rank) in PROVINCE.items():
        row = cells(dashboard, code)
        assert row[2:7] == [
            "—" if headcount is None else str(headcount),
            str(participants),
            str(not_counted),
            str(entries),
            percent(rate),
        ], code
    client.post("/logout")

    hr = make_user(role=Role.HR, unit=province.units["P"])
    login(client, hr)
    check_json(client.get(f"/api/v1/contests/{slug}/stats").get_json(), "api, HR", 0)
    tree = UnitTree()
    scope = participation_scope(hr, province.contest, None, tree)
    report = participation(province.contest, scope, clock_at, tree=tree)
    summaries = {s.node.code: s for s in report.units}
    for code, (headcount, participants, not_counted, entries, rate, _rank) in PROVINCE.items():
        s = summaries[code]
        assert (s.headcount, s.participants, s.not_counted, s.entries) == (
            headcount,
            participants,
            not_counted,
            entries,
        ), code
        assert s.rate == (None if rate is None else pytest.approx(rate))
    page = client.get(f"/reports/participation?contest={slug}").get_data(as_text=True)
    for code, (headcount, participants, not_counted, entries, rate, _rank) in PROVINCE.items():
        assert cells(page, code)[1:6] == [
            "—" if headcount is None else str(headcount),
            str(participants),
            percent(rate),
            str(entries),
            str(not_counted),
        ], code
    assert 'data-testid="participants">5<' in page and 'data-testid="rate">35.7 %<' in page

    url = f"/reports/participation/export?contest={slug}"
    status, _headers, data = download(client, url, "xlsx")
    assert status == 200
    summary = load_workbook(io.BytesIO(data))["Tổng hợp theo đơn vị"]
    rows = {r[0]: r for r in summary.iter_rows(min_row=2, values_only=True)}
    for code, (headcount, participants, not_counted, entries, rate, _rank) in PROVINCE.items():
        assert (rows[code][3], rows[code][5], rows[code][7], rows[code][8]) == (
            headcount,
            participants,
            entries,
            not_counted,
        ), code
        assert rows[code][6] == (None if rate is None else pytest.approx(rate))
    status, _headers, data = download(client, url, "csv")
    listed = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    for code, (_headcount, participants, not_counted, _entries, _rate, _rank) in PROVINCE.items():
        if code == "P":
            continue
        mine = [r for r in listed if r["Mã đơn vị"] in (code, f"{code}1")]
        took = [r for r in mine if r["Tham gia"] == "Có"]
        counted = [r for r in took if r["Tính vào tỉ lệ tham gia"] == "Có"]
        assert (len(counted), len(took) - len(counted)) == (participants, not_counted), code
    # The contest's organizer is on Sở Q's roster: listed, but their entry is not participation.
    organizer_row = next(r for r in listed if r["Họ và tên"] == province.organizer.full_name)
    assert (organizer_row["Tham gia"], organizer_row["Tính vào tỉ lệ tham gia"]) == (
        "Không",
        "Không",
    )


def test_a_typed_in_headcount_counts_every_account_of_the_unit(
    ctx, make_round, make_user, clock, runner
):
    """No roster: Sở T's typed 8 counts its accounts and its division's; Sở S has no headcount,
    so its entrant counts toward no rate, and the province's rate is Sở T's people over 8."""
    from quizapp.contests.stats import contest_stats

    province = Unit(code="P", name="Tỉnh")
    t = Unit(code="T", name="Sở T", parent=province, headcount=8)
    t1 = Unit(code="T1", name="Phòng T1", parent=t)
    s = Unit(code="S", name="Sở S", parent=province)
    db.session.add_all([province, t, t1, s])
    round_ = make_round(closes_at=START + timedelta(days=7))
    clock.at = START + timedelta(days=1)
    for unit in (t, t, t1, s):
        took_part(make_user(unit=unit), round_)
    took_part(make_user(unit=t, role=Role.ORGANIZER), round_)  # never counted
    db.session.commit()

    expected = {  # headcount, participants, entries, rate
        "P": (8, 3, 4, 0.375),
        "T": (8, 3, 3, 0.375),
        "T1": (None, 1, 1, None),
        "S": (None, 0, 1, None),
    }
    not_counted = {"P": 1, "T": 0, "T1": 0, "S": 1}
    stats = contest_stats(round_.contest, clock.at)
    got = {u.code: (u.headcount, u.participants, u.entries, u.rate) for u in stats.by_unit}
    assert got == expected
    assert {u.code: u.not_counted for u in stats.by_unit} == not_counted
    cli = json.loads(
        runner.invoke(args=["stats", "--contest", round_.contest.slug, "--json"]).output
    )
    assert {u["code"]: u["rate"] for u in cli["by_unit"]}["P"] == 0.375
    tree = UnitTree()
    report = participation(
        round_.contest, participation_scope(None, round_.contest, None, tree), clock.at, tree=tree
    )
    got = {u.node.code: (u.headcount, u.participants, u.entries, u.rate) for u in report.units}
    assert got == expected and report.total.rate == 0.375
    assert {u.node.code: u.not_counted for u in report.units} == not_counted
    assert sorted((r.unit_code, r.counted) for r in report.rows) == [
        ("S", False),
        ("T", True),
        ("T", True),
        ("T1", True),
    ]


@pytest.mark.skipif(
    not hasattr(User, "self_registered"), reason="accounts do not record self-registration yet"
)
def test_self_registered_accounts_never_count_toward_a_typed_in_headcount(
    ctx, make_round, make_user, clock
):
    from quizapp.contests.stats import contest_stats

    t = Unit(code="T", name="Sở T", headcount=4)
    db.session.add(t)
    round_ = make_round(closes_at=START + timedelta(days=7))
    clock.at = START + timedelta(days=1)
    took_part(make_user(unit=t), round_)
    stranger = make_user(unit=t)
    stranger.self_registered = True
    db.session.commit()
    took_part(stranger, round_)
    (unit,) = contest_stats(round_.contest, clock.at).by_unit
    assert (unit.participants, unit.not_counted, unit.rate) == (1, 1, 0.25)
    tree = UnitTree()
    report = participation(
        round_.contest, participation_scope(None, round_.contest, None, tree), clock.at, tree=tree
    )
    assert (report.total.participants, report.total.not_counted) == (1, 1)


def test_a_contest_for_one_department_is_reported_on_that_department(
    ctx, app, client, runner, make_round, make_user, clock, tmp_path
):
    """Sở A's contest: its rate is over Sở A's roster, the province and Sở B are not listed
    (nor Sở B's roster as absentees); someone now in Sở B who took part is counted apart."""
    from quizapp.contests.stats import contest_stats

    province = Unit(code="P", name="Tỉnh")
    a = Unit(code="A", name="Sở A", parent=province)
    b = Unit(code="B", name="Sở B", parent=province)
    db.session.add_all([province, a, b])
    round_ = make_round(closes_at=START + timedelta(days=7), audience=[a])
    contest = round_.contest
    clock.at = START + timedelta(days=1)

    def person(unit, roster):
        user = make_user(unit=unit)
        user.on_roster = roster
        return user

    roster_a = [person(a, True) for _ in range(4)]
    roster_b = [person(b, True) for _ in range(3)]
    off_roster = person(a, False)
    moved = person(a, False)
    db.session.commit()
    for user in (*roster_a[:2], off_roster, moved):
        took_part(user, round_)
    moved.unit = b  # took part, then moved to another department
    db.session.commit()

    stats = contest_stats(contest, clock.at).as_json()
    assert [u["code"] for u in stats["by_unit"]] == ["A"]
    (unit,) = stats["by_unit"]
    assert (unit["headcount"], unit["participants"], unit["not_counted"], unit["entries"]) == (
        4,
        2,
        1,
        3,
    )
    assert (unit["rate"], unit["rank"]) == (0.5, 1)
    assert (stats["participants"], stats["entries"]) == (4, 4)
    assert stats["without_unit"] == {"participants": 1, "entries": 1}

    hr = make_user(role=Role.HR, unit=province)
    login(client, hr)
    api = client.get(f"/api/v1/contests/{contest.slug}/stats").get_json()
    assert api["by_unit"] == stats["by_unit"]
    tree = UnitTree()
    scope = participation_scope(hr, contest, None, tree)
    report = participation(contest, scope, clock.at, tree=tree)
    assert scope.unit.code == "A" and [u.code for u in report.units] == ["A"]
    assert (report.total.headcount, report.total.participants, report.total.rate) == (4, 2, 0.5)
    assert report.without_unit == 1
    listed = {r.user_id for r in report.rows}
    assert listed == {u.id for u in (*roster_a, off_roster, moved)}
    assert not listed & {u.id for u in roster_b}
    page = client.get(f"/reports/participation?contest={contest.slug}").get_data(as_text=True)
    assert 'data-testid="rate">50.0 %<' in page and 'value="B"' not in page
    assert "1 people outside the contest's units took part." in page
    response = client.get(f"/reports/participation?contest={contest.slug}&unit=B")
    assert response.status_code == 404
    assert "Unit B is not among this contest&#39;s units." in response.get_data(as_text=True)
    result = runner.invoke(
        args=[
            "export",
            "participation",
            "--contest",
            contest.slug,
            "--unit",
            "B",
            "-o",
            str(tmp_path / "b.csv"),
        ]
    )
    assert result.exit_code == 1 and "Unit B is not among this contest's units." in result.output
