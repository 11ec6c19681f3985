"""Language and time-zone choice, and the filters that show dates and numbers Vietnamese-style."""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale


def select_locale() -> str:
    """Vietnamese unless the person chose English (?lang=en, remembered in the session)."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in languages:
        session["lang"] = chosen
    return session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["DISPLAY_TIMEZONE"]


def local_time(value: datetime | None) -> datetime | None:
    """A UTC datetime in the display time zone (Asia/Ho_Chi_Minh)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))


def format_datetime_local(value: datetime | None, with_seconds: bool = False) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time."""
    if value is None:
        return ""
    return local_time(value).strftime("%d/%m/%Y %H:%M:%S" if with_seconds else "%d/%m/%Y %H:%M")


def format_number(value, digits: int = 0) -> str:
    """1.234,5 in Vietnamese, 1,234.5 in English."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=str(get_locale() or "vi"))


def format_duration(seconds: float | None) -> str:
    """mm:ss (or h:mm:ss) for a duration in seconds."""
    if seconds is None:
        return ""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def register_template_helpers(app: Flask) -> None:
    from quizapp import policy

    app.add_template_global(get_locale, "get_locale")
    for rule in (
        policy.may,
        policy.can_manage_contest,
        policy.can_see_leaderboard,
        policy.shows_score,
        policy.can_change_bank,
    ):
        app.add_template_global(rule)
    app.add_template_filter(format_datetime_local, "local_dt")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_duration, "duration")
