"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from quizapp.extensions import db


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why."""


def backup(target: Path) -> Path:
    """Write a consistent copy of the live database to `target` (safe while serving)."""
    url = db.engine.url
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database)
        try:
            with sqlite3.connect(target) as copy:
                source.backup(copy)
            copy.close()
        finally:
            source.close()
    elif url.get_backend_name() == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq(url)])
    else:
        raise BackupError(f"no backup method for {url.get_backend_name()}")
    return target


def restore(source: Path) -> None:
    """Replace the database's content with a backup (stop the app servers first)."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        try:
            backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            backup_db.execute("SELECT count(*) FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source}: not a backup of this application ({error})") from None
        try:
            with sqlite3.connect(url.database) as live:
                backup_db.backup(live)
            live.close()
        finally:
            backup_db.close()
    elif url.get_backend_name() == "postgresql":
        not_ours = f"{source}: not a backup of this application"
        if "alembic_version" not in _run(["pg_restore", "--list", str(source)], not_ours):
            raise BackupError(not_ours)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq(url)}",
                str(source),
            ]
        )
    else:
        raise BackupError(f"no restore method for {url.get_backend_name()}")


def _libpq(url) -> str:
    """A libpq connection string (postgresql://…) from a SQLAlchemy URL."""
    plain = make_url(url).set(drivername="postgresql")
    return plain.render_as_string(hide_password=False)


def _run(command: list[str], failure: str | None = None) -> str:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} not found; install the PostgreSQL client tools")
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    if result.returncode != 0:
        raise BackupError(failure or f"{command[0]} failed: {result.stderr.strip()}")
    return result.stdout
