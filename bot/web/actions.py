"""What a staff member may do to an order from the browser: the same moves as in the chat, through
storage/orders.py, with their consequences (cards, notices) queued in the same transaction."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage import consequences, orders, people
from storage.models import Member, Order, Role
from storage.models import OrderStatus as S
from storage.policy import Policy


class ActionRefused(Exception):
    """Shown to the person as it is: a short Chinese reason."""


def act(
    session: Session, member: Member, order: Order, action: str, form: dict, policy: Policy, tz: ZoneInfo, now: datetime
) -> str:
    """Do `action` on `order`; returns what to tell the person. Nothing is written on a refusal."""
    if member.role not in (Role.STAFF, Role.ADMIN):
        raise ActionRefused("这个操作需要社区工作人员权限。")
    actor = orders.Actor("member", member.id, member.role, member.grid_id)
    try:
        with session.begin_nested():
            told = _move(session, actor, order, action, form, now)
            consequences.publish(session, policy, tz)
    except orders.IllegalTransition:
        raise ActionRefused(f"工单 #{order.id} 现在的状态不能这样操作，请刷新页面看看。") from None
    return told


def _move(session: Session, actor: orders.Actor, order: Order, action: str, form: dict, now: datetime) -> str:
    if action == "dispatch":
        grid = people.grid_by_code(session, (form.get("grid") or "").strip())
        if grid is None:
            raise ActionRefused("请选择要派往的网格。")
        if order.status == S.DISPATCHED and order.grid_id == grid.id:
            raise ActionRefused(f"工单 #{order.id} 已经在{grid.name}等待领单了。")
        if not people.grid_has_group(session, grid):
            raise ActionRefused(f"{grid.name} 还没有绑定群聊，请管理员在网格群里发送 /bindgrid {grid.code}")
        orders.apply(session, order, "dispatch", actor, now, via="web", grid_id=grid.id, dispatched_at=now)
        return f"工单 #{order.id} 已派给{grid.name}。"
    if action == "close":
        note = (form.get("note") or "").strip()[:500]
        if not note:
            raise ActionRefused("关闭工单请写一句说明，居民会看到。")
        orders.apply(session, order, "close", actor, now, note=note, via="web", closed_at=now)
        return f"工单 #{order.id} 已关闭。"
    if action == "urgent":
        if order.urgent:
            raise ActionRefused(f"工单 #{order.id} 已经是紧急工单。")
        orders.mark_urgent(session, order, actor, now, note="工作人员在网页上标为紧急", via="web")
        return f"工单 #{order.id} 已标为紧急，已通知值班人员和网格长。"
    raise ActionRefused("没有这个操作。")
