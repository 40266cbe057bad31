"""The outbox sender: delivers queued notices in order per chat, with retry rules.

Transports (one per platform) turn a row into a platform call and report an Outcome; what to
do next is decided by the pure `next_step`.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, update

from bot.marks import SendMarks
from bot.metrics import FAILED, SENT
from storage import chat_moves, outbox
from storage.db import reading, transaction
from storage.models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF = 300.0
# A row leased by a process that died waits this long for another process (its chat's later rows with
# it); a live sender renews its leases every RENEW_EVERY, so only a stall that long lets a row go twice.
LEASE = timedelta(seconds=20)
RENEW_EVERY = 5.0
PASS_AFTER = 0.1  # seconds: updates handled and chats finishing within this share the next pass


@dataclass(frozen=True)
class Delivered:
    message_id: str | None = None


@dataclass(frozen=True)
class Retry:
    """Try again: after the platform's `retry_after` (429), or after our backoff (5xx, network)."""

    error: str
    retry_after: float | None = None


@dataclass(frozen=True)
class GiveUp:
    """Permanent: the user blocked the bot (403), the request is wrong (400)."""

    error: str


@dataclass(frozen=True)
class Held:
    """The platform will not push it now (WeChat's 48 h window): keep it for the next reply."""

    error: str


@dataclass(frozen=True)
class Moved:
    """The chat has a new id (a Telegram group upgraded to a supergroup): send there from now on."""

    error: str
    new_chat_id: str


Outcome = Delivered | Retry | GiveUp | Held | Moved
Transport = Callable[[OutboxMessage, str | None], Awaitable[Outcome]]


def next_step(outcome: Outcome, attempts_before: int, now: datetime) -> datetime | None:
    """When to try a failed delivery again; None to give up. Pure."""
    if isinstance(outcome, GiveUp):
        return None
    assert isinstance(outcome, Retry)
    if outcome.retry_after is not None:
        return now + timedelta(seconds=outcome.retry_after)
    if attempts_before + 1 >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=min(2.0**attempts_before, MAX_BACKOFF))


class OutboxSender:
    """One task per process: lease due rows, deliver chat by chat, record each outcome."""

    def __init__(
        self,
        engine: Engine,
        transports: dict[str, Transport],
        clock: Callable[[], datetime],
        idle_poll: float = 1.0,
        max_chats: int = 64,
        renew_every: float = RENEW_EVERY,
        marks: SendMarks | None = None,
    ):
        self.engine = engine
        self.transports = transports
        self.clock = clock
        self.idle_poll = idle_poll
        self.renew_every = renew_every
        self._wake = asyncio.Event()
        self._chats = asyncio.Semaphore(max_chats)
        self._in_flight: dict[str, asyncio.Task] = {}  # chat → its delivery, while `run` goes on
        self._leased: set[int] = set()  # rows leased by this sender, not yet recorded
        self._pass_pending = False  # a lease pass is scheduled (chats finished)
        self.marks = marks or SendMarks(engine)  # a delivery recorded the moment the platform took it
        self.delivered = 0
        self.failed = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop`. Each chat is delivered by a task of its own: a chat held back by its
        platform (a group at 20 a minute) never delays another chat's urgent alert."""
        if self.engine.dialect.name == "sqlite":
            await asyncio.to_thread(self._release_leases)  # one process: leases of a dead run are void
        renewing = asyncio.create_task(self._keep_leases(stop))
        while not stop.is_set():
            self._wake.clear()
            try:
                started = await self._start_due()
            except Exception:
                logger.exception("outbox pass failed")
                started = False
            if not started:
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=self.idle_poll, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        renewing.cancel()
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _start_due(self) -> bool:
        """Lease what is due and start a delivery task per chat. True if any started."""
        batches = await asyncio.to_thread(self._lease)
        for chat, rows in batches.items():
            if chat in self._in_flight:  # cannot happen while leases hold; never send one chat twice
                await asyncio.to_thread(self._unlease, [row.id for row in rows])
                continue
            task = asyncio.create_task(self._deliver_chat(rows))
            self._in_flight[chat] = task
            task.add_done_callback(lambda _, c=chat: self._finished(c))
        return bool(batches)

    def wake_soon(self) -> None:
        """A pass within PASS_AFTER: one for a burst of updates handled or chats finishing, not one
        each (every pass is a write transaction, and on SQLite it would queue behind the replies)."""
        if not self._pass_pending:
            self._pass_pending = True
            asyncio.get_running_loop().call_later(PASS_AFTER, self._pass_now)

    def _finished(self, chat: str) -> None:
        """The chat may have more due."""
        self._in_flight.pop(chat, None)
        self.wake_soon()

    def _pass_now(self) -> None:
        self._pass_pending = False
        self.wake()

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """Renew the leases of rows still being sent, so no other process leases them again."""
        while not stop.is_set():
            await asyncio.sleep(self.renew_every)
            if self._leased:
                try:
                    await asyncio.to_thread(self._renew, list(self._leased))
                except Exception:
                    logger.exception("outbox lease renewal failed")

    def _renew(self, row_ids: list[int]) -> None:
        with transaction(self.engine) as session:
            outbox.renew_leases(session, row_ids, self.clock() + LEASE)

    async def deliver_due(self) -> bool:
        """One whole pass over what is due now, awaited (the console demo and tests step with it)."""
        batches = await asyncio.to_thread(self._lease)
        if batches:
            await asyncio.gather(*(self._deliver_chat(rows) for rows in batches.values()))
        return bool(batches)

    def _lease(self) -> dict[str, list[OutboxMessage]]:
        with reading(self.engine) as session:  # most passes find nothing: then no write lock is taken
            if not outbox.any_due(session, set(self.transports), self.clock()):
                return {}
        with transaction(self.engine) as session:
            batches = outbox.due_batches(session, set(self.transports), self.clock(), LEASE)
        self._leased.update(row.id for rows in batches.values() for row in rows)
        return batches

    def _release_leases(self) -> None:
        with transaction(self.engine) as session:
            session.execute(update(OutboxMessage).values(lease_until=None).where(OutboxMessage.lease_until.is_not(None)))

    async def _deliver_chat(self, rows: list[OutboxMessage]) -> None:
        async with self._chats:
            for index, row in enumerate(rows):
                outcome = await self._attempt(row)
                if isinstance(outcome, Delivered):
                    await self.marks.write(outbox.sent, row.id, self.clock(), outcome.message_id)
                    self.delivered += 1
                    SENT.labels(row.platform).inc()
                else:
                    await asyncio.to_thread(self._record, row, outcome)
                self._leased.discard(row.id)
                if isinstance(outcome, Retry | Moved):
                    rest = [r.id for r in rows[index + 1 :]]
                    await asyncio.to_thread(self._unlease, rest)
                    self._leased.difference_update(rest)
                    return  # later rows of this chat wait: order is kept

    async def _attempt(self, row: OutboxMessage) -> Outcome:
        edit_target = None
        if row.kind == "edit":
            edit_target = await asyncio.to_thread(self._sent_id, row.edit_key)
            if edit_target is None:
                return GiveUp(f"message to edit ({row.edit_key}) was never delivered")
        try:
            return await self.transports[row.platform](row, edit_target)
        except Exception as error:
            logger.exception("transport %s failed on outbox %s", row.platform, row.id)
            return Retry(f"{type(error).__name__}: {error}")

    def _sent_id(self, key: str | None) -> str | None:
        with transaction(self.engine) as session:
            return outbox.sent_message_id(session, key) if key else None

    def _record(self, row: OutboxMessage, outcome: Outcome) -> None:
        """What to do after a delivery that did not go through."""
        now = self.clock()
        with transaction(self.engine) as session:
            if isinstance(outcome, Moved):
                moved = chat_moves.move_chat(session, row.platform, row.chat_id, outcome.new_chat_id, now)
                logger.info(
                    "chat %s:%s moved to %s; %d notice(s) follow it", row.platform, row.chat_id, outcome.new_chat_id, moved
                )
                outbox.mark_retry(session, row.id, now, outcome.error)  # again at once, to the new chat
                return
            if isinstance(outcome, Held):
                logger.info("outbox %s held for %s:%s: %s", row.id, row.platform, row.chat_id, outcome.error)
                outbox.mark_held(session, row.id, outcome.error)
                return
            retry_at = next_step(outcome, row.attempts, now)
            if retry_at is None:
                logger.warning("outbox %s to %s:%s given up: %s", row.id, row.platform, row.chat_id, outcome.error)
                outbox.mark_failed(session, row.id, outcome.error)
                self.failed += 1
                FAILED.labels(row.platform).inc()
            else:
                logger.info("outbox %s retry at %s: %s", row.id, retry_at.isoformat(), outcome.error)
                outbox.mark_retry(session, row.id, retry_at, outcome.error)

    def _unlease(self, ids: list[int]) -> None:
        if ids:
            with transaction(self.engine) as session:
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(lease_until=None))
