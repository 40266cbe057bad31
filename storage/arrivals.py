"""A person's updates handled in the platform's order across processes (PostgreSQL).

An update is announced the moment it reaches a process (committed at once). The transaction that
handles it first takes the person's advisory lock, then looks for an earlier update of theirs that
was announced and is not handled yet: while there is one, it is not this update's turn (the caller
rolls back, waits a moment and tries again). Handling an update removes its announcement in the
same transaction. An update that reached no process yet cannot be waited for: it is handled when it
comes. SQLite serves one process, where the Telegram adapter keeps a person's order itself.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from storage.models import Arrival

HOLD = 3.0  # seconds an update waits for an earlier one at most (that one's process may have died)
POLL = 0.05  # seconds between looks
STALE = timedelta(minutes=1)  # an announcement this old is a dead process's: nobody waits for it

# One lock per person and schema: the key space of a single bigint, apart from the two-int locks.
PERSON_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || :platform || ':' || :user, 0))"
_TABLE = Arrival.__table__


class NotYourTurn(Exception):
    """An earlier update of the same person is being handled elsewhere."""


def announce(engine: Engine, platform: str, user_id: str, seq: int) -> None:
    """Record that update `seq` has arrived (again, when the platform resends it)."""
    if engine.dialect.name != "postgresql":
        return
    now = _wall()
    row = {"platform": platform, "user_id": user_id, "seq": seq, "arrived_at": now}
    statement = insert(_TABLE).values(row).on_conflict_do_update(index_elements=["platform", "seq"], set_={"arrived_at": now})
    with engine.begin() as connection:
        connection.execute(statement)


def take_turn(session: Session, platform: str, user_id: str, seq: int | None, wait: bool) -> None:
    """First thing in the handling transaction: the person's lock, then their turn. NotYourTurn while
    an earlier update of theirs is announced and unhandled, unless `wait` is over."""
    if session.get_bind().dialect.name != "postgresql":
        return
    person = {"platform": platform, "user": user_id}
    session.execute(text(PERSON_LOCK), person)
    if seq is None:
        return
    mine = person | {"seq": seq, "stale": _wall() - STALE}
    if wait and session.execute(_EARLIER, mine).first() is not None:
        raise NotYourTurn(f"{platform} {user_id}: an update before {seq} is still being handled")
    session.execute(_HANDLED, mine)


def _wall() -> datetime:
    """Announcements come from several processes: wall-clock time, whatever a test's business clock says."""
    return datetime.now(UTC)


_EARLIER = text(
    "SELECT 1 FROM arrival WHERE platform = :platform AND user_id = :user AND seq < :seq AND arrived_at > :stale LIMIT 1"
)
_HANDLED = text("DELETE FROM arrival WHERE platform = :platform AND user_id = :user AND (seq = :seq OR arrived_at <= :stale)")
