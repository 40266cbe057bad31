"""督办 from `[limits]`: unclaimed → grid leader; unfinished → staff and the claimer; unrated → auto-close.

Each alert is keyed by order and stage (`overdue:{id}:claim`, `overdue:{id}:finish`), so it goes out once
however many ticks or processes see the order late. Auto-close is a lifecycle move with its OrderEvent.
"""

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from scheduler import notices
from scheduler.timing import Due
from storage import orders, points
from storage.models import Building, Grid, Member, Order
from storage.models import OrderStatus as S
from storage.policy import Policy

logger = logging.getLogger(__name__)


def overdue_tick(session: Session, due: Due, policy: Policy) -> int:
    queued = 0
    rows = list(session.exec(select(Order).where(col(Order.status).in_((S.DISPATCHED, S.CLAIMED, S.ESCALATED, S.DONE)))
                             .order_by(Order.id)))
    for order in rows:
        limits = policy.limits_for(order.category)
        start = order.dispatched_at or order.created_at
        if order.status == S.DISPATCHED and start + limits.claim_within <= due.now:
            queued += _unclaimed(session, order, policy, due)
        if order.status in (S.DISPATCHED, S.CLAIMED, S.ESCALATED) and start + limits.finish_within <= due.now:
            queued += _unfinished(session, order, policy, due)
        if order.status == S.DONE and order.done_at and order.done_at + limits.rate_within <= due.now:
            queued += auto_close(session, order, policy, due.now)
    return queued


def _where(session: Session, order: Order, policy: Policy) -> str:
    building = session.get(Building, order.building_id) if order.building_id else None
    grid = session.get(Grid, order.grid_id) if order.grid_id else None
    place = " / ".join(filter(None, [grid.name if grid else "", building.name if building else ""]))
    return f"工单 #{order.id} · {policy.category(order.category).name}" + (f"（{place}）" if place else "")


def _hours(delta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{int(hours)}小时" if hours >= 1 else f"{max(int(delta.total_seconds() // 60), 1)}分钟"


def _unclaimed(session: Session, order: Order, policy: Policy, due: Due) -> int:
    limit = policy.limits_for(order.category).claim_within
    body = notices.payload(f"⏰ 督办：{_where(session, order, policy)} 派单已超过 {_hours(limit)} 无人领单，"
                           f"请安排党员领取（/tasks 查看）。")
    return notices.to_leaders(session, order.grid_id, f"overdue:{order.id}:claim", body, due.now)


def _unfinished(session: Session, order: Order, policy: Policy, due: Due) -> int:
    limit = policy.limits_for(order.category).finish_within
    claimer = session.get(Member, order.claimer_id) if order.claimer_id else None
    who = f"，领单人 {claimer.name}" if claimer else (f"，{order.department}办理中" if order.department else "，尚无人领单")
    body = notices.payload(f"🚨 督办：{_where(session, order, policy)} 已超过 {_hours(limit)} 未办结{who}。")
    queued = notices.to_staff(session, f"overdue:{order.id}:finish", body, due.now)
    if claimer is not None:
        nudge = notices.payload(f"⏰ 您领取的工单 #{order.id} 已超过办结时限（{_hours(limit)}），"
                                f"请尽快处理，办好后点「完成」或发送 /done {order.id}。")
        queued += notices.to_members(session, [claimer.id], lambda m: f"overdue:{order.id}:finish:claimer:m{m}",
                                     nudge, due.now)
    return queued


def auto_close(session: Session, order: Order, policy: Policy, now: datetime) -> int:
    """Done but not rated within `rate_within`: closed by the system; the claimer's points posted."""
    try:
        with session.begin_nested():
            orders.apply(session, order, "auto_close", orders.SYSTEM, now, note="超时未评价，自动结单", closed_at=now)
    except orders.IllegalTransition:
        return 0  # rated (or closed) meanwhile
    if order.claimer_id:
        points.award(session, order.claimer_id, policy.points.get("order_closed", 0), "order", f"order:{order.id}", now)
    body = notices.payload(f"工单 #{order.id} 已办结，因超过评价时限已自动结单。感谢您的支持！")
    return notices.to_residents(session, order.resident_id, f"autoclose:{order.id}", body, now)
