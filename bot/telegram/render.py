"""Transport-neutral buttons → Telegram keyboards."""

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from handlers.messages import Reply

SHARE_PHONE = "📱 分享手机号"


def inline_keyboard(rows: list[list[list[str]]] | tuple) -> InlineKeyboardMarkup | None:
    """From payload rows `[[label, data], …]` or Reply.buttons."""
    keyboard = [[_inline(button) for button in row] for row in rows if row]
    return InlineKeyboardMarkup(keyboard) if keyboard else None


def reply_markup(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if reply.ask_contact:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(SHARE_PHONE, request_contact=True)]], one_time_keyboard=True, resize_keyboard=True
        )
    return inline_keyboard(reply.buttons)


def _inline(button) -> InlineKeyboardButton:
    label, data = (button[0], button[1]) if isinstance(button, (list, tuple)) else (button.label, button.data)
    return InlineKeyboardButton(label, callback_data=data)
