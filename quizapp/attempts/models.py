"""Attempts, the questions frozen into them, and the answers saved."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizapp.auth.models import User
from quizapp.contests.models import Round
from quizapp.db_types import UTCDateTime
from quizapp.extensions import db


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    EXPIRED = "expired"


# An entry (lượt thi): submitted, or closed at its deadline and scored from what was saved.
FINISHED = (AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED)


class Attempt(db.Model):
    """One person's go at a round; the server's deadline is the only clock."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "round_id", "number", name="uq_attempt_number"),
        UniqueConstraint("user_id", "round_id", "day", "day_number", name="uq_attempt_day_number"),
        Index(
            "uq_attempt_one_in_progress",
            "user_id",
            "round_id",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
        Index("ix_attempts_round_status", "round_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    number: Mapped[int]
    day: Mapped[date]  # local date (Asia/Ho_Chi_Minh) the attempt started, for the daily limit
    day_number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None]
    max_score: Mapped[int]
    correct_count: Mapped[int | None]
    duration: Mapped[float | None]  # seconds, sub-second precision kept
    prediction: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))

    user: Mapped[User] = relationship()
    round: Mapped[Round] = relationship()
    questions: Mapped[list[AttemptQuestion]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position", cascade="all, delete-orphan"
    )

    @property
    def is_in_progress(self) -> bool:
        return self.status == AttemptStatus.IN_PROGRESS


class AttemptQuestion(db.Model):
    """A question as this attempt shows it: a frozen copy with its own option order."""

    __tablename__ = "attempt_questions"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        UniqueConstraint("attempt_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    position: Mapped[int]
    # {"kind", "text", "explanation", "options": [{"id", "option_id", "text", "correct"}]} in
    # display order; "id" is this attempt's own number for the option (what the browser sees and
    # answers hold), "option_id" the bank's (absent from snapshots taken before it was added).
    snapshot: Mapped[dict] = mapped_column(JSON)

    attempt: Mapped[Attempt] = relationship(back_populates="questions")
    # One answer per question, read with it (a page of 30 questions is one query, not 31).
    answer: Mapped[Answer] = relationship(
        back_populates="attempt_question", uselist=False, lazy="joined"
    )

    @property
    def option_ids(self) -> list[int]:
        return [option["id"] for option in self.snapshot["options"]]

    @property
    def correct_ids(self) -> set[int]:
        return {option["id"] for option in self.snapshot["options"] if option["correct"]}


class Answer(db.Model):
    """The options selected for one question of one attempt; one row, revised in place."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("attempt_question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    attempt_question_id: Mapped[int] = mapped_column(
        ForeignKey("attempt_questions.id", ondelete="CASCADE")
    )
    selected: Mapped[list] = mapped_column(JSON, default=list)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision: Mapped[int] = mapped_column(default=0)

    attempt: Mapped[Attempt] = relationship()
    attempt_question: Mapped[AttemptQuestion] = relationship(back_populates="answer")


class RoundResult(db.Model):
    """Each person's counted entry in a round, kept by the scoring service (Moodle's quiz_grades).

    One row per (round, user), replaced when a finished attempt beats it under the round's
    counting rule, so a leaderboard's top rows are an index scan instead of a ranking of every
    attempt. `prediction_error` is filled in once the round is final and the actual count known.
    """

    __tablename__ = "round_results"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id", name="uq_round_result_person"),
        Index(
            "ix_round_results_board",
            "round_id",
            text("score DESC"),
            "duration",
            "submitted_at",
            "attempt_id",
        ),
        Index(
            "ix_round_results_final_board",
            "round_id",
            text("score DESC"),
            "prediction_error",
            "duration",
            "submitted_at",
            "attempt_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    score: Mapped[int]
    max_score: Mapped[int]
    duration: Mapped[float]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prediction: Mapped[int | None]
    prediction_error: Mapped[int | None] = mapped_column(BigInteger)  # 2**62: no prediction

    attempt: Mapped[Attempt] = relationship()
    user: Mapped[User] = relationship()
