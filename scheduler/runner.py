"""APScheduler in the bot's event loop: one interval job that runs `tick` in a worker thread, in the
one process that leads (scheduler/leader.py)."""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine

from scheduler.leader import Leadership
from scheduler.ticks import tick
from storage.policy import Policy

logger = logging.getLogger(__name__)

JOB_ID = "calendar-tick"


def build_scheduler(
    engine: Engine,
    policy: Policy,
    tz: ZoneInfo,
    clock: Callable[[], datetime],
    wake: Callable[[], None],
    interval: float,
    leadership: Leadership,
) -> AsyncIOScheduler:
    """The scheduler with its one job; the first tick runs at once (a restart catches up)."""

    async def run_tick() -> None:
        if not await asyncio.to_thread(leadership.still_held):
            return
        queued = await asyncio.to_thread(tick, engine, policy, tz, clock())
        if queued:
            wake()  # the outbox sender delivers at once instead of at its next poll

    scheduler = AsyncIOScheduler(timezone=tz)
    scheduler.add_job(
        run_tick,
        "interval",
        seconds=interval,
        id=JOB_ID,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now(tz),
    )
    return scheduler


async def run_scheduler(
    engine: Engine,
    policy: Policy,
    tz: ZoneInfo,
    clock: Callable[[], datetime],
    wake: Callable[[], None],
    interval: float,
    stop: asyncio.Event,
    on_leading: Callable[[bool], None] = lambda leads: None,
) -> None:
    """Tick every `interval` seconds until `stop` is set, while this process leads; else wait for its turn."""
    leadership = Leadership(engine, on_leading)
    on_leading(leadership.leads)
    scheduler = build_scheduler(engine, policy, tz, clock, wake, interval, leadership)
    scheduler.start()
    logger.info("scheduler started: tick every %ss", interval)
    waiting = ThreadPoolExecutor(1, thread_name_prefix="leader")  # a wait never takes a handler's thread
    loop = asyncio.get_running_loop()
    try:
        while not stop.is_set():
            if leadership.leads:
                await _sleep_until(stop, interval)
            elif await loop.run_in_executor(waiting, leadership.wait_for_turn):
                scheduler.modify_job(JOB_ID, next_run_time=datetime.now(tz))  # the new leader catches up at once
    finally:
        scheduler.shutdown(wait=False)
        await loop.run_in_executor(waiting, leadership.release)
        waiting.shutdown(wait=False)


async def _sleep_until(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
