"""The one interface every bank reader implements, and the registry by file extension."""

from dataclasses import dataclass, field
from typing import Protocol

MAX_OPTIONS = 10  # options a question may have, in every format (spreadsheets: columns A…J)


@dataclass
class Problem:
    """Something wrong (error) or doubtful (warning) at a line (or spreadsheet row)."""

    line: int | None
    message: str
    level: str = "error"  # error | warning
    where: str = "line"  # line | row

    def describe(self, filename: str) -> str:
        place = f"{self.where} {self.line}" if self.line else "file"
        return f"{filename}: {place}: {self.message}"


@dataclass
class ParsedOption:
    text: str
    correct: bool = False


@dataclass
class ParsedQuestion:
    category: str
    text: str
    options: list[ParsedOption]
    kind: str | None = None  # single | multiple | true_false; inferred when None
    explanation: str | None = None
    difficulty: int = 1
    source: str | None = None
    shuffle: bool | None = None  # None: decide from the options
    external_id: str | None = None
    line: int | None = None


@dataclass
class ParsedBank:
    """What a reader found: the bank's name if the file names one, questions, problems."""

    name: str | None = None
    questions: list[ParsedQuestion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    category_order: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]


class Reader(Protocol):
    """Reads one format from raw bytes; never raises for bad content, reports Problems.

    Questions of types the platform does not grade are errors, or warnings and left out
    when `skip_unsupported` is set. Questions without a category get category "" (the
    import names it after the file).
    """

    extensions: tuple[str, ...]
    label: str

    def read(self, data: bytes, *, skip_unsupported: bool = False) -> ParsedBank: ...


class Writer(Protocol):
    """Writes a bank (as ParsedBank) in one format; reading the result gives the same bank."""

    name: str
    extension: str

    def write(self, bank: ParsedBank) -> bytes: ...


def unsupported(bank: ParsedBank, line: int | None, kind: str, skip: bool, where="line") -> None:
    """Report a question type this platform does not grade."""
    if skip:
        bank.problems.append(
            Problem(
                line, f"{kind} question skipped (--skip-unsupported)", level="warning", where=where
            )
        )
    else:
        bank.problems.append(
            Problem(
                line,
                f"{kind} questions are not supported (only single choice, multiple choice "
                "and true/false); remove it or import with --skip-unsupported",
                where=where,
            )
        )


_READERS: dict[str, Reader] = {}
_WRITERS: dict[str, Writer] = {}


def register_writer(writer: Writer) -> None:
    _WRITERS[writer.name] = writer


def writer_for(name: str) -> Writer | None:
    return _WRITERS.get(name)


def writer_names() -> list[str]:
    return sorted(_WRITERS)


def register_reader(reader: Reader) -> None:
    for extension in reader.extensions:
        _READERS[extension.lower()] = reader


def reader_for(filename: str) -> Reader | None:
    name = filename.lower()
    for extension in sorted(_READERS, key=len, reverse=True):
        if name.endswith(extension):
            return _READERS[extension]
    return None


def supported_extensions() -> list[str]:
    return sorted(_READERS)


def decode_text(data: bytes, problems: list[Problem]) -> str | None:
    """UTF-8 with or without BOM; anything else is an error that says how to fix it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.append(
            Problem(
                line,
                "the file is not UTF-8 text; save it again as UTF-8 "
                "(in Excel or Word: Save As, encoding UTF-8)",
            )
        )
        return None
