"""A `gridbot run` child process for the benches that measure the real server over HTTP."""

import asyncio
import os
import sys
from pathlib import Path

import httpx

GRIDBOT = str(Path(sys.executable).with_name("gridbot"))


def gridbot_env(url: str, telegram_api: str, port: int, **settings: str) -> dict:
    """The child's environment: this one without any GRIDBOT_* of the caller's, then the database,
    the fake Bot API, the HTTP port and `settings` (GRIDBOT_* names)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("GRIDBOT_")}
    return env | {
        "GRIDBOT_DATABASE_URL": url,
        "GRIDBOT_TELEGRAM_TOKEN": "1:BENCH",
        "GRIDBOT_TELEGRAM_API_URL": telegram_api,
        "GRIDBOT_HTTP_PORT": str(port),
        **settings,
    }


async def start_gridbot(env: dict, port: int, wait_seconds: float = 60) -> asyncio.subprocess.Process:
    """`gridbot run` with `env` (its whole environment), returned once /healthz on `port` says ok."""
    process = await asyncio.create_subprocess_exec(
        GRIDBOT,
        "run",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with httpx.AsyncClient() as client:
        for _ in range(int(wait_seconds * 10)):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).text == "ok":
                    return process
            except httpx.TransportError:
                pass
            if process.returncode is not None:
                break
            await asyncio.sleep(0.1)
    process.kill()
    raise RuntimeError("gridbot run did not become healthy")
