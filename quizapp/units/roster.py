"""The staff roster: import people into their units as participant accounts, all or nothing.

A row is matched to an existing account by login or by employee code, so re-importing a roster
updates people instead of duplicating them. New accounts get the password from the file's
password column or a generated one, which is handed back once (never stored in plain text).
"""

from __future__ import annotations

import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import update
from werkzeug.security import generate_password_hash

from quizapp.admin.services import record
from quizapp.auth.models import User
from quizapp.extensions import db
from quizapp.units.roster_accounts import match_accounts
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
    credentials: list[Credential] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe_problems(self) -> list[str]:
        return [problem.describe(self.filename) for problem in self.problems]


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
    people = parse_rows(table, scope, report.problems.append)
    match_accounts(people, scope, report.problems.append)
    report.total = len(table.rows)
    if report.problems:
        report.problems.sort(key=lambda p: p.row or 0)
        return report
    _apply(people, now, report, hash_passwords=not dry_run)

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


def _apply(people: list[RosterPerson], now: datetime, report: RosterReport, hash_passwords=True):
    method = current_app.config["PASSWORD_HASH_METHOD"]
    new_people = [p for p in people if p.user is None]
    passwords = [p.password or generate_password() for p in new_people]
    if hash_passwords:
        # scrypt releases the GIL: hash a large roster on every core.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            hashes = list(pool.map(lambda pw: generate_password_hash(pw, method=method), passwords))
    else:
        hashes = ["!dry-run"] * len(passwords)  # rolled back, never stored
    for person, password, password_hash in zip(new_people, passwords, hashes, strict=True):
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
        if user.id is not None:
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
