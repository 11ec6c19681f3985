"""The contest platform: a Flask application factory."""

import os
from pathlib import Path

from flask import Flask

from quizapp.clock import SystemClock
from quizapp.config import DEFAULT_SECRET_KEY, config_from_environment
from quizapp.uploads import UploadLimits


def create_app(config: type | dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, CLI."""
    app = Flask(__name__, instance_relative_config=True)
    register_requests(app)
    register_config(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_security(app)
    register_templates(app)
    register_commands(app)
    return app


def register_config(app: Flask, config: type | dict | None) -> None:
    if isinstance(config, dict):
        app.config.from_object(config_from_environment())
        app.config.update(config)
    else:
        app.config.from_object(config or config_from_environment())
    app.config.from_prefixed_env("QUIZAPP")
    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
        app.config["CACHE_TYPE"] = "RedisCache"
        app.config["CACHE_REDIS_URL"] = app.config["REDIS_URL"]
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        path = os.path.join(app.instance_path, "quizapp.sqlite")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config.get("SESSION_COOKIE_SECURE") and app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise RuntimeError("Set QUIZAPP_SECRET_KEY: production refuses the default secret key.")
    if app.config["RATELIMIT_STORAGE_URI"].startswith("quizapp-database:") and (
        app.config["RATELIMIT_STRATEGY"] != "moving-window"
    ):
        raise RuntimeError(
            "With the limits counted in the database, keep the moving-window strategy."
        )
    places = app.config["LOGIN_LINE"]
    if type(places) is not int or places < 1:
        raise RuntimeError(
            f"QUIZAPP_LOGIN_LINE must be a whole number of at least 1, not {places!r}."
        )
    try:
        UploadLimits.from_config(app.config)
    except ValueError as error:
        raise RuntimeError(str(error)) from None
    app.extensions["quizapp.clock"] = app.config.get("CLOCK") or SystemClock()


def register_requests(app: Flask) -> None:
    from quizapp.inputs import BoundedJSONProvider, BoundedRequest

    app.json = BoundedJSONProvider(app)  # JSON read strictly, bounded in depth
    app.request_class = BoundedRequest  # JSON bodies bounded in size


def register_extensions(app: Flask) -> None:
    from quizapp import models  # noqa: F401  (every table in the metadata)
    from quizapp.auth import limit_store  # noqa: F401  (registers quizapp-database://)
    from quizapp.auth.access import unauthorized
    from quizapp.auth.services import load_user, set_login_line
    from quizapp.database import configure_sqlite, sqlite_engine_options
    from quizapp.extensions import babel, cache, csrf, db, limiter, login_manager, migrate
    from quizapp.i18n import select_locale, select_timezone

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = sqlite_engine_options(options)
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)
    csrf.init_app(app)
    cache.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    set_login_line(app.config["LOGIN_LINE"])
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)


def register_blueprints(app: Flask) -> None:
    from quizapp.api.views import blueprint as api
    from quizapp.attempts.views import blueprint as attempts
    from quizapp.auth.views import blueprint as auth
    from quizapp.banks.views import blueprint as banks
    from quizapp.contests.dashboard import blueprint as dashboard
    from quizapp.contests.views import blueprint as contests
    from quizapp.health import blueprint as health
    from quizapp.reports.views import blueprint as reports
    from quizapp.routing import IdConverter, WholeNumberConverter
    from quizapp.units.views import blueprint as units

    app.url_map.converters["id"] = IdConverter  # before any rule uses <id:…> or <int:…>
    app.url_map.converters["int"] = WholeNumberConverter
    for blueprint in (auth, contests, attempts, api, health, units, reports, dashboard, banks):
        app.register_blueprint(blueprint)


def register_errors(app: Flask) -> None:
    from quizapp.errors import register_error_handlers

    register_error_handlers(app)


def register_security(app: Flask) -> None:
    from quizapp.security import register_security_headers, trust_proxies

    register_security_headers(app)
    trust_proxies(app)


def register_templates(app: Flask) -> None:
    from quizapp.i18n import register_template_helpers

    register_template_helpers(app)


def register_commands(app: Flask) -> None:
    from quizapp.cli import register_cli

    register_cli(app)
