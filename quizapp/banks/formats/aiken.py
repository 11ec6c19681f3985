"""Moodle's Aiken format (question/format/aiken/format.php): a question line, options `A)` or
`A.`, then `ANSWER: X`. Lower-case `a)` options, common in Vietnamese Word files, are accepted
with a warning, as is a Vietnamese `Đáp án: X` line.
"""

import re

from quizapp.banks.formats.base import (
    ParsedBank,
    ParsedOption,
    ParsedQuestion,
    Problem,
    decode_text,
)

OPTION = re.compile(r"^([A-Z])[.)]\s*(.*)$")
LOWER_OPTION = re.compile(r"^([a-z])[.)]\s*(.*)$")
ANSWER = re.compile(r"^(ANSWER|Đáp án|ĐÁP ÁN)\s*:\s*(.*)$", re.IGNORECASE)


class AikenReader:
    extensions = (".txt", ".aiken")
    label = "Aiken"

    def read(self, data: bytes, *, skip_unsupported: bool = False) -> ParsedBank:
        bank = ParsedBank()
        text = decode_text(data, bank.problems)
        if text is None:
            return bank
        if not text.strip():
            bank.problems.append(Problem(None, "the file is empty"))
            return bank
        if "\x00" in text:
            bank.problems.append(
                Problem(None, "this is not a text file; Aiken files are plain UTF-8 text")
            )
            return bank
        current: ParsedQuestion | None = None
        warned_lower = False
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            answer = ANSWER.match(line)
            option = OPTION.match(line)
            lower = LOWER_OPTION.match(line) if current is not None else None
            if lower and not (current.options or lower.group(1) == "a"):
                lower = None  # a question text that happens to start like "b) …"
            if answer:
                if current is None:
                    bank.problems.append(Problem(number, "ANSWER line with no question before it"))
                    continue
                if answer.group(1).upper() != "ANSWER":
                    bank.problems.append(
                        Problem(
                            number,
                            f"'{answer.group(1)}:' read as ANSWER: (Aiken uses ANSWER:)",
                            level="warning",
                        )
                    )
                self._finish(bank, current, answer.group(2).strip(), number)
                current = None
            elif option or lower:
                letter, body = (option or lower).groups()
                if current is None:
                    bank.problems.append(
                        Problem(number, f"option {letter}) with no question before it")
                    )
                    continue
                if lower and not option and not warned_lower:
                    bank.problems.append(
                        Problem(
                            number,
                            "lower-case option letters like 'a)' are not Aiken; read as A), B)…",
                            level="warning",
                        )
                    )
                    warned_lower = True
                current.options.append(ParsedOption(body))
            else:
                if current is not None:
                    bank.problems.append(
                        Problem(
                            current.line,
                            "this question has no ANSWER line before the next question",
                        )
                    )
                current = ParsedQuestion(category="", text=line, options=[], line=number)
        if current is not None:
            bank.problems.append(Problem(current.line, "this question has no ANSWER line"))
        return bank

    @staticmethod
    def _finish(bank: ParsedBank, question: ParsedQuestion, letters: str, number: int) -> None:
        if len(question.options) < 2:
            bank.problems.append(Problem(question.line, "a question needs at least two options"))
            return
        chosen = [c for c in re.split(r"[\s,;]+", letters.upper()) if c]
        indexes = []
        for letter in chosen:
            index = ord(letter[0]) - ord("A") if len(letter) == 1 else -1
            if not 0 <= index < len(question.options):
                bank.problems.append(
                    Problem(number, f"ANSWER {letter!r} names no option of this question")
                )
                return
            indexes.append(index)
        if not indexes:
            bank.problems.append(Problem(number, "ANSWER names no option"))
            return
        for index in indexes:
            question.options[index].correct = True
        bank.questions.append(question)
