"""Who may see or change what: the one place views, the API, the CLI and templates ask.

Every rule about a contest's people and numbers lives here, so that the page, the JSON API and
the template that shows a link all agree:

- a contest is run by its organizers (recorded on it) and by admins (`can_manage_contest`);
- it is entered by the people of its audience (`may_enter`); a self-registered account's
  claimed unit admits it only to contests that allow self-registration;
- its leaderboard is for those who run it, and for its audience when the organizer publishes
  it (`can_see_leaderboard`);
- its numbers are for those who run it, and for HR officers within their own unit subtree
  (`stats_scope`);
- what a finished attempt shows its owner follows the round's review policy (`shows_score`,
  `shows_answers`);
- question banks are read by every organizer (`can_see_bank`) and changed by the organizers of
  the contests that draw from them, or by their importer before any does (`can_change_bank`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from quizapp.auth.models import Role, Unit, User
from quizapp.banks.models import Category, QuestionBank
from quizapp.contests.models import Contest, ReviewPolicy, Round, RoundDraw, contest_organizers
from quizapp.errors import NotFound
from quizapp.extensions import db
from quizapp.units.services import UnitTree

if TYPE_CHECKING:
    from quizapp.attempts.models import Attempt


# What each role's menu offers; the pages themselves check with roles_required and the rules below.
CAPABILITIES: dict[str, frozenset[str]] = {
    "follow_participation": frozenset({Role.HR, Role.ORGANIZER, Role.ADMIN}),
    "keep_roster": frozenset({Role.HR, Role.ADMIN}),
    "run_contests": frozenset({Role.ORGANIZER, Role.ADMIN}),
}


def may(user: User, capability: str) -> bool:
    """Whether the user's role offers this part of the site (a menu line, a section)."""
    return user.is_authenticated and user.role in CAPABILITIES[capability]


def unit_lineage_ids(unit_id: int | None) -> set[int]:
    """The unit and all its ancestors."""
    lineage: set[int] = set()
    while unit_id is not None and unit_id not in lineage:
        lineage.add(unit_id)
        unit_id = db.session.scalar(select(Unit.parent_id).where(Unit.id == unit_id))
    return lineage


def can_manage_contest(user: User, contest: Contest) -> bool:
    """Admins, and organizers recorded as this contest's organizers."""
    if not user.is_authenticated:
        return False
    return user.role == Role.ADMIN or (
        user.role == Role.ORGANIZER and any(o.id == user.id for o in contest.organizers)
    )


def may_enter(user: User, contest: Contest) -> bool:
    """Whether the contest's rounds are open to this person.

    Everyone when the contest names no audience, else people whose unit lies in an audience
    unit's subtree. A unit a person chose themselves when registering is a claim, not a fact:
    it admits them only to contests that allow self-registration.
    """
    if not user.is_authenticated:
        return False
    if user.self_registered and not contest.self_registration:
        return False
    if not contest.audience:
        return True
    return bool(unit_lineage_ids(user.unit_id) & {unit.id for unit in contest.audience})


def can_see_leaderboard(user: User, contest: Contest) -> bool:
    """Those who run the contest; its audience once the organizer publishes the board."""
    return can_manage_contest(user, contest) or (
        contest.public_leaderboard and may_enter(user, contest)
    )


def stats_scope(user: User, contest: Contest, tree: UnitTree | None = None) -> set[int] | None:
    """The units whose numbers of this contest `user` may see: None for every unit.

    Its organizers and admins see everything; an HR officer sees their own unit subtree when
    it meets the contest's audience. Anyone else: 404, the contest's numbers are not theirs.
    A caller that already holds the unit tree passes it (it is every unit, read at once).
    """
    if can_manage_contest(user, contest):
        return None
    if user.is_authenticated and user.role == Role.HR and user.unit_id is not None:
        tree = tree or UnitTree()
        own = tree.subtree_ids(user.unit_id)
        lineage = {node.id for node in tree.path(user.unit_id)}
        audience = {unit.id for unit in contest.audience}
        if not audience or audience & (own | lineage):
            return own
    raise NotFound(_l("No such contest."))


def can_see_stats(user: User, contest: Contest, tree: UnitTree | None = None) -> bool:
    """Whether `stats_scope` gives this user anything of the contest."""
    try:
        stats_scope(user, contest, tree)
    except NotFound:
        return False
    return True


# --- what a finished attempt shows its owner ----------------------------------------------


def answers_shown_from(round_: Round) -> datetime | None:
    """When keys and explanations of `after_close` rounds appear: once every save has ended.

    The last attempt's deadline is the close, and its saves are accepted for the grace
    after it; keys shown earlier would reach people still answering.
    """
    if round_.review != ReviewPolicy.AFTER_CLOSE:
        return None
    return round_.closes_at + timedelta(seconds=round_.grace_seconds)


def shows_score(round_: Round) -> bool:
    """Every review policy but `none` tells a person their score."""
    return round_.review != ReviewPolicy.NONE


def shows_answers(attempt: Attempt, now: datetime) -> bool:
    """Keys and explanations: at once (`immediate`), or for `after_close` once saves have ended."""
    round_ = attempt.round
    if round_.review == ReviewPolicy.IMMEDIATE:
        return True
    shown_from = answers_shown_from(round_)
    return shown_from is not None and now >= shown_from


# --- question banks -----------------------------------------------------------------------


def can_see_bank(user: User, bank: QuestionBank) -> bool:
    """Organizers and admins read every bank: building a round's draw needs them all."""
    return may(user, "run_contests")


def can_change_bank(user: User, bank: QuestionBank) -> bool:
    """Who may edit, deactivate, delete or re-import the bank's questions.

    Once a contest draws from the bank, its questions are that contest's: the organizers of
    the contests whose rounds draw from it may change it. Before that, the organizer who
    imported it (a bank imported before creators were recorded has none: admins only).
    Admins may change any bank. The command line is the trusted operator's and asks no one.
    """
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.ORGANIZER:
        return False
    drawing = (
        select(Round.contest_id)
        .join(RoundDraw, RoundDraw.round_id == Round.id)
        .join(Category, RoundDraw.category_id == Category.id)
        .where(Category.bank_id == bank.id)
    )
    if not db.session.scalar(select(drawing.exists())):
        return bank.created_by_id is not None and bank.created_by_id == user.id
    return bool(
        db.session.scalar(
            select(
                select(contest_organizers.c.contest_id)
                .where(
                    contest_organizers.c.user_id == user.id,
                    contest_organizers.c.contest_id.in_(drawing),
                )
                .exists()
            )
        )
    )
