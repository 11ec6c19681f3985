"""The command line of DESIGN.md §4 that the participant path needs."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from quizapp.attempts.models import AttemptStatus
from quizapp.attempts.services import start_attempt
from quizapp.auth.models import User
from quizapp.banks.models import Question
from quizapp.contests.models import Contest
from quizapp.extensions import db
from tests.conftest import DATA

SHIPPED_BANKS = Path(__file__).resolve().parent.parent / "question_banks"

CONTEST = """\
slug: thu-nghiem
title: Cuộc thi thử nghiệm
audience: [SGTVT]
rounds:
  - title: Tuần 1
    opens_at: 2026-10-05T08:00:00+07:00
    closes_at: 2026-10-11T17:00:00+07:00
    time_limit_minutes: 15
    max_attempts: 3
    counting: best
    review: after_close
    prediction:
      question: "Theo bạn, tuần này có bao nhiêu người tham gia?"
      target: participants
    draw:
      - {bank: "Ngân hàng thử nghiệm", category: "Cải cách hành chính", count: 3}
      - {bank: "Ngân hàng thử nghiệm", category: "Chuyển đổi số", count: 2, difficulty: 1}
"""


def test_users_create(runner, ctx, make_unit):
    make_unit("SGTVT")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--login",
            "BTC@demo.vn",
            "--password",
            "matkhau1",
            "--name",
            "Ban tổ chức",
            "--role",
            "organizer",
            "--unit",
            "SGTVT",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert (user.login, user.role, user.unit.code) == ("btc@demo.vn", "organizer", "SGTVT")
    again = runner.invoke(
        args=["users", "create", "--login", "btc@demo.vn", "--password", "matkhau1", "--name", "X"]
    )
    assert (
        again.exit_code == 1 and "btc@demo.vn" in again.output and "đã được sử dụng" in again.output
    )


def test_banks_import_dry_run_then_real(runner, ctx):
    path = str(DATA / "small-bank.yaml")
    dry = runner.invoke(args=["banks", "import", path, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0
    real = runner.invoke(args=["banks", "import", path])
    assert real.exit_code == 0 and "8 new" in real.output
    again = runner.invoke(args=["banks", "import", path])
    assert "0 new" in again.output and "8 unchanged" in again.output
    assert db.session.scalar(select(func.count()).select_from(Question)) == 8
    listed = json.loads(runner.invoke(args=["banks", "list", "--json"]).output)
    assert listed == [
        {
            "name": "Ngân hàng thử nghiệm",
            "questions": 8,
            "categories": [
                {"name": "Cải cách hành chính", "questions": 4},
                {"name": "Chuyển đổi số", "questions": 4},
            ],
        }
    ]


def test_banks_import_error_names_file_and_line(runner, ctx, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "bank: B\ncategories:\n  - name: C\n    questions:\n      - id: x\n"
        "        text: Câu hỏi?\n        options:\n          - {text: A}\n"
        "          - {text: B}\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["banks", "import", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml: line 5: no option is marked correct" in result.output
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0


def test_contests_create_and_list(runner, bank, make_unit, tmp_path):
    make_unit("SGTVT")
    path = tmp_path / "contest.yaml"
    path.write_text(CONTEST, encoding="utf-8")
    result = runner.invoke(args=["contests", "create", str(path)])
    assert result.exit_code == 0, result.output
    listed = json.loads(runner.invoke(args=["contests", "list", "--json"]).output)
    assert listed[0]["slug"] == "thu-nghiem"
    round_info = listed[0]["rounds"][0]
    assert set(round_info) == {"id", "number", "title", "opens_at", "closes_at"}
    assert round_info["opens_at"] == "2026-10-05T01:00:00+00:00"
    contest = db.session.scalar(select(Contest))
    assert contest.rounds[0].question_count == 5
    assert [u.code for u in contest.audience] == ["SGTVT"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("counting: best", "counting: most"), ":10: rounds.0.counting: Input should be"),
        (("time_limit_minutes: 15", "time_limit_minutes: soon"), ":8: rounds.0.time_limit_minutes"),
        (("audience: [SGTVT]", "audience: [NOPE]"), ":3: audience.0: unknown unit code 'NOPE'"),
        (("count: 3}", "count: 30}"), ":16: rounds.0.draw.0: asks for 30 questions"),
        (
            ('category: "Chuyển đổi số"', 'category: "Không có"'),
            ":17: rounds.0.draw.1: no category",
        ),
        (("  - title: Tuần 1\n", "  - titel: Tuần 1\n"), ":5: rounds.0.titel: Extra inputs"),
        (
            ("closes_at: 2026-10-11", "closes_at: 2026-10-01"),
            ":5: rounds.0: closes_at must be after",
        ),
        (("draw:\n", "draw: [\n"), ":16: not valid YAML"),
    ],
)
def test_contests_create_names_key_and_line(runner, bank, make_unit, tmp_path, change, expected):
    make_unit("SGTVT")
    path = tmp_path / "contest.yaml"
    path.write_text(CONTEST.replace(*change), encoding="utf-8")
    result = runner.invoke(args=["contests", "create", str(path)])
    assert result.exit_code == 1
    assert f"{path}{expected}" in result.output
    assert db.session.scalar(select(func.count()).select_from(Contest)) == 0


def test_close_expired_command(runner, make_user, make_round, clock):
    user = make_user()
    attempt, _ = start_attempt(user, make_round(time_limit_minutes=10), clock.at)
    clock.advance(hours=1)
    result = runner.invoke(args=["attempts", "close-expired"])
    assert "Closed 1 expired attempt" in result.output
    db.session.refresh(attempt)
    assert attempt.status == AttemptStatus.EXPIRED
    assert attempt.submitted_at == attempt.started_at + timedelta(minutes=10)


@pytest.mark.skipif(not any(SHIPPED_BANKS.glob("*.yaml")), reason="no shipped bank yet")
def test_seed_demo_is_repeatable_and_opens_a_contest(runner, ctx, clock):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "thisinh1@demo.vn" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "0 new account(s)" in second.output
    contest = db.session.scalar(select(Contest))
    round_ = contest.rounds[0]
    assert round_.is_open(clock.at) and round_.question_count >= 10
    participant = db.session.scalar(select(User).where(User.login == "thisinh1@demo.vn"))
    attempt, created = start_attempt(participant, round_, clock.at)
    assert created and len(attempt.questions) == round_.question_count
