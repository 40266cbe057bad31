"""Sign-in to the web workbench without passwords: a one-time link sent in the private chat, then a
browser session. Only hashes of the tokens are stored, so a copy of the database opens nothing."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from storage import audit
from storage.models import Member, Role, WebLink, WebSession

LINK_LIFETIME = timedelta(minutes=10)
LINKS_PER_WINDOW = 5
SESSION_LIFETIME = timedelta(hours=12)
WEB_ROLES = (Role.STAFF, Role.ADMIN, Role.GRID_LEADER)


class LinkRefused(Exception):
    """The link was used already, has expired, or never existed; the text says which, in Chinese."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(session: Session, member: Member, now: datetime) -> str:
    """A new one-time link token for `member` (valid LINK_LIFETIME). LinkRefused past LINKS_PER_WINDOW
    links in LINK_LIFETIME: a link sent by mistake to a group, or a leaked chat, yields few tries."""
    issued = list(
        session.exec(
            select(WebLink.expires_at)
            .where(WebLink.member_id == member.id, WebLink.expires_at > now)
            .order_by(WebLink.expires_at)
        )
    )  # a link's window is its lifetime: those still valid were issued in the last LINK_LIFETIME
    if len(issued) >= LINKS_PER_WINDOW:
        wait = issued[len(issued) - LINKS_PER_WINDOW] - now
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        raise LinkRefused(f"登录链接申请太频繁（10 分钟内最多 {LINKS_PER_WINDOW} 次），请 {minutes} 分钟后再试。")
    token = secrets.token_urlsafe(24)
    session.add(WebLink(token_hash=_hash(token), member_id=member.id, expires_at=now + LINK_LIFETIME))
    audit.record(session, "web", member.id, f"member:{member.id}", "link issued", now)
    return token


def redeem_link(session: Session, token: str, now: datetime) -> str:
    """Spend the link once: a session token for the browser. LinkRefused otherwise."""
    link = session.exec(select(WebLink).where(WebLink.token_hash == _hash(token))).first()
    if link is None:
        raise LinkRefused("登录链接无效，请在聊天中重新发送 /web 获取。")
    if link.used_at is not None:
        raise LinkRefused("这个登录链接已经用过了，请重新发送 /web 获取新链接。")
    if link.expires_at <= now:
        raise LinkRefused("登录链接已过期（10 分钟内有效），请重新发送 /web 获取。")
    spent = session.execute(update(WebLink).where(WebLink.id == link.id, WebLink.used_at.is_(None)).values(used_at=now))
    if spent.rowcount != 1:  # opened twice at the same moment: one wins
        raise LinkRefused("这个登录链接已经用过了，请重新发送 /web 获取新链接。")
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_hash(token), member_id=link.member_id, expires_at=now + SESSION_LIFETIME))
    audit.record(session, "web", link.member_id, f"member:{link.member_id}", "signed in", now)
    return token


def member_of(session: Session, token: str | None, now: datetime) -> Member | None:
    """The member a session cookie belongs to, while it lasts and their role allows the workbench."""
    if not token:
        return None
    row = session.exec(select(WebSession).where(WebSession.token_hash == _hash(token))).first()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    member = session.get(Member, row.member_id)
    return member if member is not None and member.active and member.role in WEB_ROLES else None


def end_session(session: Session, token: str, now: datetime) -> None:
    row = session.exec(select(WebSession).where(WebSession.token_hash == _hash(token))).first()
    if row is not None and row.ended_at is None:
        row.ended_at = now
        session.add(row)
        audit.record(session, "web", row.member_id, f"member:{row.member_id}", "signed out", now)


def csrf_token(session_token: str) -> str:
    """The token every form of this browser session carries: derived from the session's own secret
    (which only the HttpOnly cookie holds), so another site can neither read nor guess it."""
    return hashlib.sha256(f"csrf:{session_token}".encode()).hexdigest()[:40]


def csrf_ok(session_token: str | None, given: str | None) -> bool:
    return bool(session_token and given) and hmac.compare_digest(csrf_token(session_token), given)
