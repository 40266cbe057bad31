"""Telegram Update → transport-neutral Inbound."""

from telegram import Update

from handlers.messages import Contact, Inbound


def to_inbound(update: Update) -> Inbound | None:
    """None for updates the bot does not act on (edits, joins, channel posts…)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    common = {
        "platform": "telegram",
        "message_key": str(update.update_id),
        "seq": update.update_id,
        "user_id": str(user.id),
        "chat_id": str(chat.id),
        "is_group": chat.type != chat.PRIVATE,
        "display_name": user.full_name,
    }
    if update.callback_query is not None:
        return Inbound(**common, callback=update.callback_query.data or "")
    message = update.message
    if message is None:
        return None
    contact = message.contact
    location = message.location
    return Inbound(
        **common,
        text=message.text or message.caption or "",
        photo=message.photo[-1].file_id if message.photo else None,
        location=(location.latitude, location.longitude) if location else None,
        contact=Contact(contact.phone_number, str(contact.user_id) if contact.user_id else None) if contact else None,
        voice=message.voice.file_id if message.voice else None,
        sticker=message.sticker is not None,
    )
