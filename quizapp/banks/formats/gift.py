"""Moodle's GIFT format, read as Moodle reads it (question/format/gift/format.php).

Blocks are separated by blank lines; `//` lines are comments (`// [id:…]` and `// [tag:…]` are
read, as newer Moodle does); `$CATEGORY:` switches category; `::title::` is optional; the
answer block runs from the first unescaped `{` to the next unescaped `}`. Single, multiple and
true/false questions are graded here; other types are reported by line.

Our writer adds `[tag:difficulty-N]`, `[tag:no-shuffle]` and a `// source:` comment, which this
reader understands, so an exported bank reads back the same.
"""

import html
import re

from quizapp.banks.formats.base import (
    ParsedBank,
    ParsedOption,
    ParsedQuestion,
    Problem,
    decode_text,
    unsupported,
)

# Moodle's allowed grade fractions (question/format.php: get_grade_options), as percentages.
ALLOWED_FRACTIONS = {
    100,
    90,
    83.33333,
    80,
    75,
    70,
    66.66667,
    60,
    50,
    40,
    33.33333,
    30,
    25,
    20,
    16.66667,
    14.28571,
    12.5,
    11.11111,
    10,
    5,
    0,
}
ESCAPES = {
    "\\~": "~",
    "\\=": "=",
    "\\#": "#",
    "\\{": "{",
    "\\}": "}",
    "\\:": ":",
    "\\n": "\n",
    "\\\\": "\\",
}
FORMAT_PREFIX = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
TAGS = re.compile(r"\[(id|tag):([^\]]*)\]")
TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
TRUE_TEXT, FALSE_TEXT = "Đúng", "Sai"


def unescape(text: str) -> str:
    return re.sub(r"\\[~=#{}:n\\]", lambda m: ESCAPES[m.group(0)], text)


def plain(text: str) -> str:
    """Text of a GIFT field: format prefix removed, HTML reduced to text, escapes undone."""
    match = FORMAT_PREFIX.match(text)
    is_html = bool(match) and match.group(1).lower() == "html"
    text = FORMAT_PREFIX.sub("", text, count=1)
    if is_html:
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return unescape(text).strip()


def find_unescaped(text: str, char: str, start: int = 0) -> int:
    index = start
    while True:
        index = text.find(char, index)
        if index <= 0 or text[index - 1] != "\\":
            return index
        index += 1


def split_unescaped(text: str, markers: str) -> list[str]:
    """Split before each unescaped marker character (the marker stays with its part)."""
    parts, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += char
            escaped = False
            continue
        if char == "\\":
            current += char
            escaped = True
            continue
        if char in markers and current.strip():
            parts.append(current)
            current = ""
        current += char
    if current.strip():
        parts.append(current)
    return parts


class GIFTReader:
    extensions = (".gift", ".gift.txt")
    label = "GIFT"

    def read(self, data: bytes, *, skip_unsupported: bool = False) -> ParsedBank:
        bank = ParsedBank()
        text = decode_text(data, bank.problems)
        if text is None:
            return bank
        if not text.strip():
            bank.problems.append(Problem(None, "the file is empty"))
            return bank
        category = ""
        for line, block, comments in self._blocks(text):
            if block.startswith("$CATEGORY:"):
                category = self._category(block)
                if category not in bank.category_order:
                    bank.category_order.append(category)
                continue
            question = self._question(bank, line, block, comments, category, skip_unsupported)
            if question is not None:
                bank.questions.append(question)
        return bank

    @staticmethod
    def _blocks(text: str):
        """(first line number, block text without comments, comment lines) per blank-line block."""
        block: list[str] = []
        comments: list[str] = []
        start = None
        for number, raw in enumerate(text.splitlines() + [""], start=1):
            stripped = raw.strip()
            if stripped.startswith("//"):
                comments.append(stripped[2:].strip())
                continue
            if not stripped:
                if block:
                    yield start, "\n".join(block).strip(), comments
                    block, comments, start = [], [], None
                continue
            if start is None:
                start = number
            block.append(raw)

    @staticmethod
    def _category(block: str) -> str:
        path = block.splitlines()[0][len("$CATEGORY:") :].strip()
        for prefix in ("$course$/", "$system$/", "$module$/", "top/"):
            path = path.removeprefix(prefix)
        return path.strip("/").replace("/", " / ") or "Default"

    def _question(self, bank, line, block, comments, category, skip) -> ParsedQuestion | None:
        external_id, tags = None, set()
        source = None
        for comment in comments:
            for key, value in TAGS.findall(comment):
                if key == "id":
                    external_id = value.strip()
                else:
                    tags.add(value.strip())
            if comment.lower().startswith("source:"):
                source = comment.split(":", 1)[1].strip()

        if block.startswith("::"):
            end = block.find("::", 2)
            if end == -1:
                bank.problems.append(Problem(line, "the title is not closed with '::'"))
                return None
            block = block[end + 2 :]  # the title is not kept
        opening = find_unescaped(block, "{")
        if opening == -1:
            unsupported(bank, line, "Description (text without an answer block)", skip)
            return None
        closing = find_unescaped(block, "}", opening + 1)
        if closing == -1:
            bank.problems.append(
                Problem(line, "the answer block opened with '{' is never closed with '}'")
            )
            return None
        before, answers, after = block[:opening], block[opening + 1 : closing], block[closing + 1 :]
        stem = plain(before) + (" _____ " + plain(after) if after.strip() else "")
        kind_problem = self._kind_problem(answers)
        if kind_problem:
            unsupported(bank, line, kind_problem, skip)
            return None
        general = None
        if "####" in answers:
            answers, general = answers.split("####", 1)
            general = plain(general)
        token = answers.split("#", 1)[0].strip().upper()
        difficulty = next((int(t[-1]) for t in tags if re.fullmatch(r"difficulty-[123]", t)), 1)
        question = ParsedQuestion(
            category=category,
            text=stem,
            options=[],
            explanation=general,
            difficulty=difficulty,
            source=source,
            shuffle=False if "no-shuffle" in tags else None,
            external_id=external_id or None,
            line=line,
        )
        if token in TRUE_FALSE:
            question.kind = "true_false"
            question.options = [
                ParsedOption(TRUE_TEXT, TRUE_FALSE[token]),
                ParsedOption(FALSE_TEXT, not TRUE_FALSE[token]),
            ]
            return question
        return self._choices(bank, question, answers, line)

    @staticmethod
    def _kind_problem(answers: str) -> str | None:
        body = answers.strip()
        if not body:
            return "Essay"
        if body.startswith("#"):
            return "Numerical"
        has_tilde = find_unescaped(body, "~") != -1
        if find_unescaped(body, "=") != -1 and "->" in body:
            return "Matching"
        token = body.split("#", 1)[0].strip().upper()
        if token in TRUE_FALSE:
            return None
        if not has_tilde:
            return "Short answer"
        return None

    @staticmethod
    def _choices(bank, question: ParsedQuestion, answers: str, line: int) -> ParsedQuestion | None:
        has_equals = False
        weights: list[float | None] = []
        for part in split_unescaped(answers.strip(), "=~"):
            marker, body = part[0], part[1:]
            feedback = find_unescaped(body, "#")
            if feedback != -1:
                body = body[:feedback]
            weight = None
            match = re.match(r"\s*%(-?\d+(?:\.\d+)?)%", body)
            if match:
                weight = float(match.group(1))
                body = body[match.end() :]
                if abs(weight) not in ALLOWED_FRACTIONS and not any(
                    abs(abs(weight) - allowed) < 1e-4 for allowed in ALLOWED_FRACTIONS
                ):
                    bank.problems.append(
                        Problem(
                            line,
                            f"{weight:g}% is not one of Moodle's "
                            "allowed grades (e.g. 100, 50, 33.33333, "
                            "25, 20, 0)",
                        )
                    )
                    return None
            if marker == "=":
                has_equals = True
            question.options.append(ParsedOption(plain(body), marker == "=" or bool(weight)))
            weights.append(weight)
        if len(question.options) < 2:
            bank.problems.append(
                Problem(line, "a multiple-choice question needs at least two answers")
            )
            return None
        if has_equals:
            # Single choice: only "=" answers are right; partial credit is not graded here.
            for option, weight in zip(question.options, weights, strict=True):
                if weight is not None and 0 < weight < 100:
                    option.correct = False
                    bank.problems.append(
                        Problem(
                            line,
                            f"partial credit {weight:g}% for "
                            f"{plain(option.text)!r} is not graded "
                            "here; counted as a wrong option",
                            level="warning",
                        )
                    )
        else:
            for option, weight in zip(question.options, weights, strict=True):
                option.correct = weight is not None and weight > 0
        question.kind = "single" if has_equals else "multiple"
        return question
