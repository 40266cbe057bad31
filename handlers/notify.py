"""Enqueue notices in the caller's transaction: to a person, a grid group, or the staff."""

import logging

from handlers.context import Ctx
from handlers.messages import Reply
from storage import outbox, people
from storage.models import Grid

logger = logging.getLogger(__name__)

STAFF_GROUP_PLATFORMS = ("telegram", "console")  # where a group can be bound as the staff group (/bindstaff)


def to_member(ctx: Ctx, member_id: int, key: str, reply: Reply, photo: str | None = None) -> bool:
    identity = people.reachable(ctx.session, member_id=member_id)
    if identity is None:
        logger.info("member %s has no chat identity; notice %s not queued", member_id, key)
        return False
    return _enqueue(ctx, key, identity.platform, identity.chat_id, reply, photo)


def to_resident(ctx: Ctx, resident_id: int, key: str, reply: Reply, photo: str | None = None) -> bool:
    identity = people.reachable(ctx.session, resident_id=resident_id)
    if identity is None:
        logger.info("resident %s has no chat identity; notice %s not queued", resident_id, key)
        return False
    return _enqueue(ctx, key, identity.platform, identity.chat_id, reply, photo)


def to_grid(ctx: Ctx, grid: Grid, key: str, reply: Reply) -> bool:
    """Post in the grid's group chat(s); False when the grid has no group bound."""
    posted = False
    for platform, chat_id in people.grid_chats(ctx.session, grid):
        posted |= _enqueue(ctx, key if platform == "telegram" else f"{key}:{platform}", platform, chat_id, reply)
    if grid.wecom_webhook:
        posted |= _enqueue(ctx, f"{key}:wecom", "wecom", grid.wecom_webhook, reply)
    return posted


def edit_grid_card(ctx: Ctx, grid: Grid, card_key: str, key: str, reply: Reply) -> None:
    """Edit a card in place where the platform can; post the update where it cannot (WeCom)."""
    for platform, chat_id in people.grid_chats(ctx.session, grid):
        suffix = "" if platform == "telegram" else f":{platform}"
        outbox.enqueue(ctx.session, key + suffix, platform, chat_id, reply.to_payload(), not_before=ctx.now,
                       kind="edit", edit_key=card_key + suffix)
    if grid.wecom_webhook:
        _enqueue(ctx, f"{key}:wecom", "wecom", grid.wecom_webhook, reply)


def to_staff(ctx: Ctx, key: str, reply: Reply) -> None:
    """The staff group where one is bound on a platform, otherwise each staff member privately."""
    posted = False
    staff_chats = people.get_settings(ctx.session, [f"staff_chat:{platform}" for platform in STAFF_GROUP_PLATFORMS])
    for platform in STAFF_GROUP_PLATFORMS:
        chat = staff_chats.get(f"staff_chat:{platform}")
        if chat:
            posted |= _enqueue(ctx, f"{key}:{platform}", platform, chat, reply)
    if not posted:
        for member in people.staff_members(ctx.session):
            to_member(ctx, member.id, f"{key}:m{member.id}", reply)


def to_grid_leaders(ctx: Ctx, grid_id: int, key: str, reply: Reply) -> None:
    for leader in people.grid_leaders(ctx.session, grid_id):
        to_member(ctx, leader.id, f"{key}:m{leader.id}", reply)


def _enqueue(ctx: Ctx, key: str, platform: str, chat_id: str, reply: Reply, photo: str | None = None) -> bool:
    payload = reply.to_payload()
    if photo:
        payload["photo"] = photo
    return outbox.enqueue(ctx.session, key, platform, chat_id, payload, not_before=ctx.now)
