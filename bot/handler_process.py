"""The handlers in a process of their own (GRIDBOT_HANDLER_PROCESS, SQLite): their CPU off the event loop's.

A handler thread beside the event loop takes the GIL from it: the loop answers late and sends slowly.
Here one child of `gridbot run`, with its own engine on the same SQLite file, runs every update's
transaction and the send marks, one at a time on one thread (SQLite takes one writer at a time; a
mark waits for the update in hand, never for the queued ones), so one process writes on the hot
path. The parent keeps the platforms, the replies, the outbox sender and the scheduler.

A child that dies is started again. What it had in hand is handed to the new one once: an update that
had committed is a duplicate there and gets the replies it recorded (its dead child's presence token
is gone, so they are taken over); one that had not is handled afresh. If that child dies too, the
caller gets `ChildDied` (the Telegram path answers busy; the inbox keeps a later retry safe).

Each child has its own presence token (storage/presence.py: a token per process id): a platform's
retry of an update while the child that handled it lives sends nothing again; after that child died,
it sends what was recorded.
"""

import asyncio
import itertools
import logging
import multiprocessing
import signal
import weakref
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

from bot.config import Settings

logger = logging.getLogger(__name__)

SPAWN = multiprocessing.get_context("spawn")  # a fork would copy locks the parent's threads hold mid-use
HANDLE, MARK = "handle", "mark"  # an update's call, a send mark (goes first)
GIVE_UP_AFTER = 3  # children in a row that died before answering anything (they cannot start)
STOP_WITHIN = 20.0  # seconds a child gets to finish what it has in hand at shutdown

live: weakref.WeakSet = weakref.WeakSet()  # running instances, for bench/cost.py to ask what a child spent


class ChildDied(Exception):
    pass


class HandlerFailed(Exception):
    """What a call raised in the child, as text: its own exception type may not cross the pipe."""


class HandlerProcess:
    """`await process.run(fn, *args)` returns `fn(services, *args)` as run in the child; `await
    process.mark(fn, *args)` returns once the statement `fn(*args)` has committed there."""

    def __init__(self, settings: Settings, warm_up: Callable[..., Any] | None = None):
        self._settings = settings.model_dump()
        self._warm_up = warm_up  # each child's first call: its models, before any update waits on them
        self.warmed: asyncio.Future | None = None
        self._ids = itertools.count()
        self._pending: dict[int, asyncio.Future] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection = None
        self._child = None
        self._closing = False
        self._answered = False  # by the current child: one that dies before answering anything is not restarted forever
        self._deaths_unanswered = 0
        self.restarts = 0

    async def start(self) -> None:
        """Starts the child; calls wait in the pipe while it imports (bot/runtime.py trains its models first)."""
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._spawn_child)
        live.add(self)
        self.warmed = self._warm()

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._call(HANDLE, fn, args)

    async def mark(self, fn: Callable[..., Any], *args: Any) -> None:
        await self._call(MARK, fn, args)

    async def close(self) -> None:
        """After the last call: the child finishes what it holds and exits."""
        self._closing = True
        live.discard(self)
        connection, child = self._connection, self._child
        if connection is not None:
            self._loop.remove_reader(connection.fileno())
            connection.close()
        if child is not None:
            await asyncio.to_thread(child.join, STOP_WITHIN)
            if child.is_alive():
                logger.warning("handler process %s did not stop; killed", child.pid)
                child.kill()

    def _warm(self) -> asyncio.Future:
        warming = asyncio.ensure_future(self._call(HANDLE, self._warm_up, ()) if self._warm_up else asyncio.sleep(0))
        warming.add_done_callback(lambda done: done.cancelled() or done.exception())  # awaited by who needs it
        return warming

    def _spawn_child(self) -> None:
        ours, theirs = SPAWN.Pipe()
        child = SPAWN.Process(
            target=child_main, args=(theirs, self._settings, logging.getLogger().level), name="gridbot-handlers", daemon=True
        )
        child.start()
        theirs.close()  # the child's end lives in the child only: its death reads as the end of the pipe here
        self._connection, self._child = ours, child
        self._loop.call_soon_threadsafe(self._loop.add_reader, ours.fileno(), self._receive, ours)
        logger.info("handler process %s started", child.pid)

    async def _call(self, lane: str, fn: Callable[..., Any], args: tuple) -> Any:
        for attempt in (1, 2):
            if self._connection is None:
                raise ChildDied("the handler process could not be started")
            call_id, future = next(self._ids), self._loop.create_future()
            self._pending[call_id] = future
            connection = self._connection
            try:
                connection.send((call_id, lane, fn, args))
            except (OSError, ValueError):  # the child is gone (not yet seen by _receive)
                self._died(connection)
            try:
                return await future
            except ChildDied:
                if attempt == 2 or self._closing:
                    raise
                logger.warning("handler process died: %s handed to the new one", getattr(fn, "__name__", fn))

    def _receive(self, connection) -> None:
        try:
            while connection.poll():
                call_id, ok, value = connection.recv()
                self._answered = True
                future = self._pending.pop(call_id, None)
                if future is not None and not future.done():
                    future.set_result(value) if ok else future.set_exception(value)
        except (EOFError, OSError):
            self._died(connection)

    def _died(self, connection) -> None:
        """Once per child: every call it held fails with ChildDied, and a new child starts."""
        if connection is not self._connection or self._closing:
            return
        self._loop.remove_reader(connection.fileno())
        connection.close()
        logger.error("handler process %s died (exit code %s)", self._child.pid, self._child.exitcode)
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ChildDied())
        self._deaths_unanswered = 0 if self._answered else self._deaths_unanswered + 1
        if self._deaths_unanswered >= GIVE_UP_AFTER:
            logger.critical("handler process died %d times before answering: not started again", GIVE_UP_AFTER)
            self._connection = None
            return
        self.restarts += 1
        self._answered = False
        self._spawn_child()
        self._warm()


def child_main(connection, settings: dict, log_level: int) -> None:
    """The child: one thread, no GIL to share. Between two updates it reads what has arrived; the
    send marks waiting then commit first, together, so a mark waits for one update at most."""
    # The parent decides when to stop (it closes the pipe): a Ctrl-C or a SIGTERM sent to the whole
    # group would otherwise kill the child under updates in hand while the parent shuts down cleanly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s [handlers] %(message)s")
    from bot.services import build_services

    services = build_services(Settings(_env_file=None, **settings), run_migrations=False)
    calls: deque = deque()
    marks: list = []
    open_ = True
    while open_ or calls or marks:
        try:
            while open_ and connection.poll(None if not (calls or marks) else 0):
                call_id, lane, fn, args = connection.recv()
                (marks if lane == MARK else calls).append((call_id, fn, args))
        except (EOFError, OSError):
            open_ = False  # the parent closed its end (or died): finish what is in hand, then exit
        if marks:
            for answer in _marks_committed(services.engine, marks):
                _send(connection, *answer)
            marks.clear()
        elif calls:
            call_id, fn, args = calls.popleft()
            _send(connection, call_id, *_outcome(partial(fn, services, *args), fn))


def _send(connection, call_id: int, ok: bool, value: Any) -> None:
    try:
        connection.send((call_id, ok, value))
    except (OSError, ValueError):
        pass  # the parent has gone: nobody waits for it
    except Exception as error:  # the result would not pickle
        connection.send((call_id, False, HandlerFailed(f"unpicklable {type(value).__name__}: {error}")))


def _marks_committed(engine, calls: list) -> list[tuple]:
    from storage.db import transaction

    def all_at_once() -> None:
        with transaction(engine) as session:
            for _call_id, make, args in calls:
                session.execute(make(*args))

    ok, value = _outcome(all_at_once, "send marks")
    if ok or len(calls) == 1:
        return [(call_id, ok, value) for call_id, _make, _args in calls]
    return [outcome for call in calls for outcome in _marks_committed(engine, [call])]  # one by one: only a bad one fails


def _outcome(run: Callable[[], Any], what) -> tuple[bool, Any]:
    try:
        return True, run()
    except Exception as error:
        logger.exception("%s failed in the handler process", getattr(what, "__name__", what))
        return False, HandlerFailed(f"{type(error).__name__}: {error}")
