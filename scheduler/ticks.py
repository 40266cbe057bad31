"""One tick: every job reads what is due and enqueues it, each in its own transaction.

`tick(engine, policy, tz, now)` is a plain function: the APScheduler job, the console demo's
`/clock` and the tests all call it. Per job the time of its last run is kept in the database
(`scheduler:last:{job}`, written in the job's transaction) so that a moment missed while the bot
was down is found after a restart: sent within the grace window, skipped with a log line after it.
On PostgreSQL a transaction-level advisory lock lets one process tick at a time; the outbox's
unique keys make a second one harmless anyway.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from sqlmodel import Session

from scheduler import calendar_ticks
from scheduler.digest import digest_tick
from scheduler.emergencies import emergency_tick
from scheduler.monthly import monthly_report_tick
from scheduler.overdue import overdue_tick
from scheduler.timing import Due, Timing
from storage import consequences, people
from storage.db import transaction
from storage.policy import Policy

logger = logging.getLogger(__name__)

ADVISORY_LOCK = 0x67726964  # "grid"

Job = Callable[[Session, Due, Policy], int]
JOBS: dict[str, Job] = {
    "shift_reminders": lambda s, d, p: calendar_ticks.shift_reminders(s, d),
    "shift_unacked": lambda s, d, p: calendar_ticks.unacked_shifts(s, d),
    "session_reminders": lambda s, d, p: calendar_ticks.session_reminders(s, d),
    "session_open": lambda s, d, p: calendar_ticks.sessions_opening(s, d),
    "session_report": lambda s, d, p: calendar_ticks.sessions_ended(s, d),
    "digest": digest_tick,
    "overdue": overdue_tick,
    "emergencies": emergency_tick,
    "monthly_report": monthly_report_tick,
}


def tick(engine: Engine, policy: Policy, tz: ZoneInfo, now: datetime) -> int:
    """Run every job once for `now`. Returns how many outbox rows were queued."""
    timing = Timing.from_policy(policy)
    queued = 0
    for name, job in JOBS.items():
        try:
            queued += run_job(engine, name, job, policy, timing, tz, now)
        except Exception:
            logger.exception("scheduler job %s failed at %s", name, now.isoformat())
    return queued


def run_job(engine: Engine, name: str, job: Job, policy: Policy, timing: Timing, tz: ZoneInfo, now: datetime) -> int:
    with transaction(engine) as session:
        if not _leader(session):
            return 0
        key = f"scheduler:last:{name}"
        stored = people.get_setting(session, key)
        last = datetime.fromisoformat(stored) if stored else None
        queued = job(session, Due(now, last, timing, tz), policy)
        queued += consequences.publish(session, policy, tz)  # what the job's moves and 督办 cause
        people.put_setting(session, key, max(now, last or now).isoformat())
    if queued:
        logger.info("scheduler %s queued %d notice(s)", name, queued)
    return queued


def _leader(session: Session) -> bool:
    """PostgreSQL: only the process holding the lock ticks (for this transaction). SQLite: one writer anyway."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    # Keyed by the schema too: two deployments (or test runs) in one database do not block each other.
    held = session.execute(text("SELECT pg_try_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": ADVISORY_LOCK})
    return bool(held.scalar())
