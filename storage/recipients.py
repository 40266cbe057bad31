"""Where a notice goes: a person's chat, a grid's groups, the staff, the grid leaders — and the
one function that queues a notice to them.

Every outbox row of the project is queued here (storage/consequences.py for order moves, the
calendar's reminders and swaps), so a key is suffixed per chat in one way: `{key}:{chat.tag}`.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from storage import calendar, outbox, people
from storage.models import Grid, OrderFollower

logger = logging.getLogger(__name__)

STAFF_GROUP_PLATFORMS = ("telegram", "console")  # where a group can be bound as the staff group (/bindstaff)
EDITABLE = ("telegram", "console")  # platforms that edit a posted card in place


@dataclass(frozen=True)
class Chat:
    platform: str
    chat_id: str
    tag: str  # what tells this chat apart among one notice's recipients, in the outbox key


def payload(text: str, *rows: list[tuple[str, str]], photo: str | None = None) -> dict:
    """A notice in the shape of handlers.messages.Reply.to_payload: text and button rows."""
    body = {"text": text, "buttons": [[[label, data] for label, data in row] for row in rows if row]}
    return body | ({"photo": photo} if photo else {})


def member(session: Session, member_id: int) -> list[Chat]:
    """The chat the member used last: notices go where they are listening."""
    return members(session, [member_id])


def members(session: Session, member_ids: list[int]) -> list[Chat]:
    ids = list(dict.fromkeys(member_ids))
    reach = calendar.reachable_many(session, ids)
    missing = [member_id for member_id in ids if member_id not in reach]
    if missing:
        logger.info("%d member(s) without a chat identity get no notice: %s", len(missing), missing[:5])
    return [Chat(reach[m].platform, reach[m].chat_id, f"m{m}") for m in ids if m in reach]


def resident(session: Session, resident_id: int) -> list[Chat]:
    identity = people.reachable(session, resident_id=resident_id)
    if identity is None:
        logger.info("resident %s has no chat identity: no notice", resident_id)
        return []
    return [Chat(identity.platform, identity.chat_id, "resident")]


def followers(session: Session, order_id: int) -> list[Chat]:
    """Neighbours who reported the same thing (storage.models.OrderFollower)."""
    chats = []
    for follower in session.exec(select(OrderFollower.resident_id).where(OrderFollower.order_id == order_id)):
        identity = people.reachable(session, resident_id=follower)
        if identity is not None:
            chats.append(Chat(identity.platform, identity.chat_id, f"r{follower}"))
    return chats


def grid(session: Session, grid: Grid) -> list[Chat]:
    """The grid's group chats and its WeCom robot."""
    chats = [Chat(platform, chat_id, f"g{grid.id}:{platform}") for platform, chat_id in people.grid_chats(session, grid)]
    if grid.wecom_webhook:
        chats.append(Chat("wecom", grid.wecom_webhook, f"g{grid.id}:wecom"))
    return chats


def staff(session: Session) -> list[Chat]:
    """The staff group where one is bound on a platform, otherwise each staff member privately."""
    settings = people.get_settings(session, [f"staff_chat:{platform}" for platform in STAFF_GROUP_PLATFORMS])
    groups = [
        Chat(platform, chat, f"staff:{platform}")
        for platform in STAFF_GROUP_PLATFORMS
        if (chat := settings.get(f"staff_chat:{platform}"))
    ]
    return groups or members(session, [m.id for m in people.staff_members(session)])


def admins(session: Session) -> list[Chat]:
    """Every admin, privately."""
    return members(session, [m.id for m in people.admins(session)])


def leaders(session: Session, grid_id: int | None) -> list[Chat]:
    """The grid's leaders; the staff when the grid has none."""
    found = people.grid_leaders(session, grid_id) if grid_id else []
    return members(session, [m.id for m in found]) if found else staff(session)


def queue(session: Session, key: str, chats: list[Chat], body: dict, now: datetime) -> int:
    """The same notice to each chat, keyed `{key}:{tag}`. Returns how many rows were new."""
    return calendar.enqueue_many(session, [(f"{key}:{chat.tag}", chat.platform, chat.chat_id, body) for chat in chats], now)


def queue_each(session: Session, member_ids, key_of, body: dict, now: datetime) -> int:
    """The same notice to each member under a key of its own (`key_of(member_id)`, e.g. a reminder's)."""
    by_tag = {chat.tag: chat for chat in members(session, list(member_ids))}
    rows = [(key_of(int(tag[1:])), chat.platform, chat.chat_id, body) for tag, chat in by_tag.items()]
    return calendar.enqueue_many(session, rows, now)


def queue_edit(session: Session, key: str, card_key: str, chats: list[Chat], body: dict, now: datetime) -> int:
    """Edit the card posted under `card_key` where the platform can; post the new text where it cannot."""
    queued = 0
    for chat in chats:
        if chat.platform in EDITABLE:
            queued += outbox.enqueue(
                session,
                f"{key}:{chat.tag}",
                chat.platform,
                chat.chat_id,
                body,
                not_before=now,
                kind="edit",
                edit_key=f"{card_key}:{chat.tag}",
            )
        else:
            queued += queue(session, key, [chat], body, now)
    return queued
