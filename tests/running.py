"""Run the real `gridbot run` machinery (bot.runtime.serve) in-process against the fake Bot API."""

import asyncio
import socket
from contextlib import asynccontextmanager

import uvicorn

from bot.config import Settings


async def start_local_server(app) -> tuple[uvicorn.Server, str]:
    """Serve a fake platform's ASGI `app` on a free loopback port; return the server and its root URL.

    startup() rather than serve(): serve() installs signal handlers (stealing pytest's Ctrl-C) and
    its main loop ticks every 100 ms, which would slow every test's exit.
    """
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", access_log=False, ws="none")
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_settings(api_root: str, database_url: str, **extra) -> Settings:
    """Handlers in threads unless a test asks for their process (it takes seconds to start, and most
    tests start the bot many times; tests/test_handler_process.py covers it)."""
    extra.setdefault("http_port", free_port())
    extra.setdefault("handler_process", False)
    return Settings(_env_file=None, telegram_token="123456:TEST", telegram_api_url=api_root, database_url=database_url, **extra)


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
