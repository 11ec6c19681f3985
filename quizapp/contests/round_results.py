"""Each person's counted entry in a round (`round_results`), and the prediction's count.

The scoring service keeps the entries (`record_result` on every finished attempt);
`rebuild_results` derives the same rows from the attempts in one statement, for the moment the
prediction step comes in and for bulk loads. `standings` reads them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    case,
    cast,
    delete,
    distinct,
    func,
    insert,
    literal,
    null,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from quizapp.attempts.models import FINISHED, Attempt, RoundResult
from quizapp.auth.models import Role, User
from quizapp.contests.board_cache import results_changed
from quizapp.contests.models import DEFAULT_RANKING, Round, contest_organizers
from quizapp.extensions import db

NO_PREDICTION = 2**62  # ranks after every real prediction error


def is_final(round_: Round, now: datetime) -> bool:
    """Closed, and past the grace every last attempt may still use."""
    return now > round_.closes_at + timedelta(seconds=round_.grace_seconds)


def prediction_uncounted(round_: Round, now: datetime) -> bool:
    """A final round whose prediction question's count is still to be fixed (`count_prediction`)."""
    return (
        bool(round_.prediction_question)
        and round_.prediction_actual is None
        and is_final(round_, now)
    )


def count_prediction(round_: Round, now: datetime) -> None:
    """Fix (store) the count a final round's prediction question names, and derive its counted
    entries again with the prediction step. Inside the caller's write transaction, once the
    round's overdue attempts are closed (attempts.scoring.settle_rounds); the round's row is
    locked, so two workers settling it at once count it once."""
    round_ = db.session.scalar(
        select(Round)
        .where(Round.id == round_.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if not prediction_uncounted(round_, now):
        return
    ranked = _ranked_attempts(round_)
    if round_.prediction_target == "perfect_scores":
        query = select(func.count()).where(
            *ranked, Attempt.score == Attempt.max_score, Attempt.max_score > 0
        )
    else:
        query = select(func.count(distinct(Attempt.user_id))).where(*ranked)
    round_.prediction_actual = db.session.scalar(query.select_from(Attempt).join(User))
    rebuild_results(round_)  # the prediction step may change who counts which entry


def ranked_people(contest_id: int) -> tuple:
    """Conditions on User for people who may be ranked or counted: not organizers or admins
    (DESIGN §1), and not on this contest's own jury."""
    jury = select(contest_organizers.c.user_id).where(contest_organizers.c.contest_id == contest_id)
    return (User.role.not_in((Role.ORGANIZER, Role.ADMIN)), User.id.not_in(jury))


def _ranked_attempts(round_: Round) -> tuple:
    """Finished attempts of people who may be ranked."""
    return (
        Attempt.round_id == round_.id,
        Attempt.status.in_(FINISHED),
        *ranked_people(round_.contest_id),
    )


def ranking_steps(round_: Round) -> list[str]:
    """The contest's chain for this round: prediction only once its actual count is known."""
    steps = [s for s in (round_.contest.ranking or DEFAULT_RANKING) if s != "attempt_id"]
    if round_.prediction_actual is None:
        steps = [s for s in steps if s != "prediction"]
    return [*steps, "attempt_id"]


def prediction_error(prediction: int | None, actual: int | None) -> int | None:
    """|prediction - actual| once the actual is known; no prediction ranks after any."""
    if actual is None:
        return None
    return NO_PREDICTION if prediction is None else abs(prediction - actual)


def _counted_key(round_: Round, row) -> tuple:
    """Sort key (lowest wins) choosing a person's counted entry under the round's counting."""
    if round_.counting == "last":
        return (-row.submitted_at.timestamp(), -row.attempt_id)
    if round_.counting == "first":
        return (row.submitted_at, row.attempt_id)
    values = {
        "score": -row.score,
        "prediction": row.prediction_error,
        "duration": row.duration,
        "submitted_at": row.submitted_at,
        "attempt_id": row.attempt_id,
    }
    return tuple(values[step] for step in ranking_steps(round_))


@dataclass(frozen=True)
class _Entry:
    attempt_id: int
    score: int
    max_score: int
    duration: float
    submitted_at: datetime
    prediction: int | None
    prediction_error: int | None


def record_result(attempt: Attempt) -> None:
    """Make a just-finished attempt the person's counted entry if it beats the current one.

    Called by the scoring service inside its transaction. The first entry is an
    insert-or-nothing, so two closes of one attempt racing each other cannot collide.
    """
    round_ = attempt.round
    entry = _Entry(
        attempt_id=attempt.id,
        score=attempt.score or 0,
        max_score=attempt.max_score,
        duration=attempt.duration or 0.0,
        submitted_at=attempt.submitted_at,
        prediction=attempt.prediction,
        prediction_error=prediction_error(attempt.prediction, round_.prediction_actual),
    )
    fields = {name: getattr(entry, name) for name in _Entry.__dataclass_fields__}
    results_changed(round_.id)
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[db.session.get_bind().dialect.name]
    inserted = db.session.execute(
        dialect.insert(RoundResult)
        .values(round_id=round_.id, user_id=attempt.user_id, **fields)
        .on_conflict_do_nothing(index_elements=["round_id", "user_id"])
    )
    if inserted.rowcount == 1:
        return
    current = db.session.scalar(
        select(RoundResult)
        .where(RoundResult.round_id == round_.id, RoundResult.user_id == attempt.user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if _counted_key(round_, entry) < _counted_key(round_, current):
        for name, value in fields.items():
            setattr(current, name, value)


def _error_column(actual: int | None) -> ColumnElement:
    if actual is None:
        return cast(null(), BigInteger)
    return case(
        (Attempt.prediction.is_(None), literal(NO_PREDICTION, BigInteger)),
        else_=func.abs(Attempt.prediction - actual),
    )


def rebuild_results(round_: Round) -> None:
    """Derive every person's counted entry in the round from its finished attempts."""
    error = _error_column(round_.prediction_actual)
    by_step = {
        "score": Attempt.score.desc(),
        "prediction": error.asc(),
        "duration": Attempt.duration.asc(),
        "submitted_at": Attempt.submitted_at.asc(),
        "attempt_id": Attempt.id.asc(),
    }
    counted_order = {
        "best": [by_step[step] for step in ranking_steps(round_)],
        "last": [Attempt.submitted_at.desc(), Attempt.id.desc()],
        "first": [Attempt.submitted_at.asc(), Attempt.id.asc()],
    }[round_.counting]
    picked = (
        select(
            Attempt.round_id,
            Attempt.user_id,
            Attempt.id.label("attempt_id"),
            Attempt.score,
            Attempt.max_score,
            Attempt.duration,
            Attempt.submitted_at,
            Attempt.prediction,
            error.label("prediction_error"),
            func.row_number()
            .over(partition_by=Attempt.user_id, order_by=counted_order)
            .label("pick"),
        )
        .where(Attempt.round_id == round_.id, Attempt.status.in_(FINISHED))
        .subquery()
    )
    columns = [c for c in picked.c if c.name != "pick"]
    results_changed(round_.id)
    db.session.execute(delete(RoundResult).where(RoundResult.round_id == round_.id))
    db.session.execute(
        insert(RoundResult).from_select(
            [c.name for c in columns], select(*columns).where(picked.c.pick == 1)
        )
    )
