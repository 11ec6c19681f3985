"""Writing tables as XLSX and CSV (UTF-8 with BOM), streamed row by row, for any export."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from quizapp.reports.xlsx import write_xlsx

BOM = "\ufeff"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"


@dataclass
class Column:
    header: str
    width: float = 14
    number_format: str | None = None  # e.g. "DD/MM/YYYY", "0.0", "0.0%"


__all__ = [
    "Column",
    "Sheet",
    "csv_chunks",
    "download",
    "write_file",
    "write_xlsx",
    "xlsx_file",
]


@dataclass
class Sheet:
    title: str
    columns: list[Column]
    rows: Iterable[tuple]  # consumed once, row by row


def xlsx_file(sheets: list[Sheet]):
    """The workbook in a temporary file (on disk past a few MB), rewound for sending."""
    # Closed by the response that sends it.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_xlsx(sheets, spool)
    spool.seek(0)
    return spool


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> object:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # a spreadsheet must not run text from an upload as a formula
    return "" if value is None else value


def csv_chunks(columns: list[Column], rows: Iterable[tuple], rows_per_chunk=500) -> Iterator[bytes]:
    """CSV as UTF-8 with a BOM (so Excel shows the diacritics), yielded in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([column.header for column in columns])
    for count, row in enumerate(rows, 1):
        writer.writerow([csv_cell(value) for value in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_file(sheets: list[Sheet], file_format: str, out) -> None:
    """Write an export to an open binary file: XLSX (every sheet) or CSV (the first sheet)."""
    if file_format == "csv":
        for chunk in csv_chunks(sheets[0].columns, sheets[0].rows):
            out.write(chunk)
    else:
        write_xlsx(sheets, out)


def download(sheets: list[Sheet], file_format: str, filename: str):
    """An export as a download that no cache keeps (it names people): CSV streamed, or XLSX.

    The rows must be plain values, never ORM objects or generators that load them: a CSV body is
    read after the view has returned and its database session is gone (any audit commit before
    that has expired what it loaded).
    """
    from flask import Response, send_file, stream_with_context

    if file_format == "csv":
        response = Response(
            stream_with_context(csv_chunks(sheets[0].columns, sheets[0].rows)),
            mimetype=CSV_MIMETYPE,
        )
        response.headers.set("Content-Disposition", "attachment", filename=filename)
    else:
        response = send_file(
            xlsx_file(sheets), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename
        )
    response.headers["Cache-Control"] = "no-store"
    return response
