"""Bad input at scale for the unit and roster readers (the bank readers have theirs in
test_bank_formats.py): any bytes, any cell text, never a crash, and all or nothing."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from quizapp.auth.models import Unit, User
from quizapp.extensions import db
from quizapp.units.roster import import_roster
from quizapp.units.services import import_units

FUZZ = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Any text a person could paste into a cell, control characters included (PostgreSQL refuses
# NUL, so a reader that lets one through would fail there with a 500).
CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
ANY_FILE = st.one_of(
    st.binary(max_size=400), st.text(max_size=400).map(lambda text: text.encode("utf-8"))
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def as_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def as_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def assert_explained(report) -> None:
    for problem in report.problems:
        assert problem.describe(report.filename)


@FUZZ
@given(data=ANY_FILE, extension=st.sampled_from(["csv", "xlsx"]))
def test_unit_reader_never_crashes_on_any_bytes(ctx, data, extension):
    before = count(Unit)
    report = import_units(data, f"units.{extension}")
    assert_explained(report)
    assert count(Unit) == before + report.created


@FUZZ
@given(data=ANY_FILE, extension=st.sampled_from(["csv", "xlsx"]))
def test_roster_reader_never_crashes_on_any_bytes(ctx, clock, data, extension):
    before = count(User)
    report = import_roster(data, f"roster.{extension}", now=clock.at)
    assert_explained(report)
    assert count(User) == before + report.created


@FUZZ
@given(
    rows=st.lists(
        st.tuples(CELL, CELL, st.one_of(st.just(""), CELL), st.one_of(st.just(""), CELL)),
        max_size=6,
    ),
    spreadsheet=st.booleans(),
)
def test_unit_rows_never_crash_and_write_all_or_nothing(ctx, rows, spreadsheet):
    table = [["code", "name", "parent_code", "headcount"], *[list(row) for row in rows]]
    before = count(Unit)
    if spreadsheet:
        # A worksheet cannot hold control characters at all; Excel never writes them.
        table = [[ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row] for row in table]
        report = import_units(as_xlsx(table), "units.xlsx")
    else:
        report = import_units(as_csv(table), "units.csv")
    assert_explained(report)
    assert count(Unit) == (before + report.created if report.ok else before)


@FUZZ
@given(
    rows=st.lists(
        st.tuples(
            CELL,
            st.sampled_from(["VP", "KHAC", "", "vp"]),
            st.one_of(st.just(""), CELL),
            st.one_of(st.just(""), st.from_regex(r"0[0-9 .]{8,12}", fullmatch=True), CELL),
            st.one_of(st.just(""), st.emails(), CELL),
            st.one_of(st.just(""), CELL),
        ),
        max_size=5,
    )
)
def test_roster_rows_never_crash_and_write_all_or_nothing(ctx, make_unit, clock, rows):
    if not db.session.scalar(select(Unit).where(Unit.code == "VP")):
        make_unit("VP")
        make_unit("KHAC")
    table = [
        ["full_name", "unit_code", "login", "phone", "email", "employee_code"],
        *[list(row) for row in rows],
    ]
    before = count(User)
    report = import_roster(as_csv(table), "roster.csv", now=clock.at)
    assert_explained(report)
    assert count(User) == (before + report.created if report.ok else before)
