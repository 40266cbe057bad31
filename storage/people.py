"""Who is who: identities, members, residents, grids, and where to reach them."""

from datetime import datetime

from sqlalchemy import String, bindparam, func, update
from sqlmodel import Session, col, select

from storage.models import Building, Grid, Identity, Member, Resident, Role, Setting

# Who is writing, with what the handlers ask about them next (the member, the resident, their building
# and its grid), in one query; the session holds the rows, so later gets of them cost nothing.
_WHO = (
    select(Identity, Member, Resident, Building, Grid)
    .outerjoin(Member, Member.id == Identity.member_id)
    .outerjoin(Resident, Resident.id == Identity.resident_id)
    .outerjoin(Building, Building.id == Resident.building_id)
    .outerjoin(Grid, Grid.id == Building.grid_id)
    .where(Identity.platform == bindparam("platform"), Identity.user_id == bindparam("user_id"))
)


# What every update notes of its sender (seen now, the name they go by, their private chat), written
# before the read: the identity then comes back as it is now and clean, and the ORM's flush is left
# the handler's own changes (one UPDATE, not a second one for this bookkeeping).
_IDENTITY = Identity.__table__
_SEEN = (
    update(_IDENTITY)
    .where(_IDENTITY.c.platform == bindparam("of_platform"), _IDENTITY.c.user_id == bindparam("of_user"))
    .values(last_seen_at=bindparam("now"), display_name=func.coalesce(bindparam("name", type_=String), _IDENTITY.c.display_name))
)
_SEEN_IN_PRIVATE = _SEEN.values(chat_id=bindparam("in_chat"))  # no parameter is named after a column: Core would set it


def identity_for(
    session: Session, platform: str, user_id: str, chat_id: str, name: str, now: datetime, private: bool
) -> Identity:
    """The identity behind a platform user, created on first contact."""
    seen = {"of_platform": platform, "of_user": user_id, "now": now, "name": name or None, "in_chat": chat_id}
    session.execute(_SEEN_IN_PRIVATE if private else _SEEN, seen)
    found = session.exec(_WHO, params={"platform": platform, "user_id": user_id}).first()
    if found:
        return found[0]
    # Telegram's private chat id equals the user id; a first contact from a group knows no better.
    identity = Identity(
        platform=platform, user_id=user_id, chat_id=chat_id if private else user_id, display_name=name, last_seen_at=now
    )
    session.add(identity)
    session.flush()
    return identity


def reachable(session: Session, *, member_id: int | None = None, resident_id: int | None = None) -> Identity | None:
    """The identity a person used last: notices go where they are listening."""
    query = select(Identity)
    query = (
        query.where(Identity.member_id == member_id)
        if member_id is not None
        else query.where(Identity.resident_id == resident_id)
    )
    return session.exec(query.order_by(col(Identity.last_seen_at).desc().nulls_last(), col(Identity.id).desc())).first()


def member_by_phone(session: Session, phone: str) -> Member | None:
    return session.exec(select(Member).where(Member.phone == phone)).first()


def grid_by_code(session: Session, code: str) -> Grid | None:
    return session.exec(select(Grid).where(Grid.code == code.upper())).first()


def grid_of_building(session: Session, building: Building | None) -> Grid | None:
    return session.get(Grid, building.grid_id) if building is not None and building.grid_id else None


GRID_CHAT = "grid_chat:{platform}:{code}"  # a Setting: a grid group bound on a platform other than Telegram (the demo)


def grid_chats(session: Session, grid: Grid) -> list[tuple[str, str]]:
    """The group chats a grid's cards go to, as (platform, chat id); WeCom robots aside."""
    chats = [("telegram", grid.telegram_chat_id)] if grid.telegram_chat_id else []
    console = get_setting(session, GRID_CHAT.format(platform="console", code=grid.code))
    return chats + ([("console", console)] if console else [])


def bind_grid_group(session: Session, grid: Grid, platform: str, chat_id: str) -> None:
    """`/bindgrid` in a group: Telegram's chat is the grid's column, another platform's a setting."""
    if platform == "telegram":
        grid.telegram_chat_id = chat_id
        session.add(grid)
    else:
        put_setting(session, GRID_CHAT.format(platform=platform, code=grid.code), chat_id)


def grid_has_group(session: Session, grid: Grid) -> bool:
    return bool(grid_chats(session, grid) or grid.wecom_webhook)


def grid_leaders(session: Session, grid_id: int) -> list[Member]:
    return list(
        session.exec(
            select(Member).where(Member.grid_id == grid_id, Member.role == Role.GRID_LEADER, col(Member.active).is_(True))
        )
    )


def admins(session: Session) -> list[Member]:
    return list(session.exec(select(Member).where(Member.role == Role.ADMIN, col(Member.active).is_(True)).order_by(Member.id)))


def staff_members(session: Session) -> list[Member]:
    return list(session.exec(select(Member).where(col(Member.role).in_((Role.STAFF, Role.ADMIN)), col(Member.active).is_(True))))


def buildings(session: Session) -> list[Building]:
    return list(session.exec(select(Building).where(col(Building.active).is_(True)).order_by(Building.id)))


def get_settings(session: Session, keys: list[str]) -> dict[str, str]:
    """Several settings in one query: {key: value} for those that are set."""
    known = _settings_read(session)
    missing = [key for key in keys if key not in known]
    if missing:
        found = {s.key: s.value for s in session.exec(select(Setting).where(col(Setting.key).in_(missing)))}
        known.update({key: found.get(key) for key in missing})
    return {key: known[key] for key in keys if known[key] is not None}


def get_setting(session: Session, key: str) -> str | None:
    return get_settings(session, [key]).get(key)


def put_setting(session: Session, key: str, value: str) -> None:
    setting = session.get(Setting, key) or Setting(key=key, value=value)
    setting.value = value
    session.add(setting)
    _settings_read(session)[key] = value


def delete_setting(session: Session, key: str) -> None:
    setting = session.get(Setting, key)
    if setting is not None:
        session.delete(setting)
    _settings_read(session)[key] = None


def _settings_read(session: Session) -> dict[str, str | None]:
    """Settings this transaction has read (None: not set), so a message's handlers ask once.
    Only this module writes settings, and it keeps the memo in step."""
    return session.info.setdefault("settings_read", {})
