"""Drive handlers.router.handle as a platform adapter would, and read what was queued."""

import itertools
from datetime import datetime

from sqlmodel import Session, select

from handlers.context import Services
from handlers.messages import Contact, Inbound, Reply
from handlers.router import handle
from scheduler.ticks import tick
from storage.models import OutboxMessage

_keys = itertools.count(1)


class Driver:
    def __init__(self, services: Services, platform: str = "telegram"):
        self.services = services
        self.platform = platform

    def send(
        self,
        user: str,
        text: str = "",
        *,
        group: str | None = None,
        callback: str | None = None,
        photo: str | None = None,
        contact: tuple[str, str] | None = None,
        key: str | None = None,
        location: tuple[float, float] | None = None,
    ) -> list[Reply]:
        inbound = Inbound(
            platform=self.platform,
            message_key=key or f"k{next(_keys)}",
            user_id=user,
            chat_id=group or user,
            is_group=group is not None,
            display_name=f"用户{user}",
            text=text,
            photo=photo,
            location=location,
            callback=callback,
            contact=Contact(contact[0], contact[1]) if contact else None,
        )
        return handle(self.services, inbound)

    def say(self, user: str, text: str = "", **kwargs) -> str:
        """The replies' texts (or pop-ups) joined: what the person reads."""
        return "\n".join(part for r in self.send(user, text, **kwargs) for part in (r.text, r.alert) if part)

    def outbox(self, chat_id: str | None = None) -> list[OutboxMessage]:
        with Session(self.services.engine) as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if chat_id is not None:
                query = query.where(OutboxMessage.chat_id == chat_id)
            return list(session.exec(query))

    def texts(self, chat_id: str) -> list[str]:
        """The texts queued for that chat, oldest first."""
        return [row.payload["text"] for row in self.outbox(chat_id)]

    def tick(self, at: datetime) -> int:
        """Set the clock (a tests.conftest.Clock) to `at` and run the scheduler once, as its job would."""
        self.services.clock.now = at
        return tick(self.services.engine, self.services.policy, self.services.timezone, at)

    def button(self, chat_id: str, label_part: str) -> str:
        """Callback data of the newest queued button in that chat whose label contains `label_part`."""
        for row in reversed(self.outbox(chat_id)):
            for buttons in row.payload.get("buttons", []):
                for label, data in buttons:
                    if label_part in label:
                        return data
        raise AssertionError(f"no button {label_part!r} queued for {chat_id}")
