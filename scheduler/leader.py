"""One process ticks at a time. On PostgreSQL the leader holds a session advisory lock on a connection
of its own; every other process waits on the same lock, so one of them leads the moment the leader's
session ends (its process died, its connection broke). SQLite has one process: it always leads.

A deposed leader that has not noticed yet is harmless: each job still takes its transaction's
advisory lock (scheduler/ticks.py), and the outbox's unique keys make a second reminder a no-op.
"""

import contextlib
import logging
from collections.abc import Callable

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

logger = logging.getLogger(__name__)

LEADER_LOCK = 0x7469636B  # "tick"
WAIT = 2.0  # seconds one wait for the lock lasts, so a stopping process is not held by it


class Leadership:
    def __init__(self, engine: Engine, on_change: Callable[[bool], None] = lambda leads: None):
        self.lone = engine.dialect.name != "postgresql"
        # A connection of its own, closed for real when done: a pooled one would keep the lock for
        # whoever borrows it next.
        self._engine = None if self.lone else create_engine(engine.url, poolclass=NullPool)
        self._connection: Connection | None = None
        self._leads = self.lone
        self.on_change = on_change

    @property
    def leads(self) -> bool:
        return self._leads

    def wait_for_turn(self) -> bool:
        """Block up to WAIT seconds for the lock (in a thread of its own). True when this process leads."""
        if self._leads:
            return True
        try:
            connection = self._connect()
            connection.execute(text("SELECT pg_advisory_lock(:k, hashtext(current_schema()))"), {"k": LEADER_LOCK})
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != "55P03":  # 55P03: lock_timeout, the leader lives on
                logger.warning("scheduler leadership: %s", error.orig)
                self._close()
            return False
        self._set(True)
        return True

    def still_held(self) -> bool:
        """Before each tick: the session holding the lock is alive (a broken connection has lost it)."""
        if self.lone or not self._leads:
            return self._leads
        try:
            self._connection.execute(text("SELECT 1"))
            return True
        except DBAPIError as error:
            logger.warning("scheduler leadership lost: %s", error.orig)
            self._close()
            self._set(False)
            return False

    def release(self) -> None:
        """On shutdown: the session ends, and with it the lock; a waiting process leads at once."""
        if not self.lone:
            self._close()
            self._engine.dispose()
            self._set(False)

    def _connect(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._connection.execute(text(f"SET lock_timeout = '{int(WAIT * 1000)}ms'"))
        return self._connection

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError):
                connection.close()

    def _set(self, leads: bool) -> None:
        if leads != self._leads:
            logger.info("scheduler: this process %s", "leads" if leads else "no longer leads")
        self._leads = leads
        self.on_change(leads)
