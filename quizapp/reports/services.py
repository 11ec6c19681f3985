"""Participation: who in a unit subtree took part in a contest (or round), and who did not.

Rows: every roster member in scope, plus people not on any roster who took part (organizers,
admins and the contest's jury only appear when they are on the roster). Entries are finished
attempts (submitted or expired). The counted entry of a round follows its `counting` policy,
with `best` broken by the contest's ranking chain as on the leaderboard. For a whole contest
with several rounds, the counted score is the SUM of the per-round counted scores (each round is
a separate week of the contest), the time is the sum of their durations, and the date is that of
the latest counted entry.

Per unit (with its sub-units): headcount (see quizapp.units.services), participants and rate.
In a unit whose roster is loaded, participants are its roster members who took part; in a unit
without a roster, everyone in it who took part. People outside the roster are counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, or_, select

from quizapp.admin.services import record
from quizapp.attempts.models import FINISHED, Attempt, RoundResult
from quizapp.attempts.scoring import settle_rounds
from quizapp.auth.models import Role, User
from quizapp.contests.models import Contest, Round
from quizapp.contests.standings import ranked_people
from quizapp.database import begin_writing
from quizapp.errors import NotFound
from quizapp.extensions import db
from quizapp.units.collation import name_key
from quizapp.units.services import UnitNode, UnitTree

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NO_PREDICTION = 2**62


# --- who may see what ----------------------------------------------------------------------


@dataclass
class Scope:
    """The units a report covers: one unit's subtree, or everything (unit None)."""

    unit: UnitNode | None
    unit_ids: set[int] | None  # None: every unit and people without one

    @property
    def label(self) -> str:
        return self.unit.code if self.unit else "*"


def contests_for(user: User) -> list[Contest]:
    """Contests whose participation this user may see, newest first."""
    contests = db.session.scalars(select(Contest).order_by(Contest.created_at.desc())).all()
    return [c for c in contests if may_see_all(user, c) or user.role == Role.HR]


def may_see_all(user: User, contest: Contest) -> bool:
    """Admins, and the organizers of this contest, see every unit."""
    return user.role == Role.ADMIN or (
        user.role == Role.ORGANIZER and any(o.id == user.id for o in contest.organizers)
    )


def participation_scope(
    user: User | None, contest: Contest, unit_code: str | None, tree: UnitTree
) -> Scope:
    """The scope `user` asks for; a unit outside what they may see is answered 404.

    HR sees its own unit's subtree; admins and the contest's organizers see all. `user` None is
    the command line, which sees all.
    """
    if user is None or may_see_all(user, contest):
        allowed = None
    elif user.role == Role.HR and user.unit_id in tree.nodes:
        allowed = tree.subtree_ids(user.unit_id)
    else:
        raise NotFound(_l("No such participation list."))
    if unit_code:
        node = tree.by_code(unit_code)
        if node is None or (allowed is not None and node.id not in allowed):
            raise NotFound(_l("No such unit."))
        return Scope(node, tree.subtree_ids(node.id))
    if allowed is None:
        return Scope(None, None)
    return Scope(tree.nodes[user.unit_id], allowed)


# --- the report ----------------------------------------------------------------------------


@dataclass(slots=True)
class ParticipationRow:
    user_id: int
    unit_id: int | None
    unit_code: str | None
    unit_name: str | None
    full_name: str
    position: str | None
    employee_code: str | None
    on_roster: bool
    entries: int
    score: int | None
    max_score: int | None
    duration: float | None
    counted_at: datetime | None

    @property
    def took_part(self) -> bool:
        return self.entries > 0

    @property
    def counted_day(self) -> date | None:
        return self.counted_at.astimezone(LOCAL_TZ).date() if self.counted_at else None


@dataclass
class UnitSummary:
    node: UnitNode
    headcount: int | None
    headcount_from_roster: bool
    participants: int = 0
    entries: int = 0
    outside_roster: int = 0  # took part without being on the roster

    @property
    def rate(self) -> float | None:
        return self.participants / self.headcount if self.headcount else None


@dataclass
class ParticipationReport:
    contest: Contest
    round: Round | None
    scope: Scope
    rows: list[ParticipationRow]
    units: list[UnitSummary]  # tree order, each with its sub-units
    without_unit: int = 0  # participants who belong to no unit (only when the scope is all)
    threshold: float = 0.5

    @property
    def chart_units(self) -> list[UnitSummary]:
        """The units one level below the scope (top-level units for all), for the chart."""
        if not self.units:
            return []
        top = self.units[0].node.depth
        level = [s for s in self.units if s.node.depth == top]
        if self.scope.unit is not None or len(level) == 1:
            below = [s for s in self.units if s.node.depth == top + 1]
            return below or level
        return level

    @property
    def total(self) -> UnitSummary | None:
        """The scope unit's own line, or the sum of the top-level units."""
        if not self.units:
            return None
        top = self.units[0].node.depth
        roots = [s for s in self.units if s.node.depth == top]
        if len(roots) == 1:
            return roots[0]
        total = UnitSummary(
            node=UnitNode(0, "", str(_l("All units")), None, None),
            headcount=sum(s.headcount or 0 for s in roots) or None,
            headcount_from_roster=all(s.headcount_from_roster for s in roots),
        )
        for summary in roots:
            total.participants += summary.participants
            total.entries += summary.entries
            total.outside_roster += summary.outside_roster
        return total


def participation(
    contest: Contest,
    scope: Scope,
    now: datetime,
    *,
    round_number: int | None = None,
    tree: UnitTree | None = None,
) -> ParticipationReport:
    """The participation list and per-unit summary of a contest (or one of its rounds)."""
    tree = tree or UnitTree()
    if round_number is not None:
        round_ = next((r for r in contest.rounds if r.number == round_number), None)
        if round_ is None:
            raise NotFound(_l("No round %(n)s in this contest.", n=round_number))
        rounds = [round_]
    else:
        round_, rounds = None, list(contest.rounds)

    # Attempts past their deadline count, scored from what was saved; a final round's counted
    # entries take the prediction step.
    settle_rounds(rounds, now)
    rows = list(_rows(contest, rounds, scope, tree))
    last = len(tree.order)
    rows.sort(
        key=lambda r: (
            tree.position.get(r.unit_id, last) if r.unit_id else last,
            name_key(r.full_name),
            r.user_id,
        )
    )
    units, without_unit = _summaries(rows, scope, tree)
    return ParticipationReport(
        contest=contest,
        round=round_,
        scope=scope,
        rows=rows,
        units=units,
        without_unit=without_unit,
        threshold=contest.unit_rank_threshold,
    )


def _rows(
    contest: Contest,
    rounds: list[Round],
    scope: Scope,
    tree: UnitTree,
):
    round_ids = [r.id for r in rounds] or [-1]
    finished = (Attempt.round_id.in_(round_ids), Attempt.status.in_(FINISHED))
    entries = (
        select(Attempt.user_id, func.count().label("entries"))
        .where(*finished)
        .group_by(Attempt.user_id)
        .subquery()
    )
    counted = (  # each round's counted entry, as the leaderboard counts it, summed over rounds
        select(
            RoundResult.user_id,
            func.sum(RoundResult.score).label("score"),
            func.sum(RoundResult.max_score).label("max_score"),
            func.sum(RoundResult.duration).label("duration"),
            func.max(RoundResult.submitted_at).label("submitted_at"),
        )
        .where(RoundResult.round_id.in_(round_ids))
        .group_by(RoundResult.user_id)
        .subquery()
    )

    counts_as_participant: ColumnElement = and_(
        entries.c.entries.is_not(None), *ranked_people(contest.id)
    )
    query = (
        select(
            User.id,
            User.unit_id,
            User.full_name,
            User.position,
            User.employee_code,
            User.on_roster,
            func.coalesce(entries.c.entries, 0),
            counted.c.score,
            counted.c.max_score,
            counted.c.duration,
            counted.c.submitted_at,
        )
        .outerjoin(entries, entries.c.user_id == User.id)
        .outerjoin(counted, counted.c.user_id == User.id)
        .where(or_(User.on_roster.is_(True), counts_as_participant))
    )
    if scope.unit_ids is not None:
        query = query.where(User.unit_id.in_(scope.unit_ids))
    positions: dict[str | None, str | None] = {}
    for values in db.session.execute(query.execution_options(yield_per=5000)):
        user_id, unit_id, full_name, position, *rest = values
        node = tree.nodes.get(unit_id)
        # Share repeated strings: a 100,000-row list holds a few hundred units and positions.
        position = positions.setdefault(position, position)
        row = ParticipationRow(
            user_id,
            unit_id,
            node.code if node else None,
            node.name if node else None,
            full_name,
            position,
            *rest,
        )
        if row.counted_at is not None and row.counted_at.tzinfo is None:
            row.counted_at = row.counted_at.replace(tzinfo=ZoneInfo("UTC"))
        yield row


def _summaries(
    rows: list[ParticipationRow], scope: Scope, tree: UnitTree
) -> tuple[list[UnitSummary], int]:
    nodes = tree.subtree(scope.unit.id) if scope.unit else list(tree.order)
    summaries = {
        n.id: UnitSummary(n, headcount=n.headcount, headcount_from_roster=n.headcount_from_roster)
        for n in nodes
    }
    without_unit = 0
    for row in rows:
        if not row.took_part:
            continue
        summary = summaries.get(row.unit_id)
        if summary is None:
            without_unit += 1
            continue
        summary.entries += row.entries
        if not row.on_roster:
            summary.outside_roster += 1
        # A unit with a roster counts its roster members; one without, everyone who took part.
        if row.on_roster or not summary.node.headcount_from_roster:
            summary.participants += 1
    # Add each unit's numbers to its parent's, deepest first.
    for node in reversed(nodes):
        parent = summaries.get(node.parent_id) if node.parent_id else None
        if parent is not None and node is not scope.unit:
            own = summaries[node.id]
            parent.participants += own.participants
            parent.entries += own.entries
            parent.outside_roster += own.outside_roster
    return [summaries[n.id] for n in nodes], without_unit


# --- exports -------------------------------------------------------------------------------


LIST_COLUMNS = [
    ("STT", 6, None),
    ("Mã đơn vị", 12, None),
    ("Đơn vị", 34, None),
    ("Họ và tên", 26, None),
    ("Chức vụ", 20, None),
    ("Mã cán bộ", 12, None),
    ("Trong danh sách nhân sự", 12, None),
    ("Tham gia", 10, None),
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
    ("Tham gia ngoài danh sách", 14, None),
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
            row.entries,
            row.score,
            row.max_score,
            round(row.duration, 1) if row.duration is not None else None,
            row.counted_day,
        )


def summary_rows(report: ParticipationReport):
    for summary in report.units:
        node = summary.node
        yield (
            node.code,
            "  " * (node.depth - report.units[0].node.depth) + node.name,
            node.depth + 1,
            summary.headcount,
            "Danh sách"
            if summary.headcount_from_roster
            else ("Nhập tay" if summary.headcount is not None else None),
            summary.participants,
            summary.rate,
            summary.entries,
            summary.outside_roster,
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
