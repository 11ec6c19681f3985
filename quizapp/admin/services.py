"""Writing the audit log."""

from quizapp.admin.models import AuditLog
from quizapp.extensions import db


def record(action: str, *, user=None, target: str | None = None, **details) -> AuditLog:
    """Add an audit entry to the current transaction; the caller's service commits."""
    entry = AuditLog(
        action=action,
        user_id=getattr(user, "id", None),
        target=target,
        details=details,
    )
    db.session.add(entry)
    return entry
