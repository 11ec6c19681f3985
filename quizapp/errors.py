"""Errors that services raise for the user to fix, and how the web layer shows them."""

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class ServiceError(Exception):
    """A rule said no; `message` (lazily translated) tells the user what to do about it."""

    status = 400
    code = "bad_request"

    def __init__(self, message, *, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Invalid(ServiceError):
    status = 422
    code = "invalid"


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, code: str, message: str):
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("errors/error.html", status=status, message=message), status


# Werkzeug's stock descriptions are English; people on the site read these instead.
PLAIN_MESSAGES = {
    403: _l("You may not open this page."),
    404: _l("This page does not exist, or it is not open to you. Check the address."),
    405: _l("This action is not available here."),
    413: _l("The file is too large."),
    429: _l("Too many tries in a short time; wait a minute and try again."),
    500: _l("Something went wrong on our side; try again in a moment."),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def handle_service_error(error: ServiceError):
        return error_response(error.status, error.code, str(error.message))

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        return error_response(
            400,
            "csrf_failed",
            str(
                _l(
                    "The form has expired or was sent from elsewhere; reload the page and try "
                    "again."
                )
            ),
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        message = error.description or error.name
        if message == type(error).description and error.code in PLAIN_MESSAGES:
            message = str(PLAIN_MESSAGES[error.code])
        if error.code == 413 and request.is_json:  # quizapp.inputs.BoundedRequest's limit
            message = str(
                _l(
                    "The request body is too large: send at most %(size)s KB of JSON.",
                    size=current_app.config["JSON_MAX_CONTENT_LENGTH"] // 1024,
                )
            )
        body, status = error_response(error.code or 500, code, message)
        response = make_response(body, status)
        for name, value in error.get_headers():
            if name.lower() != "content-type":  # keep e.g. Allow on 405
                response.headers[name] = value
        return response
