"""Writers for the native YAML, GIFT and XLSX formats; each reads back as the same bank."""

import io

import yaml

from quizapp.banks.formats.base import ParsedBank, ParsedQuestion
from quizapp.banks.formats.gift import FALSE_TEXT, TRUE_TEXT
from quizapp.banks.formats.tabular import LETTERS

GIFT_SPECIAL = str.maketrans({c: "\\" + c for c in "~=#{}:\\"})


def by_category(bank: ParsedBank) -> dict[str, list[ParsedQuestion]]:
    groups: dict[str, list[ParsedQuestion]] = {name: [] for name in bank.category_order}
    for question in bank.questions:
        groups.setdefault(question.category, []).append(question)
    return groups


class YAMLWriter:
    name = "yaml"
    extension = ".yaml"

    def write(self, bank: ParsedBank) -> bytes:
        categories = []
        for category, questions in by_category(bank).items():
            items = []
            for q in questions:
                item = {
                    "id": q.external_id,
                    "kind": q.kind,
                    "difficulty": q.difficulty,
                    "text": q.text,
                    "options": [
                        {"text": o.text, "correct": True} if o.correct else {"text": o.text}
                        for o in q.options
                    ],
                    "shuffle": bool(q.shuffle),
                    "explanation": q.explanation,
                    "source": q.source,
                }
                items.append({k: v for k, v in item.items() if v is not None})
            categories.append({"name": category, "questions": items})
        document = {"bank": bank.name, "categories": categories}
        return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100).encode()


class GIFTWriter:
    name = "gift"
    extension = ".gift"

    def write(self, bank: ParsedBank) -> bytes:
        lines = [f"// {bank.name}", ""]
        for category, questions in by_category(bank).items():
            lines += [f"$CATEGORY: {category}", ""]
            for q in questions:
                tags = [f"[tag:difficulty-{q.difficulty}]"]
                if not q.shuffle:
                    tags.append("[tag:no-shuffle]")
                if q.external_id:
                    tags.insert(0, f"[id:{q.external_id}]")
                lines.append("// " + " ".join(tags))
                if q.source:
                    lines.append(f"// source: {q.source}")
                lines.append(q.text.translate(GIFT_SPECIAL) + " {")
                lines += self._answers(q)
                if q.explanation:
                    lines.append("####" + q.explanation.translate(GIFT_SPECIAL))
                lines += ["}", ""]
        return "\n".join(lines).encode("utf-8")

    @staticmethod
    def _answers(q: ParsedQuestion) -> list[str]:
        texts = [o.text for o in q.options]
        if q.kind == "true_false" and texts == [TRUE_TEXT, FALSE_TEXT]:
            return ["TRUE" if q.options[0].correct else "FALSE"]
        if q.kind == "multiple":
            share = {1: "100", 2: "50", 3: "33.33333", 4: "25", 5: "20"}
            right = sum(o.correct for o in q.options)
            weight = share.get(right, "10")
            return [
                f"~%{weight if o.correct else '-100'}%{o.text.translate(GIFT_SPECIAL)}"
                for o in q.options
            ]
        return [("=" if o.correct else "~") + o.text.translate(GIFT_SPECIAL) for o in q.options]


class XLSXWriter:
    """One question per row, every option column the reader takes (A…J); every text is
    written as a text cell, so one that starts with =, +, - or @ stays text (never a formula)
    and reads back as written."""

    name = "xlsx"
    extension = ".xlsx"
    HEADER = [
        "Chủ đề",
        "Mã",
        "Loại",
        "Mức độ",
        "Câu hỏi",
        *LETTERS,
        "Đáp án đúng",
        "Giải thích",
        "Nguồn",
        "Trộn",
    ]
    WIDTHS = (28, 12, 10, 8, 60, *[28] * len(LETTERS), 12, 40, 30, 6)

    def write(self, bank: ParsedBank) -> bytes:
        from openpyxl import Workbook
        from openpyxl.utils import get_column_letter

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Câu hỏi")
        sheet.freeze_panes = "A2"
        for index, width in enumerate(self.WIDTHS, 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.append(self.HEADER)
        for category, questions in by_category(bank).items():
            for q in questions:
                options = [o.text for o in q.options] + [None] * (len(LETTERS) - len(q.options))
                correct = ", ".join(LETTERS[i] for i, o in enumerate(q.options) if o.correct)
                values = [
                    category,
                    q.external_id,
                    q.kind,
                    q.difficulty,
                    q.text,
                    *options,
                    correct,
                    q.explanation,
                    q.source,
                    "có" if q.shuffle else "không",
                ]
                sheet.append([_cell(sheet, value) for value in values])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def _cell(sheet, value):
    """A text as a text cell: openpyxl would take one that starts with "=" for a formula."""
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # Characters no worksheet may hold (control characters) are left out, as Excel would.
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell
