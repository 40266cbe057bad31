"""Inbox: each platform update is processed once; a retry gets the answer already given."""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from storage.db import insert_values_if_new
from storage.models import InboxEntry


def first_sight(session: Session, platform: str, message_key: str, now: datetime) -> int | None:
    """Record the update in the caller's transaction: its inbox id, or None if it was seen before."""
    values = {"platform": platform, "message_key": message_key, "replies": [], "received_at": now}
    return insert_values_if_new(session, InboxEntry.__table__, values, "platform", "message_key")


def record_replies(session: Session, entry_id: int, payloads: list[dict]) -> None:
    """The answer given, for a retry of the same update to get it again."""
    session.execute(update(InboxEntry).where(InboxEntry.id == entry_id).values(replies=payloads))


def earlier_replies(session: Session, platform: str, message_key: str) -> list[dict]:
    entry = session.exec(select(InboxEntry).where(InboxEntry.platform == platform, InboxEntry.message_key == message_key)).first()
    return list(entry.replies) if entry else []
