"""The staff roster: import people into their units as participant accounts.

A row is matched to an existing account by login or by employee code, so re-importing a roster
updates people instead of duplicating them. New accounts get the password from the file's
password column or a generated one, which is handed back once (never stored in plain text).
A file with a bad row imports nothing. Rows that match a staff account, or an account its owner
registered that HR has not adopted, are left out and listed, and the rest imports: those are
questions about a few people, not faults of the file, and importing the same file again with
HR's answer updates the others in place.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from quizapp.admin.services import record
from quizapp.auth.models import User
from quizapp.auth.services import hash_new_passwords
from quizapp.database import begin_writing
from quizapp.extensions import db
from quizapp.units.roster_accounts import (
    ADOPT,
    APART,
    NO_DECISIONS,
    ROSTER_ROLES,
    Decisions,
    SelfRegisteredMatch,
    match_accounts,
    sort_out,
)
from quizapp.units.roster_rows import REQUIRED, ROSTER_COLUMNS, RosterPerson, parse_rows
from quizapp.units.tables import RowProblem, TableError, read_table

PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


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
    first_passwords: int = 0  # generated: new people without one in the file, adopted accounts
    credentials: list[Credential] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    # Left out, the rest imported: staff accounts, and accounts their owners registered that HR
    # has not adopted (adopted ones have a new first password and their sessions ended).
    staff: list[RowProblem] = field(default_factory=list)
    self_registered: list[SelfRegisteredMatch] = field(default_factory=list)
    adopted: list[SelfRegisteredMatch] = field(default_factory=list)
    apart: list[SelfRegisteredMatch] = field(default_factory=list)  # new accounts beside them
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe_problems(self) -> list[str]:
        return [problem.describe(self.filename) for problem in self.problems]

    def self_registered_rows(self) -> list[tuple[SelfRegisteredMatch, str | None]]:
        """Rows matching accounts their owners registered, with HR's decision (None: left out).

        A dry run lists the decided rows too, so the import that follows can carry the decision.
        """
        rows = [(match, None) for match in self.self_registered]
        if self.dry_run:
            rows += [(match, ADOPT) for match in self.adopted]
            rows += [(match, APART) for match in self.apart]
        return sorted(rows, key=lambda pair: pair[0].row)

    def describe_left_out(self) -> list[str]:
        """Each row left out and why, in row order."""
        lines = [(p.row, p.describe(self.filename)) for p in self.staff]
        lines += [(m.row, m.describe(self.filename)) for m in self.self_registered]
        return [line for _row, line in sorted(lines, key=lambda pair: pair[0])]


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
    decisions: Decisions = NO_DECISIONS,
) -> RosterReport:
    """Create or update the people of a roster file; on any problem nothing is written.

    `scope` limits the units (and existing accounts) the import may touch; None allows all.
    With `replace`, members of the units named in the file who are missing from it are taken
    off the roster (their accounts stay). Rows of staff accounts are left out; so are rows of
    accounts their owners registered, unless `decisions` says what to do: an adopted account
    takes the row's login, name, unit and details, a new first password, and its sessions end;
    a person kept apart gets a new account beside it (where it holds only their email or phone).
    """
    report = RosterReport(filename=filename, dry_run=dry_run)
    try:
        table = read_table(data, filename, aliases=ROSTER_COLUMNS, required=REQUIRED)
    except TableError as error:
        report.problems = error.problems
        return report
    report.ignored_columns = table.ignored_columns
    people = parse_rows(table, scope, report.problems.append)
    match_accounts(people, scope, report.problems.append)
    report.total = len(table.rows)
    if report.problems:
        report.problems.sort(key=lambda p: p.row or 0)
        return report
    rows = sort_out(people, decisions)
    report.staff, report.self_registered = rows.staff, rows.self_registered
    report.adopted, report.apart = rows.adopted, rows.apart
    # First passwords are hashed before the write lock is taken (every answer save would wait
    # behind the hashing); under it, a row whose accounts changed meanwhile is refused.
    first_passwords = _first_passwords(rows.imported, hashed=not dry_run)
    begin_writing(db.session)  # the file is read and hashed; no parse holds the write lock
    if not dry_run:
        _check_unchanged(rows.imported, report.problems.append)
        if report.problems:
            db.session.rollback()
            return report
    _apply(rows.imported, now, report, first_passwords)

    if replace:
        kept = {person.user.id for person in rows.imported}
        units = {person.unit.id for person in people}
        report.removed_from_roster = db.session.execute(
            update(User)
            .where(
                User.on_roster.is_(True),
                User.role.in_(ROSTER_ROLES),  # staff accounts are never changed by a roster
                User.unit_id.in_(units),
                User.id.not_in(kept),
            )
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
        adopted=len(report.adopted),
        kept_apart_from_self_registered=[m.row for m in report.apart],
        left_out_self_registered=[m.row for m in report.self_registered],
        left_out_staff=[p.row for p in report.staff],
    )
    for match in report.adopted:
        record(
            "roster.adopt_self_registered",
            user=actor,
            target=filename,
            row=match.row,
            account_id=match.user_id,
            login_before=match.login,
            registered_at=match.registered_at.isoformat(),
        )
    db.session.commit()
    return report


def _first_passwords(people: list[RosterPerson], *, hashed: bool) -> list[tuple[str, str]]:
    """(password, hash) for each new person, then each adopted one, in that order.

    An adopted account gets a generated password even when the file has one for the row: the
    first password must reach the person through HR's one-time list, like a new account's.
    Hashed outside any write transaction, on every core; a dry run's are never stored.
    """
    new_people = [p for p in people if p.user is None]
    adopted = [p for p in people if p.adopting]
    passwords = [p.password or generate_password() for p in new_people]
    passwords += [generate_password() for _ in adopted]
    hashes = hash_new_passwords(passwords) if hashed else ["!dry-run"] * len(passwords)
    return list(zip(passwords, hashes, strict=True))


def _check_unchanged(people: list[RosterPerson], problem) -> None:
    """Under the write lock: no account has taken a new person's login or employee code since
    the rows were matched (a registration or another import meanwhile)."""
    new_people = [p for p in people if p.user is None]
    logins = {p.login: p for p in new_people}
    codes = {p.employee_code: p for p in new_people if p.employee_code}
    taken = [
        logins[login]
        for login in db.session.scalars(select(User.login).where(User.login.in_(logins)))
    ] + [
        codes[code]
        for code in db.session.scalars(
            select(User.employee_code).where(User.employee_code.in_(codes))
        )
    ]
    for person in sorted({id(p): p for p in taken}.values(), key=lambda p: p.row):
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
    people: list[RosterPerson],
    now: datetime,
    report: RosterReport,
    first_passwords: list[tuple[str, str]],
):
    new_people = [p for p in people if p.user is None]
    adopted = [p for p in people if p.adopting]
    for person, (password, password_hash) in zip(
        new_people + adopted, first_passwords, strict=True
    ):
        if person.adopting:
            _adopt(person.user, person, password_hash)
        else:
            person.user = User(
                login=person.login, full_name=person.full_name, password_hash=password_hash
            )
            db.session.add(person.user)
            report.created += 1
            if person.password:
                report.passwords_from_file += 1
                continue
        report.first_passwords += 1
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
    report.credentials.sort(key=lambda credential: credential.row)
    new_rows = {p.row for p in new_people}
    for person in people:
        user = person.user
        if person.row not in new_rows and not person.adopting:  # autoflush may give ids
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
            # An adopted account drops what its owner typed in (an email or phone the roster
            # does not confirm): whoever registered it keeps no way back into it.
            if value is not None or person.adopting:
                setattr(user, attribute, value)
    db.session.flush()


def _adopt(user: User, person: RosterPerson, password_hash: str) -> None:
    """Make an account its owner registered the roster person's: their login, a new password,
    every session of whoever registered it ended."""
    user.login = person.login
    user.password_hash = password_hash
    user.session_epoch += 1
    user.self_registered = False


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
