"""A streaming XLSX writer: SpreadsheetML written row by row straight into the zip.

openpyxl's write-only mode keeps memory flat too, but spends ~9 µs per cell building XML
elements (about 10 s for a 100,000-row participation list); writing the few XML shapes we need
directly takes a fraction of that. Files hold inline strings (text is never a formula), numbers,
dates (as Excel serials with a date format), a bold frozen header row, an autofilter and column
widths. The tests read every file back with openpyxl.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quizapp.reports.sheets import Sheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
EPOCH = date(1899, 12, 30)
ROWS_PER_WRITE = 1000
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ILLEGAL.sub("", text) if _ILLEGAL.search(text) else text


def _cell(ref: str, value, style: int) -> str:
    s = f' s="{style}"' if style else ""
    if isinstance(value, str):
        text = escape(value)
        return f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{text}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"{s}><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    if isinstance(value, float):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>' if value == value else ""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)
        serial = (value - datetime(1899, 12, 30)).total_seconds() / 86400
        return f'<c r="{ref}"{s}><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}"{s}><v>{(value - EPOCH).days}</v></c>'
    return _cell(ref, str(value), style)


def _sheet_xml(sheet: Sheet, styles: dict[str, int]):
    """Yield the worksheet XML in pieces; returns (via StopIteration value) the row count."""
    letters = [column_letter(i) for i in range(1, len(sheet.columns) + 1)]
    column_styles = [styles.get(c.number_format, 0) for c in sheet.columns]
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"/>'
        for i, c in enumerate(sheet.columns, 1)
    )
    yield (
        f'{HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
    )
    header = "".join(
        _cell(f"{letter}1", column.header, 1)
        for letter, column in zip(letters, sheet.columns, strict=True)
    )
    yield f'<row r="1">{header}</row>'
    number = 1
    pieces: list[str] = []
    for row in sheet.rows:
        number += 1
        cells = "".join(
            _cell(f"{letter}{number}", value, style)
            for letter, value, style in zip(letters, row, column_styles, strict=False)
            if value is not None
        )
        pieces.append(f'<row r="{number}">{cells}</row>')
        if len(pieces) >= ROWS_PER_WRITE:
            yield "".join(pieces)
            pieces.clear()
    yield "".join(pieces)
    yield f'</sheetData><autoFilter ref="A1:{letters[-1]}{number}"/></worksheet>'
    return number


def _styles_xml(formats: list[str]) -> str:
    num_fmts = "".join(
        f'<numFmt numFmtId="{164 + i}" formatCode="{escape(code)}"/>'
        for i, code in enumerate(formats)
    )
    xfs = "".join(
        f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
        'applyNumberFormat="1"/>'
        for i in range(len(formats))
    )
    return (
        f'{HEAD}<styleSheet xmlns="{MAIN}">'
        + (f'<numFmts count="{len(formats)}">{num_fmts}</numFmts>' if formats else "")
        + '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FFDCE6F1"/>'
        '<bgColor indexed="64"/></patternFill></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        f'<cellXfs count="{2 + len(formats)}">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" '
        'applyFill="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
        f"{xfs}</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _quoted_sheet_name(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def write_xlsx(sheets: list[Sheet], stream) -> None:
    """Write the sheets to a binary stream, row by row."""
    formats = sorted({c.number_format for s in sheets for c in s.columns if c.number_format})
    styles = {code: 2 + i for i, code in enumerate(formats)}
    names = [sheet.title[:31] for sheet in sheets]
    filters = []
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3) as zf:
        # The package parts first (readers sniff [Content_Types].xml), the workbook last: its
        # filter ranges need the row counts.
        sheet_types = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        zf.writestr(
            "[Content_Types].xml",
            f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{sheet_types}</Types>",
        )
        zf.writestr(
            "_rels/.rels",
            f'{HEAD}<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        workbook_rels = "".join(
            f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{HEAD}<Relationships xmlns="{PKG_REL}">{workbook_rels}'
            f'<Relationship Id="rId{len(sheets) + 1}" Type="{REL}/styles" Target="styles.xml"/>'
            "</Relationships>",
        )
        zf.writestr("xl/styles.xml", _styles_xml(formats))

        for index, sheet in enumerate(sheets, 1):
            with zf.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as part:
                pieces = _sheet_xml(sheet, styles)
                while True:
                    try:
                        part.write(next(pieces).encode("utf-8"))
                    except StopIteration as done:
                        last_row = done.value
                        break
            last = column_letter(len(sheet.columns))
            filters.append(f"{_quoted_sheet_name(names[index - 1])}!$A$1:${last}${last_row}")

        sheet_entries = "".join(
            f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in enumerate(names, 1)
        )
        defined = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{escape(ref)}</definedName>"
            for i, ref in enumerate(filters)
        )
        zf.writestr(
            "xl/workbook.xml",
            f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheet_entries}</sheets><definedNames>{defined}</definedNames></workbook>",
        )
