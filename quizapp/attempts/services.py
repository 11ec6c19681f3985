"""Taking a round: start, save answers, submit, expire. The server's clock is the only clock.

Rules (DESIGN.md §3):
- deadline = min(started_at + time_limit, round.closes_at);
- a save is accepted while now <= deadline + grace; later saves change nothing;
- submit is always accepted and idempotent;
- an attempt past deadline + grace is expired, scored from what was saved, submitted_at = deadline;
- duration = min(submitted_at, deadline) - started_at.

Starting and reading live here; the answer save in `saving`, finishing and expiry in
`scoring`, both offered here too.
"""

import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from quizapp.attempts.models import Answer, Attempt, AttemptQuestion, AttemptStatus
from quizapp.attempts.saving import SavedAnswer, in_progress, save_answer
from quizapp.attempts.scoring import (
    AttemptResult,
    close_expired,
    expire_if_overdue,
    is_correct,
    result_of,
    save_deadline,
    settle_rounds,
    submit_attempt,
)
from quizapp.auth.models import User
from quizapp.banks.models import Question
from quizapp.contests.models import Round
from quizapp.database import begin_writing
from quizapp.errors import Conflict, Invalid, NotFound
from quizapp.extensions import db
from quizapp.policy import may_enter

__all__ = [
    "AttemptResult",
    "SavedAnswer",
    "attempt_deadline",
    "attempts_of",
    "close_expired",
    "expire_if_overdue",
    "get_attempt",
    "history",
    "in_progress",
    "in_progress_attempt",
    "is_correct",
    "local_day",
    "remaining_seconds",
    "result_of",
    "save_answer",
    "save_deadline",
    "save_prediction",
    "settle_rounds",
    "start_attempt",
    "submit_attempt",
]

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_day(moment: datetime) -> date:
    """The calendar day in Vietnam, which the per-day attempt limit counts by."""
    return moment.astimezone(LOCAL_TZ).date()


def attempt_deadline(started_at: datetime, round_: Round) -> datetime:
    """DESIGN §3: the time limit from the start, but never past the round's close."""
    return min(started_at + round_.time_limit, round_.closes_at)


def remaining_seconds(attempt: Attempt, now: datetime) -> float:
    if not attempt.is_in_progress:
        return 0.0
    return max(0.0, (attempt.deadline - now).total_seconds())


# --- reading -------------------------------------------------------------------------------


def get_attempt(user: User, attempt_id: int, now: datetime) -> Attempt:
    """The user's own attempt, expired first if its time is up; anyone else's is 404."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != user.id:
        raise NotFound(_l("No such attempt."))
    if expire_if_overdue(attempt, now):
        db.session.commit()
    return attempt


def in_progress_attempt(user: User, round_: Round) -> Attempt | None:
    return db.session.scalar(
        select(Attempt).where(
            Attempt.user_id == user.id,
            Attempt.round_id == round_.id,
            Attempt.status == AttemptStatus.IN_PROGRESS,
        )
    )


def attempts_of(user: User, round_: Round) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.user_id == user.id, Attempt.round_id == round_.id)
            .order_by(Attempt.number)
        )
    )


def history(user: User, now: datetime) -> list[Attempt]:
    """Every attempt of the user, newest first; overdue ones are closed on the way."""
    attempts = list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.user_id == user.id)
            .options(selectinload(Attempt.round).selectinload(Round.contest))
            .order_by(Attempt.started_at.desc())
        )
    )
    if sum(expire_if_overdue(attempt, now) for attempt in attempts):
        db.session.commit()
    return attempts


# --- starting ------------------------------------------------------------------------------


def start_attempt(
    user: User,
    round_: Round,
    now: datetime,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    rng: random.Random | None = None,
) -> tuple[Attempt, bool]:
    """Resume the attempt in progress, or start a new one; returns (attempt, created).

    The database has the last word: attempt numbers, per-day numbers and "one attempt in
    progress" are unique constraints, so simultaneous Start presses make one attempt.
    """
    current = in_progress_attempt(user, round_)
    if current is not None:
        if not expire_if_overdue(current, now):
            return current, False
        db.session.commit()
    if now < round_.opens_at:
        raise Conflict(_l("This round has not opened yet."), code="round_not_open")
    if now >= round_.closes_at:
        raise Conflict(_l("This round is closed."), code="round_closed")
    if not may_enter(user, round_.contest):
        raise NotFound(_l("No such round."))

    day = local_day(now)
    used, used_today = db.session.execute(
        select(func.count(), func.count().filter(Attempt.day == day)).where(
            Attempt.user_id == user.id, Attempt.round_id == round_.id
        )
    ).one()
    refusal = None
    if used >= round_.max_attempts:
        refusal = Conflict(
            _l("You have used all %(n)s attempts for this round.", n=round_.max_attempts),
            code="attempt_limit",
        )
    elif round_.daily_limit and used_today >= round_.daily_limit:
        refusal = Conflict(
            _l(
                "You have used all %(n)s attempts allowed today; come back tomorrow.",
                n=round_.daily_limit,
            ),
            code="daily_limit",
        )
    if refusal is not None:
        # A simultaneous Start of this person's may have begun an attempt after the look for
        # one in progress above (on PostgreSQL each statement sees what was committed before
        # it): this press resumes that attempt rather than being told the attempts are used up.
        if (started := in_progress_attempt(user, round_)) is not None:
            return started, False
        raise refusal

    attempt = Attempt(
        user_id=user.id,
        round_id=round_.id,
        number=used + 1,
        day=day,
        day_number=used_today + 1,
        status=AttemptStatus.IN_PROGRESS,
        started_at=now,
        deadline=attempt_deadline(now, round_),
        max_score=round_.question_count,
        ip=ip,
        user_agent=(user_agent or "")[:512] or None,
    )
    questions = _draw_questions(round_, rng or random.SystemRandom())
    # Only the inserts hold SQLite's write lock (in a `reads_first` view). The counts above may
    # be stale by then: the unique constraints catch a Start that won meanwhile.
    begin_writing(db.session)
    db.session.add(attempt)
    try:
        db.session.flush()  # the attempt's id
        _insert_questions(attempt, questions)
        db.session.commit()
    except IntegrityError:
        # Another request for the same person won the race: hand back its attempt.
        db.session.rollback()
        current = in_progress_attempt(user, round_)
        if current is None:
            raise Conflict(
                _l("Another attempt was just started or finished; reload the page."),
                code="attempt_race",
            ) from None
        return current, False
    return attempt, True


def _draw_questions(round_: Round, rng: random.Random) -> list[dict]:
    """Draw the blueprint at random and freeze each question with its option order: the rows
    of attempt_questions, but for the attempt's id."""
    chosen: list[int] = []
    for draw in round_.draws:
        query = select(Question.id).where(
            Question.category_id == draw.category_id, Question.is_active.is_(True)
        )
        if draw.difficulty:
            query = query.where(Question.difficulty == draw.difficulty)
        pool = [qid for qid in db.session.scalars(query) if qid not in chosen]
        if len(pool) < draw.count:
            raise Conflict(
                _l(
                    "This round asks for more questions than its bank holds; "
                    "please tell the organizers."
                ),
                code="blueprint_short",
            )
        chosen.extend(rng.sample(pool, draw.count))
    if not chosen:
        raise Conflict(_l("This round has no questions yet."), code="blueprint_empty")
    questions = {
        q.id: q
        for q in db.session.scalars(
            select(Question).where(Question.id.in_(chosen)).options(selectinload(Question.options))
        )
    }
    rng.shuffle(chosen)
    rows = []
    for position, question_id in enumerate(chosen, start=1):
        question = questions[question_id]
        options = list(question.options)
        if question.shuffle_options:
            rng.shuffle(options)
        # Each attempt numbers its options afresh: bank ids follow the file's order, and banks
        # mostly list the right answer first, so the browser must never see them.
        numbers = rng.sample(range(1, 2**31), len(options))
        rows.append(
            {
                "question_id": question.id,
                "position": position,
                "snapshot": {
                    "kind": question.kind,
                    "text": question.text,
                    "explanation": question.explanation,
                    "source": question.source,
                    "options": [
                        {"id": number, "option_id": o.id, "text": o.text, "correct": o.is_correct}
                        for number, o in zip(numbers, options, strict=True)
                    ],
                },
            }
        )
    return rows


def _insert_questions(attempt: Attempt, questions: list[dict]) -> None:
    """The drawn questions and an empty answer to each: two statements, not one per row (the
    ORM inserts rows one by one when it must learn their ids, and this runs under the lock)."""
    db.session.execute(
        insert(AttemptQuestion), [{**row, "attempt_id": attempt.id} for row in questions]
    )
    db.session.execute(
        insert(Answer).from_select(
            ["attempt_id", "attempt_question_id", "selected", "revision"],
            select(
                AttemptQuestion.attempt_id,
                AttemptQuestion.id,
                literal([], JSON),
                literal(0),
            ).where(AttemptQuestion.attempt_id == attempt.id),
        )
    )


# --- the prediction question ---------------------------------------------------------------


PREDICTION_MAX = 10**9  # the prediction column is an INTEGER


def prediction_range_message():
    return _l(
        "The prediction must be a whole number from 0 to %(maximum)s.",
        maximum=format_number(PREDICTION_MAX),
    )


def save_prediction(user: User, attempt_id: int, value, now: datetime) -> int:
    """Store the answer to the round's prediction question (a whole number ≥ 0)."""
    attempt = get_attempt(user, attempt_id, now)
    if not attempt.round.prediction_question:
        raise Invalid(_l("This round has no prediction question."), code="no_prediction")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= PREDICTION_MAX:
        raise Invalid(prediction_range_message())
    if not attempt.is_in_progress:
        raise Conflict(
            _l("This attempt has been submitted; the prediction can no longer change."),
            code="attempt_closed",
        )
    if now > save_deadline(attempt, attempt.round):
        raise Conflict(_l("Time is up; the prediction was not saved."), code="deadline_passed")
    attempt.prediction = value
    db.session.commit()
    return value
