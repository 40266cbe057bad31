"""Inbox: each platform update is processed once; a retry gets the answer already given."""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from storage.db import insert_if_new
from storage.models import InboxEntry


def first_sight(session: Session, platform: str, message_key: str, now: datetime) -> int | None:
    """Record the update in the caller's transaction: its inbox id, or None if it was seen before."""
    return insert_if_new(
        session, InboxEntry(platform=platform, message_key=message_key, received_at=now), "platform", "message_key"
    )


def record_replies(session: Session, entry_id: int, payloads: list[dict]) -> None:
    """The answer given, for a retry of the same update to get it again."""
    session.execute(update(InboxEntry).where(InboxEntry.id == entry_id).values(replies=payloads))


def earlier_replies(session: Session, platform: str, message_key: str, unless_delivered: bool = False) -> list[dict]:
    """The answer given the first time; none when `unless_delivered` and it reached the person already."""
    entry = session.exec(select(InboxEntry).where(InboxEntry.platform == platform, InboxEntry.message_key == message_key)).first()
    if entry is None or (unless_delivered and entry.replied_at is not None):
        return []
    return list(entry.replies)


def mark_replied(session: Session, platform: str, message_key: str, now: datetime) -> None:
    """The replies were sent: a platform's retry of the update (its answer to us was lost) sends nothing."""
    session.execute(
        update(InboxEntry).where(InboxEntry.platform == platform, InboxEntry.message_key == message_key).values(replied_at=now)
    )
