"""HR pages: participation by unit on screen, with a chart, and its XLSX/CSV download."""

from flask import (
    Blueprint,
    abort,
    render_template,
    request,
)
from flask_login import current_user

from quizapp.auth.access import roles_required
from quizapp.auth.models import Role
from quizapp.clock import now
from quizapp.contests.services import get_contest
from quizapp.inputs import INT_MAX, query_number
from quizapp.policy import stats_scope
from quizapp.reports.charts import rate_chart
from quizapp.reports.forms import ExportForm
from quizapp.reports.participation_export import export_filename, record_export, sheets_for
from quizapp.reports.services import (
    contests_for,
    participation,
    participation_scope,
    unit_choices,
)
from quizapp.reports.sheets import download
from quizapp.units.services import UnitTree

blueprint = Blueprint("reports", __name__, url_prefix="/reports")

SHOWN_ROWS = 500  # people listed on the page; the file has everyone


def _request_report():
    contests = contests_for(current_user)
    slug = request.args.get("contest") or (contests[0].slug if contests else None)
    if slug is None:
        return contests, None, None
    contest = get_contest(slug)
    tree = UnitTree()
    scope = participation_scope(current_user, contest, request.args.get("unit") or None, tree)
    round_number = query_number("round", default=None, minimum=1, maximum=INT_MAX)
    report = participation(contest, scope, now(), round_number=round_number, tree=tree)
    return contests, report, tree


@blueprint.get("/participation")
@roles_required(Role.HR, Role.ORGANIZER)
def participation_page():
    contests, report, tree = _request_report()
    if report is None:
        return render_template("reports/participation.html", contests=contests, report=None)
    allowed = stats_scope(current_user, report.contest, tree)
    chart_units = report.chart_units
    chart = rate_chart(
        [(s.node.name, s.rate) for s in chart_units], report.threshold if chart_units else None
    )
    return render_template(
        "reports/participation.html",
        contests=contests,
        report=report,
        unit_choices=unit_choices(report.contest, allowed, tree),
        may_see_all=allowed is None,
        chart=chart,
        shown_rows=report.rows[:SHOWN_ROWS],
        export_form=ExportForm(),
    )


@blueprint.post("/participation/export")
@roles_required(Role.HR, Role.ORGANIZER)
def participation_export():
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    _contests, report, _tree = _request_report()
    if report is None:
        abort(404)
    file_format = form.format.data
    moment = now()
    record_export(report, file_format, moment, actor=current_user)
    filename = export_filename(report, file_format, moment)
    sheets = sheets_for(report, file_format)
    return download(sheets, file_format, filename)
