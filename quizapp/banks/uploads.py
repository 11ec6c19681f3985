"""Uploaded bank files kept between their preview and their confirmation."""

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l

from quizapp.banks.importer import ImportReport, import_bank
from quizapp.errors import NotFound

UPLOAD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class PendingUpload:
    """An uploaded bank file kept on the server between its preview and its confirmation."""

    token: str
    user_id: int
    filename: str
    bank_name: str | None
    skip_unsupported: bool
    created_at: datetime
    data: bytes


def store_upload(
    folder: Path,
    data: bytes,
    filename: str,
    *,
    user_id: int,
    bank_name: str | None,
    skip_unsupported: bool,
    now: datetime,
    max_age: timedelta,
) -> PendingUpload:
    """Keep the uploaded bytes under a random token; the confirmation imports exactly these."""
    folder.mkdir(parents=True, exist_ok=True)
    discard_expired_uploads(folder, now=now, max_age=max_age)
    token = secrets.token_urlsafe(24)
    upload = PendingUpload(
        token=token,
        user_id=user_id,
        filename=Path(filename.replace("\\", "/")).name or "bank",
        bank_name=bank_name,
        skip_unsupported=skip_unsupported,
        created_at=now,
        data=data,
    )
    (folder / f"{token}.data").write_bytes(data)
    meta = {
        "user_id": user_id,
        "filename": upload.filename,
        "bank_name": bank_name,
        "skip_unsupported": skip_unsupported,
        "created_at": now.isoformat(),
    }
    # The metadata is written last: an upload without it is incomplete and never loaded.
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return upload


def load_upload(
    folder: Path, token: str, *, user_id: int, now: datetime, max_age: timedelta
) -> PendingUpload:
    """The uploader's pending file, or NotFound when it is unknown, someone else's or expired."""
    gone = NotFound(_l("This upload is no longer available; upload the file again."))
    if not UPLOAD_TOKEN.match(token or ""):
        raise gone
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        data = (folder / f"{token}.data").read_bytes()
    except (OSError, ValueError):
        raise gone from None
    if meta.get("user_id") != user_id:
        raise gone
    created_at = datetime.fromisoformat(meta["created_at"])
    if now - created_at > max_age:
        discard_upload(folder, token)
        raise gone
    return PendingUpload(
        token=token,
        user_id=user_id,
        filename=meta["filename"],
        bank_name=meta.get("bank_name"),
        skip_unsupported=bool(meta.get("skip_unsupported")),
        created_at=created_at,
        data=data,
    )


def claim_upload(
    folder: Path, token: str, *, user_id: int, now: datetime, max_age: timedelta
) -> PendingUpload:
    """Take a pending upload for importing; a second claim (a double click) finds it gone.

    Renaming the metadata file is atomic, so of two simultaneous confirmations one imports
    and the other is told the upload is no longer there.
    """
    upload = load_upload(folder, token, user_id=user_id, now=now, max_age=max_age)
    try:
        (folder / f"{token}.json").rename(folder / f"{token}.claimed")
    except OSError:
        raise NotFound(_l("This upload is no longer available; upload the file again.")) from None
    return upload


def release_upload(folder: Path, token: str) -> None:
    """Put a claimed upload back (its import found errors), so the preview shows it again."""
    if UPLOAD_TOKEN.match(token or ""):
        (folder / f"{token}.claimed").rename(folder / f"{token}.json")


def discard_upload(folder: Path, token: str) -> None:
    """Forget a pending upload (after its import, on cancel, or once expired)."""
    if UPLOAD_TOKEN.match(token or ""):
        for suffix in (".json", ".claimed", ".data"):
            (folder / f"{token}{suffix}").unlink(missing_ok=True)


def discard_expired_uploads(folder: Path, *, now: datetime, max_age: timedelta) -> None:
    """Remove uploads older than max_age, by the time each records (the clock is injectable)."""
    if not folder.is_dir():
        return
    for meta_path in [*folder.glob("*.json"), *folder.glob("*.claimed")]:
        try:
            created_at = datetime.fromisoformat(json.loads(meta_path.read_text())["created_at"])
        except (OSError, ValueError, KeyError):
            continue
        if now - created_at > max_age:
            discard_upload(folder, meta_path.stem)


def import_pending(upload: PendingUpload, *, dry_run: bool, actor, now: datetime) -> ImportReport:
    """Check (dry run) or import a pending upload with the options chosen when it was sent,
    as `actor` (who must be allowed to change the bank it goes into)."""
    return import_bank(
        upload.data,
        upload.filename,
        bank_name=upload.bank_name,
        dry_run=dry_run,
        skip_unsupported=upload.skip_unsupported,
        actor=actor,
        now=now,
    )
