"""Participant pages (home, a contest, starting a round, leaderboard) and the organizer's pages."""

import io

import segno
from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from quizapp.attempts.services import start_attempt
from quizapp.auth.access import roles_required
from quizapp.auth.models import Role, User
from quizapp.banks.models import Category, Question, QuestionBank
from quizapp.clock import now
from quizapp.contests.forms import (
    DEFAULT_CHAIN,
    ContestForm,
    ContestPasswordForm,
    ResultsExportForm,
    RoundForm,
)
from quizapp.contests.models import Contest, Round
from quizapp.contests.schema import ContestSettings, RoundSpec
from quizapp.contests.services import (
    ContestInvalid,
    add_round,
    contests_managed_by,
    create_contest_from_spec,
    enter_contest_password,
    get_contest,
    get_round,
    has_contest_access,
    managed_contest,
    managed_round,
    round_is_live,
    round_state,
    rounds_for_user,
    update_contest,
    update_round,
)
from quizapp.contests.standings import cached_standings
from quizapp.database import reads_first
from quizapp.errors import NotFound, ServiceError
from quizapp.extensions import db
from quizapp.policy import can_manage_contest, can_see_leaderboard, may_enter
from quizapp.reports.results import (
    record_results_export,
    results,
    results_filename,
    results_sheets,
)
from quizapp.reports.sheets import download
from quizapp.units.services import UnitTree

blueprint = Blueprint("contests", __name__)

BLANK_DRAW_ROWS = 2  # empty blueprint lines offered below the filled ones


# --- participants -------------------------------------------------------------------------


@blueprint.get("/")
@login_required
def home():
    return render_template("contests/home.html", cards=rounds_for_user(current_user, now()))


@blueprint.get("/contests/<slug>")
@login_required
def contest_page(slug: str):
    """The contest's own page (the shared link): rules, rounds, and the password if it has one."""
    contest = get_contest(slug)
    if not (may_enter(current_user, contest) or can_manage_contest(current_user, contest)):
        raise NotFound(_l("No such contest."))
    moment = now()
    cards = [c for c in rounds_for_user(current_user, moment) if c.round.contest_id == contest.id]
    return render_template(
        "contests/contest.html",
        contest=contest,
        cards=cards,
        needs_password=not has_contest_access(current_user, contest),
        password_form=ContestPasswordForm(),
    )


@blueprint.post("/contests/<slug>/password")
@login_required
def contest_password(slug: str):
    contest = get_contest(slug)
    if not may_enter(current_user, contest):
        raise NotFound(_l("No such contest."))
    form = ContestPasswordForm()
    if form.validate_on_submit():
        try:
            enter_contest_password(current_user, contest, form.password.data, now())
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Password accepted: you may now take the rounds of this contest."), "success")
    else:
        flash(_("Enter the contest password."), "error")
    return redirect(url_for("contests.contest_page", slug=contest.slug))


@blueprint.post("/rounds/<id:round_id>/start")
@reads_first  # the draw is made before the write lock is taken
@login_required
def start(round_id: int):
    round_ = get_round(round_id)
    if may_enter(current_user, round_.contest) and not has_contest_access(
        current_user, round_.contest
    ):
        flash(_("Enter the contest password first."), "error")
        return redirect(url_for("contests.contest_page", slug=round_.contest.slug))
    attempt, _created = start_attempt(
        current_user,
        round_,
        now(),
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    return redirect(url_for("attempts.show", attempt_id=attempt.id))


@blueprint.get("/rounds/<id:round_id>/leaderboard")
@login_required
def leaderboard(round_id: int):
    round_ = get_round(round_id)
    if not can_see_leaderboard(current_user, round_.contest):
        raise NotFound(_l("No such leaderboard."))
    rows = cached_standings(round_, now(), limit=100)
    manager = can_manage_contest(current_user, round_.contest)
    return render_template(
        "contests/leaderboard.html",
        round=round_,
        rows=rows,
        export_form=ResultsExportForm() if manager else None,
    )


@blueprint.get("/contests/<slug>/board")
def public_board(slug: str):
    """The public board, when the organizer switched it on: rank, name and unit, no login."""
    contest = get_contest(slug)
    if not contest.public_leaderboard:
        raise NotFound(_l("No such leaderboard."))
    moment = now()
    boards = [
        (r, cached_standings(r, moment, limit=100)) for r in contest.rounds if r.opens_at <= moment
    ]
    return render_template("contests/public_board.html", contest=contest, boards=boards)


# --- organizers: contests -----------------------------------------------------------------


@blueprint.get("/manage/contests")
@roles_required(Role.ORGANIZER)
def manage_index():
    return render_template(
        "contests/manage_index.html",
        contests=contests_managed_by(current_user),
        moment=now(),
        round_state=round_state,
    )


def _unit_choices(form: ContestForm) -> dict[int, str]:
    tree = UnitTree()
    form.units.choices = [
        SelectChoice(n.id, "\u2003" * n.depth + f"{n.name} ({n.code})") for n in tree.order
    ]
    return {n.id: n.code for n in tree.order}


def _organizer_choices(form: ContestForm) -> dict[int, str]:
    staff = db.session.scalars(
        select(User).where(User.role == Role.ORGANIZER).order_by(User.full_name, User.login)
    ).all()
    form.organizers.choices = [SelectChoice(u.id, f"{u.full_name} ({u.login})") for u in staff]
    return {u.id: u.login for u in staff}


def _contest_settings(
    form: ContestForm, codes: dict[int, str], logins: dict[int, str]
) -> ContestSettings:
    units = form.units.data if form.audience_mode.data == "units" else []
    return ContestSettings.model_validate(
        {
            "slug": form.slug.data,
            "title": form.title.data,
            "description": form.description.data or None,
            "rules": form.rules.data or None,
            "audience": [codes[i] for i in units if i in codes],
            "organizers": [logins[i] for i in form.organizers.data or [] if i in logins],
            "self_registration": form.self_registration.data,
            "unit_rank_threshold": form.threshold_percent.data / 100,
            "public_leaderboard": form.public_leaderboard.data,
            "ranking": form.ranking,
            "password": form.password.data or None,
        }
    )


def _show_problems(form, problems, field_of) -> None:
    """Put each service problem under its field (or in a message when it has none)."""
    for problem in problems:
        field = field_of(problem.path)
        if field is not None:
            field.errors = list(field.errors) + [str(problem.message)]
        else:
            flash(str(problem.message), "error")


def _pydantic_problems(error: ValidationError) -> None:
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        flash(f"{key}: {item['msg']}", "error")


@blueprint.route("/manage/contests/new", methods=["GET", "POST"])
@blueprint.route("/manage/contests/<slug>/edit", methods=["GET", "POST"])
@roles_required(Role.ORGANIZER)
def contest_edit(slug: str | None = None):
    contest = managed_contest(current_user, slug) if slug else None
    form = ContestForm(obj=contest)
    codes = _unit_choices(form)
    logins = _organizer_choices(form)
    if not form.is_submitted():
        form.organizers.data = (
            [u.id for u in contest.organizers if u.id in logins]
            if contest is not None
            else [current_user.id]
        )
        if contest is not None:
            form.units.data = [u.id for u in contest.audience]
            form.audience_mode.data = "units" if contest.audience else "everyone"
            form.threshold_percent.data = round(contest.unit_rank_threshold * 100)
            form.set_ranking(contest.ranking or DEFAULT_CHAIN)
        else:
            form.set_ranking(DEFAULT_CHAIN)
    if form.validate_on_submit():
        try:
            spec = _contest_settings(form, codes, logins)
            if contest is None:
                contest = create_contest_from_spec(spec, actor=current_user)
                flash(_("Contest created. Now add its rounds."), "success")
            else:
                update_contest(
                    contest,
                    spec,
                    actor=current_user,
                    now=now(),
                    clear_password=form.clear_password.data,
                )
                flash(_("Contest saved."), "success")
        except ValidationError as error:
            _pydantic_problems(error)
        except ContestInvalid as error:
            db.session.rollback()
            fields = {
                "slug": form.slug,
                "audience": form.units,
                "organizers": form.organizers,
                "ranking": form.rank_1,
            }
            _show_problems(form, error.problems, lambda path: fields.get(path[0]))
        else:
            return redirect(url_for("contests.manage_show", slug=contest.slug))
    status = 422 if form.is_submitted() else 200
    return render_template("contests/contest_form.html", form=form, contest=contest), status


@blueprint.get("/manage/contests/<slug>")
@roles_required(Role.ORGANIZER)
def manage_show(slug: str):
    contest = managed_contest(current_user, slug)
    moment = now()
    link = _public_link(contest)
    qr = segno.make(link, error="m")
    return render_template(
        "contests/manage_show.html",
        contest=contest,
        moment=moment,
        round_state=round_state,
        live={r.id: round_is_live(r, moment) for r in contest.rounds},
        link=link,
        qr_svg=Markup(qr.svg_inline(scale=5, svgclass="qr-code", lineclass=None, title=link)),
        export_form=ResultsExportForm(),
    )


def _public_link(contest: Contest) -> str:
    return url_for("contests.contest_page", slug=contest.slug, _external=True)


@blueprint.get("/manage/contests/<slug>/qr.<any(svg, png):kind>")
@roles_required(Role.ORGANIZER)
def share_qr(slug: str, kind: str):
    contest = managed_contest(current_user, slug)
    buffer = io.BytesIO()
    qr = segno.make(_public_link(contest), error="m")
    if kind == "png":
        qr.save(buffer, kind="png", scale=12, border=4)
        mimetype = "image/png"
    else:
        qr.save(buffer, kind="svg", scale=10, border=4, xmldecl=True)
        mimetype = "image/svg+xml"
    buffer.seek(0)
    return send_file(
        buffer, mimetype=mimetype, as_attachment=True, download_name=f"qr-{contest.slug}.{kind}"
    )


@blueprint.post("/manage/contests/<slug>/results")
@roles_required(Role.ORGANIZER)
def results_export(slug: str):
    """The results file (same rows as the leaderboard), audited: it names people."""
    contest = managed_contest(current_user, slug)
    form = ResultsExportForm()
    if not form.validate_on_submit():
        raise ServiceError(form.problems())
    moment = now()
    report = results(contest, moment, round_number=form.round.data)
    file_format = form.format.data
    record_results_export(report, file_format, moment, actor=current_user)
    filename = results_filename(report, file_format, moment)
    sheets = results_sheets(report, file_format)
    return download(sheets, file_format, filename)


# --- organizers: rounds -------------------------------------------------------------------


def _category_choices() -> tuple[list[SelectChoice], dict[int, tuple[str, str]]]:
    """Choices "bank — category (n questions: level 1 a, …)", and id → (bank, category)."""
    counts: dict[int, dict[int, int]] = {}
    for category_id, level, n in db.session.execute(
        select(Question.category_id, Question.difficulty, func.count())
        .where(Question.is_active.is_(True))
        .group_by(Question.category_id, Question.difficulty)
    ):
        counts.setdefault(category_id, {})[level] = n
    rows = db.session.execute(
        select(Category.id, QuestionBank.name, Category.name)
        .join(QuestionBank)
        .order_by(QuestionBank.name, Category.name)
    ).all()
    labels = []
    for category_id, bank, name in rows:
        levels = counts.get(category_id, {})
        detail = _(
            "%(total)s questions; level 1: %(one)s, 2: %(two)s, 3: %(three)s",
            total=sum(levels.values()),
            one=levels.get(1, 0),
            two=levels.get(2, 0),
            three=levels.get(3, 0),
        )
        labels.append(SelectChoice(category_id, f"{bank} — {name} ({detail})"))
    choices = [SelectChoice(0, _("— choose a category —"))] + labels
    return choices, {category_id: (bank, name) for category_id, bank, name in rows}


def _prepare_round_form(form: RoundForm, extra_rows: int) -> dict[int, tuple[str, str]]:
    choices, categories = _category_choices()
    for _n in range(min(extra_rows, form.draws.max_entries - len(form.draws))):
        form.draws.append_entry()
    for row in form.draws:
        row.category.choices = choices
    return categories


def _round_spec(form: RoundForm, categories, existing: Round | None) -> tuple[RoundSpec, list]:
    """The RoundSpec the form describes, and which form row each draw line came from."""
    rows = [row for row in form.draws if row.category.data]
    opens_at, closes_at = form.opens_at.data, form.closes_at.data
    if existing is not None:  # the form shows minutes: an unchanged minute keeps the seconds
        opens_at = _same_minute(opens_at, existing.opens_at)
        closes_at = _same_minute(closes_at, existing.closes_at)
    question = (form.prediction_question.data or "").strip()
    spec = RoundSpec.model_validate(
        {
            "title": form.title.data,
            "opens_at": opens_at,
            "closes_at": closes_at,
            "time_limit_minutes": form.time_limit_minutes.data,
            "max_attempts": form.max_attempts.data,
            "daily_limit": form.daily_limit.data,
            "counting": form.counting.data,
            "review": form.review.data,
            "grace_seconds": form.grace_seconds.data,
            "prediction": (
                {"question": question, "target": form.prediction_target.data} if question else None
            ),
            "draw": [
                {
                    "bank": categories[row.category.data][0],
                    "category": categories[row.category.data][1],
                    "count": row["count"].data,
                    "difficulty": int(row.difficulty.data) if row.difficulty.data else None,
                }
                for row in rows
                if row.category.data in categories
            ],
        }
    )
    return spec, rows


def _same_minute(entered, stored):
    if entered is not None and entered == stored.replace(second=0, microsecond=0):
        return stored
    return entered


@blueprint.route("/manage/contests/<slug>/rounds/new", methods=["GET", "POST"])
@blueprint.route("/manage/rounds/<id:round_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ORGANIZER)
def round_edit(slug: str | None = None, round_id: int | None = None):
    if round_id is not None:
        round_ = managed_round(current_user, round_id)
        contest = round_.contest
    else:
        round_, contest = None, managed_contest(current_user, slug)
    form = RoundForm(obj=round_)
    moment = now()
    if not form.is_submitted():
        if round_ is not None:
            _fill_draw_rows(form, round_)
        extra = BLANK_DRAW_ROWS
    else:
        extra = 1 if form.add_row.data else 0
    categories = _prepare_round_form(form, extra)
    live = round_ is not None and round_is_live(round_, moment)
    page = {"form": form, "contest": contest, "round": round_, "live": live}
    if form.is_submitted() and form.add_row.data:
        return render_template("contests/round_form.html", **page)
    if form.validate_on_submit():
        try:
            spec, rows = _round_spec(form, categories, round_)
            if round_ is None:
                round_ = add_round(contest, spec, actor=current_user)
                flash(_("Round %(n)s added.", n=round_.number), "success")
            else:
                changed = update_round(round_, spec, actor=current_user, now=moment)
                flash(_("Round saved.") if changed else _("Nothing changed."), "success")
        except ValidationError as error:
            _pydantic_problems(error)
        except ContestInvalid as error:
            db.session.rollback()
            _show_problems(
                form,
                error.problems,
                lambda path: rows[path[1]].category if path[0] == "draw" else None,
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            return redirect(url_for("contests.manage_show", slug=contest.slug))
    status = 422 if form.is_submitted() else 200
    return render_template("contests/round_form.html", **page), status


def _fill_draw_rows(form: RoundForm, round_: Round) -> None:
    while len(form.draws):
        form.draws.pop_entry()
    for draw in round_.draws:
        form.draws.append_entry(
            {
                "category": draw.category_id,
                "count": draw.count,
                "difficulty": str(draw.difficulty or ""),
            }
        )
    if round_.prediction_target:
        form.prediction_target.data = round_.prediction_target
