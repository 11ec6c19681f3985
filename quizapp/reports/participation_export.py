"""The participation report's files: the list and the per-unit summary as sheets, their name,
and the audit log entry of each download (the page and `flask export participation` alike)."""

from __future__ import annotations

from datetime import datetime

from quizapp.admin.services import record
from quizapp.auth.models import User
from quizapp.database import begin_writing
from quizapp.extensions import db
from quizapp.reports.services import LOCAL_TZ, ParticipationReport

LIST_COLUMNS = [
    ("STT", 6, None),
    ("Mã đơn vị", 12, None),
    ("Đơn vị", 34, None),
    ("Họ và tên", 26, None),
    ("Chức vụ", 20, None),
    ("Mã cán bộ", 12, None),
    ("Trong danh sách nhân sự", 12, None),
    ("Tham gia", 10, None),
    ("Tính vào tỉ lệ tham gia", 12, None),
    ("Số lượt thi", 10, None),
    ("Điểm", 8, None),
    ("Điểm tối đa", 10, None),
    ("Thời gian làm bài (giây)", 14, "0.0"),
    ("Ngày thi", 12, "DD/MM/YYYY"),
]
SUMMARY_COLUMNS = [
    ("Mã đơn vị", 12, None),
    ("Đơn vị", 44, None),
    ("Cấp", 6, None),
    ("Số người (gồm đơn vị trực thuộc)", 14, None),
    ("Nguồn số người", 14, None),
    ("Số người tham gia", 12, None),
    ("Tỉ lệ tham gia", 12, "0.0%"),
    ("Số lượt thi", 10, None),
    ("Tham gia, không tính vào tỉ lệ", 16, None),
]
YES, NO = "Có", "Không"


def list_rows(report: ParticipationReport):
    """The participation list as plain values, one tuple per person."""
    for index, row in enumerate(report.rows, 1):
        yield (
            index,
            row.unit_code,
            row.unit_name,
            row.full_name,
            row.position,
            row.employee_code,
            YES if row.on_roster else NO,
            YES if row.took_part else NO,
            YES if row.counted else NO,
            row.entries,
            row.score,
            row.max_score,
            round(row.duration, 1) if row.duration is not None else None,
            row.counted_day,
        )


def summary_rows(report: ParticipationReport):
    """One tuple per unit: the numbers of quizapp.reports.participation_rate, as on the page."""
    top = min((unit.depth for unit in report.roots), default=0)
    for summary in report.units:
        node = summary.node
        yield (
            node.code,
            "  " * (node.depth - top) + node.name,
            node.depth + 1,
            summary.headcount,
            "Danh sách"
            if summary.headcount_from_roster
            else ("Nhập tay" if summary.headcount is not None else None),
            summary.participants,
            summary.rate,
            summary.entries,
            summary.not_counted,
        )


def sheets_for(report: ParticipationReport, file_format: str):
    from quizapp.reports.sheets import Column, Sheet

    def columns(spec):
        return [Column(header, width, number_format) for header, width, number_format in spec]

    sheets = [Sheet("Danh sách", columns(LIST_COLUMNS), list_rows(report))]
    if file_format == "xlsx":
        sheets.append(Sheet("Tổng hợp theo đơn vị", columns(SUMMARY_COLUMNS), summary_rows(report)))
    return sheets


def export_filename(report: ParticipationReport, file_format: str, now: datetime) -> str:
    parts = ["tham-gia", report.contest.slug]
    if report.round is not None:
        parts.append(f"dot{report.round.number}")
    if report.scope.unit is not None:
        parts.append(report.scope.unit.code)
    parts.append(now.astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M"))
    safe = "-".join(parts).replace("/", "-").replace('"', "")
    return f"{safe}.{file_format}"


def record_export(
    report: ParticipationReport,
    file_format: str,
    now: datetime,
    *,
    actor: User | None,
    via: str = "web",
) -> None:
    """Write the export (who, which scope, when, how many rows) to the audit log."""
    begin_writing(db.session)  # after the report's reads (a command's transaction began as one)
    entry = record(
        "export.participation",
        user=actor,
        target=report.contest.slug,
        scope=report.scope.label,
        round=report.round.number if report.round else None,
        format=file_format,
        rows=len(report.rows),
        via=via,
    )
    entry.at = now
    db.session.commit()
