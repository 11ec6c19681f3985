"""Reading a roster file's rows into people: names, units, logins, phones, emails, dates, and
the people the file lists twice; every problem tied to its row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from quizapp.auth.models import Unit, User
from quizapp.auth.services import normalise_login
from quizapp.extensions import db
from quizapp.inputs import ASCII_DIGITS
from quizapp.units.tables import RowProblem

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
EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")


@dataclass
class RosterPerson:
    """One row of the roster, checked; `user` is the account it updates (None: a new one)."""

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
    matched_by: str | None = None  # how `user` was found: login, employee_code, email, phone
    adopting: bool = False  # `user` is an account its owner registered, adopted on HR's word


def normalise_phone(text: str) -> str | None:
    """A Vietnamese phone number as 0xxxxxxxxx, or None when it cannot be one."""
    digits = re.sub(r"[\s.\-()]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif not digits.startswith("0") and len(digits) in (9, 10):
        digits = "0" + digits  # Excel drops the leading zero of numbers
    if ASCII_DIGITS.fullmatch(digits) and digits.startswith("0") and len(digits) in (10, 11):
        return digits
    return None


def parse_date(text: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def parse_rows(table, scope, problem) -> list[RosterPerson]:
    """The rows that are fine, as people; `problem` is called with each bad row's problems."""
    units = {unit.code: unit for unit in db.session.scalars(select(Unit))}
    units_folded = {code.casefold(): unit for code, unit in units.items()}
    people: list[RosterPerson] = []
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
                RosterPerson(
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
