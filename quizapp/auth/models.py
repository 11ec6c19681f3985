"""Units (the organisation tree) and user accounts."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizapp.clock import utcnow
from quizapp.db_types import UTCDateTime
from quizapp.extensions import db


class Role(enum.StrEnum):
    """What an account may do."""

    PARTICIPANT = "participant"
    ORGANIZER = "organizer"
    HR = "hr"
    ADMIN = "admin"


class Unit(db.Model):
    """An organisational unit (đơn vị); units form a tree."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    headcount: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class User(UserMixin, db.Model):
    """A person with a login: participant, organizer, HR officer or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(255), unique=True)  # stored lower-cased
    full_name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.PARTICIPANT, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    employee_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    position: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(255))
    date_of_birth: Mapped[date | None]
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # On the staff roster of their unit (set by `roster import`); the roster gives the headcount.
    on_roster: Mapped[bool] = mapped_column(default=False, server_default=false(), index=True)
    roster_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Made by its owner at /register: the name, unit, phone and email are the owner's claim, not
    # HR's record. A roster import adopts such an account only when HR says so (and clears it).
    self_registered: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Part of the id kept in session and remember cookies; logging out raises it, so a cookie
    # copied before the logout no longer logs anyone in (sessions themselves are signed cookies).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    unit: Mapped[Unit | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    def get_id(self) -> str:
        """The session's user id: "<id>:<epoch>", so a logout ends every earlier session."""
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_staff(self) -> bool:
        """Organizers and admins run contests and never appear in rankings."""
        return self.role in (Role.ORGANIZER, Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.login}>"


class RateLimitHit(db.Model):
    """One counted hit of a rate limit (a failed login, a registration) until it leaves the
    limit's moving window: the limits' store when no Redis is configured (auth.limit_store)."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_expires_at", "key", "expires_at"),)

    # 64 bits on PostgreSQL (ids are never reused); SQLite's rowid is an INTEGER.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255))  # the limit's key: no login in clear
    # Seconds since the epoch, as the limits library counts (time.time()).
    expires_at: Mapped[float] = mapped_column(index=True)


class SpentToken(db.Model):
    """A one-time token that has been used (its digest), kept while the token could still be
    valid: the key decides between simultaneous requests with the same token."""

    __tablename__ = "spent_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
