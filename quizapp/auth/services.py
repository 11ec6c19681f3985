"""Accounts: creating them, checking passwords, self-registration."""

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from quizapp.admin.services import record
from quizapp.auth.models import Role, Unit, User
from quizapp.errors import Conflict, Invalid
from quizapp.extensions import db

# A real hash to compare against when the login is unknown, so both paths cost the same.
_DUMMY_HASH: dict[str, str] = {}


def normalise_login(login: str) -> str:
    return login.strip().lower()


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def load_user(user_id: str) -> User | None:
    """The user a session cookie names, if the cookie's session epoch is still the current one."""
    ident, _sep, epoch = user_id.partition(":")
    if not ident.isdigit() or not (epoch or "0").isdigit() or int(ident) >= 2**31:
        return None
    user = db.session.get(User, int(ident))
    if user is None or user.session_epoch != int(epoch or "0"):
        return None
    return user


def find_user(login: str) -> User | None:
    return db.session.scalar(select(User).where(User.login == normalise_login(login)))


def authenticate(login: str, password: str) -> User | None:
    """The active user with these credentials, or None (never saying which part was wrong)."""
    user = find_user(login)
    if user is None or not user.is_active:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = hash_password("not-a-real-password")
        check_password_hash(_DUMMY_HASH[method], password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


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
    if db.session.scalar(select(func.count()).select_from(User).where(User.login == login)):
        raise Conflict(_l("Login %(login)r is already taken.", login=login))
    unit = None
    if data.unit_code:
        unit = db.session.scalar(select(Unit).where(Unit.code == data.unit_code))
        if unit is None:
            raise Invalid(_l("Unknown unit code %(code)r.", code=data.unit_code))
    user = User(
        login=login,
        full_name=data.full_name.strip(),
        password_hash=hash_password(data.password),
        role=data.role,
        unit=unit,
        email=data.email,
        phone=data.phone,
        employee_code=data.employee_code,
    )
    db.session.add(user)
    record("user.create", user=actor, target=login, role=data.role)
    if commit:
        db.session.commit()
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
