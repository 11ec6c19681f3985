"""Rounds' draws and the banks that supply them.

A round draws its questions by category (and level) when each attempt starts. Two sides must
agree: the contest side, when a round's draw is set, and the bank side, when questions change
under a round already set. Both count what a category holds with `available_questions`, and add
up a round's lines on the same category and level, since one attempt never draws a question
twice. This module imports the models of both packages and neither package's services, so both
may use it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from quizapp.banks.models import Category, Question
from quizapp.contests.models import Contest, Round, RoundDraw
from quizapp.errors import Conflict
from quizapp.extensions import db


def available_questions(category_id: int, difficulty: int | None) -> int:
    """Active questions of the category (of that difficulty, when one is given)."""
    query = select(func.count()).where(
        Question.category_id == category_id, Question.is_active.is_(True)
    )
    if difficulty:
        query = query.where(Question.difficulty == difficulty)
    return db.session.scalar(query)


@dataclass(frozen=True)
class Place:
    """Where an active question counts for draws: its category and difficulty."""

    category_id: int
    difficulty: int

    def counts_for(self, category_id: int, difficulty: int | None) -> bool:
        """Whether a draw line on this category (and level, if it names one) may draw it."""
        return self.category_id == category_id and difficulty in (None, self.difficulty)


def place_of(question: Question) -> Place | None:
    """Where the question counts now; None while it is inactive (never drawn)."""
    return Place(question.category_id, question.difficulty) if question.is_active else None


@dataclass(frozen=True)
class QuestionMove:
    """One question's change as draws see it: None where it is not drawable (new, inactive,
    deleted)."""

    before: Place | None
    after: Place | None


@dataclass
class DrawShortfall:
    """A round that a change would leave with fewer questions than it draws."""

    contest_title: str
    round_number: int
    round_title: str
    category: str
    difficulty: int | None
    needed: int
    remaining: int

    @property
    def text(self) -> str:
        """English, for the command line and logs."""
        level = f" of difficulty {self.difficulty}" if self.difficulty else ""
        return (
            f"{self.contest_title!r}, round {self.round_number} ({self.round_title}) draws "
            f"{self.needed} questions{level} from {self.category!r}; this change would leave "
            f"{self.remaining}"
        )

    @property
    def message(self):
        """For people, translated when shown."""
        values = dict(
            contest=self.contest_title,
            number=self.round_number,
            round=self.round_title,
            category=self.category,
            needed=self.needed,
            remaining=self.remaining,
        )
        if self.difficulty:
            return _l(
                "“%(contest)s”, round %(number)s (%(round)s) draws %(needed)s questions of "
                "difficulty %(level)s from the category “%(category)s”; this change would leave "
                "%(remaining)s.",
                level=self.difficulty,
                **values,
            )
        return _l(
            "“%(contest)s”, round %(number)s (%(round)s) draws %(needed)s questions from the "
            "category “%(category)s”; this change would leave %(remaining)s.",
            **values,
        )


class DrawShort(Conflict):
    """A change to questions refused: an open or scheduled round would draw short."""

    code = "draw_short"

    def __init__(self, shortfalls: list[DrawShortfall]):
        super().__init__(
            _l(
                "Nothing was changed: an open or scheduled round draws from these questions. "
                "%(rounds)s Add questions to the category first, or change the round's draw.",
                rounds=" ".join(str(s.message) for s in shortfalls),
            )
        )
        self.shortfalls = shortfalls


def draw_shortfalls(
    moves: Iterable[QuestionMove], now: datetime, *, lock: bool = False
) -> list[DrawShortfall]:
    """The rounds still to close at `now` that these moves would leave short of questions.

    Each round's lines on a category and level are added up; a line on a category with no
    level counts every difficulty. A need is refused when what would remain is below it and
    below what the category holds now, so a change that adds questions to a category already
    short (a reactivation) is never refused. `lock` (for a change about to be written) holds
    the categories' rows until the commit, so that on PostgreSQL two changes to one category
    are checked one after the other (SQLite's writers take turns anyway).
    """
    moves = [move for move in moves if move.before != move.after]
    touched = {place.category_id for move in moves for place in (move.before, move.after) if place}
    if not touched:
        return []
    if lock:
        db.session.execute(
            select(Category.id)
            .where(Category.id.in_(touched))
            .order_by(Category.id)
            .with_for_update()
        ).all()
    needs: dict[tuple[int, int, int | None], int] = defaultdict(int)
    rounds: dict[int, tuple[Round, Contest]] = {}
    categories: dict[int, str] = {}
    for line, round_, contest, category_name in db.session.execute(
        select(RoundDraw, Round, Contest, Category.name)
        .join(Round, RoundDraw.round_id == Round.id)
        .join(Contest, Round.contest_id == Contest.id)
        .join(Category, RoundDraw.category_id == Category.id)
        .where(RoundDraw.category_id.in_(touched), Round.closes_at > now)
        .order_by(Contest.id, Round.number, RoundDraw.position)
    ):
        needs[(round_.id, line.category_id, line.difficulty)] += line.count
        rounds[round_.id] = (round_, contest)
        categories[line.category_id] = category_name
    held: dict[tuple[int, int | None], int] = {}
    shortfalls = []
    for (round_id, category_id, difficulty), needed in needs.items():
        key = (category_id, difficulty)
        if key not in held:
            held[key] = available_questions(category_id, difficulty)
        gained = sum(
            bool(move.after and move.after.counts_for(category_id, difficulty))
            - bool(move.before and move.before.counts_for(category_id, difficulty))
            for move in moves
        )
        remaining = held[key] + gained
        if remaining < needed and gained < 0:
            round_, contest = rounds[round_id]
            shortfalls.append(
                DrawShortfall(
                    contest_title=contest.title,
                    round_number=round_.number,
                    round_title=round_.title,
                    category=categories[category_id],
                    difficulty=difficulty,
                    needed=needed,
                    remaining=remaining,
                )
            )
    return shortfalls


def refuse_short_draws(moves: Iterable[QuestionMove], now: datetime) -> None:
    """Raise DrawShort, naming each round, when these moves would leave one short."""
    shortfalls = draw_shortfalls(moves, now, lock=True)
    if shortfalls:
        raise DrawShort(shortfalls)
