"""Spreadsheets: XLSX (openpyxl) and CSV (UTF-8, comma or semicolon), one question per row.

Headers are matched case- and accent-insensitively, in English or Vietnamese: category (chủ đề),
id (mã), kind (loại), difficulty (mức độ), question (câu hỏi), A…J or "option A" (phương án A),
correct (đáp án đúng: "B" or "A, C"), explanation (giải thích), source (nguồn, căn cứ),
shuffle (trộn: yes/no). Rows are numbered as the spreadsheet shows them.
"""

import re
import unicodedata

from quizapp.banks.formats.base import (
    MAX_OPTIONS,
    ParsedBank,
    ParsedOption,
    ParsedQuestion,
    Problem,
)
from quizapp.uploads import UploadError, csv_rows, upload_limits, xlsx_rows

MAX_CELL = 5000
LETTERS = "ABCDEFGHIJ"[:MAX_OPTIONS]
HEADER_NAMES = {
    "category": {"category", "chu de", "danh muc", "chuyen de"},
    "id": {"id", "ma", "ma cau hoi", "external id"},
    "kind": {"kind", "type", "loai", "loai cau hoi"},
    "difficulty": {"difficulty", "muc do", "do kho"},
    "text": {"question", "text", "cau hoi", "noi dung", "noi dung cau hoi"},
    "correct": {"correct", "answer", "dap an", "dap an dung"},
    "explanation": {"explanation", "giai thich"},
    "source": {"source", "nguon", "can cu"},
    "shuffle": {"shuffle", "tron", "tron dap an"},
}
YES = {"1", "yes", "true", "x", "co", "có", "y"}
NO = {"0", "no", "false", "khong", "không", "n"}


def fold(text: str) -> str:
    """Lower-case ASCII for header matching: 'Đáp án đúng' -> 'dap an dung'."""
    text = unicodedata.normalize("NFD", str(text or "")).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return re.sub(r"[\s_]+", " ", text).strip().lower()


def column_roles(header: list) -> dict[str, int]:
    roles: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = fold(cell)
        for role, names in HEADER_NAMES.items():
            if name in names:
                roles.setdefault(role, index)
        option = re.fullmatch(r"(?:option|phuong an|dap an|lua chon)?\s*([a-z])", name)
        if option and option.group(1).upper() in LETTERS:
            roles.setdefault(f"option:{option.group(1).upper()}", index)
    return roles


def rows_to_bank(rows, bank: ParsedBank) -> None:
    """Turn (row number, cells) pairs, the first being the header, into questions."""
    rows = iter(rows)
    number = None
    for number, header in rows:  # noqa: B007 (the header's row number is used below)
        if any(str(c or "").strip() for c in header):
            break
    else:
        bank.problems.append(Problem(None, "the sheet is empty", where="row"))
        return
    roles = column_roles(header)
    options = [letter for letter in LETTERS if f"option:{letter}" in roles]
    missing = [
        name
        for name, present in (
            ("question", "text" in roles),
            ("correct", "correct" in roles),
            ("option A and B", len(options) >= 2),
        )
        if not present
    ]
    if missing:
        bank.problems.append(
            Problem(
                number,
                "missing column(s): "
                + ", ".join(missing)
                + "; the header row needs question, A, B (C…J), correct",
                where="row",
            )
        )
        return
    empty = True
    for number, cells in rows:
        if not any(str(c or "").strip() for c in cells):
            continue
        empty = False
        question = row_question(number, cells, roles, options, bank)
        if question is not None:
            bank.questions.append(question)
            if question.category not in bank.category_order:
                bank.category_order.append(question.category)
    if empty:
        bank.problems.append(
            Problem(number, "the sheet has a header but no questions", where="row")
        )


def row_question(number, cells, roles, options, bank) -> ParsedQuestion | None:
    def cell(role):
        index = roles.get(role)
        value = cells[index] if index is not None and index < len(cells) else None
        return "" if value is None else str(value).strip()

    texts = [(letter, cell(f"option:{letter}")) for letter in options]
    texts = [(letter, text) for letter, text in texts if text]
    correct = {c for c in re.split(r"[\s,;/]+", cell("correct").upper()) if c}
    unknown = sorted(c for c in correct if c not in {letter for letter, _ in texts})
    if unknown:
        bank.problems.append(
            Problem(
                number,
                f"correct answer {', '.join(unknown)} names no filled option column",
                where="row",
            )
        )
        return None
    difficulty = cell("difficulty") or "1"
    if difficulty not in {"1", "2", "3"}:
        bank.problems.append(
            Problem(number, f"difficulty must be 1, 2 or 3, not {difficulty!r}", where="row")
        )
        return None
    shuffle = fold(cell("shuffle"))
    return ParsedQuestion(
        category=cell("category"),
        text=cell("text"),
        options=[ParsedOption(text, letter in correct) for letter, text in texts],
        kind=cell("kind").lower() or None,
        explanation=cell("explanation") or None,
        difficulty=int(difficulty),
        source=cell("source") or None,
        shuffle=True if shuffle in YES else False if shuffle in NO else None,
        external_id=cell("id") or None,
        line=number,
    )


def check_cells(number: int, cells, bank: ParsedBank) -> bool:
    for index, value in enumerate(cells):
        if isinstance(value, str) and len(value) > MAX_CELL:
            from openpyxl.utils import get_column_letter

            bank.problems.append(
                Problem(
                    number,
                    f"column {get_column_letter(index + 1)} holds "
                    f"{len(value):,} characters (at most "
                    f"{MAX_CELL:,})",
                    where="row",
                )
            )
            return False
    return True


class CSVReader:
    extensions = (".csv",)
    label = "CSV"

    def read(self, data: bytes, *, skip_unsupported: bool = False) -> ParsedBank:
        bank = ParsedBank()
        if not data.strip():
            bank.problems.append(Problem(None, "the file is empty"))
            return bank
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            row = data[: error.start].count(b"\n") + 1
            bank.problems.append(
                Problem(
                    row,
                    "the file is not UTF-8 (perhaps Windows-1258 or "
                    "1252); in Excel use Save As › CSV UTF-8",
                    where="row",
                )
            )
            return bank
        if "\x00" in text:
            bank.problems.append(Problem(None, "this is not a CSV text file"))
            return bank
        return _read_rows(csv_rows(text, upload_limits()), bank)


class XLSXReader:
    extensions = (".xlsx",)
    label = "Excel"

    def read(self, data: bytes, *, skip_unsupported: bool = False) -> ParsedBank:
        bank = ParsedBank()
        if not data:
            bank.problems.append(Problem(None, "the file is empty"))
            return bank
        return _read_rows(xlsx_rows(data, upload_limits(), formulas=False), bank)


def _read_rows(rows, bank: ParsedBank) -> ParsedBank:
    """Take the rows as the shared reader reads them (within the upload limits), then make
    questions of them; a row past a limit or with an overlong cell ends the reading."""
    taken = []
    try:
        for number, cells in rows:
            if not check_cells(number, cells, bank):
                return bank
            taken.append((number, cells))
    except UploadError as error:
        bank.problems.append(Problem(error.row, error.message, where="row"))
        return bank
    rows_to_bank(taken, bank)
    return bank
