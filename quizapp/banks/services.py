"""Importing question banks: check everything, then write all or nothing."""

import json
import re
import secrets
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from quizapp.admin.services import record
from quizapp.banks.formats import (
    ParsedBank,
    ParsedOption,
    ParsedQuestion,
    Problem,
    reader_for,
    writer_for,
    writer_names,
)
from quizapp.banks.formats import supported_extensions as _extensions
from quizapp.banks.formats.base import MAX_OPTIONS
from quizapp.banks.models import Category, Option, Question, QuestionBank, QuestionKind
from quizapp.database import begin_writing
from quizapp.errors import Conflict, Invalid, NotFound
from quizapp.extensions import db

MAX_TEXT = 5000
QUESTION_NUMBER = re.compile(r"^\s*(câu|cau|question)\s*\d+\s*[.:)\-–]\s*", re.IGNORECASE)
# Options whose meaning depends on the others' positions: keep the written order.
POSITIONAL_OPTION = re.compile(
    r"(tất cả|cả [a-d] và [a-d]|[a-d] và [a-d] (đều )?(đúng|sai)|cả hai|không có (đáp án|phương án)"
    r"|các (đáp án|phương án) trên|all of the above|none of the above|both [a-d] and [a-d])",
    re.IGNORECASE,
)
TRUE_FALSE = ({"đúng", "sai"}, {"true", "false"})


def normalise_text(text: str) -> str:
    """NFC, single spaces, no stray line breaks from PDF copying."""
    text = unicodedata.normalize("NFC", text or "")
    return re.sub(r"\s+", " ", text).strip()


def text_key(text: str) -> str:
    return normalise_text(text).casefold()


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

    @property
    def ok(self) -> bool:
        return not any(p.level == "error" for p in self.problems)

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
) -> ImportReport:
    """Import a bank file: on any error nothing is written. Re-imports update by external id."""
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
    existing = _existing_questions(bank)
    for question in parsed.questions:
        match = existing.get(("id", question.external_id)) if question.external_id else None
        match = match or existing.get(("text", question.category, text_key(question.text)))
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
    if dry_run:
        db.session.rollback()
        return report

    bank = bank or QuestionBank(name=name)
    db.session.add(bank)
    categories = {category.name: category for category in bank.categories}
    order = parsed.category_order or list(dict.fromkeys(q.category for q in parsed.questions))
    for category_name in order + [q.category for q in parsed.questions]:
        if category_name not in categories:
            categories[category_name] = Category(name=category_name, position=len(categories))
            bank.categories.append(categories[category_name])
    db.session.flush()
    for question in parsed.questions:
        match = existing.get(("id", question.external_id)) if question.external_id else None
        match = match or existing.get(("text", question.category, text_key(question.text)))
        _write_question(match, question, bank, categories[question.category])
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


@dataclass
class BankSummary:
    name: str
    questions: int
    categories: list[tuple[str, int]]


def list_banks() -> list[BankSummary]:
    from sqlalchemy import func

    counts = dict(
        db.session.execute(
            select(Question.category_id, func.count())
            .where(Question.is_active.is_(True))
            .group_by(Question.category_id)
        ).all()
    )
    summaries = []
    for bank in db.session.scalars(select(QuestionBank).order_by(QuestionBank.name)):
        categories = [(c.name, counts.get(c.id, 0)) for c in bank.categories]
        summaries.append(BankSummary(bank.name, sum(n for _, n in categories), categories))
    return summaries


def export_bank(name: str, format_name: str) -> bytes:
    """The bank's active questions in a file format (yaml, gift, xlsx) that imports back as is."""
    writer = writer_for(format_name)
    if writer is None:
        raise Invalid(
            _l(
                "Unknown format %(name)r; use %(names)s.",
                name=format_name,
                names=", ".join(writer_names()),
            )
        )
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == name))
    if bank is None:
        raise NotFound(_l("No question bank named %(name)r.", name=name))
    parsed = ParsedBank(name=bank.name, category_order=[c.name for c in bank.categories])
    questions = db.session.scalars(
        select(Question)
        .where(Question.bank_id == bank.id, Question.is_active.is_(True))
        .options(selectinload(Question.options), selectinload(Question.category))
        .order_by(Question.category_id, Question.id)
    )
    for question in questions:
        parsed.questions.append(
            ParsedQuestion(
                category=question.category.name,
                text=question.text,
                kind=question.kind,
                options=[ParsedOption(o.text, o.is_correct) for o in question.options],
                explanation=question.explanation,
                difficulty=question.difficulty,
                source=question.source,
                shuffle=question.shuffle_options,
                external_id=question.external_id,
            )
        )
    return writer.write(parsed)


# --- organizer pages: uploads waiting for confirmation -------------------------------------

UPLOAD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class PendingUpload:
    """An uploaded bank file kept on the server between its preview and its confirmation."""

    token: str
    user_id: int
    filename: str
    bank_name: str | None
    skip_unsupported: bool
    created_at: datetime
    data: bytes


def store_upload(
    folder: Path,
    data: bytes,
    filename: str,
    *,
    user_id: int,
    bank_name: str | None,
    skip_unsupported: bool,
    now: datetime,
    max_age: timedelta,
) -> PendingUpload:
    """Keep the uploaded bytes under a random token; the confirmation imports exactly these."""
    folder.mkdir(parents=True, exist_ok=True)
    discard_expired_uploads(folder, now=now, max_age=max_age)
    token = secrets.token_urlsafe(24)
    upload = PendingUpload(
        token=token,
        user_id=user_id,
        filename=Path(filename.replace("\\", "/")).name or "bank",
        bank_name=bank_name,
        skip_unsupported=skip_unsupported,
        created_at=now,
        data=data,
    )
    (folder / f"{token}.data").write_bytes(data)
    meta = {
        "user_id": user_id,
        "filename": upload.filename,
        "bank_name": bank_name,
        "skip_unsupported": skip_unsupported,
        "created_at": now.isoformat(),
    }
    # The metadata is written last: an upload without it is incomplete and never loaded.
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return upload


def load_upload(
    folder: Path, token: str, *, user_id: int, now: datetime, max_age: timedelta
) -> PendingUpload:
    """The uploader's pending file, or NotFound when it is unknown, someone else's or expired."""
    gone = NotFound(_l("This upload is no longer available; upload the file again."))
    if not UPLOAD_TOKEN.match(token or ""):
        raise gone
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        data = (folder / f"{token}.data").read_bytes()
    except (OSError, ValueError):
        raise gone from None
    if meta.get("user_id") != user_id:
        raise gone
    created_at = datetime.fromisoformat(meta["created_at"])
    if now - created_at > max_age:
        discard_upload(folder, token)
        raise gone
    return PendingUpload(
        token=token,
        user_id=user_id,
        filename=meta["filename"],
        bank_name=meta.get("bank_name"),
        skip_unsupported=bool(meta.get("skip_unsupported")),
        created_at=created_at,
        data=data,
    )


def claim_upload(
    folder: Path, token: str, *, user_id: int, now: datetime, max_age: timedelta
) -> PendingUpload:
    """Take a pending upload for importing; a second claim (a double click) finds it gone.

    Renaming the metadata file is atomic, so of two simultaneous confirmations one imports
    and the other is told the upload is no longer there.
    """
    upload = load_upload(folder, token, user_id=user_id, now=now, max_age=max_age)
    try:
        (folder / f"{token}.json").rename(folder / f"{token}.claimed")
    except OSError:
        raise NotFound(_l("This upload is no longer available; upload the file again.")) from None
    return upload


def release_upload(folder: Path, token: str) -> None:
    """Put a claimed upload back (its import found errors), so the preview shows it again."""
    if UPLOAD_TOKEN.match(token or ""):
        (folder / f"{token}.claimed").rename(folder / f"{token}.json")


def discard_upload(folder: Path, token: str) -> None:
    """Forget a pending upload (after its import, on cancel, or once expired)."""
    if UPLOAD_TOKEN.match(token or ""):
        for suffix in (".json", ".claimed", ".data"):
            (folder / f"{token}{suffix}").unlink(missing_ok=True)


def discard_expired_uploads(folder: Path, *, now: datetime, max_age: timedelta) -> None:
    """Remove uploads older than max_age, by the time each records (the clock is injectable)."""
    if not folder.is_dir():
        return
    for meta_path in [*folder.glob("*.json"), *folder.glob("*.claimed")]:
        try:
            created_at = datetime.fromisoformat(json.loads(meta_path.read_text())["created_at"])
        except (OSError, ValueError, KeyError):
            continue
        if now - created_at > max_age:
            discard_upload(folder, meta_path.stem)


def import_pending(upload: PendingUpload, *, dry_run: bool, actor=None) -> ImportReport:
    """Check (dry run) or import a pending upload with the options chosen when it was sent."""
    return import_bank(
        upload.data,
        upload.filename,
        bank_name=upload.bank_name,
        dry_run=dry_run,
        skip_unsupported=upload.skip_unsupported,
        actor=actor,
    )


# --- organizer pages: banks and their questions --------------------------------------------


@dataclass
class BankOverview:
    """One bank on the bank list: questions in use and deactivated."""

    id: int
    name: str
    active: int
    inactive: int
    categories: int


def bank_overviews() -> list[BankOverview]:
    """Every bank with its counts of active and inactive questions (two grouped queries)."""
    counts: dict[int, dict[bool, int]] = {}
    for bank_id, active, count in db.session.execute(
        select(Question.bank_id, Question.is_active, func.count()).group_by(
            Question.bank_id, Question.is_active
        )
    ):
        counts.setdefault(bank_id, {})[bool(active)] = count
    categories = dict(
        db.session.execute(select(Category.bank_id, func.count()).group_by(Category.bank_id)).all()
    )
    return [
        BankOverview(
            id=bank.id,
            name=bank.name,
            active=counts.get(bank.id, {}).get(True, 0),
            inactive=counts.get(bank.id, {}).get(False, 0),
            categories=categories.get(bank.id, 0),
        )
        for bank in db.session.scalars(select(QuestionBank).order_by(QuestionBank.name))
    ]


def get_bank(bank_id: int) -> QuestionBank:
    bank = db.session.get(QuestionBank, bank_id)
    if bank is None:
        raise NotFound(_l("No such question bank."))
    return bank


def bank_named(name: str) -> QuestionBank | None:
    return db.session.scalar(select(QuestionBank).where(QuestionBank.name == normalise_text(name)))


def get_question(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound(_l("No such question."))
    return question


@dataclass
class QuestionFilter:
    """What the question list of a bank is narrowed to; empty fields do not filter."""

    text: str = ""
    category_id: int | None = None
    difficulty: int | None = None
    kind: str | None = None
    status: str | None = None  # active | inactive | None (both)


def case_blind_pattern(text: str) -> str:
    """A regular expression matching `text` in any letter case, diacritics as typed.

    Neither SQLite's LIKE nor PostgreSQL under the C locale folds the case of Vietnamese
    letters (Ể/ể), so each letter becomes a class of its two cases; the pattern works the
    same with SQLite's REGEXP (Python's re) and PostgreSQL's `~`.
    """
    parts = []
    for char in normalise_text(text):
        lower, upper = char.lower(), char.upper()
        if lower != upper and len(lower) == 1 and len(upper) == 1:
            parts.append(f"[{lower}{upper}]")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def question_query(bank: QuestionBank, filters: QuestionFilter) -> Select:
    """The bank's questions narrowed by the filters, in category and id order."""
    query = select(Question).where(Question.bank_id == bank.id)
    text = normalise_text(filters.text)
    if text:
        query = query.where(
            or_(
                Question.text.regexp_match(case_blind_pattern(text)),
                Question.external_id == text,
            )
        )
    if filters.category_id:
        query = query.where(Question.category_id == filters.category_id)
    if filters.difficulty:
        query = query.where(Question.difficulty == filters.difficulty)
    if filters.kind:
        query = query.where(Question.kind == filters.kind)
    if filters.status == "active":
        query = query.where(Question.is_active.is_(True))
    elif filters.status == "inactive":
        query = query.where(Question.is_active.is_(False))
    return query.options(selectinload(Question.category), selectinload(Question.options)).order_by(
        Question.category_id, Question.id
    )


def search_questions(bank: QuestionBank, filters: QuestionFilter, *, page: int, per_page: int):
    """One page of the bank's questions (LIMIT/OFFSET and COUNT in SQL)."""
    return db.paginate(
        question_query(bank, filters), page=max(page, 1), per_page=per_page, error_out=False
    )


def times_used(question: Question) -> int:
    """How many attempts hold this question (their frozen copies keep it meaningful)."""
    from quizapp.attempts.models import AttemptQuestion

    return db.session.scalar(
        select(func.count())
        .select_from(AttemptQuestion)
        .where(AttemptQuestion.question_id == question.id)
    )


# --- organizer pages: editing one question --------------------------------------------------


@dataclass
class OptionEdit:
    text: str
    correct: bool = False
    option_id: int | None = None  # an existing option of the question, kept (same id) if given


@dataclass
class QuestionEdit:
    """The new content of a question as typed on the edit page."""

    kind: str
    text: str
    options: list[OptionEdit]
    category_id: int
    difficulty: int = 1
    explanation: str | None = None
    source: str | None = None
    shuffle: bool = True


class QuestionInvalid(Invalid):
    """An edit that breaks the rules every bank question follows; `problems` says which."""

    def __init__(self, problems: list):
        super().__init__(problems[0])
        self.problems = problems


def check_question_edit(edit: QuestionEdit, bank: QuestionBank) -> tuple[list, list]:
    """Normalise an edit as the importer normalises files; return (errors, warnings).

    The rules are the importer's (check_questions): text, two to MAX_OPTIONS options with
    text, no duplicate, at least one correct, exactly one for single and true/false, two
    options for true/false; options referring to the others keep their order.
    """
    errors: list = []
    warnings: list = []
    edit.text = QUESTION_NUMBER.sub("", normalise_text(edit.text))
    edit.explanation = normalise_text(edit.explanation or "") or None
    edit.source = normalise_text(edit.source or "") or None
    for option in edit.options:
        option.text = normalise_text(option.text)
    if not edit.text:
        errors.append(_l("The question has no text."))
    elif len(edit.text) > MAX_TEXT:
        errors.append(_l("The question text is longer than %(n)s characters.", n=MAX_TEXT))
    if edit.kind not in {kind.value for kind in QuestionKind}:
        errors.append(_l("Choose the kind of question."))
    if edit.difficulty not in (1, 2, 3):
        errors.append(_l("The difficulty is 1, 2 or 3."))
    if not any(category.id == edit.category_id for category in bank.categories):
        errors.append(_l("Choose a category of this bank."))
    options = edit.options
    if any(not option.text for option in options):
        errors.append(_l("An option has no text: type it, or tick “Remove”."))
    if len(options) < 2:
        errors.append(_l("A question needs at least two options."))
    elif len(options) > MAX_OPTIONS:
        errors.append(_l("A question may have at most %(n)s options.", n=MAX_OPTIONS))
    duplicates = [
        text for text, n in Counter(text_key(o.text) for o in options).items() if n > 1 and text
    ]
    if duplicates:
        shown = next(o.text for o in options if text_key(o.text) == duplicates[0])
        errors.append(_l("The option “%(text)s” appears twice.", text=shown))
    correct = sum(option.correct for option in options)
    if options and correct == 0:
        errors.append(_l("Mark at least one option as correct."))
    elif edit.kind != QuestionKind.MULTIPLE and correct > 1:
        errors.append(
            _l(
                "A single-answer or true/false question has exactly one correct option; "
                "%(n)s are marked. Mark one, or make it a multiple-answer question.",
                n=correct,
            )
        )
    if edit.kind == QuestionKind.TRUE_FALSE and len(options) != 2:
        errors.append(_l("A true/false question has exactly two options."))
    if edit.kind == QuestionKind.TRUE_FALSE:
        edit.shuffle = False
    elif any(POSITIONAL_OPTION.search(option.text) for option in options):
        if edit.shuffle:
            warnings.append(
                _l(
                    "An option refers to the others (e.g. “Tất cả các đáp án trên”), so the "
                    "options keep their order."
                )
            )
        edit.shuffle = False
    return errors, warnings


def question_summary(question: Question) -> dict:
    """The editable content of a question, for the audit log's before/after."""
    return {
        "kind": question.kind,
        "text": question.text,
        "explanation": question.explanation,
        "source": question.source,
        "difficulty": question.difficulty,
        "category": question.category.name,
        "shuffle": question.shuffle_options,
        "options": [[option.text, option.is_correct] for option in question.options],
    }


@dataclass
class EditResult:
    question: Question
    changed: list[str]
    warnings: list


def update_question(question: Question, edit: QuestionEdit, *, actor=None) -> EditResult:
    """Apply an edit (all or nothing) and audit it; attempts keep their frozen copies."""
    bank = question.category.bank
    errors, warnings = check_question_edit(edit, bank)
    if errors:
        raise QuestionInvalid(errors)
    before = question_summary(question)
    category = next(c for c in bank.categories if c.id == edit.category_id)
    kept = {option.id: option for option in question.options}
    question.kind = edit.kind
    question.text = edit.text
    question.explanation = edit.explanation
    question.source = edit.source
    question.difficulty = edit.difficulty
    question.category = category
    question.shuffle_options = edit.shuffle
    options = []
    for position, typed in enumerate(edit.options):
        option = kept.pop(typed.option_id, None) if typed.option_id else None
        option = option or Option()
        option.position = position
        option.text = typed.text
        option.is_correct = typed.correct
        options.append(option)
    question.options = options  # options left in `kept` are removed (delete-orphan)
    after = question_summary(question)
    changed = [key for key in after if after[key] != before[key]]
    if not changed:
        db.session.rollback()
        return EditResult(question, [], warnings)
    record(
        "question.edit",
        user=actor,
        target=_question_target(bank, question),
        question_id=question.id,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
    )
    db.session.commit()
    return EditResult(question, changed, warnings)


def _question_target(bank: QuestionBank, question: Question) -> str:
    label = question.external_id or f"#{question.id}"
    return f"{bank.name[:200]} / {label}"[:255]


def set_question_active(question: Question, active: bool, *, actor=None) -> None:
    """Deactivate (never drawn into new attempts) or reactivate a question; audited."""
    if question.is_active == active:
        return
    question.is_active = active
    record(
        "question.reactivate" if active else "question.deactivate",
        user=actor,
        target=_question_target(question.category.bank, question),
        question_id=question.id,
    )
    db.session.commit()


def delete_question(question: Question, *, actor=None) -> None:
    """Delete a question no attempt ever held; a used one can only be deactivated."""
    if times_used(question):
        raise Conflict(
            _l("Attempts have used this question, so it cannot be deleted; deactivate it instead.")
        )
    record(
        "question.delete",
        user=actor,
        target=_question_target(question.category.bank, question),
        question_id=question.id,
        question=question_summary(question),
    )
    db.session.delete(question)
    db.session.commit()
