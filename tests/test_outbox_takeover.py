"""A process killed mid-send leaves its outbox rows leased: another process sends them at once, not when
the lease runs out, and never while the process that leased them is alive (storage/presence.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.pool import NullPool

from storage import outbox, presence
from storage.db import make_engine, migrate, transaction
from storage.models import OutboxMessage

NOW = datetime(2026, 11, 23, tzinfo=UTC)
LEASE = timedelta(seconds=20)
ELSEWHERE = 77_777  # the token of another process


def _queue_leased(engine, by: int | None, *keys: str) -> None:
    """Cards for one grid group, leased until NOW + LEASE by the process `by` (None: a row leased
    before leases named their process)."""
    with transaction(engine) as session:
        for key in keys:
            outbox.enqueue(session, key, "telegram", "-1001", {"text": key, "buttons": []}, not_before=NOW)
        session.execute(update(OutboxMessage).values(lease_until=NOW + LEASE, leased_by=by))


def _due(engine) -> list[str]:
    with transaction(engine) as session:
        batches = outbox.due_batches(session, {"telegram"}, NOW, LEASE)
    return [row.key for rows in batches.values() for row in rows]


def test_the_cards_a_dead_process_leased_are_sent_at_once_in_order(engine):
    _queue_leased(engine, ELSEWHERE, "card:1", "card:2")
    assert _due(engine) == ["card:1", "card:2"]  # SQLite serves one process: another token is a dead run's
    assert _due(engine) == []  # leased by this process now


def test_the_cards_this_process_or_an_unnamed_lease_holds_wait_for_the_lease(engine):
    _queue_leased(engine, presence.token(), "mine:1")
    assert _due(engine) == []
    with transaction(engine) as session:
        session.execute(update(OutboxMessage).values(leased_by=None))
    assert _due(engine) == []


@pytest.mark.postgres
def test_the_cards_a_live_process_leased_stay_with_it_until_it_dies(postgres_url):
    engine = make_engine(postgres_url)
    migrate(engine)
    other = create_engine(engine.url, poolclass=NullPool).connect()  # another process's presence
    other.execute(text("SELECT pg_advisory_lock(:k, :token)"), {"k": presence.PRESENCE_LOCK, "token": ELSEWHERE})
    other.commit()
    _queue_leased(engine, ELSEWHERE, "card:1", "card:2")
    assert _due(engine) == []  # alive: it is sending them
    other.close()  # the process dies: its session, and its lock, end
    assert _due(engine) == ["card:1", "card:2"]
    engine.dispose()
