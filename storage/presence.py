"""Which process is alive, as the others can tell.

On PostgreSQL each `gridbot run` holds a session advisory lock on a token of its own for as long as it
runs (`Presence`); a process that died has let go of it, since its session ended with it. Work a
process leaves marked with its token (the replies it is sending) is taken over by another only once
that lock is free. SQLite serves one process: a token other than this process's is a dead run's.
"""

import contextlib
import logging
import os
import secrets

from sqlalchemy import Connection, Engine, create_engine, literal, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import ColumnElement, func

logger = logging.getLogger(__name__)

PRESENCE_LOCK = 0x616C6976  # "aliv"; the token is the lock's second key
_tokens: dict[int, int] = {}  # pid → token: a forked child is another process, with a token of its own


def token() -> int:
    """This process's token: a random positive int4 (the advisory lock's key)."""
    return _tokens.setdefault(os.getpid(), _draw())


def _draw() -> int:
    return secrets.randbelow(2**31 - 2) + 1


def gone(owner: ColumnElement, dialect: str) -> ColumnElement[bool]:
    """SQL: the process whose token is in `owner` has died (never true of this process). On PostgreSQL
    its lock is free: taking it for the rest of the transaction proves it, and keeps it until then."""
    other = owner != literal(token())
    if dialect != "postgresql":
        return other
    return other & func.pg_try_advisory_xact_lock(PRESENCE_LOCK, owner)


class Presence:
    """Holds this process's lock on a connection of its own (a pooled one would hand the lock to
    whoever borrowed it next), from `hold` until `release`."""

    def __init__(self, engine: Engine):
        self._engine = create_engine(engine.url, poolclass=NullPool) if engine.dialect.name == "postgresql" else None
        self._connection: Connection | None = None

    def hold(self) -> None:
        if self._engine is None:
            return
        self._connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        taken = text("SELECT pg_try_advisory_lock(:k, :token)")
        while not self._connection.execute(taken, {"k": PRESENCE_LOCK, "token": token()}).scalar_one():
            _tokens[os.getpid()] = _draw()  # a live process has drawn the same: draw again
        logger.info("presence: this process is %d", token())

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError):
                connection.close()
        if self._engine is not None:
            self._engine.dispose()
