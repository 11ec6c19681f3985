"""Pages: the unit tree (admins edit it), unit and roster uploads, the one-time passwords file."""

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms.fields.choices import SelectChoice

from quizapp.auth.access import roles_required
from quizapp.auth.models import Role
from quizapp.auth.tokens import spend_once
from quizapp.clock import now
from quizapp.database import reads_first
from quizapp.errors import NotFound, ServiceError
from quizapp.reports.sheets import CSV_MIMETYPE, XLSX_MIMETYPE, csv_chunks, xlsx_file
from quizapp.units.forms import PasswordsDownloadForm, RosterImportForm, UnitForm, UnitImportForm
from quizapp.units.roster import (
    Credential,
    credentials_sheet,
    import_roster,
    record_passwords_download,
)
from quizapp.units.services import (
    UnitData,
    UnitTree,
    get_unit,
    import_units,
    save_unit,
    visible_unit_ids,
)

blueprint = Blueprint("units", __name__)

PASSWORDS_MAX_AGE = timedelta(hours=1)  # how long the result page's download stays valid


@blueprint.get("/units")
@roles_required(Role.HR)
def index():
    tree = UnitTree()
    visible = visible_unit_ids(current_user)
    nodes = [n for n in tree.order if visible is None or n.id in visible]
    return render_template("units/index.html", nodes=nodes, can_edit=visible is None)


@blueprint.route("/units/new", methods=["GET", "POST"])
@blueprint.route("/units/<id:unit_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(unit_id: int | None = None):
    unit = get_unit(unit_id) if unit_id is not None else None
    form = UnitForm(obj=unit)
    tree = UnitTree()
    below = tree.subtree_ids(unit.id) if unit else set()
    form.parent_id.choices = [SelectChoice(0, _("— none (top level) —"))] + [
        SelectChoice(n.id, "\u2003" * n.depth + f"{n.name} ({n.code})")
        for n in tree.order
        if n.id not in below
    ]
    if unit is not None and not form.is_submitted():
        form.parent_id.data = unit.parent_id or 0
    if form.validate_on_submit():
        data = UnitData(
            code=form.code.data,
            name=form.name.data,
            parent_id=form.parent_id.data or None,
            headcount=form.headcount.data,
        )
        try:
            saved = save_unit(data, unit=unit, actor=current_user)
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Unit %(name)s saved.", name=saved.name), "success")
            return redirect(url_for("units.index"))
    node = tree.nodes.get(unit.id) if unit else None
    return render_template("units/edit.html", form=form, unit=unit, node=node)


@blueprint.route("/units/import", methods=["GET", "POST"])
@reads_first  # the file is read before the import takes the write lock
@roles_required(Role.ADMIN)
def import_file():
    form = UnitImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        report = import_units(
            upload.read(), upload.filename or "units", actor=current_user, dry_run=form.dry_run.data
        )
        if report.ok and not report.dry_run:
            flash(
                _(
                    "Imported %(total)s units: %(created)s new, %(updated)s updated.",
                    total=report.total,
                    created=report.created,
                    updated=report.updated,
                ),
                "success",
            )
            return redirect(url_for("units.index"))
    status = 422 if report is not None and not report.ok else 200
    return render_template("units/import.html", form=form, report=report), status


@blueprint.route("/roster/import", methods=["GET", "POST"])
@reads_first  # the file is read before the import takes the write lock
@roles_required(Role.HR)
def roster_import():
    form = RosterImportForm()
    report = None
    token = None
    if form.validate_on_submit():
        upload = form.file.data
        report = import_roster(
            upload.read(),
            upload.filename or "roster",
            now=now(),
            actor=current_user,
            scope=visible_unit_ids(current_user),
            replace=form.replace.data,
            dry_run=form.dry_run.data,
            decisions=form.decisions_made(),
        )
        if not report.dry_run:  # a decision is for the file it was made on, not the next one
            form.adopt_self_registered.data = False
        if report.credentials:
            token = _serializer().dumps(
                {
                    "u": current_user.id,
                    "c": [
                        [c.row, c.full_name, c.unit_code, c.unit_name, c.login, c.password]
                        for c in report.credentials
                    ],
                }
            )
    status = 422 if report is not None and not report.ok else 200
    if form.decisions.errors:  # typed in, not offered by the page
        status = 400
    response = Response(
        render_template(
            "units/roster_import.html",
            form=form,
            report=report,
            download=PasswordsDownloadForm(token=token) if token else None,
        ),
        status=status,
    )
    # The page carries first passwords: never keep it in a cache or the history.
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/roster/passwords")
@roles_required(Role.HR)
def roster_passwords():
    """The first passwords of a roster import, once: a second request for the file is refused."""
    form = PasswordsDownloadForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        payload = _serializer().loads(form.token.data, max_age=PASSWORDS_MAX_AGE.total_seconds())
    except BadSignature as error:
        raise NotFound(
            _("This passwords file has expired; reset the passwords of the people concerned.")
        ) from error
    if payload.get("u") != current_user.id:
        raise NotFound(_("No such passwords file."))
    credentials = [Credential(*values) for values in payload["c"]]
    if not spend_once(
        form.token.data, purpose="roster-passwords", now=now(), max_age=PASSWORDS_MAX_AGE
    ):
        raise NotFound(
            _(
                "This passwords file has already been downloaded; if it is lost, reset the "
                "passwords of the people concerned."
            )
        )
    record_passwords_download(current_user, len(credentials), form.format.data)  # commits
    sheet = credentials_sheet(credentials)
    filename = f"mat-khau-{now().strftime('%Y%m%d-%H%M')}.{form.format.data}"
    if form.format.data == "csv":
        response = Response(
            stream_with_context(csv_chunks(sheet.columns, sheet.rows)),
            mimetype=CSV_MIMETYPE,
        )
        response.headers.set("Content-Disposition", "attachment", filename=filename)
    else:
        response = send_file(
            xlsx_file([sheet]), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="roster-passwords")
