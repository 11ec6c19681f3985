"""Migrations on a database that already holds data: the round_results backfill."""

import os
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, create_engine, insert, select
from sqlalchemy.engine import make_url

from quizapp import create_app
from quizapp.attempts.models import RoundResult
from quizapp.config import TestConfig
from quizapp.contests.models import Round
from quizapp.contests.round_results import rebuild_results
from quizapp.extensions import db
from tests.conftest import MIGRATIONS

BEFORE_ROUND_RESULTS = "0002_roster"
AT = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def empty_database_url(tmp_path):
    """A database of its own: SQLite by default, a fresh PostgreSQL one beside the test database."""
    test_url = os.environ.get("QUIZAPP_TEST_DATABASE_URL")
    if not test_url:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    import psycopg

    base = make_url(test_url)
    name = f"{base.database}_migrations"
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_attempts_at_0002(url: str) -> None:
    """Two rounds (best; last with a closed prediction) with several attempts per person."""
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(bind=engine)
    rng = random.Random(13)
    with engine.begin() as connection:
        connection.execute(
            insert(tables.tables["users"]),
            [
                {
                    "id": n,
                    "login": f"u{n}@example.vn",
                    "full_name": f"Người {n}",
                    "password_hash": "x",
                    "role": "participant",
                    "is_active_account": True,
                    "created_at": AT,
                }
                for n in range(1, 31)
            ],
        )
        connection.execute(
            insert(tables.tables["contests"]),
            [
                {
                    "id": 1,
                    "slug": "c",
                    "title": "Cuộc thi",
                    "self_registration": False,
                    "unit_rank_threshold": 0.5,
                    "ranking": ["score", "prediction", "duration", "submitted_at", "attempt_id"],
                    "public_leaderboard": False,
                    "created_at": AT,
                }
            ],
        )
        for round_id, counting, actual in ((1, "best", None), (2, "last", 20)):
            connection.execute(
                insert(tables.tables["rounds"]),
                [
                    {
                        "id": round_id,
                        "contest_id": 1,
                        "number": round_id,
                        "title": f"Tuần {round_id}",
                        "opens_at": AT - timedelta(days=7),
                        "closes_at": AT,
                        "time_limit_minutes": 20,
                        "max_attempts": 3,
                        "counting": counting,
                        "review": "score",
                        "grace_seconds": 15,
                        "prediction_question": "?" if actual else None,
                        "prediction_target": "participants",
                        "prediction_actual": actual,
                    }
                ],
            )
        attempts, next_id = [], 1
        for round_id in (1, 2):
            for user_id in range(1, 31):
                for number in range(1, rng.randint(1, 3) + 1):
                    submitted = AT - timedelta(hours=10 - number, minutes=rng.randint(0, 50))
                    duration = rng.choice([120.0, 300.0])
                    attempts.append(
                        {
                            "id": next_id,
                            "user_id": user_id,
                            "round_id": round_id,
                            "number": number,
                            "day": date(2026, 9, 30),
                            "day_number": number,
                            "status": rng.choice(["submitted", "submitted", "expired"]),
                            "started_at": submitted - timedelta(seconds=duration),
                            "deadline": submitted + timedelta(minutes=5),
                            "submitted_at": submitted,
                            "score": rng.choice([5, 8, 8, 10]),
                            "max_score": 10,
                            "correct_count": 0,
                            "duration": duration,
                            "prediction": rng.choice([None, 18, 25]),
                        }
                    )
                    next_id += 1
        connection.execute(insert(tables.tables["attempts"]), attempts)
    engine.dispose()


def test_upgrade_backfills_each_persons_counted_entry(empty_database_url):
    app = create_app(
        {
            **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
        }
    )
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=BEFORE_ROUND_RESULTS)
        load_attempts_at_0002(empty_database_url)
        upgrade(directory=MIGRATIONS)

        def kept() -> set[tuple]:
            return set(
                db.session.execute(
                    select(
                        RoundResult.round_id,
                        RoundResult.user_id,
                        RoundResult.attempt_id,
                        RoundResult.prediction_error,
                    )
                ).all()
            )

        backfilled = kept()
        assert len(backfilled) == 60  # everyone in both rounds
        assert any(error is not None for *_, error in backfilled)  # the closed prediction
        for round_ in db.session.scalars(select(Round)):
            rebuild_results(round_)
        db.session.commit()
        assert kept() == backfilled
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision=BEFORE_ROUND_RESULTS)
        db.engine.dispose()
