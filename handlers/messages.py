"""The transport-neutral shapes that cross between bot/ adapters and handlers/."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # callback data, packed by storage.order_buttons (≤ 64 bytes)


@dataclass(frozen=True)
class Reply:
    """One answer to the sender. `alert` is the short pop-up for a button press."""

    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    alert: str | None = None
    ask_contact: bool = False  # offer the platform's "share my phone" button
    private: bool = False  # asked in a group, about the person alone: goes to their private chat

    def to_payload(self) -> dict:
        payload = {"text": self.text, "buttons": [[[b.label, b.data] for b in row] for row in self.buttons]}
        return payload | ({"private": True} if self.private else {})

    @classmethod
    def from_payload(cls, payload: dict) -> "Reply":
        return cls(
            text=payload.get("text", ""),
            buttons=tuple(tuple(Button(label, data) for label, data in row) for row in payload.get("buttons", [])),
            private=bool(payload.get("private")),
        )


@dataclass(frozen=True)
class Contact:
    phone: str
    user_id: str | None  # whose contact it is; only the sender's own contact binds


@dataclass(frozen=True)
class Inbound:
    """One thing a person did: a text, photo, location, contact, or a button press."""

    platform: str  # "telegram", "wechat", "console"
    message_key: str  # unique per platform update: a retry carries the same key
    user_id: str
    chat_id: str
    is_group: bool = False
    display_name: str = ""
    text: str = ""
    photo: str | None = None  # platform file reference
    location: tuple[float, float] | None = None
    contact: Contact | None = None
    callback: str | None = None  # packed callback data of a pressed button
    voice: str | None = None  # platform file reference of a voice message nobody transcribed
    sticker: bool = False  # a sticker: small talk
    seq: int | None = None  # the platform's running number (Telegram's update_id): a person's updates go in its order

    @property
    def command(self) -> tuple[str, list[str]] | None:
        """`/dispatch 12 G02` → ("dispatch", ["12", "G02"]); None for plain text."""
        if not self.text.startswith("/"):
            return None
        words = self.text[1:].split() or [""]
        return words[0].split("@", 1)[0].lower(), words[1:]


def buttons(*rows: list[tuple[str, str]]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(Button(label, data) for label, data in row) for row in rows)


@dataclass
class Outcome:
    """What handling one inbound produced: replies to the sender, and whether to wake the sender."""

    replies: list[Reply] = field(default_factory=list)
    queued: int = 0
