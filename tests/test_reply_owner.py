"""Telegram's retry of an update whose replies were recorded but not marked sent (issue 15): sent again
only when no live process is sending them. A process that died mid-send left them to the retry; a live
one (the update's 200 merely late) sends them itself, once."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.pool import NullPool

from storage import inbox, presence
from storage.db import make_engine, migrate, transaction
from storage.models import InboxEntry

NOW = datetime(2026, 11, 23, tzinfo=UTC)
REPLIES = [{"text": "已受理，工单 #1"}]
ELSEWHERE = 77_777  # the token of another process


def _handled(engine, key: str, sending_by: int | None) -> None:
    """An update handled and its replies recorded, being sent by `sending_by` (None: WeChat's answer in the response)."""
    with transaction(engine) as session:
        entry = inbox.first_sight(session, "telegram", key, NOW)
        inbox.record_replies(session, entry, REPLIES)
        if sending_by is not None:
            session.execute(update(InboxEntry).where(InboxEntry.id == entry).values(replying_by=sending_by))


def _retried(engine, key: str) -> list[dict]:
    """What the retry of update `key` sends."""
    with transaction(engine) as session:
        return inbox.earlier_replies(session, "telegram", key, unless_delivered=True)


def test_a_retry_sends_the_replies_only_if_their_sender_died_before_marking_them(engine):
    _handled(engine, "being-sent-here", presence.token())
    assert _retried(engine, "being-sent-here") == []  # this process is sending them

    _handled(engine, "sender-died", ELSEWHERE)  # no process holds that token's lock: it died
    assert _retried(engine, "sender-died") == REPLIES
    assert _retried(engine, "sender-died") == []  # taken over: this process sends them now, once

    _handled(engine, "delivered", ELSEWHERE)
    with transaction(engine) as session:
        inbox.mark_replied(session, "telegram", ["delivered"], NOW)
    assert _retried(engine, "delivered") == []

    _handled(engine, "answered-in-the-response", None)  # WeChat keeps one answer per push: each retry gets it
    assert _retried(engine, "answered-in-the-response") == REPLIES
    assert _retried(engine, "answered-in-the-response") == REPLIES


@pytest.mark.postgres
def test_a_retry_leaves_the_replies_to_a_live_process_until_it_dies(postgres_url):
    engine = make_engine(postgres_url)
    migrate(engine)
    other = create_engine(engine.url, poolclass=NullPool).connect()  # another process's presence
    other.execute(text("SELECT pg_advisory_lock(:k, :token)"), {"k": presence.PRESENCE_LOCK, "token": ELSEWHERE})
    _handled(engine, "slow-200", ELSEWHERE)
    assert _retried(engine, "slow-200") == []  # alive: it sends them
    other.close()  # the process dies (its session ends with it)
    assert _retried(engine, "slow-200") == REPLIES
    engine.dispose()
