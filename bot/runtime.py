"""`gridbot run`: every configured platform, the HTTP server and the outbox sender, one process."""

import asyncio
import json
import logging
import secrets
import signal
from hmac import compare_digest

from starlette.requests import Request
from starlette.responses import Response

from bot.config import Settings
from bot.handler_process import HandlerProcess
from bot.http import http_app, serve_http
from bot.marks import SendMarks
from bot.metrics import LEADS_SCHEDULER
from bot.sender import OutboxSender
from bot.services import build_services
from bot.web.routes import web_routes
from scheduler.runner import run_scheduler
from storage import arrivals
from storage.presence import Presence

logger = logging.getLogger(__name__)


class NothingConfigured(Exception):
    pass


async def serve(settings: Settings, stop: asyncio.Event | None = None, clock=None) -> None:
    """Run until SIGTERM/SIGINT, or until `stop` is set (tests run it in-process that way,
    some with a `clock` they move by hand)."""
    if not (settings.telegram_enabled or settings.wechat_enabled):
        raise NothingConfigured("没有配置任何平台：请设置 GRIDBOT_TELEGRAM_TOKEN 或 GRIDBOT_WECHAT_APPID/GRIDBOT_WECHAT_TOKEN")
    services = await asyncio.to_thread(build_services, settings, clock=clock)
    presence = Presence(services.engine)  # held while this process runs: what it leaves half done is others' once it dies
    await asyncio.to_thread(presence.hold)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

    transports, jobs, webhook, photos = {}, [], None, {}
    child = await _handler_process(settings, services, clock)
    marks = SendMarks(services.engine, child)
    await marks.start()
    sender, sender_stopped = OutboxSender(services.engine, transports, services.clock, marks=marks), asyncio.Event()
    if settings.telegram_enabled:
        from bot.telegram.app import build_application, run_telegram
        from bot.telegram.delivery import photo_fetcher, transport

        app = build_application(settings, services, sender.wake_soon, marks, child)
        photos["telegram"] = photo_fetcher(app.bot)
        transports["telegram"] = transport(app.bot)
        # Webhook mode always has a secret: with none configured, one is made for this run and
        # handed to Telegram, so a request without it is refused either way.
        secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
        jobs.append(run_telegram(app, settings, stop, webhook_secret=secret, sender_stopped=sender_stopped))
        if settings.telegram_webhook_url:
            webhook = _telegram_webhook(app, secret, services.engine)

    from bot.open311 import routes as open311_routes
    from bot.wechat import setup as wechat

    client, routes = wechat.http_client(), open311_routes(services)
    transports.update(wechat.wecom_parts(settings, client))
    # The models' first use takes seconds: WeChat's 5 s deadline cannot wait for it, so with WeChat the
    # process serves only once they are loaded; otherwise they load beside a start that stays quick.
    # Where the handlers run, that is: in the handler process when there is one.
    warming = child.warmed if child else asyncio.create_task(asyncio.to_thread(wechat.warm_up, services))
    if settings.wechat_enabled:
        await warming
        wechat_routes, wechat_transports = wechat.wechat_parts(settings, services, client, sender.wake_soon, child)
        routes += wechat_routes
        transports.update(wechat_transports)

    routes += web_routes(services, photos)
    web = http_app(services.engine, telegram_webhook=webhook, extra_routes=routes)
    jobs += [
        serve_http(web, settings.http_host, settings.http_port, stop),
        _then_set(sender.run(stop), sender_stopped),
        run_scheduler(
            services.engine,
            services.policy,
            services.timezone,
            services.clock,
            sender.wake,
            settings.tick_seconds,
            stop,
            on_leading=lambda leads: LEADS_SCHEDULER.set(int(leads)),
        ),
    ]
    logger.info("gridbot running: http://%s:%s", settings.http_host, settings.http_port)
    results = await asyncio.gather(*(_stop_all_if_fails(job, stop) for job in jobs), return_exceptions=True)
    await client.aclose()
    await marks.close()
    if child is not None:
        await child.close()
    await asyncio.to_thread(presence.release)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    services.engine.dispose()
    logger.info("gridbot stopped")


async def _handler_process(settings: Settings, services, clock) -> HandlerProcess | None:
    """The handlers' own process (GRIDBOT_HANDLER_PROCESS, on by default) on SQLite. PostgreSQL keeps
    its threads: it takes two writers side by side, and more capacity there is more `gridbot run`
    workers. A test's hand-moved clock cannot reach another process: with one, threads too."""
    if not settings.handler_process or services.engine.dialect.name != "sqlite" or clock is not None:
        return None
    from bot.wechat.setup import warm_up

    child = HandlerProcess(settings, warm_up)
    await child.start()
    return child


async def _then_set(job, done: asyncio.Event) -> None:
    try:
        await job
    finally:
        done.set()


async def _stop_all_if_fails(job, stop: asyncio.Event) -> None:
    """One part failing (say, Telegram refusing the token) stops the whole process."""
    try:
        await job
    finally:
        stop.set()


WEBHOOK_ANSWER_WITHIN = 50.0  # seconds; Telegram waits about a minute for a webhook's answer


def _telegram_webhook(app, secret: str, engine):
    from telegram import Update

    from bot.telegram.app import committed
    from bot.telegram.normalise import to_inbound

    async def receive(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not compare_digest(given.encode(), secret.encode()):
            logger.warning("telegram webhook request without the secret token refused")
            return Response("forbidden", status_code=403)
        try:
            update = Update.de_json(json.loads(await request.body()), app.bot)
        except (ValueError, TypeError, KeyError) as error:
            logger.warning("telegram webhook body refused: %s", error)
            return Response("bad request", status_code=400)
        inbound = to_inbound(update)
        if inbound is not None:  # announced: the person's later updates, on any process, wait for this one
            await asyncio.to_thread(arrivals.announce, engine, inbound.platform, inbound.user_id, update.update_id)
        done = committed(app, update.update_id)
        await app.update_queue.put(update)
        try:  # answered only once its transaction has committed: a crash before that, and Telegram sends it again
            await asyncio.wait_for(done, timeout=WEBHOOK_ANSWER_WITHIN)
        except Exception as error:  # the handler failed (rolled back) or took too long: let Telegram retry
            logger.warning("telegram update %s not committed: %s", update.update_id, error or type(error).__name__)
            return Response("not processed", status_code=500)
        return Response("ok")

    return receive
