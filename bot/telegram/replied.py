"""Which updates' replies went out, told to the inbox: many in one transaction."""

import asyncio
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from storage import inbox
from storage.db import transaction

MARK_AFTER = 0.05  # seconds: marks of the updates answered within this share one transaction


class RepliedMarks:
    """A mark waits up to MARK_AFTER for the marks of the updates answered after it, and all are
    written in one transaction: a burst costs one a batch, not one an update. `mark` returns once
    its own mark has committed, as a write of its own would."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], platform: str = "telegram"):
        self.engine, self.clock, self.platform = engine, clock, platform
        self._gathering: list[tuple[str, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def mark(self, message_key: str) -> None:
        written = asyncio.get_running_loop().create_future()
        self._gathering.append((message_key, written))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_gathered())
        await written

    async def _write_gathered(self) -> None:
        try:
            while self._gathering:
                await asyncio.sleep(MARK_AFTER)
                batch, self._gathering = self._gathering, []
                try:
                    await asyncio.to_thread(self._write, [key for key, _ in batch])
                except Exception as error:
                    _settle(batch, error)
                else:
                    _settle(batch, None)
        finally:
            self._writer = None

    def _write(self, message_keys: list[str]) -> None:
        with transaction(self.engine) as session:
            inbox.mark_replied(session, self.platform, message_keys, self.clock())


def _settle(batch: list[tuple[str, asyncio.Future]], error: Exception | None) -> None:
    for _, written in batch:
        if not written.done():  # its update was cancelled meanwhile
            written.set_exception(error) if error is not None else written.set_result(None)
