"""Application assembly: builder chain, the one update handler, replies to the sender."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)

from bot.config import Settings
from bot.marks import SendMarks
from bot.metrics import REPLIES_LOST
from bot.telegram.limiter import SendLimiter
from bot.telegram.normalise import to_inbound
from bot.telegram.render import reply_markup
from bot.workers import Handlers, handler_pool
from handlers.context import Services
from handlers.messages import Inbound, Reply
from handlers.router import BUSY, handle
from storage import inbox, outbox
from storage.order_buttons import BadCallback, BuildingCb, RateCb, unpack

logger = logging.getLogger(__name__)

REPLY_ATTEMPTS = 6
HTTP_CONNECTIONS = 8
POOL_WAIT = 10.0  # seconds
MAX_REPLY_WAIT = 60.0  # seconds; a longer flood wait is still honoured, in steps


class PerUserOrder(BaseUpdateProcessor):
    """One person's updates are handled in the order sent; different people concurrently,
    so two members pressing 领单 at the same moment really race (and the database decides)."""

    def __init__(self, max_concurrent_updates: int = 64):
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}  # updates of that person running or waiting for the lock

    async def do_process_update(self, update: object, coroutine: Coroutine[Any, Any, Any]) -> None:
        key = update.effective_user.id if isinstance(update, Update) and update.effective_user else 0
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            # Dropped only when nobody waits: a lock that merely looks free while the next waiter is
            # being woken would let a third update start beside the second.
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key]
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


COMMITTED = "committed"  # bot_data key: update_id → the future a webhook request waits on


def build_application(
    settings: Settings,
    services: Services,
    after_update: Callable[[], None],
    marks: SendMarks | None = None,
    workers: Handlers | None = None,
) -> Application:
    root = settings.telegram_api_url.rstrip("/")
    builder = (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .concurrent_updates(PerUserOrder())
        .rate_limiter(SendLimiter(settings.telegram_rate, settings.telegram_group_rate))
        # httpcore checks every pooled connection on every request: PTB's 256 cost a burst more than
        # its handlers. 30 sends a second need a few; a send waits its turn rather than failing.
        .connection_pool_size(HTTP_CONNECTIONS)
        .pool_timeout(POOL_WAIT)
    )
    if settings.telegram_webhook_url:
        builder = builder.updater(None)
    app = builder.build()
    workers, marks = workers or handler_pool(services, "telegram"), marks or SendMarks(services.engine)

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any update: normalise, let handlers/ decide off the event loop, answer the sender."""
        inbound = to_inbound(update)
        if inbound is None:
            _settle(app, update.update_id)
            return
        try:
            replies, queued = await workers.run(handle_update, inbound)
        except Exception as error:
            logger.exception("update %s failed", update.update_id)
            _settle(app, update.update_id, error)
            await answer(update, inbound, [BUSY])
            return
        if queued:  # most updates in a burst queue nothing: their sender passes would find nothing
            after_update()
        if await answer(update, inbound, replies) and replies:
            await marks.write(inbox.replied, inbound.platform, [inbound.message_key], services.clock())
        _settle(app, update.update_id)  # the webhook answers 200 now: committed, and the replies sent

    app.add_handler(TypeHandler(Update, on_update))
    app.add_error_handler(on_error)
    return app


def handle_update(services: Services, inbound: Inbound) -> tuple[list[Reply], bool]:
    """handlers.router.handle for a Telegram update, whose replies the caller sends after commit;
    and whether its transaction queued a notice (then the outbox sender looks soon)."""
    queued = []

    def before_commit(session, replies: list[Reply]) -> None:
        # A retry of the update meanwhile (its 200 late) sends the replies only if the process that
        # handled it dies first (storage/inbox.earlier_replies): in the handler process, that child's
        # token stands for the parent that sends them.
        if replies:
            inbox.sending_replies(session, inbound.platform, inbound.message_key)
        queued.append(outbox.queued_any(session))

    return handle(services, inbound, before_commit=before_commit), any(queued)


def committed(app: Application, update_id: int) -> asyncio.Future:
    """Resolved once the update's transaction has committed (or failed): the webhook answers then."""
    future = asyncio.get_running_loop().create_future()
    app.bot_data.setdefault(COMMITTED, {})[update_id] = future
    return future


def _settle(app: Application, update_id: int, error: BaseException | None = None) -> None:
    future = app.bot_data.get(COMMITTED, {}).pop(update_id, None)
    if future is not None and not future.done():
        future.set_exception(error) if error is not None else future.set_result(None)


async def answer(update: Update, inbound: Inbound, replies: list[Reply]) -> bool:
    """Pop-ups answer button presses; texts go to the chat the person wrote in, in order. Each call
    is retried on flood control and network errors: a reply is the one message nobody re-asks for.
    True when every reply went through."""
    bot = update.get_bot()
    query = update.callback_query
    if query is not None:
        alert = next((r.alert for r in replies if r.alert), None)
        await _with_retries(lambda: query.answer(text=alert), inbound)
        if not inbound.is_group and _closes_keyboard(inbound.callback):
            await _with_retries(lambda: query.edit_message_reply_markup(None), inbound)
    for reply in replies:
        if reply.text and not (reply.alert and (inbound.is_group or reply.alert == reply.text)):
            # A private reply to a group command goes to the person's own chat (its id is the user's).
            chat = inbound.user_id if reply.private else inbound.chat_id
            sent = await _with_retries(lambda r=reply, c=chat: bot.send_message(c, r.text, reply_markup=reply_markup(r)), inbound)
            if not sent:
                return False  # later replies would arrive out of order
    return True


async def _with_retries(call: Callable[[], Awaitable[Any]], inbound: Inbound) -> bool:
    """True once `call` went through. 429 waits Telegram's `retry_after`; 5xx and timeouts back off;
    a refusal (403 blocked, 400) is final. What is given up is logged and counted."""
    for attempt in range(REPLY_ATTEMPTS):
        try:
            await call()
            return True
        except RetryAfter as error:
            wait, reason = _seconds(error.retry_after), "429"
        except (Forbidden, BadRequest) as error:
            logger.warning("reply to %s refused: %s", inbound.chat_id, error)
            REPLIES_LOST.labels("telegram", type(error).__name__).inc()
            return False
        except TelegramError as error:  # NetworkError, TimedOut: 5xx and the network
            wait, reason = min(2.0**attempt, 30.0), type(error).__name__
        logger.info("reply to %s: %s, retry %d in %.1f s", inbound.chat_id, reason, attempt + 1, wait)
        await asyncio.sleep(min(wait, MAX_REPLY_WAIT))
    logger.warning("reply to %s given up after %d attempts", inbound.chat_id, REPLY_ATTEMPTS)
    REPLIES_LOST.labels("telegram", "retries").inc()
    return False


def _seconds(retry_after: float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


def _closes_keyboard(data: str | None) -> bool:
    """A rating or a building choice is given once: take its buttons away."""
    try:
        return isinstance(unpack(data or ""), (RateCb, BuildingCb))
    except BadCallback:
        return False


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    logger.error("telegram error on %s", update, exc_info=context.error)


async def run_telegram(
    app: Application,
    settings: Settings,
    stop: asyncio.Event,
    webhook_secret: str | None = None,
    sender_stopped: asyncio.Event | None = None,
) -> None:
    """Polling by default; webhook when GRIDBOT_TELEGRAM_WEBHOOK_URL is set (Telegram sends
    `webhook_secret` with every update; bot.runtime refuses a request without it). On stop, the bot's
    HTTP client stays open until the outbox sender has finished its sends in flight: closed under
    a send that Telegram already took, it would look failed and go out again after a restart."""
    async with app:
        await app.start()
        if settings.telegram_webhook_url:
            await app.bot.set_webhook(
                settings.telegram_webhook_url, allowed_updates=Update.ALL_TYPES, secret_token=webhook_secret
            )
        else:
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=10)
        logger.info("telegram started (%s)", "webhook" if settings.telegram_webhook_url else "polling")
        await stop.wait()
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        await app.stop()
        if sender_stopped is not None:
            await sender_stopped.wait()
