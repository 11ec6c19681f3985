"""Accounts: creating them, checking passwords, self-registration."""

import contextlib
import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from flask import current_app, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.security import check_password_hash, generate_password_hash

from quizapp.admin.services import record
from quizapp.auth.models import Role, Unit, User
from quizapp.config import Config
from quizapp.database import begin_writing
from quizapp.errors import Conflict, Invalid
from quizapp.extensions import db

# A real hash to compare against when the login is unknown, so both paths cost the same.
_DUMMY_HASH: dict[str, str] = {}
# scrypt costs about 0.1 s of CPU: one check at a time per worker process, on a niced thread,
# and LOGIN_LINE logins in this process's line in all (the one being checked included), each
# holding a request thread; "busy, retry" beyond. Sized by create_app (set_login_line).
_LOGIN_LINE = threading.BoundedSemaphore(Config.LOGIN_LINE)


def normalise_login(login: str) -> str:
    return login.strip().lower()


def hash_password(password: str, method: str | None = None) -> str:
    """The hash to store (scrypt: ~0.1 s of CPU). Never under the write lock: in a request, or
    anywhere a transaction may be open, use `hash_new_password(s)`."""
    return generate_password_hash(
        password, method=method or current_app.config["PASSWORD_HASH_METHOD"]
    )


def hash_new_password(password: str) -> str:
    """The hash to store for a new password, made outside any write transaction.

    The session's transaction, which must only have read so far (hash before the first
    write), is ended: a writing request's transaction holds SQLite's write lock, and every
    answer save would queue behind the hashing. Then it is hashed on the hashing thread, in
    the login line ("busy, retry" beyond it), as a login's check is. The caller's writes come
    after, in a transaction of their own (`begin_writing`).
    """
    _end_read()
    method = current_app.config["PASSWORD_HASH_METHOD"]
    return _in_line(
        _l("Many people are registering or logging in right now; try again in a few seconds."),
        generate_password_hash,
        password,
        method,
    )


def hash_new_passwords(passwords: list[str]) -> list[str]:
    """Hashes for many new passwords (a roster's first passwords), on every core (scrypt
    releases the GIL), outside any write transaction as in `hash_new_password`."""
    _end_read()
    method = current_app.config["PASSWORD_HASH_METHOD"]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda password: hash_password(password, method), passwords))


def verify_password(stored: str, password: str) -> bool:
    """Check a password against its stored hash (a contest's), outside any write transaction,
    on the hashing thread in the login line, as a login's check is."""
    _end_read()
    return _check_password(stored, password)


def _end_read() -> None:
    """End the session's transaction, which has only read, before slow work (a hash)."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("hash passwords before the transaction's first write")
    session.commit()


@dataclass(frozen=True)
class ClaimedUser:
    """Who a session cookie says is logged in (id and session epoch), not yet checked.

    The answer save, the hot path, checks the epoch in its own query instead of loading the
    User first; anything else goes through `load_user`.
    """

    id: int
    session_epoch: int

    @classmethod
    def parse(cls, user_id: str) -> "ClaimedUser | None":
        ident, _sep, epoch = user_id.partition(":")
        if not ident.isdigit() or not (epoch or "0").isdigit() or int(ident) >= 2**31:
            return None
        return cls(int(ident), int(epoch or "0"))


def claimed_user() -> ClaimedUser | None:
    """The session cookie's user, or None when it names nobody (or only a remember cookie does)."""
    user_id = session.get("_user_id")  # where Flask-Login keeps it
    return ClaimedUser.parse(user_id) if isinstance(user_id, str) else None


def load_user(user_id: str) -> User | None:
    """The user a session cookie names, if the cookie's session epoch is still the current one."""
    claim = ClaimedUser.parse(user_id)
    if claim is None:
        return None
    user = db.session.get(User, claim.id)
    if user is None or user.session_epoch != claim.session_epoch:
        return None
    return user


def find_user(login: str) -> User | None:
    return db.session.scalar(select(User).where(User.login == normalise_login(login)))


def authenticate(login: str, password: str) -> User | None:
    """The active user with these credentials, or None (never saying which part was wrong)."""
    user = find_user(login)
    stored = user.password_hash if user is not None and user.is_active else None
    # End the read before hashing: a POST's transaction holds SQLite's write lock, and every
    # answer save would queue behind the ~0.1 s of scrypt (bench/RESULTS.md, login rush).
    _end_read()
    if stored is None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASH:  # once per process, on the hashing thread like any check
            _DUMMY_HASH[method] = _HASHER.submit(
                generate_password_hash, "not-a-real-password", method
            ).result()
        _check_password(_DUMMY_HASH[method], password)
        return None
    return user if _check_password(stored, password) else None


def _check_password(stored: str, password: str) -> bool:
    """Hash on the worker's one low-priority hashing thread; a short line, "busy" beyond it.

    A login rush would otherwise fill every worker thread with hashing and take the CPU from
    the answer saves of people already in a round (bench/RESULTS.md, login rush).
    """
    return _in_line(
        _l("Many people are logging in right now; try again in a few seconds."),
        check_password_hash,
        stored,
        password,
    )


def _in_line(busy_message, function, *args):
    """`function(*args)` on the hashing thread, holding a place in the login line."""
    if not _LOGIN_LINE.acquire(blocking=False):
        raise ServiceUnavailable(
            description=str(busy_message),
            retry_after=random.randint(2, 5),  # spread the retries out
        )
    try:
        return _HASHER.submit(function, *args).result()
    finally:
        _LOGIN_LINE.release()


def set_login_line(places: int) -> None:
    """Let `places` logins into this process's line; keep it below the worker's threads, so
    a login rush leaves threads for the answer saves of people already in a round."""
    global _LOGIN_LINE
    _LOGIN_LINE = threading.BoundedSemaphore(places)


def _lower_priority() -> None:
    """Nice the hashing thread (per thread on Linux): request threads get the CPU first."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


_HASHER = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="password-hash", initializer=_lower_priority
)


@dataclass
class NewUser:
    login: str
    password: str
    full_name: str
    role: str = Role.PARTICIPANT
    unit_code: str | None = None
    email: str | None = None
    phone: str | None = None
    employee_code: str | None = None
    self_registered: bool = False  # made by its owner at /register, not by HR or an admin


def create_user(data: NewUser, *, actor: User | None = None, commit: bool = True) -> User:
    """Create an account; the login must be new (case-insensitive) and the unit known."""
    login = normalise_login(data.login)
    if not login:
        raise Invalid(_l("Login must not be empty."))
    if len(data.password) < 6:
        raise Invalid(_l("Password must have at least 6 characters."))
    if data.role not in {role.value for role in Role}:
        raise Invalid(
            _l("Unknown role %(role)r: use participant, organizer, hr or admin.", role=data.role)
        )
    taken = _l("Login %(login)r is already taken.", login=login)
    if db.session.scalar(select(func.count()).select_from(User).where(User.login == login)):
        raise Conflict(taken)
    unit = None
    if data.unit_code:
        unit = db.session.scalar(select(Unit).where(Unit.code == data.unit_code))
        if unit is None:
            raise Invalid(_l("Unknown unit code %(code)r.", code=data.unit_code))
    password_hash = hash_new_password(data.password)  # ends the reads above
    begin_writing(db.session)
    user = User(
        login=login,
        full_name=data.full_name.strip(),
        password_hash=password_hash,
        role=data.role,
        unit=unit,
        email=data.email,
        phone=data.phone,
        employee_code=data.employee_code,
        self_registered=data.self_registered,
    )
    db.session.add(user)
    record("user.create", user=actor, target=login, role=data.role)
    if commit:
        try:
            db.session.commit()
        except IntegrityError:  # taken meanwhile, while the password was hashed
            db.session.rollback()
            raise Conflict(taken) from None
    return user


def registration_units() -> list[Unit]:
    """Units a person may choose when registering, by name."""
    return list(db.session.scalars(select(Unit).order_by(Unit.name)))


def self_registration_open() -> bool:
    from quizapp.contests.models import Contest

    return bool(db.session.scalar(select(func.count()).where(Contest.self_registration.is_(True))))


def create_unit(
    code: str, name: str, *, parent_code: str | None = None, headcount: int | None = None
) -> Unit:
    """Add a unit under its parent (by code); the caller commits."""
    parent = None
    if parent_code:
        parent = db.session.scalar(select(Unit).where(Unit.code == parent_code))
        if parent is None:
            raise Invalid(_l("Unknown parent unit code %(code)r.", code=parent_code))
    unit = Unit(code=code, name=name, parent=parent, headcount=headcount)
    db.session.add(unit)
    return unit
