"""The grid leaders' morning digest at `digest_time`: one short message per leader per day."""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from scheduler import notices
from scheduler.timing import SEND, SKIP, Due, digest_moments
from storage import calendar, notice_keys
from storage.models import (
    Grid,
    Member,
    Order,
    OrderStatus,
    Role,
    Shift,
    ShiftMember,
    StudySession,
)
from storage.policy import Policy

logger = logging.getLogger(__name__)


def digest_tick(session: Session, due: Due, policy: Policy) -> int:
    queued = 0
    for moment in digest_moments(due.now, due.tz, due.timing.digest_at):
        verdict = due.verdict(moment)
        day = moment.astimezone(due.tz).date()
        if verdict == SKIP:
            logger.warning("digest of %s skipped: more than the grace window late", day)
        elif verdict == SEND:
            leaders = session.exec(select(Member).where(Member.role == Role.GRID_LEADER, col(Member.grid_id).is_not(None)))
            for leader in list(leaders):
                grid = session.get(Grid, leader.grid_id)
                body = notices.payload(digest_text(session, grid, policy, due.tz, due.now))
                queued += notices.to_members(session, [leader.id], notice_keys.digest(day), body, due.now)
    return queued


def digest_text(session: Session, grid: Grid, policy: Policy, tz: ZoneInfo, now: datetime) -> str:
    """☀️ 一网格 今日概况 — duty, sessions, orders waiting / in hand / overdue."""
    local = now.astimezone(tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = day_start + timedelta(days=1)
    members = {m.id: m for m in session.exec(select(Member).where(Member.grid_id == grid.id))}
    lines = [f"☀️ {grid.name} 今日概况（{local.month}月{local.day}日）"]
    lines += _duty_lines(session, members, day_start, day_end, tz)
    waiting, doing, late = _order_counts(session, grid.id, policy, now)
    lines.append(
        f"待领单 {len(waiting)} · 办理中 {len(doing)} · 超时 {len(late)}" + (f"（{'、'.join(late[:5])}）" if late else "")
    )
    branches = {m.branch for m in members.values() if m.branch}
    studies = (
        session.exec(
            select(StudySession)
            .where(
                StudySession.start_at >= day_start,
                StudySession.start_at < day_end,
                col(StudySession.branch).in_(branches),
                col(StudySession.active).is_(True),
            )
            .order_by(StudySession.start_at)
        )
        if branches
        else []
    )
    lines += [
        f"今日：{s.start_at.astimezone(tz):%H:%M} {s.branch} {s.title}" + (f"（{s.place}）" if s.place else "") for s in studies
    ]
    return "\n".join(lines)


def _duty_lines(session: Session, members: dict[int, Member], lo: datetime, hi: datetime, tz: ZoneInfo) -> list[str]:
    rows = (
        session.exec(
            select(Shift, ShiftMember)
            .join(ShiftMember, ShiftMember.shift_id == Shift.id)
            .where(
                Shift.start_at >= lo,
                Shift.start_at < hi,
                col(ShiftMember.member_id).in_(list(members)),
                col(Shift.active).is_(True),
            )
            .order_by(Shift.start_at, ShiftMember.id)
        )
        if members
        else []
    )
    by_shift: dict[int, tuple[Shift, list[ShiftMember]]] = {}
    for shift, row in rows:
        by_shift.setdefault(shift.id, (shift, []))[1].append(row)
    if not by_shift:
        return ["值班：今日无"]
    lines = []
    for shift, on_duty in by_shift.values():
        names = "、".join(members[r.member_id].name for r in on_duty)
        unacked = [members[r.member_id].name for r in on_duty if r.acked_at is None]
        note = f"（{'、'.join(unacked)}未确认）" if unacked else ""
        lines.append(f"值班：{calendar.span_text(shift.start_at, shift.end_at, tz)} {shift.place} {names}{note}")
    return lines


def _order_counts(session: Session, grid_id: int, policy: Policy, now: datetime) -> tuple[list[int], list[int], list[str]]:
    rows = list(
        session.exec(
            select(Order)
            .where(Order.grid_id == grid_id, col(Order.status).in_((OrderStatus.DISPATCHED, OrderStatus.CLAIMED)))
            .order_by(Order.id)
        )
    )
    waiting = [o.id for o in rows if o.status == OrderStatus.DISPATCHED]
    doing = [o.id for o in rows if o.status == OrderStatus.CLAIMED]
    late = []
    for order in rows:
        over = overdue_by(order, policy, now)
        if over is not None:
            late.append(f"#{order.id} 已超 {max(int(over.total_seconds() // 3600), 1)} 小时")
    return waiting, doing, late


def overdue_by(order: Order, policy: Policy, now: datetime) -> timedelta | None:
    """How far past its limit an open order is (claim limit while waiting, finish limit after); None if in time."""
    limits = policy.limits_for(order.category)
    start = order.dispatched_at or order.created_at
    if order.status == OrderStatus.DISPATCHED and start + limits.claim_within <= now:
        return now - start - limits.claim_within
    if start + limits.finish_within <= now:
        return now - start - limits.finish_within
    return None
