"""The live dashboard of a contest and its statistics API, for organizers and HR (own units)."""

from flask import Blueprint, jsonify, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from quizapp.auth.access import roles_required
from quizapp.auth.models import Role
from quizapp.clock import now
from quizapp.contests.services import get_contest, managed_contest
from quizapp.contests.standings import is_final
from quizapp.contests.stats import contest_stats, question_stats
from quizapp.errors import NotFound
from quizapp.policy import stats_scope
from quizapp.reports.charts import rate_chart

blueprint = Blueprint("dashboard", __name__)


@blueprint.get("/contests/<slug>/dashboard")
@roles_required(Role.ORGANIZER, Role.HR)
def show(slug: str):
    contest = get_contest(slug)
    moment = now()
    stats = contest_stats(contest, moment, unit_ids=stats_scope(current_user, contest))
    top_depth = min((u.depth for u in stats.by_unit), default=0)
    chart = rate_chart(
        [(u.name, u.rate) for u in stats.by_unit if u.depth == top_depth], stats.threshold
    )
    return render_template(
        "contests/dashboard.html",
        contest=contest,
        stats=stats,
        chart=chart,
        final={r.id: is_final(r, moment) for r in contest.rounds},
        updated_at=moment,
        busiest=max((n for _, n in stats.by_day), default=0),
        band_max=max(stats.score_bands.values(), default=0),
    )


@blueprint.get("/contests/<slug>/rounds/<int:number>/questions")
@roles_required(Role.ORGANIZER)
def questions(slug: str, number: int):
    """Facility and discrimination per question of a closed round (reads every answer once)."""
    contest = managed_contest(current_user, slug)
    round_ = next((r for r in contest.rounds if r.number == number), None)
    if round_ is None:
        raise NotFound(_l("No such round."))
    return render_template(
        "contests/questions.html",
        contest=contest,
        round=round_,
        items=question_stats(round_, now()),
    )


@blueprint.get("/api/v1/contests/<slug>/stats")
@roles_required(Role.ORGANIZER, Role.HR)
def api_stats(slug: str):
    contest = get_contest(slug)
    return jsonify(
        contest_stats(contest, now(), unit_ids=stats_scope(current_user, contest)).as_json()
    )
