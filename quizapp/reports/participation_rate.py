"""Participation by unit: the one definition the dashboard, the statistics API and command, the
HR report and its files all use.

A unit's participation rate is its participants over its headcount, both with its sub-units
(headcount: quizapp.units.services). Its participants are the distinct people its headcount
counts who finished an entry (submitted or expired) in the contest, or in the round asked for:
roster members where the headcount comes from a roster; every account of the unit where it is
typed in (the typed number of a unit counts its sub-units too), but self-registered accounts,
whose unit is only their own claim. Anyone else of the unit who took part (off the roster,
self-registered, in a unit no headcount covers) is shown, with their entries, as "not counted",
never in the rate. The contest's organizers, admins and jury are never counted and have no
entries (DESIGN §1: never ranked). A contest limited to some units (its audience) is reported on
those units' subtrees; people elsewhere who took part are counted apart with people without a
unit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Float, cast, distinct, func, select

from quizapp.attempts.models import FINISHED, Attempt, RoundResult
from quizapp.auth.models import User
from quizapp.contests.models import Contest
from quizapp.contests.standings import ranked_people
from quizapp.extensions import db
from quizapp.units.services import UnitNode, UnitTree


def entrants(contest: Contest, people_ids: set[int] | None) -> tuple:
    """Conditions on User for people whose entries count at all: not the contest's organizers,
    admins or jury, and within `people_ids` (the units a viewer may see; None: everyone)."""
    scope = () if people_ids is None else (User.unit_id.in_(people_ids),)
    return (*ranked_people(contest.id), *scope)


def finished_entries(contest: Contest, round_ids: list[int], people_ids: set[int] | None) -> tuple:
    """Conditions on Attempt (joined to its User) for the entries counted: finished attempts in
    these rounds of people whose entries count, within `people_ids`."""
    return (
        Attempt.round_id.in_(round_ids),
        Attempt.status.in_(FINISHED),
        *entrants(contest, people_ids),
    )


def headcount_flags() -> tuple:
    """Columns of User, besides unit and roster, that `Headcounts.counts` takes: whether the
    owner registered the account themselves (where accounts record it)."""
    self_registered = getattr(User, "self_registered", None)
    return () if self_registered is None else (self_registered,)


class Headcounts:
    """Who each unit's headcount counts: the definition in this module's docstring."""

    def __init__(self, tree: UnitTree) -> None:
        self.roster = {n.id for n in tree.order if n.headcount_from_roster}
        # A typed-in number counts the unit's sub-units too, as long as no roster is loaded.
        self.typed: set[int] = set()
        for node in tree.order:  # parents before their children
            if not node.headcount_from_roster and (
                node.typed_headcount is not None or node.parent_id in self.typed
            ):
                self.typed.add(node.id)

    def counts(self, unit_id: int | None, on_roster: bool, self_registered: bool = False) -> bool:
        """Whether an account of this unit is among the people its headcount counts.

        Roster members where the headcount comes from a roster; where it is typed in, every
        account but self-registered ones, whose unit is only their owner's claim.
        """
        if unit_id in self.roster:
            return bool(on_roster)
        return unit_id in self.typed and not self_registered


def contest_unit_ids(contest: Contest, tree: UnitTree, allowed: set[int] | None) -> set[int] | None:
    """The units a contest's numbers are given for, within `allowed` (None: every unit).

    Its audience units with their sub-units; every unit when it names no audience.
    """
    if not contest.audience:
        return allowed
    units = set().union(*(tree.subtree_ids(unit.id) for unit in contest.audience))
    return units if allowed is None else units & allowed


@dataclass
class UnitParticipation:
    """One unit's numbers, with its sub-units."""

    node: UnitNode
    participants: int = 0  # counted by the headcount, took part: the rate's numerator
    not_counted: int = 0  # took part without being counted by the headcount
    entries: int = 0  # finished attempts of everyone in the unit, counted or not
    score_shares: float = 0.0  # participants' counted entries as shares of the maximum, summed
    counted_entries: int = 0  # those counted entries: one per participant and round
    rank: int | None = None  # None: under the contest's threshold (listed, not ranked)

    @property
    def headcount(self) -> int | None:
        return self.node.headcount

    @property
    def headcount_from_roster(self) -> bool:
        return self.node.headcount_from_roster

    @property
    def code(self) -> str:
        return self.node.code

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def depth(self) -> int:
        return self.node.depth

    @property
    def rate(self) -> float | None:
        return self.participants / self.headcount if self.headcount else None

    @property
    def mean_counted_score(self) -> float | None:
        return self.score_shares / self.counted_entries if self.counted_entries else None

    def add(self, other: UnitParticipation) -> None:
        self.participants += other.participants
        self.not_counted += other.not_counted
        self.entries += other.entries
        self.score_shares += other.score_shares
        self.counted_entries += other.counted_entries


@dataclass
class Participation:
    units: list[UnitParticipation]  # the contest's units in view, tree order
    elsewhere: UnitParticipation  # took part without a unit, or outside the units listed
    participants: int = 0  # everyone in view who took part, counted or not
    entries: int = 0
    by_id: dict[int, UnitParticipation] = field(default_factory=dict)

    @property
    def roots(self) -> list[UnitParticipation]:
        """The listed units whose parent is not listed."""
        return [u for u in self.units if u.node.parent_id not in self.by_id]


def unit_participation(
    contest: Contest,
    round_ids: Iterable[int],
    tree: UnitTree,
    *,
    people_ids: set[int] | None = None,
    entries_by_unit: Iterable[tuple[int | None, int]] | None = None,
) -> Participation:
    """Participants, people not counted, entries and counted scores of the contest's units.

    `people_ids` limits to the units a viewer may see (None: everyone, people without a unit
    too). One grouped pass over the finished attempts, one over `round_results` (a row per
    person and round they finished an entry in), each grouped by unit; the tree sums them up.
    A caller that already counted `finished_entries` by unit (the dashboard, in its pass by day
    and score band) hands them in as `entries_by_unit` instead of the first pass.
    """
    round_ids = list(round_ids) or [-1]
    listed = contest_unit_ids(contest, tree, people_ids)
    nodes = [n for n in tree.order if listed is None or n.id in listed]
    units = [UnitParticipation(node) for node in nodes]
    by_id = {u.node.id: u for u in units}
    result = Participation(units, UnitParticipation(UnitNode(0, "", "", None, None)), by_id=by_id)

    def credited(unit_id: int | None) -> list[UnitParticipation]:
        """The unit and every listed unit above it; anyone else stands apart."""
        path = [by_id[n.id] for n in tree.path(unit_id) if n.id in by_id] if unit_id else []
        return path or [result.elsewhere]

    if entries_by_unit is None:
        entries_by_unit = db.session.execute(
            select(User.unit_id, func.count())
            .select_from(Attempt)
            .join(User, User.id == Attempt.user_id)
            .where(*finished_entries(contest, round_ids, people_ids))
            .group_by(User.unit_id)
        ).all()
    for unit_id, entries in entries_by_unit:
        result.entries += entries
        for unit in credited(unit_id):
            unit.entries += entries

    share = cast(RoundResult.score, Float) / func.nullif(RoundResult.max_score, 0)
    flags = headcount_flags()
    headcounts = Headcounts(tree)
    for unit_id, on_roster, *flag_values, n_people, shares, n_results in db.session.execute(
        select(
            User.unit_id,
            User.on_roster,
            *flags,
            func.count(distinct(RoundResult.user_id)),
            func.sum(func.coalesce(share, 0.0)),
            func.count(),
        )
        .select_from(RoundResult)
        .join(User, User.id == RoundResult.user_id)
        .where(RoundResult.round_id.in_(round_ids), *entrants(contest, people_ids))
        .group_by(User.unit_id, User.on_roster, *flags)
    ):
        result.participants += n_people
        counted = headcounts.counts(unit_id, on_roster, *flag_values)
        for unit in credited(unit_id):
            if unit is result.elsewhere:
                unit.participants += n_people
            elif counted:
                unit.participants += n_people
                unit.score_shares += float(shares or 0.0)
                unit.counted_entries += n_results
            else:
                unit.not_counted += n_people
    return result


def rank_units(units: list[UnitParticipation], threshold: float) -> None:
    """Rank each level's units by rate, then mean counted score; under the threshold: unranked."""
    by_depth: dict[int, list[UnitParticipation]] = defaultdict(list)
    for unit in units:
        by_depth[unit.depth].append(unit)
    for level in by_depth.values():
        eligible = [u for u in level if u.rate is not None and u.rate >= threshold]
        eligible.sort(key=lambda u: (-u.rate, -(u.mean_counted_score or 0.0), u.code))
        for rank, unit in enumerate(eligible, start=1):
            unit.rank = rank


__all__ = [
    "Headcounts",
    "Participation",
    "UnitParticipation",
    "contest_unit_ids",
    "entrants",
    "finished_entries",
    "headcount_flags",
    "rank_units",
    "unit_participation",
]
