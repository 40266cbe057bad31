"""The HTTP server of `gridbot run`: /healthz, /metrics, and platform webhooks."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from storage.db import ping

logger = logging.getLogger(__name__)


def http_app(
    engine, telegram_webhook: Callable[[Request], Awaitable[Response]] | None = None, extra_routes: list[Route] = ()
) -> Starlette:
    metrics.register_storage(engine)

    async def healthz(_: Request) -> Response:
        healthy = await asyncio.to_thread(ping, engine)
        return PlainTextResponse("ok" if healthy else "database unavailable", status_code=200 if healthy else 503)

    async def metrics_page(_: Request) -> Response:
        body = await asyncio.to_thread(metrics.render)
        return Response(body, media_type="text/plain; version=0.0.4")

    routes = [Route("/healthz", healthz), Route("/metrics", metrics_page), *extra_routes]
    if telegram_webhook is not None:
        routes.append(Route("/telegram", telegram_webhook, methods=["POST"]))
    return Starlette(routes=routes)


async def serve_http(app: Starlette, host: str, port: int, stop: asyncio.Event) -> None:
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    server.install_signal_handlers = lambda: None  # the runtime owns SIGTERM
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task
