"""Run the real `gridbot run` machinery (bot.runtime.serve) in-process against the fake Bot API."""

import asyncio
import socket
from contextlib import asynccontextmanager

from bot.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_settings(api_root: str, database_url: str, **extra) -> Settings:
    return Settings(_env_file=None, telegram_token="123456:TEST", telegram_api_url=api_root,
                    database_url=database_url, http_port=free_port(), **extra)


@asynccontextmanager
async def running(settings: Settings, clock=None):
    """Start serve(); on exit stop it the way SIGTERM does and wait for a clean shutdown."""
    from bot.runtime import serve

    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, clock=clock))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)
