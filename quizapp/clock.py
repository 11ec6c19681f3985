"""The server's clock: the only source of time for deadlines, injectable for tests."""

from datetime import UTC, datetime, timedelta

from flask import current_app


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return utcnow()


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs) -> datetime:
        self.at = self.at + timedelta(**kwargs)
        return self.at


def now() -> datetime:
    """The app's current time, through the clock installed on it."""
    return current_app.extensions["quizapp.clock"].now()
