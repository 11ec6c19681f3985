"""Data-size benchmark: leaderboard, statistics and participation export at 100,000 and 1,000,000
attempts, on SQLite and PostgreSQL, with time and peak memory.

    .venv/bin/python bench/data_size.py                       # both sizes, both databases
    .venv/bin/python bench/data_size.py --sizes 100000 --db sqlite

Data: bench/participation_export.py's generator (a province of 300 divisions, about 60 % of the
roster taking part one to three times), people = attempts / 1.05, then the real
`rebuild_results` fills round_results. Each measurement runs in a fresh process, so its peak
resident memory (VmHWM) is its own. It times the real functions, so reruns show their changes:
  leaderboard  standings(round_, now, limit=100)            best of 5 (first call listed too)
  statistics   contest_stats(contest, now)                  best of 3
  export       participation(...) + the CSV stream          one run
PostgreSQL: the throwaway cluster of scripts/pg-test-server.sh (QUIZAPP_PG_PORT, default 55460;
PG_DIR, default /tmp/pg-bench), ANALYZE after loading as autovacuum would.
"""

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from flask_migrate import upgrade  # noqa: E402
from participation_export import MIGRATIONS, NOW, populate, rss_mib  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from quizapp import create_app  # noqa: E402
from quizapp.contests.models import Contest  # noqa: E402
from quizapp.extensions import db  # noqa: E402

ATTEMPTS_PER_PERSON = 1.05  # the generator: 60 % take part, 1.75 attempts each on average
OPERATIONS = ("leaderboard", "statistics", "export")


def generate(url: str, attempts: int) -> dict:
    from quizapp.contests.round_results import rebuild_results

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        started = time.perf_counter()
        contest, made = populate(round(attempts / ATTEMPTS_PER_PERSON), random.Random(2023))
        rebuild_results(contest.rounds[0])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        seconds = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return {"attempts": made, "generate_seconds": seconds}


def measure(operation: str, url: str) -> dict:
    """One operation in this (fresh) process: seconds and peak resident memory."""
    from quizapp.contests.standings import standings
    from quizapp.contests.stats import contest_stats
    from quizapp.reports.participation_export import sheets_for
    from quizapp.reports.services import Scope, participation
    from quizapp.reports.sheets import csv_chunks

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        contest = db.session.scalar(select(Contest).where(Contest.slug == "bench"))
        round_ = contest.rounds[0]
        before = rss_mib()
        times = []
        if operation == "leaderboard":
            for _ in range(5):
                db.session.expire_all()
                started = time.perf_counter()
                rows = standings(round_, NOW, limit=100)
                times.append(time.perf_counter() - started)
            detail = f"{len(rows)} rows"
        elif operation == "statistics":
            for _ in range(3):
                db.session.expire_all()
                started = time.perf_counter()
                stats = contest_stats(contest, NOW)
                times.append(time.perf_counter() - started)
                db.session.rollback()
            detail = f"{getattr(stats, 'participants', '?')} participants"
        else:
            started = time.perf_counter()
            report = participation(contest, Scope(None, None), NOW)
            sheet = sheets_for(report, "csv")[0]
            size = 0
            for chunk in csv_chunks(sheet.columns, sheet.rows):
                size += len(chunk)
            times.append(time.perf_counter() - started)
            detail = f"{len(report.rows):,} rows, CSV {size / 2**20:.0f} MiB"
        after = rss_mib()
    return {
        "first": times[0],
        "best": min(times),
        "peak_mib": after,
        "before_mib": before,
        "detail": detail,
    }


def database_url(kind: str, attempts: int, folder: Path) -> str:
    if kind == "sqlite":
        path = folder / f"data-{attempts}.sqlite"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from servers import postgres_url

    return postgres_url(f"quizapp_data_{attempts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])  # fmt: skip
    parser.add_argument("--keep", type=Path, help="folder for the SQLite files (kept)")
    parser.add_argument("--measure", nargs=2, metavar=("OPERATION", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-data-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for kind in args.db:
        for size in args.sizes:
            url = database_url(kind, size, folder)
            made = generate(url, size)
            print(
                f"{kind}: {made['attempts']:,} attempts generated in {made['generate_seconds']:.0f} s",
                flush=True,
            )
            for operation in OPERATIONS:
                output = subprocess.run(
                    [sys.executable, __file__, "--measure", operation, url],
                    check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                figures = json.loads(output.strip().splitlines()[-1])
                row = {"db": kind, "attempts": made["attempts"], "operation": operation, **figures}
                results.append(row)
                print(
                    f"  {operation}: best {figures['best'] * 1000:,.0f} ms (first "
                    f"{figures['first'] * 1000:,.0f} ms), peak RSS {figures['peak_mib']:.0f} MiB "
                    f"({figures['before_mib']:.0f} before); {figures['detail']}",
                    flush=True,
                )
    print()
    print("| database | attempts | operation | best | first call | peak RSS | |")
    print("|---|---:|---|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r['db']} | {r['attempts']:,} | {r['operation']} | {r['best'] * 1000:,.0f} ms | "
            f"{r['first'] * 1000:,.0f} ms | {r['peak_mib']:.0f} MiB | {r['detail']} |"
        )
    (HERE / "out").mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (HERE / "out" / f"data-size-{stamp}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
