"""The composition root: one place that builds the engine, policy and clock."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.config import Settings
from handlers.context import Services
from storage.db import make_engine, migrate
from storage.policy import load_policy


def build_services(settings: Settings, *, run_migrations: bool = True, clock=None) -> Services:
    engine = make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    return Services(
        engine=engine,
        policy=load_policy(settings.config),
        timezone=ZoneInfo(settings.timezone),
        clock=clock or (lambda: datetime.now(UTC)),
        public_url=settings.reachable_url,
    )
