"""Participation: who in a unit subtree took part in a contest (or round), and who did not.

Rows: every roster member in scope, plus people not on any roster who took part (organizers,
admins and the contest's jury only appear when they are on the roster). Entries are finished
attempts (submitted or expired). The counted entry of a round follows its `counting` policy,
with `best` broken by the contest's ranking chain as on the leaderboard. For a whole contest
with several rounds, the counted score is the SUM of the per-round counted scores (each round is
a separate week of the contest), the time is the sum of their durations, and the date is that of
the latest counted entry.

Per unit (with its sub-units): headcount, participants, rate, entries and the people who took
part without counting toward the rate, by the definition in quizapp.reports.participation_rate
that the dashboard and the statistics API use too. A contest limited to some units lists those
units' roster members (and anyone in view who took part).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from quizapp.attempts.models import Attempt, RoundResult
from quizapp.attempts.scoring import settle_rounds
from quizapp.auth.models import User
from quizapp.contests.models import Contest, Round
from quizapp.errors import NotFound
from quizapp.extensions import db
from quizapp.policy import can_see_stats, stats_scope
from quizapp.reports.participation_rate import (
    Headcounts,
    UnitParticipation,
    contest_unit_ids,
    entrants,
    finished_entries,
    headcount_flags,
    unit_participation,
)
from quizapp.units.collation import name_key
from quizapp.units.services import UnitNode, UnitTree

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NO_PREDICTION = 2**62


# --- who may see what ----------------------------------------------------------------------


@dataclass
class Scope:
    """Whose participation a report covers: one unit's subtree, or everyone in view.

    The units listed are the contest's within `unit_ids` (quizapp.reports.participation_rate);
    `unit` is the one unit they hang from, if they do.
    """

    unit: UnitNode | None
    unit_ids: set[int] | None  # None: every unit and people without one

    @property
    def label(self) -> str:
        return self.unit.code if self.unit else "*"


def contests_for(user: User) -> list[Contest]:
    """Contests whose participation this user may see, newest first."""
    contests = db.session.scalars(select(Contest).order_by(Contest.created_at.desc())).all()
    tree = UnitTree() if contests else None  # read once for all of them, not per contest
    return [c for c in contests if can_see_stats(user, c, tree)]


def participation_scope(
    user: User | None, contest: Contest, unit_code: str | None, tree: UnitTree
) -> Scope:
    """The scope `user` asks for; a unit outside what they may see, or outside the contest's
    units, is answered 404.

    What they may see is quizapp.policy.stats_scope's; `user` None is the command line, which
    sees all. Without a unit asked for, the scope is everything they may see, under the one
    contest unit it hangs from if there is one.
    """
    allowed = None if user is None else stats_scope(user, contest, tree)
    listed = contest_unit_ids(contest, tree, allowed)
    if unit_code:
        node = tree.by_code(unit_code)
        if node is None or (allowed is not None and node.id not in allowed):
            raise NotFound(_l("No such unit."))
        if listed is not None and node.id not in listed:
            raise NotFound(_l("Unit %(code)s is not among this contest's units.", code=node.code))
        return Scope(node, tree.subtree_ids(node.id))
    if listed is None:
        return Scope(None, None)
    roots = [tree.nodes[i] for i in listed if tree.nodes[i].parent_id not in listed]
    return Scope(roots[0] if len(roots) == 1 else None, allowed)


def unit_choices(contest: Contest, allowed: set[int] | None, tree: UnitTree) -> list[UnitNode]:
    """The contest's units within `allowed` (quizapp.policy.stats_scope's), in tree order."""
    listed = contest_unit_ids(contest, tree, allowed)
    return [node for node in tree.order if listed is None or node.id in listed]


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
    counted: bool  # the headcount counts them: taking part, they count toward the rate
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
class ParticipationReport:
    contest: Contest
    round: Round | None
    scope: Scope
    rows: list[ParticipationRow]
    units: list[UnitParticipation]  # tree order, each with its sub-units
    roots: list[UnitParticipation]  # the units listed whose parent is not
    elsewhere: UnitParticipation  # took part without a unit, or outside the units listed
    threshold: float = 0.5

    @property
    def without_unit(self) -> int:
        """People who took part in none of the units listed (without a unit, or elsewhere)."""
        return self.elsewhere.participants

    @property
    def chart_units(self) -> list[UnitParticipation]:
        """The units one level below a single top unit (else the top units), for the chart."""
        if len(self.roots) == 1:
            top = self.roots[0].node
            return [u for u in self.units if u.node.parent_id == top.id] or self.roots
        return self.roots

    @property
    def total(self) -> UnitParticipation | None:
        """The top unit's own line, or the sum of the top units."""
        if len(self.roots) <= 1:
            return self.roots[0] if self.roots else None
        node = UnitNode(0, "", str(_l("All units")), None, None)
        node.headcount = sum(u.headcount or 0 for u in self.roots) or None
        node.headcount_from_roster = all(u.headcount_from_roster for u in self.roots)
        total = UnitParticipation(node)
        for unit in self.roots:
            total.add(unit)
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
    entries: Counter[int | None] = Counter()  # the rows hold every entry in scope
    for row in rows:
        entries[row.unit_id] += row.entries
    units = unit_participation(
        contest,
        [r.id for r in rounds],
        tree,
        people_ids=scope.unit_ids,
        entries_by_unit=entries.items(),
    )
    return ParticipationReport(
        contest=contest,
        round=round_,
        scope=scope,
        rows=rows,
        units=units.units,
        roots=units.roots,
        elsewhere=units.elsewhere,
        threshold=contest.unit_rank_threshold,
    )


def _rows(
    contest: Contest,
    rounds: list[Round],
    scope: Scope,
    tree: UnitTree,
):
    round_ids = [r.id for r in rounds] or [-1]
    # The contest's organizers, admins and jury have no entries, as on the dashboard.
    who = entrants(contest, None)
    entries = (
        select(Attempt.user_id, func.count().label("entries"))
        .join(User, User.id == Attempt.user_id)
        .where(*finished_entries(contest, round_ids, None))
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
        .join(User, User.id == RoundResult.user_id)
        .where(RoundResult.round_id.in_(round_ids), *who)
        .group_by(RoundResult.user_id)
        .subquery()
    )

    listed = contest_unit_ids(contest, tree, scope.unit_ids)
    on_listed_roster = User.on_roster.is_(True)
    if listed is not None:
        on_listed_roster = and_(on_listed_roster, User.unit_id.in_(listed))
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
            and_(*who),  # may count at all (not the contest's staff)
            *headcount_flags(),
        )
        .outerjoin(entries, entries.c.user_id == User.id)
        .outerjoin(counted, counted.c.user_id == User.id)
        .where(or_(on_listed_roster, entries.c.entries.is_not(None)))
    )
    if scope.unit_ids is not None:
        query = query.where(User.unit_id.in_(scope.unit_ids))
    headcounts = Headcounts(tree)
    positions: dict[str | None, str | None] = {}
    for values in db.session.execute(query.execution_options(yield_per=5000)):
        user_id, unit_id, full_name, position, employee_code, on_roster, *rest = values[:11]
        may_count, *flags = values[11:]
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
            employee_code,
            on_roster,
            bool(may_count) and headcounts.counts(unit_id, on_roster, *flags),
            *rest,
        )
        if row.counted_at is not None and row.counted_at.tzinfo is None:
            row.counted_at = row.counted_at.replace(tzinfo=ZoneInfo("UTC"))
        yield row
