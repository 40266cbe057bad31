"""One-time binding codes (`gridbot invite PHONE` → `/bind CODE`), valid for 7 days."""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col

from storage import audit, people
from storage.models import Invite, Member
from storage.roster_file import normalise_phone

VALID_FOR = timedelta(days=7)
LENGTH = 8
# No 0/O, 1/I/L: the code is read off a screen or paper and typed on a phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class InviteError(Exception):
    """A code that binds nobody; the text says why, for the person who typed it."""


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def create_invite(session: Session, phone: str, now: datetime) -> str:
    """A fresh code for the roster member with this phone; LookupError (Chinese) if there is none."""
    member = people.member_by_phone(session, normalise_phone(phone) or phone)
    if member is None:
        raise LookupError(f"花名册里没有手机号 {phone} 的党员，请先用 gridbot import 导入。")
    code = new_code()
    session.add(Invite(code=code, member_id=member.id, expires_at=now + VALID_FOR))
    audit.record(session, "invite", member.id, "cli", "invite_created", now, note=f"expires {now + VALID_FOR:%Y-%m-%d}")
    session.flush()
    return code


def redeem_invite(session: Session, code: str, now: datetime) -> Member:
    """The member the code was made for; the code is spent in the same conditional UPDATE."""
    code = code.strip().upper()
    invite = session.get(Invite, code)
    if invite is None:
        raise InviteError("邀请码不对，请核对后再发，或向社区管理员要一个新的。")
    if invite.used_at is not None:
        raise InviteError("这个邀请码已经用过了，请向社区管理员要一个新的。")
    if invite.expires_at <= now:
        raise InviteError("这个邀请码已过期（有效期7天），请向社区管理员要一个新的。")
    spent = session.execute(update(Invite).where(col(Invite.code) == code, col(Invite.used_at).is_(None)).values(used_at=now))
    if spent.rowcount != 1:  # someone else redeemed it a moment ago
        raise InviteError("这个邀请码已经用过了，请向社区管理员要一个新的。")
    session.expire(invite)
    return session.get(Member, invite.member_id)
