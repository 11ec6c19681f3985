"""Small files that stand for huge ones, and damaged ones: every import refuses them with a
message naming the file (and row), doing little work, and reads no upload under the write lock.
"""

import io
import itertools
import tracemalloc
import zipfile
from contextlib import contextmanager

import openpyxl
import pytest
from defusedxml import DefusedXmlException
from sqlalchemy import func, select, text

from quizapp.auth.models import Role, Unit
from quizapp.banks import importer as bank_importer
from quizapp.banks.models import Question
from quizapp.banks.services import import_bank
from quizapp.contests.schema import ContestFileError, parse_contest_file
from quizapp.extensions import db
from quizapp.units import roster as roster_module
from quizapp.units import services as unit_services
from quizapp.units.services import import_units
from quizapp.uploads import UploadLimits, upload_limits, xlsx_rows
from tests.test_late_writes import write_lock_is_free
from tests.test_units import xlsx as workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"

# 342 bytes that stand for 9^9 (387 million) strings once the aliases are followed.
ALIAS_BOMB = b"""bank: Laughs
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
categories: [*h]
"""
TOO_MANY_VALUES = (
    "The file holds more than 1000000 values (an alias counts as everything it repeats); "
    "split it into smaller files."
)
TOO_MANY_ROWS = "The sheet has more than 200000 rows; split it into files of at most 200000 rows."
LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is>
</c></row></sheetData></worksheet>""".encode()


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Assert messages by their English msgids, whatever the Vietnamese catalog says."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture(autouse=True)
def upload_folder(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "BANK_UPLOAD_FOLDER", str(tmp_path / "uploads"))


@pytest.fixture
def opened(monkeypatch) -> list:
    """Workbooks openpyxl was asked to open: a file the bounded reader refuses never gets there."""
    calls = []
    original = openpyxl.load_workbook

    def load_workbook(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", load_workbook)
    return calls


@contextmanager
def peak_megabytes():
    """The most memory Python held at once inside the block, in MB."""
    tracemalloc.start()
    seen = {}
    try:
        yield seen
    finally:
        seen["peak"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()


def with_part(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook with one part's content replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = content if info.filename == name else source.read(info)
            target.writestr(info.filename, part, compresslevel=9)
    return buffer.getvalue()


def sheet_xml(rows: bytes, before: str = "") -> bytes:
    return (
        (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{before}<sheetData>'
        ).encode()
        + rows
        + b"</sheetData></worksheet>"
    )


def bomb(rows: bytes) -> bytes:
    return with_part(workbook([["full_name", "unit_code"]]), SHEET, sheet_xml(rows))


def lie_about_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with `name`'s uncompressed size declared as `size` in both of its headers."""
    patched = bytearray(data)
    declared = size.to_bytes(4, "little")
    local = zipfile.ZipFile(io.BytesIO(data)).getinfo(name).header_offset
    patched[local + 22 : local + 26] = declared
    central = patched.find(b"PK\x01\x02")
    while central >= 0:
        length = int.from_bytes(patched[central + 28 : central + 30], "little")
        if patched[central + 46 : central + 46 + length] == name.encode():
            patched[central + 24 : central + 28] = declared
        central = patched.find(b"PK\x01\x02", central + 4)
    return bytes(patched)


def login(client, user):
    response = client.post("/login", data={"login": user.login, "password": "secret123"})
    assert response.status_code == 302


def post_file(client, path: str, content: bytes, filename: str):
    data = {"file": (io.BytesIO(content), filename)}
    if path == "/banks/import":
        data |= {"target": "new", "new_name": "B"}
    return client.post(path, data=data, content_type="multipart/form-data")


def errors(report) -> list[tuple]:
    return [(p.line, str(p.message)) for p in report.errors]


def question_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Question))


# --- YAML: aliases, values, depth ------------------------------------------------------------


def test_an_alias_bomb_is_refused_at_its_line_with_little_work(ctx):
    with peak_megabytes() as memory:
        report = import_bank(ALIAS_BOMB, "laughs.yaml", bank_name="B", dry_run=True)
    # Line 8 (h) is the first anchor standing for more than a million values.
    assert errors(report) == [(8, TOO_MANY_VALUES)]
    assert memory["peak"] < 5


def test_the_alias_bomb_is_refused_by_the_cli_and_in_a_contest_file(ctx, runner, tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_bytes(ALIAS_BOMB)
    result = runner.invoke(args=["banks", "import", "--bank", "B", str(path)])
    assert result.exit_code == 1
    assert f"error: {path}: line 8: {TOO_MANY_VALUES}" in result.output
    assert question_count() == 0
    with pytest.raises(ContestFileError) as refused:
        parse_contest_file(ALIAS_BOMB.decode(), "contest.yaml")
    assert refused.value.problems == [f"contest.yaml:8: {TOO_MANY_VALUES}"]


@pytest.mark.parametrize(
    ("document", "line", "message"),
    [
        (
            "a: &a x\nb: [" + ", ".join(["*a"] * 1001) + "]\n",
            2,
            "The file uses more than 1000 aliases (*name); write the repeated parts out.",
        ),
        ("[" * 1000 + "]" * 1000, 1, "The file nests more than 50 levels deep."),
        ("bank: B\ncategories: &loop [*loop]\n", 2, "The file nests more than 50 levels deep."),
    ],
    ids=["aliases", "depth", "alias-in-its-own-anchor"],
)
def test_yaml_aliases_and_depth_are_bounded(ctx, document, line, message):
    report = import_bank(document.encode(), "bank.yaml", bank_name="B", dry_run=True)
    assert errors(report) == [(line, message)]


# --- XLSX: rows, columns, cells, unzipped size, declared dimensions ---------------------------


def test_a_million_row_xlsx_is_refused_before_openpyxl_reads_it(
    client, make_user, make_unit, opened
):
    """The review's file: a few tens of KB that unzip to a million rows (roster import)."""
    data = bomb(b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 1_000_000)
    assert len(data) < 400_000
    login(client, make_user(role=Role.HR, unit=make_unit("VP")))
    response = post_file(client, "/roster/import", data, "roster.xlsx")
    assert response.status_code == 422
    assert f"roster.xlsx: row 200001: {TOO_MANY_ROWS}" in response.get_data(as_text=True)
    assert opened == []


def sheet_renamed(data: bytes) -> bytes:
    """The workbook with its sheet stored as sheet1.bin, the manifest and relations saying so."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as renamed:
        for info in source.infolist():
            content = source.read(info).replace(b"sheet1.xml", b"sheet1.bin")
            renamed.writestr(info.filename.replace("sheet1.xml", "sheet1.bin"), content)
    return buffer.getvalue()


def test_a_sheet_under_another_part_name_is_scanned_all_the_same(app, ctx, monkeypatch, opened):
    """The manifest may name any part as the sheet: the scan goes by content, not by name."""
    small = sheet_renamed(workbook([["code", "name"], ["X", "Unit X"]]))
    assert import_units(small, "units.xlsx").created == 1  # openpyxl reads it as the sheet
    opened.clear()
    monkeypatch.setitem(app.config, "UPLOAD_MAX_ROWS", 100)
    report = import_units(sheet_renamed(bomb(b"<row><c><v>1</v></c></row>" * 1000)), "u.xlsx")
    assert report.describe_problems() == [
        "u.xlsx: row 101: The sheet has more than 100 rows; split it into files of at most 100 "
        "rows."
    ]
    assert opened == []


def test_a_row_of_a_million_cells_is_refused_at_its_first_row(ctx, opened):
    data = bomb(b"<row>" + b"<c><v>1</v></c>" * 1_000_000 + b"</row>")
    with peak_megabytes() as memory:
        report = import_bank(data, "wide.xlsx", bank_name="B", dry_run=True)
    assert errors(report) == [(1, "This row has more than 250 columns.")]
    assert opened == [] and memory["peak"] < 10


def test_a_row_numbered_past_the_limit_is_refused_by_its_number(ctx, opened):
    data = bomb(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c><v>1</v></c></row>')
    report = import_units(data, "units.xlsx")
    assert [(p.row, str(p.message)) for p in report.problems] == [(1048576, TOO_MANY_ROWS)]
    assert opened == []


def test_limits_come_from_the_config(app, ctx, monkeypatch, opened):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_COLUMNS", 3)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_CELLS", 5)
    wide = workbook([["code", "name", "parent_code", "headcount"]])
    assert import_units(wide, "units.xlsx").describe_problems() == [
        "units.xlsx: row 1: This row has more than 3 columns."
    ]
    tall = workbook([["code", "name"], ["A", "A"], ["B", "B"]])
    assert import_units(tall, "units.xlsx").describe_problems() == [
        "units.xlsx: row 3: The workbook holds more than 5 cells; split it into smaller files."
    ]
    assert opened == []
    monkeypatch.setitem(app.config, "UPLOAD_MAX_ROWS", "many")
    with pytest.raises(ValueError, match="QUIZAPP_UPLOAD_MAX_ROWS must be a whole number"):
        UploadLimits.from_config(app.config)  # as create_app checks it, refusing to start


def test_an_xlsx_that_unzips_past_the_limit_is_refused(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_UNCOMPRESSED_BYTES", 2 * 1024 * 1024)
    padding = b" " * (8 * 1024 * 1024)  # whitespace between elements: valid XML, 8 MB of it
    rows = b'<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>'
    honest = with_part(workbook([]), SHEET, sheet_xml(rows + padding))
    lying = lie_about_size(honest, SHEET, 1000)
    login(client, make_user(role=Role.ADMIN))
    too_large = "units.xlsx: This .xlsx file unzips to more than 2 MB; split it into smaller files."
    page = post_file(client, "/units/import", honest, "units.xlsx")
    assert page.status_code == 422 and too_large in page.get_data(as_text=True)
    # Declared sizes that lie are no way round: what comes out is counted (and zipfile
    # stops at the declared size, where the checksum no longer matches).
    page = post_file(client, "/units/import", lying, "units.xlsx")
    assert page.status_code == 422
    assert "units.xlsx: This .xlsx file is damaged and cannot be read" in page.get_data(
        as_text=True
    )
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_a_declared_sheet_size_neither_pads_nor_adds_rows(ctx):
    """A sheet may declare itself far larger than its cells: A1:XFD1048576 for two rows."""
    rows = (
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>X</t></is></c>'
        b'<c r="B2" t="inlineStr"><is><t>Unit X</t></is></c></row>'
    )
    data = with_part(workbook([]), SHEET, sheet_xml(rows, '<dimension ref="A1:XFD1048576"/>'))
    read = list(itertools.islice(xlsx_rows(data, upload_limits()), 10))
    assert read == [(1, ["code", "name"]), (2, ["X", "Unit X"])]
    report = import_units(data, "units.xlsx")
    assert report.ok and report.created == 1


# --- CSV: rows, row length, columns ----------------------------------------------------------


def test_a_csv_with_too_many_rows_is_refused_at_the_first_row_past_the_limit(
    app, client, make_user, make_unit, monkeypatch
):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_ROWS", 100)
    bank_csv = "question,A,B,correct\n" + "Câu hỏi?,Có,Không,A\n" * 1000
    report = import_bank(bank_csv.encode(), "bank.csv", bank_name="B", dry_run=True)
    assert errors(report) == [
        (101, "The file has more than 100 rows; split it into files of at most 100 rows.")
    ]
    login(client, make_user(role=Role.HR, unit=make_unit("VP")))
    roster = "full_name,unit_code\n" + "".join(f"Người {n},VP\n" for n in range(1000))
    response = post_file(client, "/roster/import", roster.encode(), "roster.csv")
    assert response.status_code == 422
    assert (
        "roster.csv: row 101: The file has more than 100 rows; split it into files of at most "
        "100 rows."
    ) in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",".join(["x"] * 150_000), "This row is longer than 200000 characters"),
        (",".join(['"x\n"'] * 60_000), "This row is longer than 200000 characters"),
        (",".join(["x"] * 251), "This row has more than 250 columns."),
    ],
    ids=["one-line", "quoted-over-many-lines", "columns"],
)
def test_a_csv_row_is_bounded_in_length_and_cells(ctx, row, message):
    data = f"question,A,B,correct\n{row}\n".encode()
    report = import_bank(data, "bank.csv", bank_name="B", dry_run=True)
    assert [(line, text[: len(message)]) for line, text in errors(report)] == [(2, message)]


# --- damaged and entity-laden workbooks: a 4xx naming the file, pages and CLI alike ----------


def not_a_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "a zip, but no workbook")
    return buffer.getvalue()


BROKEN = {
    "renamed.xlsx": (
        lambda: b"full_name,unit_code\nAn,VP\n",
        "This is not an Excel .xlsx file (an old .xls file, or another file renamed?)",
    ),
    "zipped.xlsx": (not_a_workbook, "This is not an Excel .xlsx file"),
    "cut.xlsx": (
        lambda: with_part(workbook([["code"]]), SHEET, sheet_xml(b"<row><c><v>1</v></c>")[:-40]),
        "This .xlsx file is damaged and cannot be read",
    ),
    "entities.xlsx": (
        lambda: with_part(workbook([["code"]]), SHEET, LAUGHS),
        "This .xlsx file holds a document type declaration (DOCTYPE, entities), which no "
        "workbook needs",
    ),
}
IMPORTS = {  # path of the page, role, CLI arguments before the file
    "bank": ("/banks/import", Role.ORGANIZER, ["banks", "import", "--bank", "B"]),
    "roster": ("/roster/import", Role.HR, ["roster", "import", "--dry-run"]),
    "units": ("/units/import", Role.ADMIN, ["units", "import"]),
}


@pytest.mark.parametrize("kind", IMPORTS)
@pytest.mark.parametrize("filename", BROKEN)
def test_a_damaged_workbook_is_a_4xx_naming_the_file(
    client, runner, make_user, make_unit, tmp_path, kind, filename
):
    build, message = BROKEN[filename]
    data = build()
    path, role, arguments = IMPORTS[kind]
    login(client, make_user(role=role, unit=make_unit("VP")))
    response = post_file(client, path, data, filename)
    if kind == "bank":  # the upload is kept, and its preview says what is wrong
        preview = client.get(response.headers["Location"])
        response = preview
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    assert filename in page and message in page

    file = tmp_path / filename
    file.write_bytes(data)
    result = runner.invoke(args=[*arguments, str(file)])
    assert result.exit_code == 1
    assert filename in result.output and message in result.output


def test_openpyxl_reads_through_defusedxml(ctx):
    """The second guard, behind the scan: openpyxl parses with defusedxml, which refuses
    entities wherever they are."""
    assert openpyxl.xml.DEFUSEDXML is True
    with pytest.raises(ValueError) as refused:
        openpyxl.load_workbook(io.BytesIO(BROKEN["entities.xlsx"][0]()))
    assert isinstance(refused.value.__cause__, DefusedXmlException)


# --- no upload is read while a write transaction holds the lock ------------------------------


def nothing_written_yet() -> bool:
    """SQLite: could another worker write now? PostgreSQL: has this transaction written?"""
    if db.engine.dialect.name == "sqlite":
        return write_lock_is_free()
    return db.session.scalar(text("SELECT pg_current_xact_id_if_assigned()")) is None


@pytest.mark.parametrize("kind", IMPORTS)
def test_an_upload_is_read_before_the_import_takes_the_write_lock(
    app, client, make_user, make_unit, monkeypatch, kind
):
    path, role, _arguments = IMPORTS[kind]
    make_unit("VP")
    login(client, make_user(role=role, unit=db.session.scalar(select(Unit))))
    seen = []

    def watched(module, name):
        read = getattr(module, name)

        def reading(*args, **kwargs):
            seen.append(nothing_written_yet())
            return read(*args, **kwargs)

        monkeypatch.setattr(module, name, reading)

    if kind == "bank":
        bank = "bank: B\ncategories:\n  - name: C\n    questions:\n"
        bank += "      - {text: Q?, options: [{text: Có, correct: true}, Không]}\n"
        preview = post_file(client, path, bank.encode(), "bank.yaml").headers["Location"]
        db.session.remove()  # the test's own session must not hold SQLite's locks
        watched(bank_importer, "read_bank")
        response = client.post(preview + "/confirm")
        assert response.status_code == 302, response.get_data(as_text=True)
    else:
        module, data = (
            (roster_module, b"full_name,unit_code,phone\nAn,VP,0912345678\n")
            if kind == "roster"
            else (unit_services, b"code,name\nX,Unit X\n")
        )
        db.session.remove()
        watched(module, "read_table")
        response = post_file(client, path, data, f"{kind}.csv")
        assert response.status_code in (200, 302), response.get_data(as_text=True)
    assert seen == [True]
