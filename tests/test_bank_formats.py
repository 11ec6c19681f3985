"""Bank readers and writers: Moodle's own fixtures, round trips, and every kind of bad file."""

import io
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from quizapp.banks.formats import reader_for
from quizapp.banks.formats.gift import GIFTReader
from quizapp.banks.models import Question, QuestionBank
from quizapp.banks.services import export_bank, import_bank, read_bank
from quizapp.extensions import db
from tests.conftest import DATA

MOODLE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "moodle"
needs_moodle = pytest.mark.skipif(not MOODLE.exists(), reason="../shared/conformance absent")


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Assert messages by their English msgids, whatever the Vietnamese catalog says."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


def problems(bank, level="error"):
    return [(p.line, p.message) for p in bank.problems if p.level == level]


def questions_in_db() -> int:
    return db.session.scalar(select(func.count()).select_from(Question))


def xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Moodle's fixtures ---------------------------------------------------------------------


@needs_moodle
def test_gift_fixture_reads_as_moodle_does(ctx):
    data = (MOODLE / "gift_questions.gift.txt").read_bytes()
    bank = read_bank(data, "questions.gift")
    errors = dict(problems(bank))
    assert [errors[line].split(" questions")[0] for line in (2, 5, 31, 34)] == [
        "Essay",
        "Matching",
        "Numerical",
        "Short answer",
    ]
    kinds = [(q.line, q.kind) for q in bank.questions]
    assert kinds == [
        (14, "single"),
        (22, "multiple"),
        (41, "true_false"),
        (46, "true_false"),
        (49, "true_false"),
    ]
    single = bank.questions[0]
    assert [(o.text, o.correct) for o in single.options] == [
        ("yellow", True),
        ("red", False),
        ("blue", False),
    ]
    multiple = bank.questions[1]
    assert [o.text for o in multiple.options if o.correct] == ["yellow", "off-beige"]
    assert [(o.text, o.correct) for o in bank.questions[2].options] == [
        ("Đúng", False),
        ("Sai", True),
    ]
    assert bank.questions[2].explanation.startswith("This is, of course")

    skipped = read_bank(data, "questions.gift", skip_unsupported=True)
    assert problems(skipped) == []
    assert len(problems(skipped, "warning")) >= 4
    assert len(skipped.questions) == 5


@needs_moodle
def test_gift_categories_and_import(ctx):
    data = (MOODLE / "gift_questions_in_category.gift.txt").read_bytes()
    report = import_bank(data, "in_category.gift", bank_name="Moodle", skip_unsupported=True)
    assert report.ok, report.problems
    assert report.created == 2
    bank = db.session.scalar(select(QuestionBank))
    assert [c.name for c in bank.categories] == list(report.per_category)


@needs_moodle
def test_gift_examples_file_reads_without_crashing(ctx):
    bank = GIFTReader().read((MOODLE / "gift_examples.txt").read_bytes())
    texts = [q.text for q in bank.questions]
    assert "Who's buried in Grant's tomb?" in texts
    escaped = next(q for q in bank.questions if q.text.startswith("Which of the following is NOT"))
    assert [o.text for o in escaped.options] == ["~", "=", "#", "{", "}", "\\"]
    assert [o.correct for o in escaped.options] == [False] * 5 + [True]


@needs_moodle
def test_aiken_fixtures(ctx):
    good = read_bank((MOODLE / "aiken_questions.aiken.txt").read_bytes(), "moodle.aiken.txt")
    assert problems(good) == []
    assert [o.text for o in good.questions[0].options if o.correct] == ["Martin Dougiamas"]
    assert good.questions[1].kind == "true_false"

    bad = read_bank((MOODLE / "aiken_errors.txt").read_bytes(), "aiken_errors.txt")
    assert [line for line, _ in problems(bad)] == [1, 5, 7, 14]
    assert "at least two options" in dict(problems(bad))[1]
    assert "no ANSWER line" in dict(problems(bad))[14]


@needs_moodle
def test_moodle_weights_must_be_allowed(ctx):
    bank = read_bank(b"Q? {~%33%a ~%67%b}", "w.gift")
    assert "33% is not one of Moodle's allowed grades" in problems(bank)[0][1]


# --- readers on Vietnamese files -----------------------------------------------------------


def test_aiken_lowercase_options_from_word_are_accepted_with_a_warning(ctx):
    text = (
        "Câu 1. Luật Giao dịch điện tử 2023 có hiệu lực từ ngày nào?\n"
        "a) 01/7/2024\nb) 22/6/2023\nĐáp án: A\n"
    )
    bank = read_bank(text.encode(), "de-thi.txt")
    assert problems(bank) == []
    assert any("lower-case" in message for _, message in problems(bank, "warning"))
    question = bank.questions[0]
    assert question.text == "Luật Giao dịch điện tử 2023 có hiệu lực từ ngày nào?"
    assert question.category == "de-thi"
    assert [o.correct for o in question.options] == [True, False]


@pytest.mark.parametrize("separator", [",", ";"])
def test_csv_with_bom_and_vietnamese_headers(ctx, separator):
    header = ["Chủ đề", "Mã", "Câu hỏi", "A", "B", "C", "Đáp án đúng", "Mức độ", "Nguồn"]
    row = [
        "Chuyển đổi số",
        "x-1",
        "Ngày Chuyển đổi số quốc gia?",
        "10/10",
        "2/9",
        "1/7",
        "A",
        "2",
        "Quyết định 505/QĐ-TTg",
    ]
    text = "\n".join(separator.join(r) for r in (header, row)) + "\n"
    bank = read_bank(("\ufeff" + text).encode("utf-8"), "bank.csv")
    assert problems(bank) == []
    question = bank.questions[0]
    assert (question.category, question.external_id, question.difficulty) == (
        "Chuyển đổi số",
        "x-1",
        2,
    )
    assert [o.correct for o in question.options] == [True, False, False]


def test_xlsx_multiple_answers(ctx):
    data = xlsx(
        [
            ["category", "question", "option A", "option B", "option C", "correct"],
            ["CĐS", "Chọn các trụ cột DTI", "Chính quyền số", "Kinh tế số", "Thể chế", "A, B"],
        ]
    )
    bank = read_bank(data, "bank.xlsx")
    assert problems(bank) == []
    assert bank.questions[0].kind == "multiple"


# --- bad files: a message that says what to fix, and nothing written ------------------------


BAD_FILES = [
    (
        "cp1258.csv",
        "Câu hỏi,A,B,Đáp án\nNgày?,1,2,A\n".encode("cp1258", errors="replace"),
        "not UTF-8",
    ),
    ("empty.gift", b"", "empty"),
    ("empty.txt", b"   \n", "empty"),
    ("missing.xlsx", xlsx([["question", "A"], ["Q?", "x"]]), "missing column(s): correct"),
    ("brace.gift", "::Q1:: Thủ đô? {=Hà Nội ~Huế\n".encode(), "never closed"),
    ("noanswer.txt", "Thủ đô?\nA) Hà Nội\nB) Huế\n".encode(), "no ANSWER line"),
    (
        "formula.xlsx",
        xlsx([["question", "A", "B", "correct"], ["Q?", "=1+1", "2", "A"]]),
        "formula",
    ),
    (
        "huge.xlsx",
        xlsx([["question", "A", "B", "correct"], ["Q" * 10_000, "1", "2", "A"]]),
        "10,000 characters",
    ),
    ("renamed.xlsx", b"this is a text file, not a spreadsheet", "not an Excel .xlsx file"),
    ("binary.txt", b"\x00\x01\x02PK\x03\x04", "not a text file"),
    ("notes.docx", b"PK\x03\x04", "unknown file type"),
]


@pytest.mark.parametrize(("name", "data", "expected"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_is_explained_and_nothing_is_written(ctx, name, data, expected):
    report = import_bank(data, name, bank_name="B")
    assert not report.ok
    messages = [p.describe(name) for p in report.errors]
    assert any(expected in message for message in messages), messages
    assert all(message.startswith(name) for message in messages)
    assert questions_in_db() == 0
    assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 0


def test_errors_name_the_row_in_spreadsheets(ctx):
    data = xlsx([["question", "A", "B", "correct"], ["Q1?", "x", "y", "A"], ["Q2?", "x", "y", "C"]])
    report = import_bank(data, "rows.xlsx", bank_name="B")
    assert [p.describe("rows.xlsx") for p in report.errors] == [
        "rows.xlsx: row 3: correct answer C names no filled option column"
    ]
    assert questions_in_db() == 0


# --- writers: export, import again, same bank ----------------------------------------------


def bank_snapshot(name: str) -> list[tuple]:
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == name))
    return sorted(
        (
            q.category.name,
            q.external_id,
            q.kind,
            q.text,
            q.explanation,
            q.difficulty,
            q.source,
            q.shuffle_options,
            tuple((o.text, o.is_correct) for o in q.options),
        )
        for q in db.session.scalars(select(Question).where(Question.bank_id == bank.id))
    )


@pytest.mark.parametrize("format_name", ["yaml", "gift", "xlsx"])
def test_export_then_import_gives_the_same_bank(ctx, format_name):
    source = Path(__file__).resolve().parents[1] / "question_banks" / "cchc-cds.yaml"
    for path in (DATA / "small-bank.yaml", source):
        original = import_bank(path.read_bytes(), path.name)
        assert original.ok
        data = export_bank(original.bank_name, format_name)
        name = f"copy {format_name} {path.stem}"
        copy = import_bank(data, f"copy.{format_name}", bank_name=name)
        assert copy.ok, [p.describe("copy") for p in copy.problems]
        assert copy.warnings == []
        assert bank_snapshot(name) == bank_snapshot(original.bank_name)
        # Importing the export into the original bank changes nothing.
        again = import_bank(data, f"again.{format_name}", bank_name=original.bank_name)
        assert (again.created, again.updated) == (0, 0)


FORMULA_LIKE_BANK = """
bank: Công thức
categories:
  - name: "=Chủ đề"
    questions:
      - id: "=q1"
        text: "=1+1 bằng bao nhiêu?"
        options:
          - {text: "=2", correct: true}
          - {text: "+84 912 345 678"}
          - {text: "-1"}
          - {text: "@SUM(A1:A2)"}
        explanation: '=HYPERLINK("http://example.com","bấm vào đây")'
        source: "-Nghị định 61/2018/NĐ-CP"
      - id: q2
        kind: multiple
        text: Mười phương án?
        options:
"""
FORMULA_LIKE_BANK += "".join(
    f"          - {{text: 'Phương án {n}'{', correct: true' if n in (1, 10) else ''}}}\n"
    for n in range(1, 11)
)


def test_xlsx_export_writes_texts_as_texts_and_all_ten_options(ctx):
    """Text that starts with =, +, - or @ is a text cell, never a formula, and a question
    with ten options (as many as any import takes) fills columns A to J."""
    original = import_bank(FORMULA_LIKE_BANK.encode(), "cong-thuc.yaml")
    assert original.ok, [p.describe("bank") for p in original.problems]
    data = export_bank("Công thức", "xlsx")

    sheet = load_workbook(io.BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    assert header[5:15] == list("ABCDEFGHIJ")
    first = {header[index]: cell for index, cell in enumerate(sheet[2])}
    assert {key: (cell.value, cell.data_type) for key, cell in first.items() if key in "ABCD"} == {
        "A": ("=2", "s"),
        "B": ("+84 912 345 678", "s"),
        "C": ("-1", "s"),
        "D": ("@SUM(A1:A2)", "s"),
    }
    assert [first[key].value for key in ("Chủ đề", "Mã", "Câu hỏi", "Nguồn")] == [
        "=Chủ đề",
        "=q1",
        "=1+1 bằng bao nhiêu?",
        "-Nghị định 61/2018/NĐ-CP",
    ]
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]

    copy = import_bank(data, "copy.xlsx", bank_name="Bản sao")
    assert copy.ok and copy.warnings == [], [p.describe("copy") for p in copy.problems]
    assert bank_snapshot("Bản sao") == bank_snapshot("Công thức")
    again = import_bank(data, "again.xlsx", bank_name="Công thức")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_export_command(runner, ctx, tmp_path):
    runner.invoke(args=["banks", "import", str(DATA / "small-bank.yaml")])
    target = tmp_path / "out.gift"
    result = runner.invoke(
        args=["banks", "export", "Ngân hàng thử nghiệm", "--format", "gift", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "$CATEGORY: Cải cách hành chính" in target.read_text(encoding="utf-8")
    missing = runner.invoke(
        args=["banks", "export", "Không có", "--format", "gift", "-o", str(target)]
    )
    assert missing.exit_code == 1


# --- property-based: any bytes, never a crash, only positioned problems ---------------------


def cell_text(size: int):
    """Text a spreadsheet cell can hold (no control characters)."""
    return st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=size)


@pytest.mark.parametrize("filename", ["x.yaml", "x.gift", "x.txt", "x.csv", "x.xlsx"])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: t.encode("utf-8")))
)
def test_readers_never_crash(ctx, filename, data):
    assert reader_for(filename) is not None
    report = import_bank(data, filename, bank_name="Fuzz", dry_run=True)
    for problem in report.problems:
        assert problem.message and problem.level in ("error", "warning")
    assert questions_in_db() == 0


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            cell_text(30),
            cell_text(10),
            cell_text(10),
            st.sampled_from(["A", "B", "C", ""]),
        ),
        max_size=5,
    )
)
def test_spreadsheet_rows_never_crash_and_write_all_or_nothing(ctx, rows):
    data = xlsx([["question", "A", "B", "correct"], *[list(r) for r in rows]])
    name = f"Fuzz {next(FUZZ_NAMES)}"
    report = import_bank(data, "fuzz.xlsx", bank_name=name)
    stored = db.session.scalar(
        select(func.count())
        .select_from(Question)
        .join(QuestionBank)
        .where(QuestionBank.name == name)
    )
    assert stored == (report.total if report.ok else 0)


FUZZ_NAMES = itertools.count()
