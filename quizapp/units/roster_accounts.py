"""Finding each roster person's existing account (by login or employee code), and the clashes:
a login of someone else, a person listed twice, an account the import may not change."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from quizapp.auth.models import Role, User
from quizapp.extensions import db
from quizapp.units.roster_rows import RosterPerson
from quizapp.units.tables import RowProblem

PROTECTED_ROLES = (Role.ADMIN,)  # accounts an HR officer's roster may not change


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def match_accounts(people: list[RosterPerson], scope, problem) -> None:
    """Find each person's existing account by login or employee code; report clashes."""
    logins = [p.login for p in people]
    codes = [p.employee_code for p in people if p.employee_code]
    by_login: dict[str, User] = {}
    by_code: dict[str, User] = {}
    for chunk in _chunks(logins):
        for user in db.session.scalars(select(User).where(User.login.in_(chunk))):
            by_login[user.login] = user
    for chunk in _chunks(codes):
        for user in db.session.scalars(select(User).where(User.employee_code.in_(chunk))):
            by_code[user.employee_code] = user

    matched_row: dict[int, int] = {}
    for person in people:
        user_login = by_login.get(person.login)
        user_code = by_code.get(person.employee_code) if person.employee_code else None
        if user_login and user_code and user_login is not user_code:
            problem(
                RowProblem(
                    person.row,
                    _l(
                        "Login %(login)r belongs to %(name)s, but employee code %(code)r to "
                        "%(other)s: correct one of them.",
                        login=person.login,
                        name=user_login.full_name,
                        code=person.employee_code,
                        other=user_code.full_name,
                    ),
                )
            )
            continue
        if (
            user_login
            and person.employee_code
            and user_login.employee_code
            and user_login.employee_code != person.employee_code
        ):
            problem(
                RowProblem(
                    person.row,
                    _l(
                        "Login %(login)r belongs to another person (%(name)s, employee code "
                        "%(code)r).",
                        login=person.login,
                        name=user_login.full_name,
                        code=user_login.employee_code,
                    ),
                )
            )
            continue
        user = user_login or user_code
        if user is None:
            continue
        if scope is not None and (user.unit_id not in scope or user.role in PROTECTED_ROLES):
            problem(
                RowProblem(
                    person.row,
                    _l(
                        "Login %(login)r belongs to an account outside your units.",
                        login=user.login,
                    ),
                )
            )
            continue
        if user.id in matched_row:
            problem(
                RowProblem(
                    person.row,
                    _l(
                        "The same person is listed twice: %(name)s is also in row %(row)s.",
                        name=user.full_name,
                        row=matched_row[user.id],
                    ),
                )
            )
            continue
        matched_row[user.id] = person.row
        person.user = user
