"""Uploaded files read within bounds: how far a file may expand (limits from the config), and
the one reader of spreadsheets (XLSX, CSV) that every import uses, counting while it reads.

A small file can stand for a huge one: a 300 KB .xlsx can unzip to a million rows, a CSV line
can hold a million cells. Every bound is checked as the file is read, before the work it
bounds is done; a file past one is refused with a message that names the row where it can.
"""

from __future__ import annotations

import csv
import io
import itertools
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import lru_cache
from xml.parsers import expat

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from quizapp.config import Config


@dataclass(frozen=True)
class UploadLimits:
    """How far an uploaded file may expand (see the config's UPLOAD_MAX_* and YAML_MAX_*)."""

    rows: int  # rows of a spreadsheet, empty ones included
    columns: int  # cells in one row
    cells: int  # cells in one workbook
    uncompressed_bytes: int  # an .xlsx file's parts, unzipped
    line_length: int  # characters in one CSV row
    yaml_nodes: int  # values in a YAML file, each alias counted as what it repeats
    yaml_aliases: int
    yaml_depth: int

    @classmethod
    def from_config(cls, config) -> UploadLimits:
        """The limits a config sets; ValueError naming the setting that is not a count."""
        values = {}
        for item in fields(cls):
            key = item.name.upper()
            key = f"YAML_MAX_{key[5:]}" if key.startswith("YAML_") else f"UPLOAD_MAX_{key}"
            value = config.get(key)
            if type(value) is not int or value < 1:
                raise ValueError(f"QUIZAPP_{key} must be a whole number of at least 1")
            values[item.name] = value
        return cls(**values)


def upload_limits() -> UploadLimits:
    """The limits the app is configured with (the defaults outside an app)."""
    if has_app_context():
        return UploadLimits.from_config(current_app.config)
    return UploadLimits.from_config({key: getattr(Config, key) for key in dir(Config)})


class UploadError(ValueError):
    """The file cannot be read, or expands past a limit; `row` where (None: the whole file)."""

    def __init__(self, message, row: int | None = None):
        super().__init__(str(message))
        self.message = message
        self.row = row


# --- XLSX ------------------------------------------------------------------------------------

ZIP_MEMBERS = 1_000  # a workbook has tens of parts; zipfile lists them all before we may look
# XML elements openpyxl reads as whole trees (workbook, styles, relations, a sheet's hyperlinks
# and merged cells …), beyond one per row allowed: Excel links every e-mail address typed in.
TREE_ELEMENTS = 100_000
ELEMENTS_PER_CELL = 16  # a cell's own XML (value, inline or rich text) or a shared string's
CHUNK = 64 * 1024


def xlsx_rows(data: bytes, limits: UploadLimits, *, formulas: bool = True) -> Iterator[tuple]:
    """The first sheet's rows as (row number, [values]), each row as long as its last cell.

    Before openpyxl opens the file, every part is unzipped once, counting what comes out (the
    sizes a zip declares may lie), and its XML is scanned as it streams by: no DOCTYPE (no
    entities), at most `limits.rows` rows, `limits.columns` cells a row and `limits.cells` in
    all. openpyxl then reads what the scan let through (defusedxml guards it as well). With
    `formulas` False a formula cell is refused (otherwise its last computed value is read).
    """
    archive = _open_zip(data)
    try:
        _scan_parts(archive, limits)
    finally:
        archive.close()
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not read
            workbook = load_workbook(
                io.BytesIO(data), read_only=True, data_only=formulas, keep_links=False
            )
    except Exception as error:  # openpyxl raises many kinds for damaged files
        raise UploadError(_damaged(error)) from None
    try:
        if not workbook.worksheets:
            raise UploadError(_l("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # a declared size ("A1:XFD1048576") would pad every row
        rows = sheet.iter_rows(values_only=formulas)
        for number in itertools.count(1):
            try:
                # Warnings are silenced while openpyxl reads, not while the caller holds a row.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # e.g. a date cell out of range
                    row = next(rows, None)
            except Exception as error:
                raise UploadError(_damaged(error), number) from None
            if row is None:
                return
            yield number, (list(row) if formulas else _values(number, row))
    finally:
        workbook.close()


def _values(number: int, cells) -> list:
    from openpyxl.utils import get_column_letter

    values = []
    for index, cell in enumerate(cells):
        if getattr(cell, "data_type", None) == "f":
            raise UploadError(
                _l(
                    "Column %(column)s holds a formula; paste values only.",
                    column=get_column_letter(index + 1),
                ),
                number,
            )
        values.append(cell.value)
    return values


def _damaged(error: Exception):
    return _l(
        "This .xlsx file is damaged and cannot be read (%(error)s); open it in Excel and save "
        "it again.",
        error=str(error) or type(error).__name__,
    )


def _open_zip(data: bytes) -> zipfile.ZipFile:
    if _declared_members(data) > ZIP_MEMBERS:
        raise UploadError(
            _l(
                "This .xlsx file holds more than %(n)s parts; copy the sheet into a new workbook "
                "and upload that.",
                n=ZIP_MEMBERS,
            )
        )
    not_xlsx = UploadError(
        _l(
            "This is not an Excel .xlsx file (an old .xls file, or another file renamed?); "
            "save it as .xlsx."
        )
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise not_xlsx from None
    if "[Content_Types].xml" not in archive.namelist():  # every Office file has one
        archive.close()
        raise not_xlsx
    return archive


def _declared_members(data: bytes) -> int:
    """The entry count the zip's end record states (0: none found; zipfile will say more)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 66_000))
    if end < 0 or len(data) < end + 12:
        return 0
    count = int.from_bytes(data[end + 10 : end + 12], "little")
    return ZIP_MEMBERS + 1 if count == 0xFFFF else count  # 0xFFFF: a ZIP64 count, never ours


def _scan_parts(archive: zipfile.ZipFile, limits: UploadLimits) -> None:
    infos = archive.infolist()
    too_large = UploadError(
        _l(
            "This .xlsx file unzips to more than %(n)s MB; split it into smaller files.",
            n=f"{limits.uncompressed_bytes / (1024 * 1024):.3g}",
        )
    )
    if sum(info.file_size for info in infos) > limits.uncompressed_bytes:
        raise too_large
    counts = _Counts()
    total = 0
    for info in infos:
        # Every part, whatever its name says: the manifest may give any part name to a sheet.
        # A part that is not XML (a picture) fails expat at once and is counted only.
        scan: _XMLScan | None = _XMLScan(info.filename, limits, counts)
        try:
            with archive.open(info) as member:
                while chunk := member.read(CHUNK):
                    total += len(chunk)  # counted as unzipped, whatever the header said
                    if total > limits.uncompressed_bytes:
                        raise too_large
                    if scan is not None:
                        scan = scan.feed(chunk)
        except UploadError:
            raise
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError,
                zlib.error, ValueError) as error:  # fmt: skip
            raise UploadError(_damaged(error)) from None


@dataclass
class _Counts:
    """Totals over the whole workbook."""

    cells: int = 0
    strings: int = 0  # shared strings, and the elements they are made of
    string_elements: int = 0
    tree: int = 0  # elements openpyxl reads as whole trees


class _XMLScan:
    """One XML part, scanned by expat as it unzips: the start and end of each element, no more.

    openpyxl reads a worksheet's <sheetData> one row at a time, and the shared strings one at
    a time; everything else whole. A row may hold ELEMENTS_PER_CELL elements per cell.
    """

    def __init__(self, part: str, limits: UploadLimits, counts: _Counts):
        self.part, self.limits, self.counts = part, limits, counts
        self.depth = 0
        self.kind = None  # worksheet | sst | other, from the root element
        self.in_data = False  # inside a worksheet's <sheetData>
        self.rows = 0
        self.row = 0  # the current row's number
        self.column = 0  # the current cell's column
        self.row_cells = 0
        self.elements = 0  # in the current row or shared string
        self.allowed = ELEMENTS_PER_CELL  # elements the current row may hold, by its cells
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.StartDoctypeDeclHandler = self.doctype

    def feed(self, chunk: bytes) -> _XMLScan | None:
        """Scan the next piece; None once the part is not well-formed XML (openpyxl, which
        stops at the same place, then reports it or never reads the part)."""
        try:
            self.parser.Parse(chunk, False)
        except expat.ExpatError:
            return None
        return self

    def doctype(self, *_args) -> None:
        raise UploadError(
            _l(
                "This .xlsx file holds a document type declaration (DOCTYPE, entities), which "
                "no workbook needs; open it in Excel and save it again."
            )
        )

    def start(self, name: str, attributes: dict) -> None:
        depth = self.depth = self.depth + 1
        if self.in_data:  # the hot path: sheetData > row > c > v, is, t …
            self.elements += 1
            if depth == 4:
                self.new_cell(attributes.get("r"))
            elif depth == 3:
                self.new_row(attributes.get("r"))
            elif self.elements > self.allowed:
                raise self.too_much()
            return
        local = name.rpartition(":")[2]
        if depth == 1:
            self.kind = local if local in ("worksheet", "sst") else "other"
        elif self.kind == "sst":  # sst > si > t, r, rPr …
            self.new_string(depth)
            return
        elif self.kind == "worksheet" and depth == 2 and local == "sheetData":
            self.in_data = True
        self.counts.tree += 1
        if self.counts.tree > self.limits.rows + TREE_ELEMENTS:
            raise self.too_much()

    def end(self, _name: str) -> None:
        if self.depth == 2:
            self.in_data = False
        self.depth -= 1

    def new_row(self, r: str | None) -> None:
        self.rows += 1
        self.row = _row_number(r, self.row + 1)
        self.column = self.row_cells = 0
        self.elements, self.allowed = 1, ELEMENTS_PER_CELL
        if max(self.rows, self.row) > self.limits.rows:
            raise UploadError(
                _l(
                    "The sheet has more than %(n)s rows; split it into files of at most %(n)s "
                    "rows.",
                    n=self.limits.rows,
                ),
                self.row,
            )

    def new_cell(self, r: str | None) -> None:
        self.row_cells += 1
        self.column = _column_number(r.rstrip("0123456789")) if r else self.column + 1
        self.allowed += ELEMENTS_PER_CELL
        counts = self.counts
        counts.cells += 1
        if self.row_cells > self.limits.columns or self.column > self.limits.columns:
            raise UploadError(
                _l("This row has more than %(n)s columns.", n=self.limits.columns), self.row
            )
        if counts.cells > self.limits.cells:
            raise UploadError(
                _l(
                    "The workbook holds more than %(n)s cells; split it into smaller files.",
                    n=self.limits.cells,
                ),
                self.row,
            )

    def new_string(self, depth: int) -> None:
        counts = self.counts
        if depth == 2:
            counts.strings += 1
            self.elements = 0
        self.elements += 1
        counts.string_elements += 1
        if (
            counts.strings > self.limits.cells  # more strings than cells could ever show
            or self.elements > ELEMENTS_PER_CELL * self.limits.columns
            or counts.string_elements > ELEMENTS_PER_CELL * self.limits.cells
        ):
            raise self.too_much()

    def too_much(self) -> UploadError:
        return UploadError(
            _l(
                "Part %(part)s of this .xlsx file holds far more XML than a workbook of its "
                "size needs; open it in Excel and save it again.",
                part=self.part,
            ),
            self.row if self.kind == "worksheet" else None,
        )


def _row_number(text: str | None, default: int) -> int:
    """A row number as openpyxl reads it (an unreadable one: openpyxl refuses the file)."""
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except (ValueError, OverflowError):
            return default


@lru_cache(maxsize=1024)
def _column_number(letters: str) -> int:
    """The column of a cell reference's letters ("AB" → 28); 0 for none."""
    letters = letters.lstrip("$").rstrip("$").upper()
    index = 0
    for letter in letters[:4]:
        index = index * 26 + (ord(letter) - 64 if "A" <= letter <= "Z" else 0)
    return index


# --- CSV -------------------------------------------------------------------------------------

DELIMITERS = (",", ";", "\t")


def csv_rows(text: str, limits: UploadLimits) -> Iterator[tuple[int, list[str]]]:
    """Rows of a CSV text as (row number, cells), numbered as a spreadsheet shows them.

    The delimiter is the one of comma, semicolon and tab that the first non-empty line uses
    most. A row (over however many lines its quoted cells span) may hold at most
    `limits.line_length` characters and `limits.columns` cells, the file `limits.rows` rows;
    each is counted before the csv module is handed more.
    """
    first = next((line for line in io.StringIO(text) if line.strip()), "")[: limits.line_length]
    delimiter = max(DELIMITERS, key=first.count)
    pending = 0  # characters handed to the csv module for the row being read
    number = 0

    def lines() -> Iterator[str]:
        nonlocal pending
        for line in io.StringIO(text, newline=""):
            pending += len(line)
            if pending > limits.line_length:
                raise UploadError(
                    _l(
                        "This row is longer than %(n)s characters; is the file a table saved "
                        "as CSV?",
                        n=limits.line_length,
                    ),
                    number + 1,
                )
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    try:
        for cells in reader:
            number += 1
            pending = 0
            if number > limits.rows:
                raise UploadError(
                    _l(
                        "The file has more than %(n)s rows; split it into files of at most "
                        "%(n)s rows.",
                        n=limits.rows,
                    ),
                    number,
                )
            if len(cells) > limits.columns:
                raise UploadError(
                    _l("This row has more than %(n)s columns.", n=limits.columns), number
                )
            yield number, cells
    except csv.Error as error:
        raise UploadError(_l("Not valid CSV: %(error)s.", error=str(error)), number + 1) from None
