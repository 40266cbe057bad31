"""Notices of the members' calendar (换班) in the caller's transaction, through storage/recipients.py.

Order moves never come here: what they cause is storage/consequences.py's.
"""

from handlers.context import Ctx
from handlers.messages import Reply
from storage import people, recipients
from storage.models import Grid


def to_member(ctx: Ctx, member_id: int, key: str, reply: Reply) -> bool:
    return recipients.queue(ctx.session, key, recipients.member(ctx.session, member_id), reply.to_payload(), ctx.now) > 0


def to_grid(ctx: Ctx, grid: Grid, key: str, reply: Reply) -> bool:
    """Post in the grid's group chat(s); False when the grid has no group bound."""
    chats = recipients.grid(ctx.session, grid)
    return bool(chats) and recipients.queue(ctx.session, key, chats, reply.to_payload(), ctx.now) > 0


def edit_grid_card(ctx: Ctx, grid: Grid, card_key: str, key: str, reply: Reply) -> None:
    recipients.queue_edit(ctx.session, key, card_key, recipients.grid(ctx.session, grid), reply.to_payload(), ctx.now)


def to_grid_leaders(ctx: Ctx, grid_id: int, key: str, reply: Reply) -> None:
    leaders = [m.id for m in people.grid_leaders(ctx.session, grid_id)]
    recipients.queue(ctx.session, key, recipients.members(ctx.session, leaders), reply.to_payload(), ctx.now)
