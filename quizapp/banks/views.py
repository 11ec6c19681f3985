"""Organizer pages: bank list, upload with preview and confirm, question list, edit, export."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from quizapp.auth.access import roles_required
from quizapp.auth.models import Role
from quizapp.banks.formats import Problem, writer_for, writer_names
from quizapp.banks.forms import (
    KIND_LABELS,
    PER_PAGE,
    ActionForm,
    QuestionFilterForm,
    QuestionForm,
    UploadForm,
    difficulty_choices,
    file_size,
    kind_choices,
    max_upload_bytes,
)
from quizapp.banks.models import Question
from quizapp.banks.services import (
    MAX_OPTIONS,
    OptionEdit,
    QuestionEdit,
    QuestionFilter,
    QuestionInvalid,
    bank_named,
    bank_overviews,
    claim_upload,
    delete_question,
    discard_upload,
    export_bank,
    get_bank,
    get_question,
    import_pending,
    load_upload,
    release_upload,
    search_questions,
    set_question_active,
    store_upload,
    supported_extensions,
    times_used,
    update_question,
)
from quizapp.clock import now
from quizapp.database import reads_first
from quizapp.draws import DrawShort
from quizapp.errors import NotFound, ServiceError
from quizapp.inputs import whole_number
from quizapp.policy import can_change_bank, can_see_bank

blueprint = Blueprint("banks", __name__, url_prefix="/banks")

EXPORT_MIMETYPES = {
    "yaml": "application/yaml",
    "gift": "text/plain; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _upload_folder() -> Path:
    folder = current_app.config.get("BANK_UPLOAD_FOLDER")
    return Path(folder) if folder else Path(current_app.instance_path) / "uploads"


def _upload_max_age() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("BANK_UPLOAD_MAX_AGE", 3600)))


@blueprint.get("/")
@roles_required(Role.ORGANIZER)
def index():
    return render_template("banks/index.html", banks=bank_overviews())


@blueprint.route("/import", methods=["GET", "POST"])
@reads_first  # keeps the file for its preview; writes nothing to the database
@roles_required(Role.ORGANIZER)
def upload():
    form = UploadForm()
    banks = [b for b in bank_overviews() if can_change_bank(current_user, get_bank(b.id))]
    form.target.choices = [
        SelectChoice("file", _("The bank the file names")),
        SelectChoice("new", _("A new bank (type its name below)")),
    ] + [SelectChoice(str(bank.id), bank.name) for bank in banks]
    if request.method == "GET" and whole_number(request.args.get("bank"), minimum=1):
        form.target.data = request.args["bank"]
    if form.validate_on_submit():
        if form.target.data == "new":
            bank_name = form.new_name.data
        elif form.target.data == "file":
            bank_name = None
        else:
            bank_name = get_bank(int(form.target.data)).name
        upload_file = form.file.data
        pending = store_upload(
            _upload_folder(),
            upload_file.read(),
            upload_file.filename or "bank",
            user_id=current_user.id,
            bank_name=bank_name,
            skip_unsupported=form.skip_unsupported.data,
            now=now(),
            max_age=_upload_max_age(),
        )
        return redirect(url_for("banks.preview", token=pending.token))
    status = 422 if form.errors else 200
    return render_template(
        "banks/upload.html",
        form=form,
        extensions=supported_extensions(),
        limit=file_size(max_upload_bytes()),
    ), status


@blueprint.get("/import/<token>")
@roles_required(Role.ORGANIZER)
def preview(token: str):
    pending = _pending(token)
    report = import_pending(pending, dry_run=True, actor=current_user, now=now())
    target = bank_named(report.bank_name) if report.bank_name else None
    return render_template(
        "banks/preview.html",
        pending=pending,
        report=report,
        target=target,
        errors=[_problem_line(p) for p in report.errors],
        warnings=[_problem_line(p) for p in report.warnings],
        mentions_skip=any("skip-unsupported" in p.message for p in report.problems),
    ), (422 if report.errors else 200)


@blueprint.post("/import/<token>/confirm")
@reads_first  # the file is read before the import takes the write lock
@roles_required(Role.ORGANIZER)
def confirm(token: str):
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("banks.preview", token=token))
    pending = claim_upload(
        _upload_folder(), token, user_id=current_user.id, now=now(), max_age=_upload_max_age()
    )
    try:
        report = import_pending(pending, dry_run=False, actor=current_user, now=now())
    except BaseException:
        release_upload(_upload_folder(), token)
        raise
    if not report.ok:
        release_upload(_upload_folder(), token)
        flash(_("The file no longer imports cleanly; nothing was written. See below."), "error")
        return redirect(url_for("banks.preview", token=token))
    discard_upload(_upload_folder(), token)
    flash(
        _(
            "Imported %(total)s questions into “%(bank)s”: %(created)s new, %(updated)s "
            "updated, %(unchanged)s unchanged.",
            total=report.total,
            bank=report.bank_name,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
        ),
        "success",
    )
    bank = bank_named(report.bank_name)
    return redirect(url_for("banks.questions", bank_id=bank.id))


@blueprint.post("/import/<token>/cancel")
@roles_required(Role.ORGANIZER)
def cancel(token: str):
    if ActionForm().validate_on_submit():
        _pending(token)  # only the uploader may discard it
        discard_upload(_upload_folder(), token)
        flash(_("The upload was discarded; nothing was imported."), "success")
    return redirect(url_for("banks.upload"))


# The readers' fixed problem messages, marked for the catalog: the preview shows them in
# the user's language (messages with values in them stay as the reader wrote them).
READER_MESSAGES = (
    _l("'questions' must be a list"),
    _l("ANSWER line with no question before it"),
    _l("ANSWER names no option"),
    _l("a multiple-choice question needs at least two answers"),
    _l("a question must be a mapping with text and options"),
    _l("a question needs at least two options"),
    _l("a true/false question has exactly two options"),
    _l("an option has no text"),
    _l("an option needs 'text' (and 'correct: true' if right)"),
    _l("an option refers to the others (e.g. 'Tất cả các đáp án trên'); kept in order"),
    _l("each category needs a 'name'"),
    _l("expected 'bank:' and a list under 'categories:'"),
    _l("lower-case option letters like 'a)' are not Aiken; read as A), B)…"),
    _l("no option is marked correct"),
    _l("the answer block opened with '{' is never closed with '}'"),
    _l("the bank already holds this question in another category"),
    _l("the file holds no questions"),
    _l("the file is empty"),
    _l("the file is not UTF-8 (perhaps Windows-1258 or 1252); in Excel use Save As › CSV UTF-8"),
    _l(
        "the file is not UTF-8 text; save it again as UTF-8 "
        "(in Excel or Word: Save As, encoding UTF-8)"
    ),
    _l("the file names no bank; give one with --bank"),
    _l(
        "you may not change this bank: only the organizers of the contests that draw from it "
        "(while none does, whoever imported it) and admins may; import the file as a new bank "
        "instead"
    ),
    _l("the question has no text"),
    _l("the sheet has a header but no questions"),
    _l("the sheet is empty"),
    _l("the title is not closed with '::'"),
    _l("this is not a CSV text file"),
    _l("this is not a text file; Aiken files are plain UTF-8 text"),
    _l("this question has no ANSWER line"),
    _l("this question has no ANSWER line before the next question"),
)


@dataclass
class ProblemLine:
    place: str
    message: str


def _problem_line(problem: Problem) -> ProblemLine:
    """Where (line, spreadsheet row or whole file) and what, as plain text for the page."""
    if not problem.line:
        place = _("Whole file")
    elif problem.where == "row":
        place = _("Row %(n)s", n=problem.line)
    else:
        place = _("Line %(n)s", n=problem.line)
    # gettext without variables does no %-formatting: messages may hold a literal "%".
    return ProblemLine(place, _(problem.message))


@blueprint.errorhandler(RequestEntityTooLarge)
def upload_too_large(_error):
    """A body over MAX_CONTENT_LENGTH never reaches the form: say so on the upload page."""
    limit = min(max_upload_bytes(), current_app.config.get("MAX_CONTENT_LENGTH") or 0)
    flash(
        _(
            "The file is larger than %(limit)s. Split the bank into several files.",
            limit=file_size(limit or max_upload_bytes()),
        ),
        "error",
    )
    return redirect(url_for("banks.upload"), 303)


def _pending(token: str):
    return load_upload(
        _upload_folder(), token, user_id=current_user.id, now=now(), max_age=_upload_max_age()
    )


def _bank_to_read(bank_id: int):
    bank = get_bank(bank_id)
    if not can_see_bank(current_user, bank):
        raise NotFound(_l("No such question bank."))
    return bank


def _question_to_change(question_id: int) -> Question:
    """The question, if the user may change its bank (quizapp.policy); else 404."""
    question = get_question(question_id)
    if not can_change_bank(current_user, question.category.bank):
        raise NotFound(_l("No such question."))
    return question


@blueprint.get("/<id:bank_id>")
@roles_required(Role.ORGANIZER)
def questions(bank_id: int):
    bank = _bank_to_read(bank_id)
    form = QuestionFilterForm(formdata=request.args)
    form.category.choices = [SelectChoice("", _("All categories"))] + [
        SelectChoice(str(category.id), category.name) for category in bank.categories
    ]
    form.difficulty.choices = difficulty_choices(blank=_("Any difficulty"))
    form.kind.choices = kind_choices(blank=_("Any kind"))
    form.validate()
    filters = QuestionFilter(
        text=form.q.data or "" if not form.q.errors else "",
        category_id=_choice_int(form.category.data, {c.id for c in bank.categories}),
        difficulty=_choice_int(form.difficulty.data, {1, 2, 3}),
        kind=form.kind.data if form.kind.data in KIND_LABELS else None,
        status=form.status.data if form.status.data in ("active", "inactive") else None,
    )
    for error in form.page.errors:  # e.g. ?page=10^20, whose OFFSET no database holds
        flash(_("Page: %(problem)s", problem=error), "error")
    page = form.page.data if not form.page.errors and form.page.data else 1
    pagination = search_questions(bank, filters, page=page, per_page=PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "banks/questions.html",
        bank=bank,
        form=form,
        pagination=pagination,
        page_args=args,
        filtered=bool(args),
        formats=writer_names(),
        kind_labels=KIND_LABELS,
    )


def _choice_int(value, allowed: set[int]) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number in allowed else None


@blueprint.get("/<id:bank_id>/export/<format_name>")
@roles_required(Role.ORGANIZER)
def export(bank_id: int, format_name: str):
    bank = _bank_to_read(bank_id)
    writer = writer_for(format_name)
    if writer is None:
        raise NotFound(_("No such export format."))
    data = export_bank(bank.name, format_name)
    safe_name = "".join("-" if ch in '/\\:*?"<>|' else ch for ch in bank.name).strip() or "bank"
    response = Response(data, mimetype=EXPORT_MIMETYPES.get(format_name))
    response.headers.set(
        "Content-Disposition", "attachment", filename=f"{safe_name}{writer.extension}"
    )
    return response


@blueprint.route("/questions/<id:question_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ORGANIZER)
def edit_question(question_id: int):
    question = _question_to_change(question_id)
    bank = question.category.bank
    form = QuestionForm(data=_question_data(question) if request.method == "GET" else None)
    form.category_id.choices = [SelectChoice(c.id, c.name) for c in bank.categories]
    if request.method == "GET":
        _add_blank_options(form, 2)
    problems: list = []
    status = 200
    if request.method == "POST" and "add_option" in request.form:
        _add_blank_options(form, 1)
    elif form.validate_on_submit():
        edit = QuestionEdit(
            kind=form.kind.data,
            text=form.text.data,
            category_id=form.category_id.data,
            difficulty=form.difficulty.data,
            explanation=form.explanation.data,
            source=form.source.data,
            shuffle=form.shuffle.data,
            options=[
                OptionEdit(
                    text=row.text.data or "",
                    correct=row.correct.data,
                    option_id=whole_number(row.option_id.data, minimum=1),
                )
                for row in form.options
                if not row.remove.data and ((row.text.data or "").strip() or row.correct.data)
            ],
        )
        try:
            result = update_question(question, edit, actor=current_user, now=now())
        except QuestionInvalid as error:
            problems = error.problems
            status = 422
        except DrawShort as error:
            problems = [error.message]
            status = error.status
        else:
            for warning in result.warnings:
                flash(str(warning), "warning")
            if result.changed:
                flash(_("Question saved."), "success")
            else:
                flash(_("Nothing was changed."), "success")
            return redirect(url_for("banks.edit_question", question_id=question.id))
    elif request.method == "POST":
        status = 422
    return render_template(
        "banks/edit.html",
        form=form,
        bank=bank,
        question=question,
        problems=problems,
        used=times_used(question),
        max_options=MAX_OPTIONS,
    ), status


def _question_data(question: Question) -> dict:
    return {
        "text": question.text,
        "kind": question.kind,
        "category_id": question.category_id,
        "difficulty": question.difficulty,
        "shuffle": question.shuffle_options,
        "explanation": question.explanation,
        "source": question.source,
        "options": [
            {"option_id": str(option.id), "text": option.text, "correct": option.is_correct}
            for option in question.options
        ],
    }


def _add_blank_options(form: QuestionForm, count: int) -> None:
    for _i in range(count):
        if len(form.options) >= MAX_OPTIONS:
            break
        form.options.append_entry()


@blueprint.post("/questions/<id:question_id>/status")
@roles_required(Role.ORGANIZER)
def question_status(question_id: int):
    question = _question_to_change(question_id)
    if ActionForm().validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            set_question_active(question, active, actor=current_user, now=now())
        except DrawShort as error:
            flash(str(error.message), "error")
        else:
            if active:
                flash(_("The question is active again: new attempts may draw it."), "success")
            else:
                flash(_("The question is deactivated: new attempts no longer draw it."), "success")
    return redirect(url_for("banks.edit_question", question_id=question.id))


@blueprint.post("/questions/<id:question_id>/delete")
@roles_required(Role.ORGANIZER)
def question_delete(question_id: int):
    question = _question_to_change(question_id)
    bank_id = question.bank_id
    if ActionForm().validate_on_submit():
        try:
            delete_question(question, actor=current_user, now=now())
        except ServiceError as error:
            flash(str(error.message), "error")
            return redirect(url_for("banks.edit_question", question_id=question_id))
        flash(_("The question was deleted."), "success")
    return redirect(url_for("banks.questions", bank_id=bank_id))
