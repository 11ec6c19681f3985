"""Bad input at scale: the unit and roster readers (any bytes, any cell text, never a crash, and
all or nothing; the bank readers have theirs in test_bank_formats.py), and every number a person
types or sends (forms, query arguments, the plain quiz form, JSON bodies, URLs): huge, negative,
other scripts' digits, nested, never a 500, always a message, nothing changed. Like the access
matrix, the sweep must list every such input the code has: test_every_typed_number_is_swept."""

import ast
import csv
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select
from werkzeug.routing.converters import NumberConverter
from wtforms import Form, IntegerField
from wtforms.fields.core import UnboundField

from quizapp.admin.models import AuditLog
from quizapp.api.openapi import OPENAPI
from quizapp.attempts.models import Answer, Attempt
from quizapp.auth.models import Unit, User
from quizapp.contests.models import Contest, Round, RoundDraw
from quizapp.extensions import db
from quizapp.units.roster import import_roster
from quizapp.units.services import import_units
from tests.conftest import api_login
from tests.test_access_matrix import LOGINS, world  # noqa: F401  (the fixture)
from tests.test_contest_pages import contest_form, round_form

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


def test_unit_file_headcounts_must_fit(ctx, english):
    """Numbers as a spreadsheet stores them (10^30 as an integer and as a float) and as text."""
    table = [
        ["code", "name", "parent_code", "headcount"],
        ["A", "Sở A", "", 10**30],
        ["B", "Sở B", "", 1e30],
        ["C", "Sở C", "", -5],
        ["D", "Sở D", "", "１２"],
        ["E", "Sở E", "", "10.000.001"],
        ["F", "Sở F", "", "10.000.000"],
    ]
    report = import_units(as_xlsx(table), "don-vi.xlsx")
    assert [problem.row for problem in report.problems] == [2, 3, 4, 5, 6]
    described = report.problems[0].describe("don-vi.xlsx")  # a worksheet keeps 10^30 as a float
    assert described.startswith("don-vi.xlsx: row 2: Headcount '1000000000000000")
    assert described.endswith("' is not a whole number from 0 to 10,000,000.")
    assert count(Unit) == 0


@pytest.fixture
def english(app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


# --- typed numbers: every form field, query argument, JSON property and URL part ---------------

# Values no integer input may take: past int64 (OFFSET, BIGINT), past Python's int() digit
# limit, negative, digits that str.isdigit() accepts and int() refuses ('²', '①'), digits of
# other scripts that int() quietly reads ('١٢', '１２'), Python-only spellings, and words.
HOSTILE_TEXT = {
    "10^20": "1" + "0" * 20,
    "10^30": "1" + "0" * 30,
    "5,000 digits": "9" * 5000,
    "-1": "-1",
    "-10^25": "-" + "9" * 25,
    "superscript two": "²",
    "circled one": "①",
    "Arabic-Indic 12": "١٢",
    "full-width 12": "１２",
    "underscore": "1_000",
    "exponent": "1e3",
    "NUL": "\x00",
    "words": "mười",
}


# As JSON text: Python's own encoder refuses to write what the deepest of these are.
HOSTILE_JSON = {
    "10^20": "1" + "0" * 20,
    "10^30": "1" + "0" * 30,
    "5,000 digits": "9" * 5000,
    "-1": "-1",
    "1e30": "1e30",
    "NaN": "NaN",
    "superscript two": '"²"',
    "digits as text": '"12"',
    "true": "true",
    "null": "null",
    "30 lists deep": "[" * 30 + "]" * 30,
    "2,000 lists deep": "[" * 2000 + "]" * 2000,
}
VIETNAMESE = re.compile(
    "[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.I
)


@dataclass
class Sweep:
    """One typed number: how to send a value to it, and as whom. `covers` names what
    test_every_typed_number_is_swept finds in the code: `form Class.field`, `json METHOD path
    property` and `query METHOD path name` (from the OpenAPI document), `parsed module:function`
    (code that calls the shared parser in quizapp.inputs)."""

    covers: tuple[str, ...]
    role: str
    send: Callable  # (client, world, value) -> response
    values: dict = field(default_factory=lambda: HOSTILE_TEXT)
    explained: bool = True  # False: a hint that is ignored by design (no message, no change)


def post_form(url: Callable, data: Callable) -> Callable:
    return lambda client, w, value: client.post(url(w), data=data(w, value))


def new_round_with(name: str) -> Callable:
    return post_form(
        lambda w: f"/manage/contests/{w.slug}/rounds/new",
        lambda w, value: round_form(**{name: value}),
    )


def units_file(client, w, value):
    data = f"code,name,parent_code,headcount\nMOI,Đơn vị mới,,{value}\n".encode()
    return client.post(
        "/units/import",
        data={"file": (io.BytesIO(data), "don-vi.csv")},
        content_type="multipart/form-data",
    )


def quiz_form(name: Callable) -> Callable:
    return lambda client, w, value: client.post(
        f"/attempts/{w.attempt_id}", data={name(w): value, "action": "save"}
    )


def api_put(suffix: Callable, body: str) -> Callable:
    return lambda client, w, value: client.put(
        f"/api/v1/attempts/{suffix(w)}",
        data=body.replace("VALUE", value),
        content_type="application/json",
    )


ANSWERS = "PUT /api/v1/attempts/{attempt_id}/answers/{question_id}"
SWEEP = [
    Sweep(
        ("form UnitForm.headcount",),
        "admin",
        post_form(
            lambda w: "/units/new",
            lambda w, value: {"code": "MOI", "name": "Mới", "parent_id": "0", "headcount": value},
        ),
    ),
    Sweep(("parsed quizapp.units.services:_headcount",), "admin", units_file),
    Sweep(
        ("form ContestForm.threshold_percent",),
        "organizer",
        post_form(
            lambda w: "/manage/contests/new",
            lambda w, value: contest_form("quet", w.unit_id, threshold_percent=value),
        ),
    ),
    *[
        Sweep((f"form RoundForm.{name}",), "organizer", new_round_with(name))
        for name in ("time_limit_minutes", "max_attempts", "daily_limit", "grace_seconds")
    ],
    Sweep(("form DrawRowForm.count",), "organizer", new_round_with("draws-0-count")),
    Sweep(
        ("form ResultsExportForm.round",),
        "organizer",
        post_form(
            lambda w: f"/manage/contests/{w.slug}/results",
            lambda w, value: {"format": "csv", "round": value},
        ),
    ),
    Sweep(
        ("form QuestionFilterForm.page",),
        "organizer",
        lambda client, w, value: client.get(f"/banks/{w.bank_id}", query_string={"page": value}),
    ),
    Sweep(
        ("parsed quizapp.reports.views:_request_report",),
        "organizer",
        lambda client, w, value: client.get(
            "/reports/participation", query_string={"contest": w.slug, "round": value}
        ),
    ),
    Sweep(
        (
            "query GET /api/v1/rounds/{round_id}/leaderboard limit",
            "parsed quizapp.api.views:leaderboard",
        ),
        "participant",
        lambda client, w, value: client.get(
            f"/api/v1/rounds/{w.round_id}/leaderboard", query_string={"limit": value}
        ),
    ),
    Sweep(
        ("parsed quizapp.attempts.views:_option_id",),
        "participant",
        quiz_form(lambda w: f"q{w.question_id}"),
    ),
    Sweep(
        ("parsed quizapp.attempts.views:_prediction",),
        "participant",
        quiz_form(lambda w: "prediction"),
    ),
    Sweep(
        (f"json {ANSWERS} option_ids",),
        "participant",
        api_put(lambda w: f"{w.attempt_id}/answers/{w.question_id}", '{"option_ids": [VALUE]}'),
        HOSTILE_JSON,
    ),
    Sweep(
        (f"json {ANSWERS} revision",),
        "participant",
        api_put(
            lambda w: f"{w.attempt_id}/answers/{w.question_id}",
            '{"option_ids": [], "revision": VALUE}',
        ),
        {name: text for name, text in HOSTILE_JSON.items() if name != "null"},  # null: none given
    ),
    Sweep(
        ("json PUT /api/v1/attempts/{attempt_id}/prediction value",),
        "participant",
        api_put(lambda w: f"{w.attempt_id}/prediction", '{"value": VALUE}'),
        HOSTILE_JSON,
    ),
    # Hints that only pre-fill or keep a choice: a value that is not one is simply not used.
    Sweep(
        ("parsed quizapp.banks.views:upload",),
        "organizer",
        lambda client, w, value: client.get("/banks/import", query_string={"bank": value}),
        explained=False,
    ),
    Sweep(
        ("parsed quizapp.banks.views:edit_question",),
        "organizer",
        post_form(
            lambda w: f"/banks/questions/{w.bank_question_id}/edit",
            lambda w, value: {"text": "", "options-0-option_id": value},
        ),
        explained=False,
    ),
]
MESSAGES = [
    re.compile(pattern, re.S)
    for pattern in (
        r'class="flash flash-error"[^>]*>(.*?)</div>',
        r'class="field-error"[^>]*>(.*?)</p>',
        r'data-testid="import-problems">.*?<li>(.*?)</li>',
        r'<section class="card narrow">\s*<h1>[^<]*</h1>\s*<p>(.*?)</p>',  # the error page
    )
]


def shown_message(app, client, response) -> str:
    """The error message the person sees: the API's, a flash (after the redirect), a field's
    error, an import's problem or the error page's."""
    if response.is_json:
        return response.get_json().get("error", {}).get("message", "")
    if response.status_code in (302, 303):
        with app.app_context():
            response = client.get(response.headers["Location"])
    text = response.get_data(as_text=True)
    for pattern in MESSAGES:
        found = pattern.search(text)
        if found:
            return html.unescape(found.group(1)).strip()
    return ""


def database_state():
    """What a refused number must leave as it was."""
    db.session.rollback()  # a fresh read, after the requests' own commits
    return (
        [count(model) for model in (Unit, Contest, Round, RoundDraw, AuditLog)],
        db.session.execute(
            select(Answer.attempt_question_id, Answer.selected, Answer.revision).order_by(Answer.id)
        ).all(),
        db.session.scalars(select(Attempt.prediction).order_by(Attempt.id)).all(),
    )


@pytest.fixture
def typed_world(world):  # noqa: F811  (the fixture imported above)
    """The access matrix's world, its round with a prediction question."""
    round_ = db.session.get(Round, world.round_id)
    round_.prediction_question = "Bao nhiêu người tham gia?"
    db.session.commit()
    return world


@pytest.mark.parametrize("sweep", SWEEP, ids=lambda sweep: sweep.covers[0])
def test_typed_numbers_are_refused_with_a_message_and_change_nothing(app, typed_world, sweep):
    client = app.test_client()
    with app.app_context():  # one app context per request, as in production
        api_login(client, LOGINS[sweep.role])
    wrong = []
    for name, value in sweep.values.items():
        before = database_state()
        with app.app_context():
            response = sweep.send(client, typed_world, value)
        if response.status_code >= 500:
            wrong.append(f"{name}: {response.status_code}")
            continue
        if not sweep.explained:
            continue
        message = shown_message(app, client, response)
        if not VIETNAMESE.search(message):
            wrong.append(f"{name}: {response.status_code}, no message in Vietnamese: {message!r}")
        if database_state() != before:
            wrong.append(f"{name}: the database changed")
    assert not wrong, "\n".join(wrong)


def test_a_good_number_still_goes_through(app, typed_world):
    """The sweep's requests are right but for the number: the same ones with a plain number."""
    client = app.test_client()
    with app.app_context():
        api_login(client, LOGINS["participant"])
        response = client.post(
            f"/attempts/{typed_world.attempt_id}", data={"prediction": " 1.250 ", "action": "save"}
        )
    assert response.status_code == 302
    assert db.session.get(Attempt, typed_world.attempt_id).prediction == 1250
    with app.app_context():
        api_login(client, LOGINS["admin"])
        response = client.post(
            "/units/new", data={"code": "MOI", "name": "Mới", "parent_id": "0", "headcount": "40"}
        )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(Unit.headcount).where(Unit.code == "MOI")) == 40


ADDRESS_NUMBERS = ["1" + "0" * 20, "9" * 5000, "١", "２", "²", "0"]


def test_numbers_in_addresses_are_ascii_digits_that_fit_a_column(app, typed_world):
    """Every <id:…> and <int:…> in the URL map: anything but an id that can exist is 404."""
    client = app.test_client()
    with app.app_context():
        api_login(client, LOGINS["admin"])
    wrong, tried = [], 0
    for rule in app.url_map.iter_rules():
        numbers = [
            name for name, conv in rule._converters.items() if isinstance(conv, NumberConverter)
        ]
        if not numbers:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for value in ADDRESS_NUMBERS:
                args = {name: value if name in numbers else "1" for name in rule.arguments}
                url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m, a=args: a[m.group(1)], rule.rule)
                with app.app_context():
                    status = client.open(url, method=method).status_code
                tried += 1
                if status not in (404, 405):  # no such address (405: not for this method)
                    wrong.append(f"{method} {url[:60]}: {status}")
    assert tried > 50 and not wrong, "\n".join(wrong)


UNREADABLE_JSON = {
    "5,000 lists deep": ("[" * 5000, 400, "bad_json"),
    "an object 25 deep": ('{"a":' * 25 + "1" + "}" * 25, 400, "bad_json"),
    "cut short": ('{"login": ', 400, "bad_json"),
    "NaN": ('{"value": NaN}', 400, "bad_json"),
    "not UTF-8": (b'{"login": "\xff"}', 400, "bad_json"),
    "a 70 KB list": ("[" + "1," * 35_000 + "1]", 413, "request_entity_too_large"),
    "100,000 lists deep": ("[" * 100_000, 413, "request_entity_too_large"),
    "a list, not an object": ("[1, 2]", 422, "bad_json"),
}


def test_every_json_endpoint_refuses_unreadable_bodies_with_a_message(app, typed_world):
    """Every path of the OpenAPI document that takes a JSON body, login included."""
    client = app.test_client()
    with app.app_context():
        api_login(client, LOGINS["participant"])
    urls = {
        "/api/v1/attempts/{attempt_id}/answers/{question_id}": (
            f"/api/v1/attempts/{typed_world.attempt_id}/answers/{typed_world.question_id}"
        ),
        "/api/v1/attempts/{attempt_id}/prediction": (
            f"/api/v1/attempts/{typed_world.attempt_id}/prediction"
        ),
    }
    wrong, tried = [], 0
    for path, methods in OPENAPI["paths"].items():
        for method, operation in methods.items():
            if "requestBody" not in operation:
                continue
            for name, (body, status, code) in UNREADABLE_JSON.items():
                with app.app_context():
                    response = client.open(
                        urls.get(path, path),
                        method=method.upper(),
                        data=body,
                        content_type="application/json",
                    )
                tried += 1
                error = (response.get_json(silent=True) or {}).get("error", {})
                if (response.status_code, error.get("code")) != (status, code) or not (
                    VIETNAMESE.search(error.get("message", ""))
                ):
                    wrong.append(f"{method} {path}, {name}: {response.status_code} {error}")
    assert tried >= 3 * len(UNREADABLE_JSON) and not wrong, "\n".join(wrong)


def test_nested_json_at_login_is_a_400_in_the_apis_shape(app, make_user):
    """The review's request: a login whose password is 5,000 lists deep (10 KB)."""
    make_user("an@example.vn")
    client = app.test_client()
    body = '{"login": "an@example.vn", "password": ' + "[" * 5000 + "]" * 5000 + "}"
    response = client.post("/api/v1/login", data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error == {
        "code": "bad_json",
        "message": "Nội dung yêu cầu lồng danh sách và đối tượng sâu quá 20 cấp.",
    }
    good = {"login": "an@example.vn", "password": "secret123"}
    assert client.post("/api/v1/login", json=good).status_code == 200


@FUZZ
@given(
    text=st.one_of(
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.text(st.characters(categories=["Nd", "No", "Zs"]), max_size=12),
        st.text(max_size=12),
    ),
    bounds=st.tuples(st.integers(0, 10**12), st.integers(0, 10**12)).map(sorted),
)
def test_whole_number_is_ascii_digits_within_bounds_and_never_raises(text, bounds):
    from quizapp.inputs import whole_number

    minimum, maximum = bounds
    value = whole_number(text, minimum=minimum, maximum=maximum)
    stripped = text.strip()
    plain = stripped.isascii() and stripped.isdecimal()
    if plain and minimum <= int(stripped) <= maximum:
        assert value == int(stripped)
    else:
        assert value is None


def test_every_typed_number_is_swept(app):
    """Like test_every_route_is_classified: a new number people type must join SWEEP."""
    from quizapp.inputs import WholeNumberField

    found, plain_integer_fields = set(), []
    for form in all_subclasses(Form):
        if not form.__module__.startswith("quizapp."):
            continue
        for name, unbound in vars(form).items():
            if isinstance(unbound, UnboundField) and issubclass(unbound.field_class, IntegerField):
                found.add(f"form {form.__name__}.{name}")
                if not issubclass(unbound.field_class, WholeNumberField):
                    plain_integer_fields.append(f"{form.__name__}.{name}")
    for path, methods in OPENAPI["paths"].items():
        for method, operation in methods.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["schema"].get("type") == "integer":
                    found.add(f"query {where} {parameter['name']}")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            for prop, schema in (body or {}).get("schema", {}).get("properties", {}).items():
                if "integer" in (schema.get("type"), schema.get("items", {}).get("type")):
                    found.add(f"json {where} {prop}")
    found |= parser_callers()
    swept = {name for sweep in SWEEP for name in sweep.covers}
    assert not plain_integer_fields, (
        f"Use quizapp.inputs.WholeNumberField (ASCII digits, bounded): {plain_integer_fields}"
    )
    assert not found - swept, f"Typed numbers nobody sweeps; add each to SWEEP: {found - swept}"
    assert not swept - found, f"SWEEP lists inputs that no longer exist: {swept - found}"
    assert not digit_checks(), (
        "str.isdigit() is true for '²', which int() refuses: use quizapp.inputs.whole_number "
        f"(or list the call in DIGIT_CHECKS_ALLOWED with the reason): {digit_checks()}"
    )


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


PACKAGE = Path(__file__).resolve().parent.parent / "quizapp"
PARSERS = {"whole_number", "query_number"}


def _calls(tree):
    """(enclosing function, called name) for every call in a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for call in ast.walk(node):
                if isinstance(call, ast.Call):
                    func = call.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    yield node.name, name


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        yield module, ast.parse(path.read_text(encoding="utf-8"))


def parser_callers() -> set[str]:
    """`parsed module:function` for every function that calls the shared parser."""
    return {
        f"parsed {module}:{function}"
        for module, tree in _modules()
        if module != "quizapp.inputs"
        for function, name in _calls(tree)
        if name in PARSERS
    }


# isdigit() that never leads to int() of what a person typed.
DIGIT_CHECKS_ALLOWED = {
    "quizapp.auth.services:parse",  # the session cookie's user id: signed by the server
    "quizapp.units.collation:_primary",  # sorting names: no number is read
}


def digit_checks() -> list[str]:
    return sorted(
        f"{module}:{function}"
        for module, tree in _modules()
        for function, name in _calls(tree)
        if name in ("isdigit", "isnumeric", "isdecimal")
        and f"{module}:{function}" not in DIGIT_CHECKS_ALLOWED
    )
