"""Reading a spreadsheet (XLSX or CSV) of named columns, every problem tied to its row."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from quizapp.text import CONTROL_CHARACTERS
from quizapp.uploads import UploadError, csv_rows, upload_limits, xlsx_rows


@dataclass
class RowProblem:
    """Something wrong in one row (row 1 is the header row; None: the file as a whole)."""

    row: int | None
    message: str

    def describe(self, filename: str) -> str:
        if self.row is None:
            return f"{filename}: {self.message}"
        return str(
            _l(
                "%(file)s: row %(row)s: %(message)s",
                file=filename,
                row=self.row,
                message=self.message,
            )
        )


class TableError(Exception):
    """The file cannot be read as a table; `problems` say where and why."""

    def __init__(self, problems: list[RowProblem]):
        super().__init__("; ".join(str(p.message) for p in problems))
        self.problems = problems


@dataclass
class TableRow:
    number: int  # the row number a spreadsheet program shows
    values: dict[str, object]

    def text(self, column: str) -> str | None:
        """The cell as stripped text (numbers without a trailing .0), None when empty."""
        return cell_text(self.values.get(column))


@dataclass
class Table:
    columns: list[str]  # canonical names of the columns present
    rows: list[TableRow]
    ignored_columns: list[str] = field(default_factory=list)


def header_key(header: object) -> str:
    """'Mã đơn vị' → 'ma_don_vi': lower case, no diacritics, words joined by underscores."""
    text = str(header or "").strip().lower().replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def read_table(
    data: bytes, filename: str, *, aliases: dict[str, str], required: tuple[str, ...]
) -> Table:
    """Read the first sheet of an XLSX file, or a CSV file (UTF-8, comma, semicolon or tab),
    within the configured upload limits (quizapp.uploads).

    `aliases` maps header keys (see `header_key`) to canonical column names. The first non-empty
    row is the header; empty rows are skipped. Raises TableError naming the row of each problem.
    """
    lower = filename.lower()
    limits = upload_limits()
    if lower.endswith(".xlsx"):
        raw_rows = xlsx_rows(data, limits)
    elif lower.endswith(".csv"):
        raw_rows = csv_rows(_csv_text(data), limits)
    elif lower.endswith(".xls"):
        raise TableError(
            [RowProblem(None, _l("Old .xls files cannot be read: save it as .xlsx or CSV UTF-8."))]
        )
    else:
        raise TableError([RowProblem(None, _l("Upload an .xlsx or .csv file."))])
    try:
        return _table(raw_rows, aliases, required)  # the rows are read as the table takes them
    except UploadError as error:
        raise TableError([RowProblem(error.row, error.message)]) from None


def _table(raw_rows, aliases: dict[str, str], required: tuple[str, ...]) -> Table:
    header_row, positions, ignored = None, {}, []
    rows: list[TableRow] = []
    problems: list[RowProblem] = []
    labels: dict[str, str | None] = {}  # each column's header as the file spells it
    for number, cells in raw_rows:
        if all(cell_text(c) is None for c in cells):
            continue
        if header_row is None:
            header_row = number
            positions, ignored = _header(number, cells, aliases, required)
            labels = {column: cell_text(cells[index]) for column, index in positions.items()}
            continue
        values = {
            column: (cells[index] if index < len(cells) else None)
            for column, index in positions.items()
        }
        problems += [
            RowProblem(
                number,
                _l(
                    "Column %(column)r holds a control character (such as NUL): delete it.",
                    column=labels[column],
                ),
            )
            for column, value in values.items()
            if isinstance(value, str) and CONTROL_CHARACTERS.search(value)
        ]
        rows.append(TableRow(number, values))
    if problems:
        raise TableError(problems)
    if header_row is None:
        raise TableError([RowProblem(None, _l("The sheet is empty: no header row, no data."))])
    if not rows:
        raise TableError(
            [RowProblem(header_row, _l("The sheet has a header row but no data rows."))]
        )
    return Table(columns=list(positions), rows=rows, ignored_columns=ignored)


def _header(number: int, cells, aliases: dict[str, str], required: tuple[str, ...]):
    positions: dict[str, int] = {}
    ignored: list[str] = []
    problems: list[RowProblem] = []
    for index, cell in enumerate(cells):
        label = cell_text(cell)
        if label is None:
            continue
        column = aliases.get(header_key(label))
        if column is None:
            ignored.append(label)
        elif column in positions:
            problems.append(
                RowProblem(number, _l("Column %(column)r appears twice.", column=label))
            )
        else:
            positions[column] = index
    missing = [column for column in required if column not in positions]
    if missing:
        problems.append(
            RowProblem(
                number,
                _l(
                    "Missing column(s) %(missing)s; the header row must name %(required)s.",
                    missing=", ".join(missing),
                    required=", ".join(required),
                ),
            )
        )
    if problems:
        raise TableError(problems)
    return positions, ignored


def _csv_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TableError([RowProblem(None, _not_utf8_message())])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise TableError([RowProblem(row, _not_utf8_message())]) from error


def _not_utf8_message():
    return _l(
        "The file is not UTF-8 text (probably Windows-1258 or Windows-1252, which Excel's plain "
        "'CSV' uses). In Excel choose Save As → 'CSV UTF-8 (Comma delimited)' and import that "
        "file, or upload the .xlsx file itself."
    )
