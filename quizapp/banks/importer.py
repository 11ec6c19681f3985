"""Importing question banks: check everything, then write all or nothing."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from quizapp import clock
from quizapp.admin.services import record
from quizapp.banks.formats import ParsedBank, ParsedQuestion, Problem, reader_for
from quizapp.banks.formats import supported_extensions as _extensions
from quizapp.banks.models import Category, Option, Question, QuestionBank, QuestionKind
from quizapp.banks.rules import (
    MAX_OPTIONS,
    MAX_TEXT,
    POSITIONAL_OPTION,
    QUESTION_NUMBER,
    TRUE_FALSE,
    normalise_text,
    text_key,
)
from quizapp.database import begin_writing
from quizapp.draws import DrawShortfall, Place, QuestionMove, draw_shortfalls, place_of
from quizapp.extensions import db
from quizapp.policy import can_change_bank

# The importer's own refusal; the preview shows it translated (marked in quizapp.banks.views).
NOT_YOURS = (
    "you may not change this bank: only the organizers of the contests that draw from it (while "
    "none does, whoever imported it) and admins may; import the file as a new bank instead"
)


@dataclass
class ImportReport:
    """What an import found and did (or, in a dry run, would do)."""

    filename: str
    bank_name: str | None
    dry_run: bool
    problems: list[Problem] = field(default_factory=list)
    per_category: dict[str, int] = field(default_factory=dict)
    # category -> {"new": n, "updated": n, "unchanged": n}; filled once the file has no errors
    changes: dict[str, dict[str, int]] = field(default_factory=dict)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rounds still to close that the import would leave short of questions: nothing is written.
    shortfalls: list[DrawShortfall] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.shortfalls and not any(p.level == "error" for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def total(self) -> int:
        return sum(self.per_category.values())


def supported_extensions() -> list[str]:
    return _extensions()


def read_bank(data: bytes, filename: str, *, skip_unsupported: bool = False) -> ParsedBank:
    """Parse with the reader for the file's extension, then apply the checks every format shares.

    Questions with no category (Aiken, GIFT before any $CATEGORY) go to a category named
    after the file.
    """
    reader = reader_for(filename)
    if reader is None:
        bank = ParsedBank()
        bank.problems.append(
            Problem(None, "unknown file type; use one of " + ", ".join(supported_extensions()))
        )
        return bank
    bank = reader.read(data, skip_unsupported=skip_unsupported)
    default_category = default_category_name(filename)
    for question in bank.questions:
        question.category = normalise_text(question.category) or default_category
    bank.category_order = [normalise_text(c) or default_category for c in bank.category_order]
    check_questions(bank)
    return bank


def default_category_name(filename: str) -> str:
    """The category for questions a file gives none: the file's name without its extension."""
    stem = Path(filename).name
    for suffix in sorted(supported_extensions(), key=len, reverse=True):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return normalise_text(stem.replace("_", " ")) or "Chung"


def check_questions(bank: ParsedBank) -> None:
    """Normalise texts, infer kinds, and report what an organizer must fix."""
    seen_ids: dict[str, int | None] = {}
    seen_texts: dict[tuple[str, str], int | None] = {}
    for question in bank.questions:
        problems = bank.problems
        line = question.line
        question.text = QUESTION_NUMBER.sub("", normalise_text(question.text))
        question.explanation = normalise_text(question.explanation) or None
        question.source = normalise_text(question.source) or None
        for option in question.options:
            option.text = normalise_text(option.text)
        if not question.text:
            problems.append(Problem(line, "the question has no text"))
            continue
        if len(question.text) > MAX_TEXT:
            problems.append(
                Problem(line, f"the question text is longer than {MAX_TEXT} characters")
            )
        if len(question.options) < 2:
            problems.append(Problem(line, "a question needs at least two options"))
            continue
        if len(question.options) > MAX_OPTIONS:
            problems.append(Problem(line, f"a question may have at most {MAX_OPTIONS} options"))
        if any(not option.text for option in question.options):
            problems.append(Problem(line, "an option has no text"))
        duplicates = [
            t for t, n in Counter(text_key(o.text) for o in question.options).items() if n > 1 and t
        ]
        if duplicates:
            problems.append(Problem(line, f"the option {duplicates[0]!r} appears twice"))
        correct = sum(option.correct for option in question.options)
        if correct == 0:
            problems.append(Problem(line, "no option is marked correct"))
            continue
        _settle_kind(question, correct, problems)
        _settle_shuffle(question, problems)
        if question.external_id:
            if question.external_id in seen_ids:
                problems.append(
                    Problem(
                        line,
                        f"id {question.external_id!r} is used twice "
                        f"(first at line {seen_ids[question.external_id]})",
                    )
                )
            seen_ids[question.external_id] = line
        key = (question.category, text_key(question.text))
        if key in seen_texts:
            problems.append(
                Problem(
                    line, f"the same question stands at line {seen_texts[key]}", level="warning"
                )
            )
        seen_texts.setdefault(key, line)


def _settle_kind(question: ParsedQuestion, correct: int, problems: list[Problem]) -> None:
    texts = {option.text.casefold() for option in question.options}
    if question.kind is None:
        if correct > 1:
            question.kind = QuestionKind.MULTIPLE
        elif len(question.options) == 2 and texts in TRUE_FALSE:
            question.kind = QuestionKind.TRUE_FALSE
        else:
            question.kind = QuestionKind.SINGLE
    if question.kind not in {kind.value for kind in QuestionKind}:
        problems.append(
            Problem(
                question.line, f"unknown kind {question.kind!r}; use single, multiple or true_false"
            )
        )
    elif question.kind != QuestionKind.MULTIPLE and correct > 1:
        problems.append(
            Problem(
                question.line,
                f"a {question.kind} question has exactly one "
                f"correct option, this one has {correct}",
            )
        )
    elif question.kind == QuestionKind.TRUE_FALSE and len(question.options) != 2:
        problems.append(Problem(question.line, "a true/false question has exactly two options"))


def _settle_shuffle(question: ParsedQuestion, problems: list[Problem]) -> None:
    positional = any(POSITIONAL_OPTION.search(option.text) for option in question.options)
    if question.kind == QuestionKind.TRUE_FALSE:
        question.shuffle = False
    elif positional:
        if question.shuffle:
            problems.append(
                Problem(
                    question.line,
                    "an option refers to the others (e.g. 'Tất cả các đáp án trên'); kept in order",
                    level="warning",
                )
            )
        question.shuffle = False
    elif question.shuffle is None:
        question.shuffle = True


def import_bank(
    data: bytes,
    filename: str,
    *,
    bank_name: str | None = None,
    dry_run: bool = False,
    skip_unsupported: bool = False,
    actor=None,
    now: datetime | None = None,
) -> ImportReport:
    """Import a bank file: on any error nothing is written. Re-imports update by external id.

    `actor` is the person importing on the site, who must be allowed to change an existing
    bank (quizapp.policy.can_change_bank) and becomes a new bank's creator; None is the
    operator at the command line, who may change any bank. A re-import that would leave a
    round still to close at `now` (default: the app's clock) short of questions, by moving
    questions to another category or difficulty, is refused: the report names the rounds.
    """
    parsed = read_bank(data, filename, skip_unsupported=skip_unsupported)
    name = normalise_text(bank_name or parsed.name or "")
    report = ImportReport(
        filename=filename, bank_name=name or None, dry_run=dry_run, problems=list(parsed.problems)
    )
    if not name:
        report.problems.append(Problem(None, "the file names no bank; give one with --bank"))
    if not parsed.questions and not parsed.errors:
        report.problems.append(Problem(None, "the file holds no questions"))
    for question in parsed.questions:
        report.per_category[question.category] = report.per_category.get(question.category, 0) + 1
    if not report.ok:
        return report

    if not dry_run:
        # The file is read: from here on the import writes (it queues for SQLite's write
        # lock, which no parse ever holds).
        begin_writing(db.session)
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == name))
    if bank is not None and actor is not None and not can_change_bank(actor, bank):
        report.problems.append(Problem(None, NOT_YOURS))
        return report
    existing = _existing_questions(bank)
    for question in parsed.questions:
        match = _match(existing, question)
        change = report.changes.setdefault(
            question.category, {"new": 0, "updated": 0, "unchanged": 0}
        )
        if match is None:
            if ("any-text", text_key(question.text)) in existing:
                report.problems.append(
                    Problem(
                        question.line,
                        "the bank already holds this question in another category",
                        level="warning",
                    )
                )
            report.created += 1
            change["new"] += 1
        elif _differs(match, question):
            report.updated += 1
            change["updated"] += 1
        else:
            report.unchanged += 1
            change["unchanged"] += 1
    now = now or clock.now()
    moves = _draw_moves(bank, existing, parsed)
    report.shortfalls = draw_shortfalls(moves, now, lock=not dry_run)
    if dry_run or report.shortfalls:
        db.session.rollback()
        return report

    bank = bank or QuestionBank(name=name, created_by_id=actor.id if actor is not None else None)
    db.session.add(bank)
    categories = {category.name: category for category in bank.categories}
    order = parsed.category_order or list(dict.fromkeys(q.category for q in parsed.questions))
    for category_name in order + [q.category for q in parsed.questions]:
        if category_name not in categories:
            categories[category_name] = Category(name=category_name, position=len(categories))
            bank.categories.append(categories[category_name])
    db.session.flush()
    for question in parsed.questions:
        _write_question(_match(existing, question), question, bank, categories[question.category])
    record(
        "bank.import",
        user=actor,
        target=name,
        filename=filename,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
    )
    db.session.commit()
    return report


def _match(existing: dict, question: ParsedQuestion) -> Question | None:
    """The bank's question a file's question updates: the same id, else the same text in the
    same category."""
    match = existing.get(("id", question.external_id)) if question.external_id else None
    return match or existing.get(("text", question.category, text_key(question.text)))


def _draw_moves(
    bank: QuestionBank | None, existing: dict, parsed: ParsedBank
) -> list[QuestionMove]:
    """Where the import moves questions as draws see them: an updated question from its place
    to the file's (active again), a new one into its place. A category the bank does not hold
    yet has no round drawing from it."""
    if bank is None:
        return []
    category_ids = {category.name: category.id for category in bank.categories}
    moves = []
    for question in parsed.questions:
        match = _match(existing, question)
        if match is not None and not _differs(match, question):
            continue
        category_id = category_ids.get(question.category)
        after = Place(category_id, question.difficulty) if category_id else None
        moves.append(QuestionMove(place_of(match) if match else None, after))
    return moves


def _existing_questions(bank: QuestionBank | None) -> dict:
    if bank is None:
        return {}
    found: dict = {}
    for question in db.session.scalars(
        select(Question)
        .where(Question.bank_id == bank.id)
        .options(selectinload(Question.options), selectinload(Question.category))
    ):
        if question.external_id:
            found[("id", question.external_id)] = question
        found[("text", question.category.name, text_key(question.text))] = question
        found[("any-text", text_key(question.text))] = question
    return found


def _differs(question: Question, parsed: ParsedQuestion) -> bool:
    mine = (
        question.category.name,
        question.kind,
        question.text,
        question.explanation,
        question.difficulty,
        question.source,
        question.shuffle_options,
        [(o.text, o.is_correct) for o in question.options],
    )
    theirs = (
        parsed.category,
        parsed.kind,
        parsed.text,
        parsed.explanation,
        parsed.difficulty,
        parsed.source,
        parsed.shuffle,
        [(o.text, o.correct) for o in parsed.options],
    )
    return mine != theirs


def _write_question(question: Question | None, parsed: ParsedQuestion, bank, category) -> None:
    if question is None:
        question = Question(bank_id=bank.id)
        db.session.add(question)
    elif not _differs(question, parsed):
        return
    question.category = category
    question.external_id = parsed.external_id
    question.kind = parsed.kind
    question.text = parsed.text
    question.explanation = parsed.explanation
    question.difficulty = parsed.difficulty
    question.source = parsed.source
    question.shuffle_options = parsed.shuffle
    question.is_active = True
    question.options = [
        Option(position=index, text=option.text, is_correct=option.correct)
        for index, option in enumerate(parsed.options)
    ]
