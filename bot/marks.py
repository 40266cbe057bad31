"""What a platform has just accepted, recorded the moment it answers.

No platform call and its record can happen in one instant: a process killed after the platform took a
message and before its mark committed leaves it for another process to send again. That window is
kept as short as it gets. A mark is one statement, committed on its own (autocommit), from the event
loop itself on PostgreSQL (an asyncio connection: no thread to wake, no pool check, no BEGIN and
COMMIT round trips, no queue behind another mark); with the handlers in a process of their own
(SQLite, bot/handler_process.py), in that process, ahead of the updates queued there (the marks
waiting commit together), so one process writes; elsewhere, and until `start`, on a thread of its
own, never queued behind other work.
"""

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from storage.db import transaction

logger = logging.getLogger(__name__)

CONNECTIONS = 2  # marks written side by side at most (a short statement each); more wait for one
_THREAD = ThreadPoolExecutor(1, thread_name_prefix="send-marks")  # one per process: the marks' own


class SendMarks:
    """`await marks.write(make, *args)` returns once the statement `make(*args)` has committed (built
    where it runs: a statement itself pickles with its whole schema)."""

    def __init__(self, engine: Engine, child=None):
        self.engine = engine
        self.child = child  # a HandlerProcess: the marks go to it
        self._async: AsyncEngine | None = None

    async def start(self) -> None:
        """From now on, on PostgreSQL, marks go from the event loop (`close` when done)."""
        if self.engine.dialect.name == "postgresql" and self._async is None:
            url = self.engine.url.set(drivername="postgresql+psycopg_async")
            self._async = create_async_engine(
                url, pool_size=CONNECTIONS, max_overflow=0, isolation_level="AUTOCOMMIT", pool_reset_on_return=None
            )
            async with self._async.connect():  # the first connection learns the server: not during a mark
                pass

    async def close(self) -> None:
        engine, self._async = self._async, None
        if engine is not None:
            await engine.dispose()

    async def write(self, make: Callable[..., Executable], *args) -> None:
        if self.child is not None:
            await self.child.mark(make, *args)
            return
        statement = make(*args)
        if self._async is None:
            await asyncio.get_running_loop().run_in_executor(_THREAD, self._commit, statement)
            return
        try:
            await self._execute(statement)
        except DBAPIError as error:  # a connection broken since its last use (it is dropped): once more
            logger.info("send mark retried: %s", error.orig)
            await self._execute(statement)

    async def _execute(self, statement: Executable) -> None:
        async with self._async.connect() as connection:
            await connection.execute(statement)

    def _commit(self, statement: Executable) -> None:
        with transaction(self.engine) as session:
            session.execute(statement)
