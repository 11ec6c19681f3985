"""Benchmark: the participation export of a 100,000-person roster, time and peak memory.

    .venv/bin/python bench/participation_export.py [--people 100000] [--keep DIR]

Builds a throw-away SQLite database (a province with 30 departments of 10 divisions each, the
roster spread over them, about 60 % taking part one to three times), then, in a fresh process,
times the report (query + Vietnamese sort + per-unit sums), the XLSX file and the CSV stream,
each on its own, and prints the process's maximum resident set size before and after. A second
pass under tracemalloc gives the peak of Python allocations.
"""

import argparse
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from quizapp import create_app  # noqa: E402
from quizapp.attempts.models import Attempt  # noqa: E402
from quizapp.auth.models import Unit, User  # noqa: E402
from quizapp.contests.models import Contest, Round  # noqa: E402
from quizapp.contests.round_results import rebuild_results  # noqa: E402
from quizapp.extensions import db  # noqa: E402
from quizapp.reports.participation_export import sheets_for  # noqa: E402
from quizapp.reports.services import Scope, participation  # noqa: E402
from quizapp.reports.sheets import csv_chunks, write_xlsx  # noqa: E402

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thị Thu", "Ngọc", "Quốc"]
GIVEN = ["An", "Anh", "Ánh", "Bình", "Cường", "Dũng", "Đức", "Giang", "Hà", "Hải", "Hạnh",
         "Hoa", "Huy", "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Phúc", "Quang", "Sơn",
         "Tâm", "Thảo", "Trung", "Tú", "Uyên", "Vân", "Yến"]  # fmt: skip
NOW = datetime(2023, 10, 9, 3, 0, tzinfo=UTC)


def populate(people: int, rng: random.Random) -> Contest:
    province = Unit(code="T", name="UBND tỉnh")
    db.session.add(province)
    leaves = []
    for d in range(30):
        dept = Unit(code=f"S{d:02d}", name=f"Sở {d:02d}", parent=province)
        db.session.add(dept)
        for v in range(10):
            leaf = Unit(code=f"S{d:02d}-P{v}", name=f"Phòng {v} Sở {d:02d}", parent=dept)
            db.session.add(leaf)
            leaves.append(leaf)
    contest = Contest(slug="bench", title="Benchmark")
    round_ = Round(contest=contest, number=1, title="Tuần 1", opens_at=NOW - timedelta(days=7),
                   closes_at=NOW + timedelta(days=1))  # fmt: skip
    db.session.add(round_)
    db.session.flush()
    unit_ids = [leaf.id for leaf in leaves]
    db.session.execute(
        insert(User),
        [
            {
                "login": f"nv{i}@bench.vn",
                "full_name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                "password_hash": "x",
                "role": "participant",
                "unit_id": unit_ids[i % len(unit_ids)],
                "position": "Chuyên viên",
                "employee_code": f"NV{i:06d}",
                "on_roster": True,
            }
            for i in range(people)
        ],
    )
    attempts = []
    for user_id in range(1, people + 1):
        if rng.random() < 0.4:
            continue
        for number in range(1, rng.choice([1, 1, 2, 3]) + 1):
            started = NOW - timedelta(days=number, minutes=rng.randint(0, 600))
            duration = rng.uniform(60, 1200)
            attempts.append(
                {
                    "user_id": user_id,
                    "round_id": round_.id,
                    "number": number,
                    "day": started.date(),
                    "day_number": number,
                    "status": "submitted",
                    "started_at": started,
                    "deadline": started + timedelta(minutes=20),
                    "submitted_at": started + timedelta(seconds=duration),
                    "score": rng.randint(0, 20),
                    "max_score": 20,
                    "correct_count": 0,
                    "duration": duration,
                }
            )
    db.session.execute(insert(Attempt), attempts)
    rebuild_results(round_)  # bulk-loaded attempts bypass the scoring service
    db.session.commit()
    return contest, len(attempts)


def run(contest: Contest, out: Path) -> dict:
    timings = {}
    start = time.perf_counter()
    report = participation(contest, Scope(None, None), NOW)
    timings["report"] = time.perf_counter() - start

    start = time.perf_counter()
    with (out / "participation.xlsx").open("wb") as stream:
        write_xlsx(sheets_for(report, "xlsx"), stream)
    timings["xlsx"] = time.perf_counter() - start

    start = time.perf_counter()
    sheet = sheets_for(report, "csv")[0]
    with (out / "participation.csv").open("wb") as stream:
        for chunk in csv_chunks(sheet.columns, sheet.rows):
            stream.write(chunk)
    timings["csv"] = time.perf_counter() - start
    timings["rows"] = len(report.rows)
    return timings


def rss_mib() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss survives exec on Linux)."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    except (OSError, AttributeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export_only(folder: Path) -> None:
    """Measure in a fresh process, so the populating step does not count towards memory."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}"})
    with app.app_context():
        contest = db.session.scalar(select(Contest))
        before = rss_mib()
        timed = run(contest, folder)
        after = rss_mib()
        total = timed["report"] + timed["xlsx"] + timed["csv"]
        print(f"rows: {timed['rows']:,}")
        print(
            f"report {timed['report']:.2f} s, xlsx {timed['xlsx']:.2f} s, "
            f"csv {timed['csv']:.2f} s (all three {total:.2f} s)"
        )
        print(
            f"one download: report + xlsx {timed['report'] + timed['xlsx']:.2f} s, "
            f"report + csv {timed['report'] + timed['csv']:.2f} s"
        )
        print(f"peak resident memory: {before:.0f} MiB before, {after:.0f} MiB after the export")

        db.session.expire_all()
        tracemalloc.start()
        run(contest, folder)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak Python allocations during the export (tracemalloc): {peak / 2**20:.0f} MiB")
        xlsx_size = (folder / "participation.xlsx").stat().st_size / 2**20
        csv_size = (folder / "participation.csv").stat().st_size / 2**20
        print(f"files: xlsx {xlsx_size:.1f} MiB, csv {csv_size:.1f} MiB in {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the database and files in this folder")
    parser.add_argument("--export-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        export_only(args.export_only)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-participation-"))
    folder.mkdir(parents=True, exist_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}"})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        start = time.perf_counter()
        _contest, attempts = populate(args.people, random.Random(2023))
        elapsed = time.perf_counter() - start
        print(f"populated {args.people:,} people, {attempts:,} attempts in {elapsed:.1f} s")
    subprocess.run([sys.executable, __file__, "--export-only", str(folder)], check=True)
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
