"""Contests, their rounds, and the blueprint each round draws its questions by."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizapp.auth.models import Unit, User
from quizapp.banks.models import Category
from quizapp.clock import utcnow
from quizapp.db_types import UTCDateTime
from quizapp.extensions import db

DEFAULT_RANKING = ["score", "prediction", "duration", "submitted_at", "attempt_id"]


class Counting(enum.StrEnum):
    """Which of a person's attempts counts."""

    BEST = "best"
    LAST = "last"
    FIRST = "first"


class ReviewPolicy(enum.StrEnum):
    """What a participant sees after submitting."""

    NONE = "none"
    SCORE = "score"
    AFTER_CLOSE = "after_close"
    IMMEDIATE = "immediate"


class PredictionTarget(enum.StrEnum):
    """The count the prediction question asks about."""

    PARTICIPANTS = "participants"
    PERFECT_SCORES = "perfect_scores"


contest_units = Table(
    "contest_units",
    db.metadata,
    Column("contest_id", ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)

contest_organizers = Table(
    "contest_organizers",
    db.metadata,
    Column("contest_id", ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Contest(db.Model):
    """A contest (cuộc thi) with its rules text, audience and ranking rules."""

    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    rules: Mapped[str | None] = mapped_column(Text)
    self_registration: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    unit_rank_threshold: Mapped[float] = mapped_column(default=0.5)
    ranking: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_RANKING))
    public_leaderboard: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rounds: Mapped[list[Round]] = relationship(
        back_populates="contest", order_by="Round.number", cascade="all, delete-orphan"
    )
    audience: Mapped[list[Unit]] = relationship(secondary=contest_units)
    organizers: Mapped[list[User]] = relationship(secondary=contest_organizers)


class Round(db.Model):
    """A round (đợt / tuần thi): a window, a time limit and a draw of questions."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("contest_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(255))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    time_limit_minutes: Mapped[int] = mapped_column(default=20)
    max_attempts: Mapped[int] = mapped_column(default=3)
    daily_limit: Mapped[int | None]
    counting: Mapped[str] = mapped_column(String(16), default=Counting.BEST)
    review: Mapped[str] = mapped_column(String(16), default=ReviewPolicy.AFTER_CLOSE)
    grace_seconds: Mapped[int] = mapped_column(default=15)
    prediction_question: Mapped[str | None] = mapped_column(Text)
    prediction_target: Mapped[str | None] = mapped_column(String(32))
    prediction_actual: Mapped[int | None]

    contest: Mapped[Contest] = relationship(back_populates="rounds")
    draws: Mapped[list[RoundDraw]] = relationship(
        back_populates="round", order_by="RoundDraw.position", cascade="all, delete-orphan"
    )

    @property
    def time_limit(self) -> timedelta:
        return timedelta(minutes=self.time_limit_minutes)

    @property
    def question_count(self) -> int:
        return sum(draw.count for draw in self.draws)

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at


class RoundDraw(db.Model):
    """One line of a round's blueprint: how many questions from which category and level."""

    __tablename__ = "round_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    count: Mapped[int]
    difficulty: Mapped[int | None]

    round: Mapped[Round] = relationship(back_populates="draws")
    category: Mapped[Category] = relationship()


class ContestAccess(db.Model):
    """A participant who has entered a password-protected contest's password."""

    __tablename__ = "contest_access"

    contest_id: Mapped[int] = mapped_column(
        ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
