"""A group chat that moved: Telegram upgrades a group to a supergroup under a new chat id.

Everything that names the old id — a grid's group, the staff group, identities, notices not yet
delivered — names the new one from now on, in one transaction with its audit row.
"""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage import audit, people
from storage.models import Grid, Identity, OutboxMessage, OutboxState, Setting


def move_chat(session: Session, platform: str, old: str, new: str, now: datetime) -> int:
    """Point every use of chat `old` at `new`. Returns how many pending notices were re-addressed."""
    if platform == "telegram":
        for grid in session.exec(select(Grid).where(Grid.telegram_chat_id == old)):
            audit.record(session, "grid", grid.id, "telegram", "group_moved", now, note=f"{old} → {new}")
            grid.telegram_chat_id = new
            session.add(grid)
    for setting in session.exec(select(Setting).where(Setting.value == old, col(Setting.key).endswith(f":{platform}"))):
        audit.record(session, "setting", setting.key, platform, "group_moved", now, note=f"{old} → {new}")
        people.put_setting(session, setting.key, new)
    session.execute(update(Identity).where(Identity.platform == platform, Identity.chat_id == old).values(chat_id=new))
    moved = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_id == old,
            col(OutboxMessage.state).in_((OutboxState.PENDING, OutboxState.HELD)),
        )
        .values(chat_id=new)
    )
    return moved.rowcount
