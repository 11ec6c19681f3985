"""Finding each roster person's existing account, and what the import may do with it.

A row updates the account with its login or employee code; a login of someone else or a person
listed twice is a clash (nothing is imported). Two kinds of account are never changed silently:
staff accounts (organizers, HR officers, admins), which no roster import changes, and accounts
their owners registered themselves, which a row adopts only when HR says so. Rows matching
either are left out and listed; the rest of the file imports.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from quizapp.auth.models import Role, User
from quizapp.extensions import db
from quizapp.i18n import format_datetime_local
from quizapp.units.roster_rows import RosterPerson
from quizapp.units.tables import RowProblem

ROSTER_ROLES = (Role.PARTICIPANT,)  # the only accounts a roster import may change
STAFF_ROLE_NAMES = {
    Role.ORGANIZER: _l("organizer"),
    Role.HR: _l("HR officer"),
    Role.ADMIN: _l("admin"),
}
MATCHED_BY = {
    "login": _l("login"),
    "employee_code": _l("employee code"),
    "email": _l("email"),
    "phone": _l("phone"),
}


ADOPT, APART = "adopt", "apart"


@dataclass(frozen=True)
class Decisions:
    """HR's word on rows that match accounts their owners registered, by account id or for the
    whole file: adopt the account, or give the person a new account apart from it (possible only
    where that account holds just the row's email or phone, not its login or employee code).
    A row without a decision is left out."""

    adopt_all: bool = False
    apart_all: bool = False
    adopt: Collection[int] = ()
    apart: Collection[int] = ()

    def decide(self, match: SelfRegisteredMatch) -> str | None:
        """ADOPT, APART or None; a decision for the row wins over one for the whole file."""
        if match.user_id in self.adopt:
            return ADOPT
        if match.user_id in self.apart and match.can_be_apart:
            return APART
        if self.adopt_all:
            return ADOPT
        if self.apart_all and match.can_be_apart:
            return APART
        return None


NO_DECISIONS = Decisions()


@dataclass
class SelfRegisteredMatch:
    """A roster row that matches an account its owner registered (at /register), not HR."""

    row: int
    full_name: str  # as the roster has it
    user_id: int
    login: str  # the account's, before any adoption
    registered_at: datetime
    owner_name: str  # the name and unit the owner gave when registering
    owner_unit: str | None
    matched_by: str

    @property
    def matched_by_name(self) -> str:
        return str(MATCHED_BY[self.matched_by])

    @property
    def can_be_apart(self) -> bool:
        """The account holds only the row's email or phone: the person may get one of their own."""
        return self.matched_by in ("email", "phone")

    def describe(self, filename: str) -> str:
        details = {
            "login": self.login,
            "date": format_datetime_local(self.registered_at),
            "name": self.owner_name,
            "unit": self.owner_unit or _l("no unit"),
            "by": MATCHED_BY[self.matched_by],
        }
        if self.can_be_apart:
            message = _l(
                "Matches an account its owner registered themselves: %(login)s, registered "
                "%(date)s as %(name)s (%(unit)s), by %(by)s. The row was left out: adopt the "
                "account, or give the person a new account apart from it.",
                **details,
            )
        else:
            message = _l(
                "Matches an account its owner registered themselves: %(login)s, registered "
                "%(date)s as %(name)s (%(unit)s), by %(by)s. The row was left out: adopt the "
                "account to import it.",
                **details,
            )
        return RowProblem(self.row, message).describe(filename)


@dataclass
class SortedRows:
    """The people to import, and the rows left out with why."""

    imported: list[RosterPerson] = field(default_factory=list)
    adopted: list[SelfRegisteredMatch] = field(default_factory=list)
    apart: list[SelfRegisteredMatch] = field(default_factory=list)  # imported as new accounts
    self_registered: list[SelfRegisteredMatch] = field(default_factory=list)  # awaiting HR
    staff: list[RowProblem] = field(default_factory=list)


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def match_accounts(people: list[RosterPerson], scope, problem) -> None:
    """Find each person's existing account; report clashes.

    By login or employee code; failing both, an account its owner registered whose login,
    email or phone is the row's email or phone (the roster would otherwise make a second
    account beside the one its owner made, and HR should hear of it). The unit such an owner
    chose is only their claim, so it does not put the account outside an HR officer's units.
    """
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
    by_contact = _self_registered_by_contact(people)

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
        user, matched_by = (user_login, "login") if user_login else (user_code, "employee_code")
        if user is None:
            user, matched_by = _by_contact(person, by_contact)
        if user is None:
            continue
        if scope is not None and user.unit_id not in scope and not user.self_registered:
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
        person.user, person.matched_by = user, matched_by


def _self_registered_by_contact(people: list[RosterPerson]) -> dict[str, list[User]]:
    """Accounts their owners registered, under each of the roster's emails and phones they hold
    as login, email or phone (the login first)."""
    contacts = sorted({value for p in people for value in (p.email, p.phone) if value})
    found: dict[str, list[User]] = {}
    for chunk in _chunks(contacts):
        wanted = set(chunk)
        query = (
            select(User)
            .where(
                User.self_registered.is_(True),
                or_(
                    User.login.in_(chunk),
                    func.lower(User.email).in_(chunk),
                    User.phone.in_(chunk),
                ),
            )
            .order_by(User.id)
        )
        for user in db.session.scalars(query):
            for value in (user.login, (user.email or "").lower(), user.phone):
                if value in wanted and user not in found.setdefault(value, []):
                    found[value].append(user)
    return found


def _by_contact(person: RosterPerson, by_contact: dict[str, list[User]]):
    """The account its owner registered that holds the person's email, else their phone."""
    for kind, value in (("email", person.email), ("phone", person.phone)):
        if value and by_contact.get(value):
            return by_contact[value][0], kind
    return None, None


def sort_out(people: list[RosterPerson], decisions: Decisions) -> SortedRows:
    """Leave out the rows of staff accounts, and the rows of self-registered accounts HR has not
    decided on; mark the accounts HR adopts, and drop the match where HR wants a new account."""
    rows = SortedRows()
    for person in people:
        user = person.user
        if user is not None and user.role not in ROSTER_ROLES:
            rows.staff.append(
                RowProblem(
                    person.row,
                    _l(
                        "Matches the staff account %(login)r (%(name)s, %(role)s): a roster "
                        "import never changes organizer, HR or admin accounts, so the row was "
                        "left out.",
                        login=user.login,
                        name=user.full_name,
                        role=STAFF_ROLE_NAMES.get(user.role, user.role),
                    ),
                )
            )
            continue
        if user is not None and user.self_registered:
            match = SelfRegisteredMatch(
                row=person.row,
                full_name=person.full_name,
                user_id=user.id,
                login=user.login,
                registered_at=user.created_at,
                owner_name=user.full_name,
                owner_unit=user.unit.name if user.unit else None,
                matched_by=person.matched_by,
            )
            decision = decisions.decide(match)
            if decision is None:
                rows.self_registered.append(match)
                continue
            if decision == ADOPT:
                person.adopting = True
                rows.adopted.append(match)
            else:  # a new account; the login is free, since the match was not by login
                person.user, person.matched_by = None, None
                rows.apart.append(match)
        rows.imported.append(person)
    return rows
