"""Outbox transport for Telegram: one row → sendMessage / sendPhoto / sendDocument / editMessageText."""

from datetime import timedelta

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot

from bot.sender import Delivered, GiveUp, Moved, Outcome, Retry
from bot.telegram.limiter import NOTICE
from bot.telegram.render import inline_keyboard
from storage.attachments import content_of
from storage.models import OutboxMessage
from storage.outbox import URGENT_PREFIX


def transport(bot: Bot):
    """Each send tells the bot's limiter it is a notice: a fan-out of thousands then waits behind
    the replies to people writing now (bot.telegram.limiter). An emergency's alert goes with them."""
    limited = isinstance(bot, ExtBot) and bot.rate_limiter is not None

    async def deliver(row: OutboxMessage, edit_target: str | None) -> Outcome:
        payload = row.payload
        markup = inline_keyboard(payload.get("buttons", []))
        limit = {"rate_limit_args": NOTICE} if limited and not row.key.startswith(URGENT_PREFIX) else {}
        try:
            return await _call(bot, row, payload, markup, edit_target, limit)
        except RetryAfter as error:
            return Retry(f"429: {error.message}", retry_after=_seconds(error.retry_after))
        except ChatMigrated as error:
            return Moved(f"400: {error.message}", str(error.new_chat_id))
        except Forbidden as error:
            return GiveUp(f"403: {error.message}")
        except BadRequest as error:
            if "not modified" in error.message:
                return Delivered(edit_target)
            return GiveUp(f"400: {error.message}")
        except NetworkError as error:  # 5xx and timeouts arrive as NetworkError / TimedOut
            return Retry(f"network: {error.message}")
        except TelegramError as error:
            return Retry(f"telegram: {error.message}")

    return deliver


async def _call(bot: Bot, row: OutboxMessage, payload: dict, markup, edit_target: str | None, limit: dict) -> Delivered:
    extra = {"reply_markup": markup, **limit}
    if row.kind == "edit":
        await bot.edit_message_text(payload["text"], chat_id=row.chat_id, message_id=int(edit_target), **extra)
        return Delivered(edit_target)
    caption = payload["text"][:1024]
    if payload.get("document"):  # a file carried in the row (the monthly workbook)
        document = payload["document"]
        message = await bot.send_document(row.chat_id, content_of(document), filename=document["name"], caption=caption, **extra)
    elif payload.get("image"):  # an image carried in the row (the monthly chart)
        image = payload["image"]
        message = await bot.send_photo(row.chat_id, content_of(image), filename=image["name"], caption=caption, **extra)
    elif payload.get("photo"):
        message = await bot.send_photo(row.chat_id, payload["photo"], caption=caption, **extra)
    else:
        message = await bot.send_message(row.chat_id, payload["text"], **extra)
    return Delivered(str(message.message_id))


def _seconds(retry_after: float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


def photo_fetcher(bot: Bot):
    """A resident's photo (its file id) as bytes, for the web workbench's order page. None when
    Telegram no longer has it."""

    async def fetch(file_id: str) -> bytes | None:
        try:
            return bytes(await (await bot.get_file(file_id)).download_as_bytearray())
        except TelegramError:
            return None

    return fetch
