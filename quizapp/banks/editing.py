"""Editing one question on the organizer's pages: checked like an import, audited."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from quizapp.admin.services import record
from quizapp.banks.models import Option, Question, QuestionBank, QuestionKind
from quizapp.banks.queries import times_used
from quizapp.banks.rules import (
    MAX_OPTIONS,
    MAX_TEXT,
    POSITIONAL_OPTION,
    QUESTION_NUMBER,
    normalise_text,
    text_key,
)
from quizapp.draws import Place, QuestionMove, place_of, refuse_short_draws
from quizapp.errors import Conflict, Invalid
from quizapp.extensions import db


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


def update_question(
    question: Question, edit: QuestionEdit, *, actor=None, now: datetime
) -> EditResult:
    """Apply an edit (all or nothing) and audit it; attempts keep their frozen copies.

    A new category or difficulty that would leave a round still to close short of questions
    is refused (DrawShort, naming the round).
    """
    bank = question.category.bank
    errors, warnings = check_question_edit(edit, bank)
    if errors:
        raise QuestionInvalid(errors)
    moved_to = Place(edit.category_id, edit.difficulty) if question.is_active else None
    refuse_short_draws([QuestionMove(place_of(question), moved_to)], now)
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


def set_question_active(question: Question, active: bool, *, actor=None, now: datetime) -> None:
    """Deactivate (never drawn into new attempts) or reactivate a question; audited.

    A deactivation that would leave a round still to close short of questions is refused
    (DrawShort, naming the round).
    """
    if question.is_active == active:
        return
    if not active:
        refuse_short_draws([QuestionMove(place_of(question), None)], now)
    question.is_active = active
    record(
        "question.reactivate" if active else "question.deactivate",
        user=actor,
        target=_question_target(question.category.bank, question),
        question_id=question.id,
    )
    db.session.commit()


def delete_question(question: Question, *, actor=None, now: datetime) -> None:
    """Delete a question no attempt ever held; a used one can only be deactivated.

    Like a deactivation, refused when a round still to close would draw short without it.
    """
    if times_used(question):
        raise Conflict(
            _l("Attempts have used this question, so it cannot be deleted; deactivate it instead.")
        )
    refuse_short_draws([QuestionMove(place_of(question), None)], now)
    record(
        "question.delete",
        user=actor,
        target=_question_target(question.category.bank, question),
        question_id=question.id,
        question=question_summary(question),
    )
    db.session.delete(question)
    db.session.commit()
