"""What the web workbench shows: the board's lists and one order's page, read in one place.

A grid leader sees their grid only (`visible_to`); staff and admins see everything.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage import orders
from storage.models import Building, Department, Grid, Member, Order, OrderEvent, Resident, Role
from storage.models import OrderStatus as S
from storage.policy import Policy

BOARD_ROWS = 50  # per list: the board is for what needs doing now, the ledger for the rest


@dataclass(frozen=True)
class Board:
    urgent: list[Order]
    waiting_for_triage: list[Order]
    unclaimed: list[Order]
    overdue: list[Order]


def visible_to(member: Member, query):
    """The orders `member` may see: a grid leader's own grid, everything for staff and admins."""
    if member.role == Role.GRID_LEADER:
        return query.where(Order.grid_id == member.grid_id)
    return query


def may_see(member: Member, order: Order) -> bool:
    return member.role != Role.GRID_LEADER or order.grid_id == member.grid_id


def board(session: Session, member: Member, policy: Policy, now: datetime) -> Board:
    def open_orders(*conditions) -> list[Order]:
        query = select(Order).where(col(Order.status).in_(orders.OPEN_STATUSES), *conditions)
        return list(session.exec(visible_to(member, query).order_by(col(Order.id).desc()).limit(BOARD_ROWS)))

    unclaimed = open_orders(Order.status == S.DISPATCHED)
    overdue = [
        order
        for order in open_orders(col(Order.status).in_((S.DISPATCHED, S.CLAIMED, S.ESCALATED)))
        if (order.dispatched_at or order.created_at) + policy.limits_for(order.category).finish_within <= now
        or (
            order.status == S.DISPATCHED
            and (order.dispatched_at or order.created_at) + policy.limits_for(order.category).claim_within <= now
        )
    ]
    return Board(
        urgent=open_orders(col(Order.urgent).is_(True)),
        waiting_for_triage=open_orders(Order.status == S.SUBMITTED),
        unclaimed=unclaimed,
        overdue=overdue,
    )


# What each move is called on the order's page (the audit trail keeps the trigger).
MOVE_NAMES = {
    "submit": "提交",
    "retag": "改类别",
    "dispatch": "派单",
    "escalate": "转交部门",
    "claim": "领单",
    "give_back": "退单",
    "finish": "办结",
    "rate": "评价",
    "auto_close": "自动完结",
    "advise": "答复（私事）",
    "close": "关闭",
    "cancel": "居民撤销",
    "reopen": "返工",
    "sign": "部门签收",
    "return": "部门退单",
    "ask_extension": "申请延期",
    "extend": "同意延期",
    "refuse_extension": "不同意延期",
    "chase": "催办",
    "amend": "补充",
    "follow": "同一件事",
    "mark_urgent": "标为紧急",
    "not_urgent": "不紧急",
    "acknowledge": "收到",
    "alert_admins": "通知管理员",
}


@dataclass(frozen=True)
class Step:
    at: datetime
    who: str
    what: str
    note: str


@dataclass(frozen=True)
class OrderPage:
    order: Order
    building: Building | None
    grid: Grid | None
    claimer: Member | None
    resident: Resident | None
    timeline: list[Step]
    grids: list[Grid]
    departments: list[Department]


def timeline(session: Session, trail: list[OrderEvent]) -> list[Step]:
    """The audit trail as people read it: who (a member's name, 居民, 系统), when, what, the note."""
    member_ids = {int(e.actor.split(":")[1]) for e in trail if e.actor.startswith("member:")}
    names = dict(session.exec(select(Member.id, Member.name).where(col(Member.id).in_(member_ids))).all()) if member_ids else {}

    def who(actor: str) -> str:
        kind, _, ref = actor.partition(":")
        if kind == "member":
            return names.get(int(ref), "党员")
        return {"resident": "居民", "system": "系统"}.get(kind, kind)

    return [Step(e.at, who(e.actor), MOVE_NAMES.get(e.trigger, e.trigger), e.note or "") for e in trail]


def order_page(session: Session, order_id: int) -> OrderPage | None:
    order = session.get(Order, order_id)
    if order is None:
        return None
    return OrderPage(
        order=order,
        building=session.get(Building, order.building_id) if order.building_id else None,
        grid=session.get(Grid, order.grid_id) if order.grid_id else None,
        claimer=session.get(Member, order.claimer_id) if order.claimer_id else None,
        resident=session.get(Resident, order.resident_id),
        timeline=timeline(session, orders.history(session, order.id)),
        grids=list(session.exec(select(Grid).where(col(Grid.active).is_(True)).order_by(Grid.code))),
        departments=list(session.exec(select(Department).where(col(Department.active).is_(True)).order_by(Department.code))),
    )
