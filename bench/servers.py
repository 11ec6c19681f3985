"""Set-up for bench/load.py: a database with a contest and participants, gunicorn servers.

Kept apart from load.py because that one runs under gevent's monkey patching (locust).
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-pass-123"
CONTEST_SLUG = "bench"
PG_PORT = int(os.environ.get("QUIZAPP_PG_PORT", "55460"))
PG_DIR = os.environ.get("PG_DIR", "/tmp/pg-bench")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_url(database: str) -> str:
    """Start the throwaway cluster (scripts/pg-test-server.sh) and a fresh database in it."""
    env = {**os.environ, "QUIZAPP_PG_PORT": str(PG_PORT)}
    url = subprocess.run(
        [str(ROOT / "scripts" / "pg-test-server.sh"), "start", PG_DIR],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    import psycopg

    admin = f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    return url.rsplit("/", 1)[0] + "/" + database


def flask(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def app_env(database_url: str) -> dict:
    return {
        **os.environ,
        "QUIZAPP_DATABASE_URL": database_url,
        "QUIZAPP_SECRET_KEY": "bench-secret",
        "QUIZAPP_ENV": "development",
    }


def contest_yaml(now: datetime, per_category: int = 4) -> str:
    """An open round drawing `per_category` questions from each category of the shipped bank."""
    bank = yaml.safe_load((ROOT / "question_banks" / "cchc-cds.yaml").read_text())
    draw = [
        {"bank": bank["bank"]["name"] if isinstance(bank["bank"], dict) else bank["bank"],
         "category": category["name"], "count": per_category}
        for category in bank["categories"]
    ]  # fmt: skip
    contest = {
        "slug": CONTEST_SLUG,
        "title": "Benchmark",
        "public_leaderboard": True,
        "rounds": [
            {
                "title": "Tuần 1",
                "opens_at": (now - timedelta(days=1)).isoformat(),
                "closes_at": (now + timedelta(days=1)).isoformat(),
                "time_limit_minutes": 60,
                "max_attempts": 3,
                "counting": "best",
                "review": "immediate",
                "grace_seconds": 15,
                "draw": draw,
            }
        ],
    }
    return yaml.safe_dump(contest, allow_unicode=True, sort_keys=False)


def prepare(folder: Path, database_url: str, groups: dict[str, tuple[int, bool]]) -> int:
    """Migrate, import the bank, create the contest and the participants; returns the round id.

    groups: login prefix -> (how many, real scrypt hash or a cheap one). Every participant of
    a group shares one hash of PASSWORD, so creating 5,000 of them costs one hashing.
    """
    env = app_env(database_url)
    flask(env, "db", "upgrade")
    flask(env, "banks", "import", str(ROOT / "question_banks" / "cchc-cds.yaml"))
    contest_file = folder / "bench-contest.yaml"
    contest_file.write_text(contest_yaml(datetime.now(UTC)))
    flask(env, "contests", "create", str(contest_file))
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import insert, select
    from werkzeug.security import generate_password_hash

    from quizapp import create_app
    from quizapp.auth.models import User
    from quizapp.contests.models import Contest
    from quizapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        hashes = {
            True: generate_password_hash(PASSWORD, method=app.config["PASSWORD_HASH_METHOD"]),
            False: generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
        }
        for prefix, (count, real) in groups.items():
            rows = [
                {"login": f"{prefix}{n}@bench.vn", "full_name": f"Thí sinh {prefix}{n}",
                 "password_hash": hashes[real], "role": "participant"}
                for n in range(count)
            ]  # fmt: skip
            for start in range(0, len(rows), 5000):
                db.session.execute(insert(User), rows[start : start + 5000])
        db.session.commit()
        contest = db.session.scalar(select(Contest).where(Contest.slug == CONTEST_SLUG))
        round_id = contest.rounds[0].id
        db.session.remove()
        db.engine.dispose()
    return round_id


class Gunicorn:
    """gunicorn with the app's gunicorn.conf.py on a loopback port (access log off)."""

    def __init__(self, app: str, port: int, env: dict, log: Path, extra: list[str] = ()):
        self.url = f"http://127.0.0.1:{port}"
        self.log = log.open("a")  # noqa: SIM115 (server lifetime)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", *extra, app],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env={**env, "QUIZAPP_BIND": f"127.0.0.1:{port}", "QUIZAPP_ACCESS_LOG": "/dev/null"},
        )  # fmt: skip

    def wait(self, path: str) -> "Gunicorn":
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + path, timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn on {self.url} did not come up; see {self.log.name}")

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.log.close()
