"""Inbox: each platform update is processed once; a retry gets the answer already given."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import InboxEntry


def first_sight(session: Session, platform: str, message_key: str) -> InboxEntry | None:
    """Record the update in the caller's transaction; None if it was seen before."""
    try:
        with session.begin_nested():
            entry = InboxEntry(platform=platform, message_key=message_key)
            session.add(entry)
    except IntegrityError:
        return None
    return entry


def earlier_replies(session: Session, platform: str, message_key: str) -> list[dict]:
    entry = session.exec(select(InboxEntry).where(
        InboxEntry.platform == platform, InboxEntry.message_key == message_key)).first()
    return list(entry.replies) if entry else []


def prepend_replies(session: Session, platform: str, message_key: str, payloads: list[dict]) -> None:
    """Put notices delivered with this answer in front of it, so a retry repeats them too."""
    entry = session.exec(select(InboxEntry).where(
        InboxEntry.platform == platform, InboxEntry.message_key == message_key)).first()
    if entry is not None and payloads:
        entry.replies = [*payloads, *entry.replies]
        session.add(entry)
