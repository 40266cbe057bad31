"""Inbox: each platform update is processed once; a retry gets the answer already given."""

from datetime import datetime

from sqlalchemy import Update, bindparam, case, literal, or_, update
from sqlmodel import Session, select

from storage import presence
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


def sending_replies(session: Session, platform: str, message_key: str) -> None:
    """This process sends the update's replies once the transaction has committed (Telegram's, not
    WeChat's answer in the response): a retry of the update meanwhile sends them only if it dies."""
    session.execute(_SENDING, {"on": platform, "key": message_key, "by": presence.token()})


_SENDING = (
    update(_INBOX)
    .where(_INBOX.c.platform == bindparam("on"), _INBOX.c.message_key == bindparam("key"))
    .values(replying_by=bindparam("by"))
)


def earlier_replies(session: Session, platform: str, message_key: str, unless_delivered: bool = False) -> list[dict]:
    """The answer given the first time. With `unless_delivered`, for a retry to send: none when it
    reached the person already, or a live process is sending it; one a process that died was sending
    is taken over (this process sends it now)."""
    if not unless_delivered:
        given = select(InboxEntry.replies).where(InboxEntry.platform == platform, InboxEntry.message_key == message_key)
        return list(session.exec(given).first() or [])
    owner = _INBOX.c.replying_by
    taken = session.execute(
        update(_INBOX)
        .where(
            _INBOX.c.platform == platform,
            _INBOX.c.message_key == message_key,
            _INBOX.c.replied_at.is_(None),
            or_(owner.is_(None), presence.gone(owner, session.get_bind().dialect.name)),
        )
        .values(replying_by=case((owner.is_(None), None), else_=literal(presence.token())))  # WeChat's stays unowned
        .returning(_INBOX.c.replies)
    ).first()
    return [] if taken is None else list(taken.replies)


def mark_replied(session: Session, platform: str, message_keys: list[str], now: datetime) -> None:
    session.execute(replied(platform, message_keys, now))


def replied(platform: str, message_keys: list[str], now: datetime) -> Update:
    """The replies to these updates were sent: a platform's retry of one (its answer to us was lost)
    sends nothing. A statement, for the caller to run at once (bot/marks.py)."""
    return update(_INBOX).where(_INBOX.c.platform == platform, _INBOX.c.message_key.in_(message_keys)).values(replied_at=now)
