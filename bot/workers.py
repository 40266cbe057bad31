"""The threads that run handlers, sized to what the database lets run side by side."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine


def handler_threads(engine: Engine) -> int:
    """SQLite takes one writer at a time: one thread answering in turn is faster than several
    queueing for the lock. PostgreSQL runs two side by side: more threads only fight over the GIL
    with the event loop, which then answers late."""
    return 1 if engine.dialect.name == "sqlite" else 2


def handler_pool(engine: Engine, platform: str) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(handler_threads(engine), thread_name_prefix=f"{platform}-handler")
