"""The boards' cache (extensions.cache): a results version per round, raised by every commit
that changes the round's results, under which `standings.cached_standings` keeps its boards."""

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from quizapp.extensions import cache, db

log = logging.getLogger(__name__)
_CHANGED = "quizapp_changed_rounds"


def results_changed(*round_ids: int) -> None:
    """These rounds' boards are stale once the current transaction commits."""
    db.session.info.setdefault(_CHANGED, set()).update(round_ids)


def version_key(round_id: int) -> str:
    return f"standings-version:{round_id}"


def cache_call(method: str, *args, **kwargs):
    """The cache is an aid: when it fails (Redis down), boards are read from the database."""
    try:
        return getattr(cache.cache, method)(*args, **kwargs)  # the cachelib backend
    except Exception:  # noqa: BLE001 (any backend's error: redis, pickling, network)
        log.warning("standings cache: %s failed", method, exc_info=True)
        return None


@event.listens_for(Session, "after_commit")
def _raise_versions(session: Session) -> None:
    for round_id in session.info.pop(_CHANGED, ()):
        cache_call("inc", version_key(round_id))


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)
