"""Reading banks: the bank list, one bank's questions (search, pages), exports."""

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from quizapp.banks.formats import ParsedBank, ParsedOption, ParsedQuestion, writer_for, writer_names
from quizapp.banks.models import Category, Question, QuestionBank
from quizapp.banks.rules import normalise_text
from quizapp.errors import Invalid, NotFound
from quizapp.extensions import db


@dataclass
class BankSummary:
    name: str
    questions: int
    categories: list[tuple[str, int]]


def list_banks() -> list[BankSummary]:
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
