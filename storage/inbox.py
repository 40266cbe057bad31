"""Inbox: each platform update is processed once; a retry gets the answer already given."""

from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import Session, select

from storage.db import insert_values_if_new
from storage.models import InboxEntry


def first_sight(session: Session, platform: str, message_key: str, now: datetime) -> int | None:
    """Record the update in the caller's transaction: its inbox id, or None if it was seen before."""
    values = {"platform": platform, "message_key": message_key, "replies": [], "received_at": now}
    return insert_values_if_new(session, InboxEntry.__table__, values, "platform", "message_key")


# Core, built once: no InboxEntry object is ever loaded in the transaction to keep in step.
_INBOX = InboxEntry.__table__
_REPLIES = update(_INBOX).where(_INBOX.c.id == bindparam("entry")).values(replies=bindparam("payloads"))


def record_replies(session: Session, entry_id: int, payloads: list[dict]) -> None:
    """The answer given, for a retry of the same update to get it again."""
    session.execute(_REPLIES, {"entry": entry_id, "payloads": payloads})


def earlier_replies(session: Session, platform: str, message_key: str, unless_delivered: bool = False) -> list[dict]:
    """The answer given the first time; none when `unless_delivered` and it reached the person already."""
    entry = session.exec(select(InboxEntry).where(InboxEntry.platform == platform, InboxEntry.message_key == message_key)).first()
    if entry is None or (unless_delivered and entry.replied_at is not None):
        return []
    return list(entry.replies)


def mark_replied(session: Session, platform: str, message_keys: list[str], now: datetime) -> None:
    """The replies to these updates were sent: a platform's retry of one (its answer to us was lost)
    sends nothing."""
    session.execute(
        update(_INBOX).where(_INBOX.c.platform == platform, _INBOX.c.message_key.in_(message_keys)).values(replied_at=now)
    )
