"""Open311 API keys: made once by `gridbot apikey NAME`, shown once, kept only as a SHA-256."""

import hashlib
import secrets
from datetime import datetime

from sqlmodel import Session, select

from storage import audit
from storage.models import ApiKey, Resident


class NameTaken(Exception):
    """A client of that name has a key already."""


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(session: Session, name: str, now: datetime) -> str:
    """A new key for client `name`; its requests are filed as a resident of that name."""
    if session.exec(select(ApiKey.id).where(ApiKey.name == name)).first() is not None:
        raise NameTaken(name)
    resident = Resident(name=f"{name}（Open311）", created_at=now)
    session.add(resident)
    session.flush()
    key = secrets.token_urlsafe(24)
    row = ApiKey(name=name, key_hash=_digest(key), resident_id=resident.id, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, "apikey", row.id, "cli", "created", now, note=name)
    return key


def find(session: Session, key: str | None) -> ApiKey | None:
    return session.exec(select(ApiKey).where(ApiKey.key_hash == _digest(key))).first() if key else None
