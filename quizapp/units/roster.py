"""The staff roster: import people into their units as participant accounts, all or nothing.

A row is matched to an existing account by login or by employee code, so re-importing a roster
updates people instead of duplicating them. New accounts get the password from the file's
password column or a generated one, which is handed back once (never stored in plain text).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from quizapp.admin.services import record
from quizapp.auth.models import Role, Unit, User
from quizapp.auth.services import hash_new_passwords, normalise_login
from quizapp.database import begin_writing
from quizapp.extensions import db
from quizapp.units.tables import RowProblem, TableError, read_table

ROSTER_COLUMNS = {
    "full_name": "full_name",
    "name": "full_name",
    "ho_va_ten": "full_name",
    "ho_ten": "full_name",
    "unit_code": "unit_code",
    "unit": "unit_code",
    "ma_don_vi": "unit_code",
    "login": "login",
    "ten_dang_nhap": "login",
    "email": "email",
    "e_mail": "email",
    "thu_dien_tu": "email",
    "phone": "phone",
    "so_dien_thoai": "phone",
    "dien_thoai": "phone",
    "employee_code": "employee_code",
    "ma_can_bo": "employee_code",
    "ma_nhan_vien": "employee_code",
    "ma_cbccvc": "employee_code",
    "password": "password",
    "mat_khau": "password",
    "position": "position",
    "chuc_vu": "position",
    "date_of_birth": "date_of_birth",
    "ngay_sinh": "date_of_birth",
}
REQUIRED = ("full_name", "unit_code")
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
PROTECTED_ROLES = (Role.ADMIN,)  # accounts an HR officer's roster may not change


@dataclass
class Credential:
    """A first password handed back once, for the person to log in with."""

    row: int
    full_name: str
    unit_code: str
    unit_name: str
    login: str
    password: str


@dataclass
class RosterReport:
    filename: str
    total: int = 0
    created: int = 0
    updated: int = 0
    passwords_from_file: int = 0
    kept_passwords: int = 0  # existing accounts keep the password they have
    removed_from_roster: int = 0
    credentials: list[Credential] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe_problems(self) -> list[str]:
        return [problem.describe(self.filename) for problem in self.problems]


@dataclass
class _Person:
    row: int
    full_name: str
    unit: Unit
    login: str
    explicit_login: bool
    email: str | None
    phone: str | None
    employee_code: str | None
    password: str | None
    position: str | None
    date_of_birth: date | None
    user: User | None = None


def normalise_phone(text: str) -> str | None:
    """A Vietnamese phone number as 0xxxxxxxxx, or None when it cannot be one."""
    digits = re.sub(r"[\s.\-()]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif not digits.startswith("0") and len(digits) in (9, 10):
        digits = "0" + digits  # Excel drops the leading zero of numbers
    if digits.isdigit() and digits.startswith("0") and len(digits) in (10, 11):
        return digits
    return None


def parse_date(text: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def generate_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(10))


def import_roster(
    data: bytes,
    filename: str,
    *,
    now: datetime,
    actor: User | None = None,
    scope: set[int] | None = None,
    replace: bool = False,
    dry_run: bool = False,
) -> RosterReport:
    """Create or update the people of a roster file; on any problem nothing is written.

    `scope` limits the units (and existing accounts) the import may touch; None allows all.
    With `replace`, members of the units named in the file who are missing from it are taken
    off the roster (their accounts stay).
    """
    report = RosterReport(filename=filename, dry_run=dry_run)
    try:
        table = read_table(data, filename, aliases=ROSTER_COLUMNS, required=REQUIRED)
    except TableError as error:
        report.problems = error.problems
        return report
    report.ignored_columns = table.ignored_columns
    people = _parse_rows(table, scope, report.problems.append)
    _match_accounts(people, scope, report.problems.append)
    report.total = len(table.rows)
    if report.problems:
        report.problems.sort(key=lambda p: p.row or 0)
        return report
    # First passwords are hashed before the write lock is taken (every answer save would wait
    # behind the hashing); the accounts are matched again under it, as one may have been
    # made or changed meanwhile.
    matched = {person.row: person.user and person.user.id for person in people}
    first_passwords = _first_passwords(people, hashed=not dry_run)
    begin_writing(db.session)
    if not dry_run:
        _match_again(people, matched, scope, report.problems.append)
        if report.problems:
            db.session.rollback()
            report.problems.sort(key=lambda p: p.row or 0)
            return report
    _apply(people, now, report, first_passwords)

    if replace:
        kept = {person.user.id for person in people}
        units = {person.unit.id for person in people}
        report.removed_from_roster = db.session.execute(
            update(User)
            .where(User.on_roster.is_(True), User.unit_id.in_(units), User.id.not_in(kept))
            .values(on_roster=False, roster_updated_at=now)
        ).rowcount
    if dry_run:
        db.session.rollback()
        report.credentials = []
        return report
    record(
        "roster.import",
        user=actor,
        target=filename,
        rows=report.total,
        created=report.created,
        updated=report.updated,
        generated_passwords=len(report.credentials),
        removed_from_roster=report.removed_from_roster,
    )
    db.session.commit()
    return report


def _parse_rows(table, scope, problem) -> list[_Person]:
    units = {unit.code: unit for unit in db.session.scalars(select(Unit))}
    units_folded = {code.casefold(): unit for code, unit in units.items()}
    people: list[_Person] = []
    first_row_of: dict[tuple[str, str], int] = {}

    for row in table.rows:
        errors: list[str] = []
        full_name = " ".join((row.text("full_name") or "").split())
        if not full_name:
            errors.append(_l("The full name is empty."))
        unit_code = row.text("unit_code")
        unit = None
        if unit_code is None:
            errors.append(_l("The unit code is empty."))
        else:
            unit = units.get(unit_code) or units_folded.get(unit_code.casefold())
            if unit is None:
                errors.append(
                    _l(
                        "Unknown unit code %(code)r: import the unit first or correct the code.",
                        code=unit_code,
                    )
                )
            elif scope is not None and unit.id not in scope:
                errors.append(_l("Unit %(code)r is outside your units.", code=unit_code))
        phone = row.text("phone")
        if phone is not None:
            normalised = normalise_phone(phone)
            if normalised is None:
                errors.append(
                    _l(
                        "Phone number %(phone)r is malformed: write 10 digits starting with 0 "
                        "(or +84).",
                        phone=phone,
                    )
                )
            phone = normalised
        email = row.text("email")
        if email is not None:
            email = email.lower()
            if not EMAIL.match(email):
                errors.append(_l("Email address %(email)r is malformed.", email=email))
        employee_code = row.text("employee_code")
        password = row.text("password")
        if password is not None and len(password) < 6:
            errors.append(_l("The password must have at least 6 characters."))
        birth = row.text("date_of_birth")
        date_of_birth = parse_date(birth) if birth else None
        if birth and date_of_birth is None:
            errors.append(
                _l("Date of birth %(value)r is not a date (write dd/mm/yyyy).", value=birth)
            )
        explicit = row.text("login")
        login = normalise_login(explicit or phone or email or employee_code or "")
        if not login and not errors:
            errors.append(
                _l("No login, phone, email or employee code: the person could not log in.")
            )
        for kind, value in (("login", login), ("employee_code", employee_code)):
            if not value:
                continue
            key = (kind, value.casefold())
            if key in first_row_of and kind == "login":
                errors.append(
                    _l(
                        "Login %(value)r is also in row %(row)s: a person may be listed only "
                        "once, and each person needs a login of their own.",
                        value=value,
                        row=first_row_of[key],
                    )
                )
            elif key in first_row_of:
                errors.append(
                    _l(
                        "The same person is listed twice: employee code %(value)r is also in row "
                        "%(row)s.",
                        value=value,
                        row=first_row_of[key],
                    )
                )
            else:
                first_row_of[key] = row.number
        for error in errors:
            problem(RowProblem(row.number, error))
        if not errors:
            people.append(
                _Person(
                    row=row.number,
                    full_name=full_name,
                    unit=unit,
                    login=login,
                    explicit_login=explicit is not None,
                    email=email,
                    phone=phone,
                    employee_code=employee_code,
                    password=password,
                    position=row.text("position"),
                    date_of_birth=date_of_birth,
                )
            )
    return people


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _match_accounts(people: list[_Person], scope, problem) -> None:
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


def _first_passwords(people: list[_Person], *, hashed: bool) -> dict[int, tuple[str, str]]:
    """Row -> (password, hash) for each person without an account: the file's password or a
    generated one, hashed outside the write transaction (on every core)."""
    new_people = [p for p in people if p.user is None]
    passwords = [p.password or generate_password() for p in new_people]
    # A dry run's accounts are rolled back: no hash is ever stored.
    hashes = hash_new_passwords(passwords) if hashed else ["!dry-run"] * len(passwords)
    pairs = zip(passwords, hashes, strict=True)
    return {person.row: pair for person, pair in zip(new_people, pairs, strict=True)}


def _match_again(people: list[_Person], matched: dict[int, int | None], scope, problem) -> None:
    """Match the accounts again (under the write lock); a row whose account changed since the
    first passwords were made is a problem: the file is to be imported again."""
    for person in people:
        person.user = None
    _match_accounts(people, scope, problem)
    for person in people:
        if (person.user and person.user.id) != matched[person.row]:
            problem(
                RowProblem(
                    person.row,
                    _l(
                        "The accounts of this row changed while the file was being imported "
                        "(a registration or another import): import the file again."
                    ),
                )
            )


def _apply(
    people: list[_Person],
    now: datetime,
    report: RosterReport,
    first_passwords: dict[int, tuple[str, str]],
):
    new_people = [p for p in people if p.user is None]
    for person in new_people:
        password, password_hash = first_passwords[person.row]
        person.user = User(
            login=person.login, full_name=person.full_name, password_hash=password_hash
        )
        db.session.add(person.user)
        report.created += 1
        if person.password:
            report.passwords_from_file += 1
        else:
            report.credentials.append(
                Credential(
                    row=person.row,
                    full_name=person.full_name,
                    unit_code=person.unit.code,
                    unit_name=person.unit.name,
                    login=person.login,
                    password=password,
                )
            )
    for person in people:
        user = person.user
        if person.row not in first_passwords:  # not new (an autoflush may have given ids)
            report.updated += 1
            if person.password:
                report.kept_passwords += 1
            if person.explicit_login:
                user.login = person.login
        user.full_name = person.full_name
        user.unit = person.unit
        user.on_roster = True
        user.roster_updated_at = now
        for attribute in ("email", "phone", "employee_code", "position", "date_of_birth"):
            value = getattr(person, attribute)
            if value is not None:
                setattr(user, attribute, value)
    db.session.flush()


def credentials_sheet(credentials: list[Credential]):
    """The first passwords as a sheet for the one-time download."""
    from quizapp.reports.sheets import Column, Sheet

    columns = [
        Column("STT", 6),
        Column("Họ và tên", 28),
        Column("Mã đơn vị", 14),
        Column("Đơn vị", 36),
        Column("Tên đăng nhập", 28),
        Column("Mật khẩu lần đầu", 18),
    ]
    rows = (
        (index, c.full_name, c.unit_code, c.unit_name, c.login, c.password)
        for index, c in enumerate(credentials, 1)
    )
    return Sheet("Mật khẩu", columns, rows)


def record_passwords_download(actor: User, count: int, file_format: str) -> None:
    """Audit the one-time download of first passwords (personal data)."""
    record("roster.passwords_download", user=actor, rows=count, format=file_format)
    db.session.commit()
