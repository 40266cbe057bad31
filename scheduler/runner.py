"""APScheduler in the bot's event loop: one interval job that runs `tick` in a worker thread."""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine

from scheduler.ticks import tick
from storage.policy import Policy

logger = logging.getLogger(__name__)

JOB_ID = "calendar-tick"


def build_scheduler(
    engine: Engine, policy: Policy, tz: ZoneInfo, clock: Callable[[], datetime], wake: Callable[[], None], interval: float
) -> AsyncIOScheduler:
    """The scheduler with its one job; the first tick runs at once (a restart catches up)."""

    async def run_tick() -> None:
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
) -> None:
    """Tick every `interval` seconds until `stop` is set."""
    scheduler = build_scheduler(engine, policy, tz, clock, wake, interval)
    scheduler.start()
    logger.info("scheduler started: tick every %ss", interval)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
