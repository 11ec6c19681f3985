"""Question banks, their categories, questions and options."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizapp.clock import utcnow
from quizapp.db_types import UTCDateTime
from quizapp.extensions import db


class QuestionKind(enum.StrEnum):
    """The question types this platform grades."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"


class QuestionBank(db.Model):
    """A named collection of questions, grouped in categories."""

    __tablename__ = "question_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who imported it first: they may change it until a contest draws from it (quizapp.policy).
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    categories: Mapped[list[Category]] = relationship(
        back_populates="bank", order_by="Category.position", cascade="all, delete-orphan"
    )


class Category(db.Model):
    """A topic inside a bank; rounds draw questions by category."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("bank_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(default=0)

    bank: Mapped[QuestionBank] = relationship(back_populates="categories")
    questions: Mapped[list[Question]] = relationship(
        back_populates="category", order_by="Question.id", cascade="all, delete-orphan"
    )


class Question(db.Model):
    """A multiple-choice question; attempts keep a frozen copy, so edits never change them."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("bank_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default=QuestionKind.SINGLE)
    text: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    difficulty: Mapped[int] = mapped_column(default=1)
    source: Mapped[str | None] = mapped_column(Text)
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship(back_populates="questions")
    options: Mapped[list[Option]] = relationship(
        back_populates="question", order_by="Option.position", cascade="all, delete-orphan"
    )


class Option(db.Model):
    """One answer option of a question."""

    __tablename__ = "options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="options")
