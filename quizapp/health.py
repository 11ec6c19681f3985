"""GET /healthz: the app is up and reaches its database."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from quizapp.extensions import db

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy", never a 500 page
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")
