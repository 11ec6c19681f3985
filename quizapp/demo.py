"""Demo data for `make run`: units, accounts, the shipped banks and one open contest."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import click
import yaml
from flask import current_app
from sqlalchemy import func, select

from quizapp.auth.models import Role, Unit
from quizapp.auth.services import NewUser, create_unit, create_user, find_user
from quizapp.banks.models import QuestionBank
from quizapp.banks.services import import_bank
from quizapp.cli_support import fail
from quizapp.clock import now as clock_now
from quizapp.contests.models import Contest
from quizapp.contests.services import create_contest_from_file
from quizapp.database import writing
from quizapp.extensions import db

BANKS_DIR = Path(__file__).resolve().parent.parent / "question_banks"
DEMO_SLUG = "cds-cchc-demo"

UNITS = [
    ("QT", "UBND tỉnh Quảng Trị (demo)", None, None),
    ("SGTVT", "Sở Giao thông vận tải", "QT", 60),
    ("SGTVT-VP", "Văn phòng Sở Giao thông vận tải", "SGTVT", 20),
    ("SGTVT-QLVT", "Phòng Quản lý vận tải, phương tiện và người lái", "SGTVT", 15),
    ("SGTVT-KHTC", "Phòng Kế hoạch - Tài chính", "SGTVT", 10),
    ("STTTT", "Sở Thông tin và Truyền thông", "QT", 40),
]

ACCOUNTS = [
    ("admin@demo.vn", "Quản trị hệ thống", Role.ADMIN, "QT"),
    ("bantochuc@demo.vn", "Ban tổ chức cuộc thi", Role.ORGANIZER, "SGTVT-VP"),
    ("nhansu@demo.vn", "Phòng Tổ chức cán bộ", Role.HR, "SGTVT"),
    ("thisinh1@demo.vn", "Nguyễn Văn An", Role.PARTICIPANT, "SGTVT-VP"),
    ("thisinh2@demo.vn", "Trần Thị Bình", Role.PARTICIPANT, "SGTVT-QLVT"),
    ("thisinh3@demo.vn", "Lê Hoàng Cường", Role.PARTICIPANT, "STTTT"),
]


class DemoError(RuntimeError):
    """The demo data cannot be loaded; the message says what is missing."""


@dataclass
class DemoReport:
    created_units: int = 0
    created_users: int = 0
    banks: list[str] = field(default_factory=list)
    contest: str | None = None
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def seed_demo(now: datetime, password: str) -> DemoReport:
    """Load demo data; safe to run again (it only adds what is missing)."""
    report = DemoReport()
    for code, name, parent, headcount in UNITS:
        if not db.session.scalar(select(func.count()).where(Unit.code == code)):
            create_unit(code, name, parent_code=parent, headcount=headcount)
            db.session.flush()
            report.created_units += 1
    db.session.commit()
    for login, name, role, unit in ACCOUNTS:
        if find_user(login) is None:
            create_user(
                NewUser(login=login, password=password, full_name=name, role=role, unit_code=unit)
            )
            report.created_users += 1
        report.logins.append((login, password, role))

    for path in sorted(BANKS_DIR.glob("*.yaml")):
        result = import_bank(path.read_bytes(), path.name)
        if not result.ok:
            raise DemoError("\n".join(p.describe(path.name) for p in result.errors))
        report.banks.append(f"{result.bank_name} ({result.total} questions)")

    if not db.session.scalar(select(func.count()).where(Contest.slug == DEMO_SLUG)):
        organizer = find_user("bantochuc@demo.vn")
        create_contest_from_file(demo_contest_yaml(now), "demo-contest.yaml", actor=organizer)
    report.contest = DEMO_SLUG
    return report


def demo_contest_yaml(now: datetime) -> str:
    """An open contest drawing two questions from every category of the shipped banks."""
    draw = []
    for bank in db.session.scalars(select(QuestionBank).order_by(QuestionBank.name)):
        for category in bank.categories:
            if len(category.questions) >= 2:
                draw.append({"bank": bank.name, "category": category.name, "count": 2})
    if not draw:
        raise DemoError(f"No question bank with questions found; put a bank file in {BANKS_DIR}.")
    contest = {
        "slug": DEMO_SLUG,
        "title": "Tìm hiểu kiến thức về chuyển đổi số và cải cách hành chính (demo)",
        "description": "Cuộc thi trực tuyến dành cho cán bộ, công chức, viên chức.",
        "rules": "Mỗi lượt thi gồm các câu hỏi trắc nghiệm chọn ngẫu nhiên từ ngân hàng câu hỏi, "
        "làm trong 15 phút. Mỗi người được thi tối đa 3 lượt, tính lượt có kết quả cao "
        "nhất. Khi điểm bằng nhau, xét câu hỏi dự đoán, rồi thời gian làm bài.",
        "self_registration": True,
        "public_leaderboard": True,
        "rounds": [
            {
                "title": "Tuần 1",
                "opens_at": (now - timedelta(days=1)).isoformat(),
                "closes_at": (now + timedelta(days=60)).isoformat(),
                "time_limit_minutes": 15,
                "max_attempts": 3,
                "counting": "best",
                "review": "immediate",
                "grace_seconds": 15,
                "prediction": {
                    "question": "Theo bạn, tuần này có bao nhiêu người tham gia?",
                    "target": "participants",
                },
                "draw": draw,
            }
        ],
    }
    return yaml.safe_dump(contest, allow_unicode=True, sort_keys=False)


@click.command("seed-demo")
def seed_demo_command():
    """Load demo units, accounts, the shipped banks and one open contest."""
    try:
        with writing():  # it reads, then writes: the transaction queues for the write lock
            report = seed_demo(clock_now(), current_app.config["DEMO_PASSWORD"])
    except DemoError as error:
        fail(f"Demo data not loaded: {error}")
    click.echo(
        f"Demo data ready: {report.created_units} new unit(s), "
        f"{report.created_users} new account(s); contest {report.contest!r}."
    )
    for bank in report.banks:
        click.echo(f"  bank: {bank}")
    click.echo(f"Demo logins (password for all: {current_app.config['DEMO_PASSWORD']}):")
    for login, _password, role in report.logins:
        click.echo(f"  {role:<12} {login}")
