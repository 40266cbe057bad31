"""wechatpy messages → handlers' Inbound. Events have no MsgId: sender + time identify a retry."""

from wechatpy.events import ClickEvent, SubscribeEvent
from wechatpy.messages import BaseMessage, ImageMessage, LocationMessage, TextMessage, VoiceMessage

from handlers.messages import Inbound
from storage.order_buttons import BadCallback, unpack

PLATFORM = "wechat"


def to_inbound(message: BaseMessage) -> Inbound | None:
    """None for what the bot does not act on (voice, unsubscribe, view events…)."""
    openid = message.source
    base = {"platform": PLATFORM, "message_key": _key(message), "user_id": openid, "chat_id": openid}
    if isinstance(message, TextMessage):
        return Inbound(**base, text=message.content or "")
    if isinstance(message, VoiceMessage):
        # Elderly residents talk rather than type. With 语音识别 on, WeChat sends the words; without
        # it the empty message makes the bot ask for a sentence in writing rather than stay silent.
        return Inbound(**base, text=message.recognition or "")
    if isinstance(message, ImageMessage):
        return Inbound(**base, photo=message.media_id or message.image)
    if isinstance(message, LocationMessage):
        return Inbound(**base, location=tuple(float(v) for v in message.location), text=message.label or "")
    if isinstance(message, SubscribeEvent):
        return Inbound(**base, text="/start")
    if isinstance(message, ClickEvent):
        return _menu_click(base, message.key or "")
    return None


def _menu_click(base: dict, key: str) -> Inbound:
    """A menu key is either packed callback data or the words the item stands for (`/my`)."""
    try:
        unpack(key)
    except BadCallback:
        return Inbound(**base, text=key)
    return Inbound(**base, callback=key)


def _key(message: BaseMessage) -> str:
    """MsgId where there is one. An event has none: WeChat's retry repeats sender, time, event and
    key, while two menu taps in the same second differ in what was tapped."""
    msg_id = getattr(message, "id", None)
    if msg_id:
        return str(msg_id)
    what = f"{getattr(message, 'event', '')}:{getattr(message, 'key', '') or ''}"
    return f"{message.source}:{int(message.create_time.timestamp())}:{what}"
