"""The one function that ranks a round (its docstring states the ranking chain), and the
cached boards people refresh."""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from quizapp.attempts.models import RoundResult
from quizapp.attempts.scoring import settle_rounds
from quizapp.auth.models import Unit, User
from quizapp.contests.board_cache import cache_call, version_key
from quizapp.contests.models import Round
from quizapp.contests.round_results import is_final, ranked_people, ranking_steps
from quizapp.extensions import db

__all__ = ["Standing", "cached_standings", "is_final", "ranked_people", "standings"]


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


def standings(round_: Round, now: datetime, limit: int | None = None) -> list[Standing]:
    """Rank each person's counted entry in a round.

    The counted entry follows the round's `counting` (best, last or first); for `best`, a
    person's own attempts are compared by the same chain as the board. The chain, in the
    contest's order (default below), decides between two rows at the first step that differs:

    1. score, high to low;
    2. |prediction - actual|, low to high; applied only once the round is final and the actual
       count is known (no prediction ranks after any prediction);
    3. duration, short to long;
    4. submitted_at, early to late;
    5. attempt id, low to high (always last, so the order is total).

    Organizers, admins and the contest's jury are never ranked. Each row's `decided_by` names
    the step that separated it from the row above. The rows come from `round_results` in the
    order of its board index, so the top of a board of a million entries is read, not sorted.
    """
    settle_rounds([round_], now)  # overdue attempts closed, a final round's count fixed
    steps = ranking_steps(round_)
    by_step = {
        "score": RoundResult.score.desc(),
        "prediction": RoundResult.prediction_error.asc(),
        "duration": RoundResult.duration.asc(),
        "submitted_at": RoundResult.submitted_at.asc(),
        "attempt_id": RoundResult.attempt_id.asc(),
    }
    query = (
        select(RoundResult, User.full_name, Unit.name)
        .join(User, User.id == RoundResult.user_id)
        .outerjoin(Unit, Unit.id == User.unit_id)
        .where(RoundResult.round_id == round_.id, *ranked_people(round_.contest_id))
        .order_by(*(by_step[step] for step in steps))
    )
    if limit:
        query = query.limit(limit)

    rows: list[Standing] = []
    previous = None
    for rank, (entry, name, unit) in enumerate(db.session.execute(query), 1):
        values = {
            "score": entry.score,
            "prediction": entry.prediction_error,
            "duration": entry.duration,
            "submitted_at": entry.submitted_at,
            "attempt_id": entry.attempt_id,
        }
        decided_by = None
        if previous is not None:
            decided_by = next(s for s in steps if values[s] != previous[s])
        previous = values
        rows.append(
            Standing(
                rank=rank,
                attempt_id=entry.attempt_id,
                user_id=entry.user_id,
                name=name,
                unit=unit,
                score=entry.score,
                max_score=entry.max_score,
                duration_seconds=entry.duration,
                prediction=entry.prediction,
                prediction_error=entry.prediction_error,
                submitted_at=entry.submitted_at,
                decided_by=decided_by,
            )
        )
    return rows


# --- the boards people refresh: cached standings ------------------------------------------


def cached_standings(round_: Round, now: datetime, limit: int = 100) -> list[Standing]:
    """`standings` for the leaderboards, from the cache (extensions.cache) when it can.

    A board is kept for STANDINGS_CACHE_SECONDS under its round's results version, which every
    commit that changes the round's results raises: the next look reads the database again.
    (The ranking chain is fixed once a round has results; a renamed person or unit shows
    within STANDINGS_CACHE_SECONDS.) With Redis the version and the boards are shared by
    every worker and host; in memory, another process's change shows within
    STANDINGS_CACHE_SECONDS. Exports and reports read `standings` itself.
    """
    seconds = current_app.config["STANDINGS_CACHE_SECONDS"]
    if not seconds:
        return standings(round_, now, limit)
    version = cache_call("get", version_key(round_.id)) or 0
    key = f"standings:{round_.id}:{limit}:{int(is_final(round_, now))}:{version}"
    rows = cache_call("get", key)
    if rows is None:
        rows = standings(round_, now, limit)
        cache_call("set", key, rows, timeout=seconds)
    return rows
