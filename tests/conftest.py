"""Shared fixtures: databases (SQLite and the machine's PostgreSQL), services, the demo roster."""

import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from handlers.context import Services
from storage.db import make_engine, migrate
from storage.policy import load_policy
from tests.scratch_schema import scratch_schema

PG_ROOT = os.environ.get("GRIDBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ROSTER = Path(__file__).parent / "fixtures" / "roster"


def _postgres_up() -> bool:
    try:
        with create_engine(PG_ROOT).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def _start_postgres() -> None:
    """Start the machine's cluster the way `env` documents; harmless when it is already up."""
    if shutil.which("pg_ctlcluster") and Path("/etc/postgresql").is_dir():
        version = min(os.listdir("/etc/postgresql"))
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], capture_output=True, timeout=60, check=False
        )


@pytest.fixture(scope="session")
def postgres_root() -> str:
    if not _postgres_up():
        _start_postgres()
        for _ in range(30):
            if _postgres_up():
                break
            time.sleep(0.5)
        else:
            pytest.skip(f"!!! PostgreSQL at {PG_ROOT} is down and could not be started: PostgreSQL tests NOT run !!!")
    return PG_ROOT


@pytest.fixture
def postgres_url(postgres_root):
    """A fresh schema per test, dropped afterwards."""
    with scratch_schema(postgres_root, "t") as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/gridbot.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Storage and lifecycle tests run on both databases."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(engine, clock) -> Services:
    return Services(engine=engine, policy=load_policy(None), timezone=ZoneInfo("Asia/Shanghai"), clock=clock)


@pytest.fixture
def roster(engine):
    """The fixture roster (tests/fixtures/roster) imported into the database."""
    from storage.db import transaction
    from storage.roster import apply_roster, read_roster

    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
    return ROSTER
