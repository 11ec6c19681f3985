"""Results of a contest's rounds as the leaderboard ranks them, for XLSX/CSV download.

The rows come from `quizapp.contests.standings.standings`, so the file and the leaderboard never
disagree. Files carry names and units (personal data): every export is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from quizapp.admin.services import record
from quizapp.auth.models import User
from quizapp.contests.models import Contest
from quizapp.contests.standings import Standing, standings
from quizapp.errors import NotFound
from quizapp.extensions import db
from quizapp.reports.sheets import Column, Sheet

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DECIDED_BY = {
    "score": "điểm",
    "prediction": "dự đoán",
    "duration": "thời gian làm bài",
    "submitted_at": "thời điểm nộp",
    "attempt_id": "thứ tự bài thi",
}
COLUMNS = [
    Column("Đợt thi", 16),
    Column("Hạng", 7),
    Column("Họ và tên", 28),
    Column("Đơn vị", 32),
    Column("Điểm", 8),
    Column("Điểm tối đa", 11),
    Column("Dự đoán", 10),
    Column("Thời gian làm bài (giây)", 14, "0.0"),
    Column("Nộp bài lúc (giờ Việt Nam)", 20, "DD/MM/YYYY HH:MM:SS"),
    Column("Xếp sau người trên do", 20),
]


@dataclass(frozen=True)
class ResultsReport:
    """Plain values only: the file is streamed after the audit commit and the request's
    session are gone, so nothing in it may be an ORM object that would load again."""

    contest_slug: str
    round_number: int | None  # None: every round, one after the other
    rows: list[tuple[str, Standing]]  # (the round's "number. title", its ranked row)


def results(contest: Contest, now: datetime, *, round_number: int | None = None) -> ResultsReport:
    """Every ranked person of one round (or of each round in turn), in standings order."""
    if round_number is not None:
        round_ = next((r for r in contest.rounds if r.number == round_number), None)
        if round_ is None:
            raise NotFound(_l("No round %(n)s in this contest.", n=round_number))
        rounds = [round_]
    else:
        rounds = list(contest.rounds)
    rows = []
    for round_ in rounds:
        ranked = standings(round_, now)  # may commit (a final round's prediction count)
        rows.extend((f"{round_.number}. {round_.title}", standing) for standing in ranked)
    return ResultsReport(contest.slug, round_number, rows)


def result_rows(report: ResultsReport, file_format: str) -> Iterator[tuple]:
    """Plain values per row; CSV gets the time as text (a CSV cell has no number format)."""
    for round_label, row in report.rows:
        submitted = row.submitted_at.astimezone(LOCAL_TZ).replace(tzinfo=None)
        yield (
            round_label,
            row.rank,
            row.name,
            row.unit,
            row.score,
            row.max_score,
            row.prediction,
            round(row.duration_seconds, 1) if row.duration_seconds is not None else None,
            submitted.strftime("%d/%m/%Y %H:%M:%S") if file_format == "csv" else submitted,
            DECIDED_BY.get(row.decided_by, "") if row.decided_by else "",
        )


def results_sheets(report: ResultsReport, file_format: str) -> list[Sheet]:
    return [Sheet("Kết quả", COLUMNS, result_rows(report, file_format))]


def results_filename(report: ResultsReport, file_format: str, now: datetime) -> str:
    parts = ["ket-qua", report.contest_slug]
    if report.round_number is not None:
        parts.append(f"dot{report.round_number}")
    parts.append(now.astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M"))
    return "-".join(parts) + f".{file_format}"


def record_results_export(
    report: ResultsReport, file_format: str, now: datetime, *, actor: User | None, via: str = "web"
) -> None:
    """Write the export (who, which contest and round, when, how many rows) to the audit log."""
    entry = record(
        "export.results",
        user=actor,
        target=report.contest_slug,
        round=report.round_number,
        format=file_format,
        rows=len(report.rows),
        via=via,
    )
    entry.at = now
    db.session.commit()
