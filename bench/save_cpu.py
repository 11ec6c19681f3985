"""CPU per answer save in process: `save_answer` called in a row, no HTTP, on SQLite.

    .venv/bin/python bench/save_cpu.py [TREE]

TREE is a checkout of the app (default: this one; `git archive REV | tar -x -C DIR` for an
older commit), whose quizapp package is imported from there. One participant's attempt of 8
questions gets 2,000 saves five times over in one request context (as the save's view runs);
prints the CPU time per save of each five, and the best.
"""

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

TREE = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]).resolve()
sys.path.insert(0, str(TREE))

import quizapp  # noqa: E402

assert quizapp.__file__.startswith(str(TREE)), quizapp.__file__
from flask import request  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from quizapp import create_app  # noqa: E402
from quizapp.attempts.services import save_answer, start_attempt  # noqa: E402
from quizapp.auth.models import User  # noqa: E402
from quizapp.auth.services import hash_password  # noqa: E402
from quizapp.banks.models import Category  # noqa: E402
from quizapp.banks.services import import_bank  # noqa: E402
from quizapp.clock import FrozenClock  # noqa: E402
from quizapp.config import TestConfig  # noqa: E402
from quizapp.contests.models import Contest, Round, RoundDraw  # noqa: E402
from quizapp.extensions import db  # noqa: E402

START = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)


class Claim:
    """The session's claim on a person, as the save's view passes it."""

    def __init__(self, user_id: int, session_epoch: int):
        self.id, self.session_epoch = user_id, session_epoch


def main() -> None:
    folder = tempfile.mkdtemp(prefix="bench-save-cpu-")
    settings = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    app = create_app(
        {**settings, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/save.sqlite",
         "CLOCK": FrozenClock(START)}
    )  # fmt: skip
    with app.app_context():
        upgrade(directory=str(TREE / "migrations"))
        import_bank((TREE / "tests/data/small-bank.yaml").read_bytes(), "small-bank.yaml")
        user = User(
            login="an@example.vn", full_name="An", password_hash=hash_password("x"),
            role="participant",
        )  # fmt: skip
        draws = [
            RoundDraw(position=i, category=category, count=4)
            for i, category in enumerate(db.session.scalars(select(Category)))
        ]
        round_ = Round(
            contest=Contest(slug="c", title="c", audience=[]), number=1, title="1",
            opens_at=START - timedelta(hours=1), closes_at=START + timedelta(days=1),
            time_limit_minutes=600, draws=draws,
        )  # fmt: skip
        db.session.add_all([user, round_])
        db.session.commit()
        attempt, _ = start_attempt(user, round_, START)
        targets = [(aq.question_id, aq.snapshot["options"][0]["id"]) for aq in attempt.questions]
        attempt_id, claim = attempt.id, Claim(user.id, user.session_epoch)
        db.session.remove()
    per_save = []
    for _ in range(5):
        with app.test_request_context("/api/v1/answer", method="PUT"):
            request.environ["quizapp.reads_first"] = True  # as the view's reads_first marks it
            count, started = 2000, time.process_time()
            for n in range(count):
                question_id, option_id = targets[n % len(targets)]
                save_answer(claim, attempt_id, question_id, [option_id], START)
            per_save.append((time.process_time() - started) / count * 1e6)
            db.session.remove()
    rounded = [round(each) for each in per_save]
    print(f"{TREE}: µs of CPU per save {rounded}, best {min(per_save):.0f}")


if __name__ == "__main__":
    main()
