"""Engine and transactions. SQLite (WAL, one writer at a time) or PostgreSQL by URL."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATING_LOCK = 0x6D6967  # "mig"

# SQLite takes one writer at a time, and a thread waiting for its lock sleep-polls (1, 2, 5, 10… ms).
# Our transactions all write (BEGIN IMMEDIATE), so threads of one process queue on a Python lock
# instead, handed over the moment it is free. Other processes still meet SQLite's busy timeout.
_SQLITE_WRITERS: WeakKeyDictionary[Engine, threading.RLock] = WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn) -> None:
        # Take the write lock up front: a deferred transaction that reads and then writes
        # fails with "database is locked" under concurrency instead of waiting its turn.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


class HeldSession(Session):
    """A Session that holds every row it read or wrote until it closes. The identity map itself is
    weak: a row one step read (the resident's grid) and the next step needs (the group card) would
    be read again once the first step's variables were gone."""


def _hold(session: Session, instance: object) -> None:
    session.info.setdefault("held", []).append(instance)


for _becomes_persistent in ("loaded_as_persistent", "pending_to_persistent", "detached_to_persistent"):
    event.listen(HeldSession, _becomes_persistent, _hold)


READ_ONLY = "gridbot_read_only"


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A look that writes nothing. On SQLite it takes no write lock (WAL readers go beside the
    writer), so it waits for no writer, and a writer in another process never waits for it."""
    with Session(engine.execution_options(**{READ_ONLY: True})) as session, session.begin():
        yield session


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with _writer_turn(engine), HeldSession(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _writer_turn(engine: Engine):
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _WRITERS_GUARD:
        return _SQLITE_WRITERS.setdefault(engine, threading.RLock())


def insert_if_new(session: Session, row: SQLModel, *unique: str) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING: the new row's id, or None when a row with the same `unique`
    columns exists. One statement, where a savepoint around an INSERT takes three (the hot path of
    every inbound message and every queued notice)."""
    table = type(row).__table__
    values = {column.key: getattr(row, column.key) for column in table.columns if column.key != "id"}
    return insert_values_if_new(session, table, values, *unique)


def insert_values_if_new(session: Session, table: Table, values: dict, *unique: str) -> int | None:
    """insert_if_new from the column values alone: no model object to build and validate."""
    statement = _insert_if_new_statement(session.get_bind().dialect.name, table, unique)
    return session.execute(statement, values).scalar_one_or_none()


def insert_many_if_new(session: Session, table: Table, rows: list[dict], *unique: str) -> int:
    """Each row once by its `unique` columns, all in one INSERT … ON CONFLICT DO NOTHING (SQLAlchemy
    sends an executemany with RETURNING as one multi-row statement). Returns how many were new."""
    if not rows:
        return 0
    statement = _insert_if_new_statement(session.get_bind().dialect.name, table, unique)
    return len(session.execute(statement, rows).all())


@lru_cache(maxsize=32)
def _insert_if_new_statement(dialect: str, table: Table, unique: tuple[str, ...]):
    """Built once per table: the values come as parameters, so SQLAlchemy compiles it once too."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # workers starting together: one migrates, the others then find it done
            connection.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": MIGRATING_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_revisions(engine: Engine) -> tuple[str | None, str]:
    """(the database's Alembic revision, the newest this code knows): equal when migrated."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, ScriptDirectory.from_config(config).get_current_head()


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
