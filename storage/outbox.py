"""Outbox: notifications recorded in the transaction that caused them, delivered later."""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Update, case, exists, func, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage import presence
from storage.db import insert_if_new
from storage.models import OutboxMessage, OutboxState

LEASING_LOCK = 0x6F7574  # "out": PostgreSQL advisory lock held by one leasing pass at a time
QUEUED = "gridbot_outbox_queued"  # session.info: this transaction queued a row
URGENT_PREFIX = "urgent:"  # keys of emergency notices: leased before every other pending row


def enqueue(
    session: Session,
    key: str,
    platform: str,
    chat_id: str,
    payload: dict,
    *,
    not_before: datetime,
    kind: str = "send",
    edit_key: str | None = None,
) -> bool:
    """Record a side effect in the caller's transaction. False if `key` was already queued.

    `not_before` is required, usually the caller's `now`: the sender compares it with the same
    clock (the demo's and the tests' clock moves by hand), never with whatever the wall says.
    """
    row = OutboxMessage(
        key=key, platform=platform, chat_id=chat_id, kind=kind, edit_key=edit_key, payload=payload, not_before=not_before
    )
    queued = insert_if_new(session, row, "key") is not None  # a racing writer with the same key loses quietly
    note_queued(session, queued)
    return queued


def note_queued(session: Session, count: int | bool) -> None:
    if count:
        session.info[QUEUED] = True


def queued_any(session: Session) -> bool:
    """Whether this transaction queued a notice: the sender needs to look only then."""
    return session.info.get(QUEUED, False)


def due_batches(
    session: Session, platforms: set[str], now: datetime, lease: timedelta, limit: int = 500
) -> dict[str, list[OutboxMessage]]:
    """Lease what is due, grouped by chat, each chat's rows in order — urgent rows first.

    Due is decided in SQL: rows waiting out a backoff (a platform outage during a fan-out) never
    crowd due rows of other chats out of the batch. A chat whose earlier pending row is not due
    yet, or leased by another worker, sends none of its later rows (per-chat order is kept), except
    an urgent one: emergencies go ahead of every queue.
    """
    dialect = session.get_bind().dialect.name
    urgent = col(OutboxMessage.key).startswith(URGENT_PREFIX)  # an emergency skips its chat's queue too
    query = (
        select(OutboxMessage)
        .where(*_due(platforms, now, urgent, dialect))
        .order_by(case((urgent, 0), else_=1), OutboxMessage.id)
        .limit(limit)
    )
    if dialect == "postgresql":
        # One leasing pass at a time across processes: another pass's leases are not committed yet, so
        # `held_back` could not see them and would hand a chat's later row to a second process.
        session.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": LEASING_LOCK})
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    batches: dict[str, list[OutboxMessage]] = defaultdict(list)
    for row in session.exec(query):  # urgent first, within a chat too; then the order written
        batches[f"{row.platform}:{row.chat_id}"].append(row)
    leased = [row.id for rows in batches.values() for row in rows]
    if leased:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(leased))
            .values(lease_until=now + lease, leased_by=presence.token())
        )
    return batches


def any_due(session: Session, platforms: set[str], now: datetime) -> bool:
    """Whether `due_batches` would lease anything now: asked first, in a read (storage.db.reading),
    so a pass with nothing to send takes no write lock."""
    urgent = col(OutboxMessage.key).startswith(URGENT_PREFIX)
    due = _due(platforms, now, urgent, session.get_bind().dialect.name)
    return session.exec(select(OutboxMessage.id).where(*due).limit(1)).first() is not None


def _due(platforms: set[str], now: datetime, urgent, dialect: str) -> tuple:
    """Pending, due, not leased by a live process, and not held back behind an earlier row of its
    chat (unless urgent)."""
    earlier = aliased(OutboxMessage)
    held_back = exists().where(
        earlier.platform == OutboxMessage.platform,
        earlier.chat_id == OutboxMessage.chat_id,
        earlier.state == OutboxState.PENDING,
        earlier.id < OutboxMessage.id,
        or_(earlier.not_before > now, _leased_by_the_living(earlier, now, dialect)),
    )
    return (
        OutboxMessage.state == OutboxState.PENDING,
        col(OutboxMessage.platform).in_(platforms),
        OutboxMessage.not_before <= now,
        ~_leased_by_the_living(OutboxMessage, now, dialect),
        or_(urgent, ~held_back),
    )


def _leased_by_the_living(row, now: datetime, dialect: str) -> ColumnElement[bool]:
    """SQL: the row is being sent by a live process. A process killed mid-send leaves its lease; its rows
    (a grid's cards, in order) are taken over at once rather than when the lease runs out."""
    leased = col(row.lease_until).is_not(None) & (row.lease_until > now)
    return leased & ~func.coalesce(presence.gone(row.leased_by, dialect), False)


def renew_leases(session: Session, row_ids: list[int], until: datetime) -> None:
    """Keep rows still being sent leased: a slow send must not be leased again and sent twice."""
    if row_ids:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(row_ids), OutboxMessage.state == OutboxState.PENDING)
            .values(lease_until=until)
        )


def mark_sent(session: Session, row_id: int, now: datetime, message_id: str | None) -> None:
    session.execute(sent(row_id, now, message_id))


def sent(row_id: int, now: datetime, message_id: str | None) -> Update:
    """The row delivered: a statement, for the caller to run the moment the platform answered (bot/marks.py)."""
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            state=OutboxState.SENT, sent_at=now, sent_message_id=message_id, lease_until=None, attempts=OutboxMessage.attempts + 1
        )
    )


def mark_retry(session: Session, row_id: int, at: datetime, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(not_before=at, error=error, lease_until=None, attempts=OutboxMessage.attempts + 1)
    )


def mark_failed(session: Session, row_id: int, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(state=OutboxState.FAILED, error=error, lease_until=None, attempts=OutboxMessage.attempts + 1)
    )


def sent_message_id(session: Session, key: str) -> str | None:
    return session.exec(select(OutboxMessage.sent_message_id).where(OutboxMessage.key == key)).first()


def backlog(session: Session) -> int:
    from sqlalchemy import func

    return session.exec(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == OutboxState.PENDING)).one()


def mark_held(session: Session, row_id: int, error: str) -> None:
    """Kept for the recipient's next message: the platform refuses to push it now."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(state=OutboxState.HELD, error=error, lease_until=None, attempts=OutboxMessage.attempts + 1)
    )


def take_held(session: Session, platform: str, chat_id: str, now: datetime) -> list[dict]:
    """The held notices of one chat, oldest first, marked sent: the caller delivers them now."""
    rows = list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.platform == platform, OutboxMessage.chat_id == chat_id, OutboxMessage.state == OutboxState.HELD)
            .order_by(OutboxMessage.id)
        )
    )
    taken = []
    for row in rows:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.state == OutboxState.HELD)
            .values(state=OutboxState.SENT, sent_at=now, error=None)
        )
        if result.rowcount == 1:  # a concurrent reply to the same person took it first otherwise
            taken.append(row.payload)
    return taken
