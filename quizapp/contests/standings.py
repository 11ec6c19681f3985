"""The one function that ranks a round, and the count its prediction question is judged by."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, distinct, func, literal, select

from quizapp.attempts.models import Attempt, AttemptStatus
from quizapp.auth.models import Role, Unit, User
from quizapp.contests.models import DEFAULT_RANKING, Round, contest_organizers
from quizapp.extensions import db

FINISHED = (AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED)
NO_PREDICTION = 2**62  # ranks after every real prediction error


@dataclass(frozen=True)
class Standing:
    rank: int
    attempt_id: int
    user_id: int
    name: str
    unit: str | None
    score: int
    max_score: int
    duration_seconds: float
    prediction: int | None
    prediction_error: int | None
    submitted_at: datetime
    decided_by: str | None  # the chain step that put this row below the one above


def is_final(round_: Round, now: datetime) -> bool:
    """Closed, and past the grace every last attempt may still use."""
    return now > round_.closes_at + timedelta(seconds=round_.grace_seconds)


def prediction_actual(round_: Round, now: datetime) -> int | None:
    """The count the prediction question names, fixed (and stored) once the round is final."""
    if not round_.prediction_question or not is_final(round_, now):
        return None
    if round_.prediction_actual is None:
        from quizapp.attempts.services import close_expired

        close_expired(now)
        ranked = _ranked_attempts(round_)
        if round_.prediction_target == "perfect_scores":
            query = select(func.count()).where(
                *ranked, Attempt.score == Attempt.max_score, Attempt.max_score > 0
            )
        else:
            query = select(func.count(distinct(Attempt.user_id))).where(*ranked)
        round_.prediction_actual = db.session.scalar(query.select_from(Attempt).join(User))
        db.session.commit()
    return round_.prediction_actual


def _ranked_attempts(round_: Round) -> tuple:
    """Finished attempts of people who may be ranked: not organizers, admins or the jury."""
    jury = select(contest_organizers.c.user_id).where(
        contest_organizers.c.contest_id == round_.contest_id
    )
    return (
        Attempt.round_id == round_.id,
        Attempt.status.in_(FINISHED),
        User.role.not_in((Role.ORGANIZER, Role.ADMIN)),
        User.id.not_in(jury),
    )


def standings(round_: Round, now: datetime, limit: int | None = None) -> list[Standing]:
    """Rank each person's counted attempt in a round.

    The counted attempt follows the round's `counting` (best, last or first); for `best`, a
    person's own attempts are compared by the same chain as the board. The chain, in the
    contest's order (default below), decides between two rows at the first step that differs:

    1. score, high to low;
    2. |prediction - actual|, low to high; applied only once the round is final and the actual
       count is known (no prediction ranks after any prediction);
    3. duration, short to long;
    4. submitted_at, early to late;
    5. attempt id, low to high (always last, so the order is total).

    Organizers, admins and the contest's jury are never ranked. Each row's `decided_by` names
    the step that separated it from the row above.
    """
    actual = prediction_actual(round_, now)
    steps = [s for s in (round_.contest.ranking or DEFAULT_RANKING) if s != "attempt_id"]
    if actual is None:
        steps = [s for s in steps if s != "prediction"]
    steps.append("attempt_id")

    error = (
        case(
            (Attempt.prediction.is_(None), literal(NO_PREDICTION)),
            else_=func.abs(Attempt.prediction - actual),
        )
        if actual is not None
        else literal(None)
    )
    key_columns = {
        "score": Attempt.score.desc(),
        "prediction": error.asc(),
        "duration": Attempt.duration.asc(),
        "submitted_at": Attempt.submitted_at.asc(),
        "attempt_id": Attempt.id.asc(),
    }
    chain = [key_columns[s] for s in steps]
    counted_order = {
        "best": chain,
        "last": [Attempt.submitted_at.desc(), Attempt.id.desc()],
        "first": [Attempt.submitted_at.asc(), Attempt.id.asc()],
    }[round_.counting]

    counted = (
        select(
            Attempt.id.label("attempt_id"),
            func.row_number()
            .over(partition_by=Attempt.user_id, order_by=counted_order)
            .label("pick"),
        )
        .join(User, User.id == Attempt.user_id)
        .where(*_ranked_attempts(round_))
        .subquery()
    )
    query = (
        select(Attempt, User.full_name, Unit.name, error.label("prediction_error"))
        .join(counted, and_(counted.c.attempt_id == Attempt.id, counted.c.pick == 1))
        .join(User, User.id == Attempt.user_id)
        .outerjoin(Unit, Unit.id == User.unit_id)
        .order_by(*chain)
    )
    if limit:
        query = query.limit(limit)

    rows: list[Standing] = []
    previous = None
    for rank, (attempt, name, unit, prediction_error) in enumerate(db.session.execute(query), 1):
        values = {
            "score": attempt.score,
            "prediction": prediction_error,
            "duration": attempt.duration,
            "submitted_at": attempt.submitted_at,
            "attempt_id": attempt.id,
        }
        decided_by = None
        if previous is not None:
            decided_by = next(s for s in steps if values[s] != previous[s])
        previous = values
        rows.append(
            Standing(
                rank=rank,
                attempt_id=attempt.id,
                user_id=attempt.user_id,
                name=name,
                unit=unit,
                score=attempt.score,
                max_score=attempt.max_score,
                duration_seconds=attempt.duration,
                prediction=attempt.prediction,
                prediction_error=prediction_error,
                submitted_at=attempt.submitted_at,
                decided_by=decided_by,
            )
        )
    return rows
