"""The answer save, the hot path: one statement on PostgreSQL, a read and an UPDATE on SQLite.

A save is accepted while now <= deadline + grace, by the attempt's owner in the session that
started it, for options of the question's frozen snapshot; anything else changes nothing and
says why (DESIGN.md §3).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Integer, and_, bindparam, exists, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY

from quizapp.attempts.models import Answer, Attempt, AttemptQuestion, AttemptStatus
from quizapp.attempts.scoring import expire_if_overdue
from quizapp.auth.models import User
from quizapp.auth.services import ClaimedUser
from quizapp.banks.models import QuestionKind
from quizapp.contests.models import Round
from quizapp.database import READ_ALONE, begin_writing, begin_writing_aside
from quizapp.db_types import UTCDateTime
from quizapp.errors import Conflict, Invalid, NotFound, ServiceError, Unauthorized
from quizapp.extensions import db


@dataclass(frozen=True)
class SavedAnswer:
    saved_at: datetime
    revision: int


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
    """SQLite: the read outside the write lock, then the UPDATE under it, on a pool connection
    of their own, outside the ORM session (whose life around them costs more than the
    statements, bench/RESULTS.md). `claim` is the caller's (id, session epoch). The new
    revision when every rule held and the UPDATE applied; otherwise None, and the
    two-statement path through the session says why."""
    with db.engine.connect().execution_options(**READ_ALONE) as connection:
        row = connection.execute(  # autocommitted: no BEGIN, no COMMIT of its own
            _SAVE_TARGET, {"attempt_id": attempt_id, "question_id": question_id}
        ).one_or_none()
        if _refusal(row, claim, now) is not None:
            return None
        selected = _validate_selection(option_ids, row.snapshot)
        statement, params = _save_statement(row.id, attempt_id, selected, now, base_revision)
        begin_writing_aside(connection)  # queues for the write lock
        revision = connection.execute(statement, params).scalar()
        if revision is None:
            return None  # the UPDATE applied nothing; closing the connection rolls back
        connection.commit()
        return revision


def _save_in_one_statement(
    claim: tuple[int, int],
    attempt_id: int,
    question_id: int,
    option_ids: list,
    now: datetime,
    base_revision: int | None,
) -> int | None:
    """PostgreSQL: the whole save in one autocommitted statement. The new revision when it
    applied; otherwise None, and the two-statement path through the session says why."""
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
    with db.engine.connect() as connection:
        # Autocommitted: no BEGIN, no COMMIT, one round trip. The pool switches the connection
        # back to its transactions before it lends it again.
        connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection.execute(statement, params).scalar()


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
