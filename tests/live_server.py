"""Running the real app under gunicorn on 127.0.0.1 for end-to-end, race and crash tests."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask_cli(env: dict, *args: str) -> str:
    """Run `flask --app wsgi ARGS` against the server's database; fail loudly."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class LiveServer:
    """gunicorn over a fresh SQLite database (or QUIZAPP_TEST_DATABASE_URL) with demo data."""

    def __init__(self, folder: Path, workers: int = 2, threads: int = 4):
        self.folder = folder
        self.port = free_port()
        self.database = None
        url = os.environ.get("QUIZAPP_TEST_DATABASE_URL") or f"sqlite:///{folder / 'live.sqlite'}"
        if url.startswith("postgresql"):
            url = self._own_postgres_database(url)
        self.env = {
            **os.environ,
            "QUIZAPP_DATABASE_URL": url,
            "QUIZAPP_SECRET_KEY": "live-test-secret",
            "QUIZAPP_ENV": "development",
        }
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers, self.threads = workers, threads
        self.process: subprocess.Popen | None = None

    def _own_postgres_database(self, url: str) -> str:
        """A database of its own next to the test database (the suite truncates that one)."""
        import psycopg
        from sqlalchemy.engine import make_url

        base = make_url(url)
        self.database = f"{base.database}_live_{self.port}"
        self.admin_url = base.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database}"')
        return base.set(database=self.database).render_as_string(hide_password=False)

    def seed(self) -> None:
        flask_cli(self.env, "db", "upgrade")
        flask_cli(self.env, "banks", "import", str(ROOT / "tests" / "data" / "small-bank.yaml"))
        flask_cli(self.env, "seed-demo")

    def start(self) -> "LiveServer":
        self.log = (self.folder / "gunicorn.log").open("a")  # noqa: SIM115 (server lifetime)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={
                **self.env,
                "QUIZAPP_BIND": f"127.0.0.1:{self.port}",
                "QUIZAPP_WORKERS": str(self.workers),
                "QUIZAPP_THREADS": str(self.threads),
                "QUIZAPP_ACCESS_LOG": str(self.folder / "access.log"),
            },
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if json.load(response) == {"status": "ok"}:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError((self.folder / "gunicorn.log").read_text())

    def worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the master)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def kill_worker(self) -> int:
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        if getattr(self, "log", None):
            self.log.close()
        if self.database:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
