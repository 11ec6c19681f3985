"""Finishing an attempt: submit, expiry past deadline + grace, and the score from what was saved.

An attempt past deadline + grace is expired: scored from what was saved, with submitted_at =
deadline (DESIGN.md §3), whenever it is closed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, or_, select

from quizapp.attempts.models import Answer, Attempt, AttemptQuestion, AttemptStatus
from quizapp.auth.models import User
from quizapp.contests.models import Round
from quizapp.contests.round_results import count_prediction, prediction_uncounted, record_result
from quizapp.database import begin_writing
from quizapp.errors import NotFound
from quizapp.extensions import db
from quizapp.policy import shows_score


@dataclass(frozen=True)
class AttemptResult:
    attempt_id: int
    status: str
    score: int
    max_score: int
    correct_count: int
    question_count: int
    duration_seconds: float
    submitted_at: datetime
    score_shown: bool  # the round's review policy tells its owner the score


def save_deadline(attempt: Attempt, round_: Round) -> datetime:
    return attempt.deadline + timedelta(seconds=round_.grace_seconds)


def expire_if_overdue(attempt: Attempt, now: datetime) -> bool:
    """Lazy expiry: an in-progress attempt past deadline + grace is closed at its deadline."""
    if not (attempt.is_in_progress and now > save_deadline(attempt, attempt.round)):
        return False
    begin_writing(db.session)  # a read request (GET) writes from here on
    db.session.refresh(attempt)  # as it stands under the write lock: closed meanwhile?
    if not attempt.is_in_progress:
        return False
    _finish(attempt, now)
    return True


def submit_attempt(user: User, attempt_id: int, now: datetime) -> AttemptResult:
    """Finish the attempt and score it; a second submit returns the first result."""
    attempt = db.session.scalar(select(Attempt).where(Attempt.id == attempt_id).with_for_update())
    if attempt is None or attempt.user_id != user.id:
        raise NotFound(_l("No such attempt."))
    if attempt.is_in_progress:
        _finish(attempt, now)
        db.session.commit()
    return result_of(attempt)


def _finish(attempt: Attempt, now: datetime) -> None:
    """Close and score from what was saved; late closes are stamped at the deadline."""
    if now > save_deadline(attempt, attempt.round):
        attempt.status = AttemptStatus.EXPIRED
        attempt.submitted_at = attempt.deadline
    else:
        attempt.status = AttemptStatus.SUBMITTED
        attempt.submitted_at = now
    attempt.duration = (
        min(attempt.submitted_at, attempt.deadline) - attempt.started_at
    ).total_seconds()
    rows = db.session.execute(
        select(AttemptQuestion.snapshot, Answer.selected)
        .join(Answer, Answer.attempt_question_id == AttemptQuestion.id)
        .where(AttemptQuestion.attempt_id == attempt.id)
    ).all()
    correct = sum(1 for snapshot, selected in rows if is_correct(snapshot, selected))
    attempt.correct_count = correct
    attempt.score = correct
    attempt.max_score = len(rows)
    record_result(attempt)  # the person's counted entry, which the leaderboard reads


def is_correct(snapshot: dict, selected: list[int]) -> bool:
    """All or nothing: exactly the correct options, no more, no fewer."""
    correct = {option["id"] for option in snapshot["options"] if option["correct"]}
    return bool(correct) and set(selected or []) == correct


def result_of(attempt: Attempt) -> AttemptResult:
    return AttemptResult(
        attempt_id=attempt.id,
        status=attempt.status,
        score=attempt.score or 0,
        max_score=attempt.max_score,
        correct_count=attempt.correct_count or 0,
        question_count=attempt.max_score,
        duration_seconds=attempt.duration or 0.0,
        submitted_at=attempt.submitted_at,
        score_shown=shows_score(attempt.round),
    )


def settle_rounds(rounds: Iterable[Round], now: datetime) -> int:
    """Make these rounds what a read at `now` must find, before it reads; returns how many
    attempts it closed.

    What a read needs settled: attempts past deadline + grace expired (scored from what was
    saved, at their deadline), and a final round's prediction count fixed (which reorders its
    counted entries). Boards, statistics and reports call this first, for the rounds they read
    and no others; `close_expired` runs it for every round that needs it. It writes in a
    transaction of its own that takes the write lock (`begin_writing`), and only when
    something is unsettled: for settled rounds it is one cheap read, and never the lock.
    """
    rounds = list(rounds)
    overdue_in = {round_.id: _overdue_in(round_, now) for round_ in rounds}
    if not overdue_in:
        return 0
    overdue = db.session.scalars(
        select(Attempt.round_id)
        .where(Attempt.status == AttemptStatus.IN_PROGRESS, or_(*overdue_in.values()))
        .distinct()
    ).all()
    uncounted = [round_ for round_ in rounds if prediction_uncounted(round_, now)]
    if not (overdue or uncounted):
        return 0
    begin_writing(db.session)  # what was read is read again under the lock
    closed = 0
    if overdue:
        attempts = db.session.scalars(
            select(Attempt)
            .where(
                Attempt.status == AttemptStatus.IN_PROGRESS,
                or_(*(overdue_in[round_id] for round_id in overdue)),
            )
            .order_by(Attempt.id)  # one order of row locks for every worker
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for attempt in attempts:
            _finish(attempt, now)
        closed = len(attempts)
    for round_ in uncounted:  # after its attempts are closed: they count
        count_prediction(round_, now)
    db.session.commit()
    return closed


def _overdue_in(round_: Round, now: datetime) -> ColumnElement[bool]:
    """Attempts of `round_` whose deadline and grace have passed at `now` (if in progress)."""
    return and_(
        Attempt.round_id == round_.id,
        Attempt.deadline < now - timedelta(seconds=round_.grace_seconds),
    )


def close_expired(now: datetime) -> int:
    """The sweeper (`flask attempts close-expired`): settle every round with an attempt past
    deadline + grace or a prediction count still to fix; returns how many attempts it closed."""
    with_overdue = select(Attempt.round_id).where(
        Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline < now
    )
    uncounted = and_(
        Round.prediction_question.is_not(None),
        Round.prediction_actual.is_(None),
        Round.closes_at < now,
    )
    rounds = db.session.scalars(select(Round).where(or_(Round.id.in_(with_overdue), uncounted)))
    return settle_rounds(rounds.all(), now)
