"""Taking a round: start, save answers, submit, expire. The server's clock is the only clock.

Rules (DESIGN.md §3):
- deadline = min(started_at + time_limit, round.closes_at);
- a save is accepted while now <= deadline + grace; later saves change nothing;
- submit is always accepted and idempotent;
- an attempt past deadline + grace is expired, scored from what was saved, submitted_at = deadline;
- duration = min(submitted_at, deadline) - started_at.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Integer,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from quizapp.attempts.models import Answer, Attempt, AttemptQuestion, AttemptStatus
from quizapp.auth.models import User
from quizapp.auth.services import ClaimedUser
from quizapp.banks.models import Question, QuestionKind
from quizapp.contests.models import Round
from quizapp.contests.standings import record_result
from quizapp.database import begin_writing, driver_connection, driver_statement
from quizapp.db_types import UTCDateTime
from quizapp.errors import Conflict, Invalid, NotFound, ServiceError, Unauthorized
from quizapp.extensions import db
from quizapp.policy import may_enter, shows_score

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


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


@dataclass(frozen=True)
class SavedAnswer:
    saved_at: datetime
    revision: int


def local_day(moment: datetime) -> date:
    """The calendar day in Vietnam, which the per-day attempt limit counts by."""
    return moment.astimezone(LOCAL_TZ).date()


def attempt_deadline(started_at: datetime, round_: Round) -> datetime:
    """DESIGN §3: the time limit from the start, but never past the round's close."""
    return min(started_at + round_.time_limit, round_.closes_at)


def save_deadline(attempt: Attempt, round_: Round) -> datetime:
    return attempt.deadline + timedelta(seconds=round_.grace_seconds)


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


# --- answering -----------------------------------------------------------------------------


# The hot path's statements, built once (building them costs as much as running them).
_ANSWERS = Answer.__table__
_SAVE_TARGET = (
    select(
        Attempt.user_id,
        User.session_epoch,
        Attempt.status,
        Attempt.deadline,
        Round.grace_seconds,
        AttemptQuestion.id,
        AttemptQuestion.snapshot,
    )
    .join(User, User.id == Attempt.user_id)
    .join(Round, Round.id == Attempt.round_id)
    .join(
        AttemptQuestion,
        and_(
            AttemptQuestion.attempt_id == Attempt.id,
            AttemptQuestion.question_id == bindparam("question_id"),
        ),
    )
    .where(Attempt.id == bindparam("attempt_id"))
    .with_for_update(read=True, of=Attempt)
)
_SAVE = (
    update(_ANSWERS)
    .where(
        _ANSWERS.c.attempt_question_id == bindparam("target"),
        exists().where(
            Attempt.id == bindparam("open_attempt"), Attempt.status == AttemptStatus.IN_PROGRESS
        ),
    )
    .values(
        selected=bindparam("new_selected"),
        saved_at=bindparam("new_saved_at"),
        revision=_ANSWERS.c.revision + 1,
    )
    .returning(_ANSWERS.c.revision)
)
_SAVE_ON_REVISION = _SAVE.where(_ANSWERS.c.revision == bindparam("seen_revision"))

# PostgreSQL: the whole save in one autocommitted statement, one round trip instead of four
# (BEGIN, the read, the UPDATE, COMMIT). It saves only when every rule holds; when it saves
# nothing, the two-statement path below says why (or closes an overdue attempt). The attempt's
# row is locked FOR SHARE, as in the two-statement path: a submit waits for the save, or the
# save sees the submitted status.
_ONE_STATEMENT_SAVE = """
UPDATE answers
SET selected = :selected, saved_at = :now, revision = answers.revision + 1
FROM attempt_questions AS aq
WHERE answers.attempt_question_id = aq.id
  AND aq.attempt_id = :attempt_id AND aq.question_id = :question_id {revision_check}
  AND (aq.snapshot ->> 'kind' = :multiple OR :count <= 1)
  AND :count = (
      SELECT count(*) FROM json_array_elements(aq.snapshot -> 'options') AS option
      WHERE (option ->> 'id')::integer = ANY(:option_ids))
  AND EXISTS (
      SELECT FROM attempts
      JOIN users ON users.id = attempts.user_id
      JOIN rounds ON rounds.id = attempts.round_id
      WHERE attempts.id = :attempt_id AND attempts.user_id = :user_id
        AND users.session_epoch = :session_epoch AND attempts.status = :in_progress
        AND attempts.deadline + rounds.grace_seconds * interval '1 second' >= :now
      FOR SHARE OF attempts)
RETURNING answers.revision
"""
_ONE_STATEMENT_BINDS = (
    bindparam("selected", type_=JSON),
    bindparam("now", type_=UTCDateTime),
    bindparam("option_ids", type_=ARRAY(Integer)),
)
_SAVE_IN_ONE, _SAVE_IN_ONE_ON_REVISION = (
    text(_ONE_STATEMENT_SAVE.format(revision_check=check))
    .bindparams(*_ONE_STATEMENT_BINDS)
    .columns(revision=Integer)
    for check in ("", "AND answers.revision = :seen_revision")
)


def save_answer(
    user: User | ClaimedUser,
    attempt_id: int,
    question_id: int,
    option_ids: list,
    now: datetime,
    *,
    base_revision: int | None = None,
) -> SavedAnswer:
    """Record the options chosen for one question: the hot path, one statement on PostgreSQL,
    a read and an UPDATE on SQLite.

    With `base_revision`, the save applies only if nobody saved since that revision (a second
    tab or a replayed request gets 409 and changes nothing). `user` may be the session's
    unchecked claim: its session epoch is checked here, against the attempt's owner.
    """
    revision = None
    claim = (user.id, user.session_epoch)  # an expired User is read (a transaction) here, first
    if not (db.session.registry.has() and db.session().in_transaction()):
        # The fast path works on a connection of its own, so never while this request's
        # session holds a transaction: it could hold a lock the fast path would wait for.
        fast_path = _save_aside if db.engine.dialect.name == "sqlite" else _save_in_one_statement
        revision = fast_path(claim, attempt_id, question_id, option_ids, now, base_revision)
    if revision is not None:
        return SavedAnswer(saved_at=now, revision=revision)
    # Here a refusal is explained, or the save is made inside the request's own transaction.
    connection = db.session.connection()  # Core statements, no ORM objects
    row = connection.execute(
        _SAVE_TARGET, {"attempt_id": attempt_id, "question_id": question_id}
    ).one_or_none()
    refusal = _refusal(row, claim, now)
    if refusal is not None:
        if refusal.code == "deadline_passed":
            # Close it under the row lock, as submit does: two late saves that both held the
            # shared lock above and then updated the row would deadlock on PostgreSQL.
            db.session.rollback()
            begin_writing(db.session)
            attempt = db.session.scalar(
                select(Attempt).where(Attempt.id == attempt_id).with_for_update()
            )
            expire_if_overdue(attempt, now)
            db.session.commit()
        raise refusal

    selected = _validate_selection(option_ids, row.snapshot)
    # The reads are done; on SQLite the write lock is taken from here to the commit only. A
    # submit committed in between is caught by the UPDATE's in-progress condition.
    begin_writing(db.session)
    statement, params = _save_statement(row.id, attempt_id, selected, now, base_revision)
    revision = db.session.connection().execute(statement, params).scalar()
    if revision is None:
        db.session.rollback()
        if base_revision is not None and in_progress(attempt_id):
            raise Conflict(
                _l("This answer was changed elsewhere (another tab or device); reload to see it."),
                code="stale_revision",
            )
        raise _attempt_closed()
    db.session.commit()
    return SavedAnswer(saved_at=now, revision=revision)


def _refusal(row, claim: tuple[int, int], now: datetime) -> ServiceError | None:
    """Why a save may not be made to the answer `row` (a `_SAVE_TARGET` row) by the person
    `claim` (id, session epoch) names: the first rule broken, or None when all hold."""
    if row is None or row.user_id != claim[0]:
        return NotFound(_l("No such attempt or question."))
    if row.session_epoch != claim[1]:  # logged out since (everywhere)
        return Unauthorized(_l("Log in first."))
    if row.status != AttemptStatus.IN_PROGRESS:
        return _attempt_closed()
    if now > row.deadline + timedelta(seconds=row.grace_seconds):
        return Conflict(_l("Time is up; this answer was not saved."), code="deadline_passed")
    return None


def _attempt_closed() -> Conflict:
    return Conflict(
        _l("This attempt has been submitted; answers can no longer change."),
        code="attempt_closed",
    )


def _save_statement(target: int, attempt_id: int, selected: list[int], now, base_revision):
    params = {
        "target": target,
        "open_attempt": attempt_id,
        "new_selected": selected,
        "new_saved_at": now,
    }
    if base_revision is None:
        return _SAVE, params
    return _SAVE_ON_REVISION, {**params, "seen_revision": base_revision}


def _save_aside(
    claim: tuple[int, int],
    attempt_id: int,
    question_id: int,
    option_ids: list,
    now: datetime,
    base_revision: int | None,
) -> int | None:
    """SQLite: the read (autocommitted, outside the write lock), then the UPDATE under the
    lock, on a pool connection of their own and straight on its cursor: the ORM session's life
    around them, and Core's around each statement, cost more than SQLite's work
    (bench/RESULTS.md). `claim` is the caller's (id, session epoch). The new revision when
    every rule held and the UPDATE applied; otherwise None, and the two-statement path through
    the session says why."""
    dialect = db.engine.dialect
    with driver_connection(db.engine) as connection:
        cursor = connection.cursor()
        row = driver_statement(_SAVE_TARGET, dialect).one_or_none(
            cursor, {"attempt_id": attempt_id, "question_id": question_id}
        )
        if _refusal(row, claim, now) is not None:
            return None
        selected = _validate_selection(option_ids, row.snapshot)
        statement, params = _save_statement(row.id, attempt_id, selected, now, base_revision)
        connection.driver_connection.begin_writing_in_place()  # queues for the write lock
        saved = driver_statement(statement, dialect).one_or_none(cursor, params)
        if saved is None:
            return None  # the UPDATE applied nothing; driver_connection rolls back
        connection.commit()
        return saved.revision


def _save_in_one_statement(
    claim: tuple[int, int],
    attempt_id: int,
    question_id: int,
    option_ids: list,
    now: datetime,
    base_revision: int | None,
) -> int | None:
    """PostgreSQL: the whole save in one autocommitted statement, on the DBAPI cursor as on
    SQLite. The new revision when it applied; otherwise None, and the two-statement path
    through the session says why."""
    if not (
        isinstance(option_ids, list)
        and all(type(option) is int and 0 < option < 2**31 for option in option_ids)
        and len(set(option_ids)) == len(option_ids)
    ):
        return None  # the two-statement path explains what is wrong with them
    params = {
        "attempt_id": attempt_id,
        "question_id": question_id,
        "user_id": claim[0],
        "session_epoch": claim[1],
        "selected": sorted(option_ids),
        "option_ids": option_ids,
        "count": len(option_ids),
        "multiple": QuestionKind.MULTIPLE.value,
        "in_progress": AttemptStatus.IN_PROGRESS.value,
        "now": now,
    }
    statement = _SAVE_IN_ONE
    if base_revision is not None:
        statement = _SAVE_IN_ONE_ON_REVISION
        params["seen_revision"] = base_revision
    # Autocommitted: no BEGIN, no COMMIT, one round trip.
    with driver_connection(db.engine, autocommit=True) as connection:
        saved = driver_statement(statement, db.engine.dialect).one_or_none(
            connection.cursor(), params
        )
    return None if saved is None else saved.revision


def in_progress(attempt_id: int) -> bool:
    status = db.session.scalar(select(Attempt.status).where(Attempt.id == attempt_id))
    return status == AttemptStatus.IN_PROGRESS


def _validate_selection(option_ids, snapshot: dict) -> list[int]:
    if not isinstance(option_ids, list) or not all(
        isinstance(option, int) and not isinstance(option, bool) for option in option_ids
    ):
        raise Invalid(_l("option_ids must be a list of option ids (integers)."))
    allowed = {option["id"] for option in snapshot["options"]}
    unknown = [option for option in option_ids if option not in allowed]
    if unknown:
        raise Invalid(
            _l("Options %(ids)s do not belong to this question.", ids=unknown),
            code="unknown_option",
        )
    if len(set(option_ids)) != len(option_ids):
        raise Invalid(_l("An option was chosen twice."))
    if snapshot["kind"] != QuestionKind.MULTIPLE and len(option_ids) > 1:
        raise Invalid(_l("This question takes exactly one answer."), code="single_answer")
    return sorted(option_ids)


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


# --- finishing -----------------------------------------------------------------------------


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


def close_expired(now: datetime) -> int:
    """Expire every in-progress attempt whose deadline and grace have passed; returns how many."""
    candidates = db.session.scalars(
        select(Attempt)
        .where(Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline < now)
        .options(selectinload(Attempt.round))
    ).all()
    closed = sum(1 for attempt in candidates if expire_if_overdue(attempt, now))
    db.session.commit()
    return closed


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
