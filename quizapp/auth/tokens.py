"""One-time tokens: a signed token (the first-passwords download) that works once."""

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from quizapp.auth.models import SpentToken
from quizapp.extensions import db


def spend_once(token: str, *, purpose: str, now: datetime, max_age: timedelta) -> bool:
    """Mark `token` used in the caller's transaction (the caller commits); False when it was
    used already, by an earlier request or a simultaneous one (the digest is a primary key:
    the second insert waits for the first to commit, then fails)."""
    # Spent tokens older than any valid one are no longer needed.
    db.session.execute(delete(SpentToken).where(SpentToken.spent_at < now - max_age))
    digest = hashlib.sha256(token.encode()).hexdigest()
    try:
        with db.session.begin_nested():
            db.session.add(SpentToken(digest=digest, purpose=purpose, spent_at=now))
    except IntegrityError:
        return False
    return True
