"""What runs the handlers: threads beside the event loop, or a child process (bot/handler_process.py)."""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from sqlalchemy import Engine

from handlers.context import Services


def handler_threads(engine: Engine) -> int:
    """SQLite takes one writer at a time: one thread answering in turn is faster than several
    queueing for the lock. PostgreSQL runs two side by side: more threads only fight over the GIL
    with the event loop, which then answers late."""
    return 1 if engine.dialect.name == "sqlite" else 2


class Handlers(Protocol):
    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(services, *args)`, off the event loop."""


class HandlerThreads:
    def __init__(self, services: Services, platform: str):
        self.services = services
        self._pool = ThreadPoolExecutor(handler_threads(services.engine), thread_name_prefix=f"{platform}-handler")

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, self.services, *args)


def handler_pool(services: Services, platform: str) -> HandlerThreads:
    return HandlerThreads(services, platform)
