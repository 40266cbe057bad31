"""Community staff (社区派单): triage list, dispatch to a grid, escalate to a department, close, reopen.

Admins bind group chats here too.
"""

from sqlmodel import select

from handlers import department as departments_chat
from handlers.context import Ctx, Refusal, parse_order_number
from handlers.messages import Reply
from storage import audit, departments, order_cards, orders, people
from storage.models import Grid, Order
from storage.models import OrderStatus as S


def pending(ctx: Ctx) -> list[Reply]:
    ctx.require_staff()
    rows = list(
        ctx.session.exec(select(Order).where(Order.status == S.SUBMITTED).order_by(Order.urgent.desc(), Order.id).limit(20))
    )
    if not rows:
        return [Reply("没有待分派的工单。")]
    lines = [
        f"{'🚨' if o.urgent else '·'} #{o.id} {ctx.policy.category(o.category).name}/{o.tier}：{order_cards.summary(o.text)[:30]}"
        for o in rows
    ]
    return [Reply(f"待分派 {len(rows)} 张：\n" + "\n".join(lines) + "\n派单：/dispatch 工单号 网格编号")]


def dispatch(ctx: Ctx, args: list[str]) -> list[Reply]:
    """`/dispatch 12 G02`: the order goes to that grid's group as a 领单 card."""
    ctx.require_staff()
    if len(args) < 2:
        raise Refusal("用法：/dispatch 工单号 网格编号，例如 /dispatch 128 G01")
    order = _order(ctx, args[0])
    grid = people.grid_by_code(ctx.session, args[1])
    if grid is None:
        raise Refusal(f"没有网格编号 {args[1][:20]}，请核对。")
    if not grid.active:
        raise Refusal(f"{grid.name}已停用，请派给其他网格。")
    if order.status == S.DISPATCHED and order.grid_id == grid.id:
        raise Refusal(f"工单 #{order.id} 已经在{grid.name}等待领单了。")
    if not people.grid_has_group(ctx.session, grid):
        raise Refusal(f"{grid.name} 还没有绑定群聊，请管理员在网格群里发送 /bindgrid {grid.code}")
    _move(ctx, order, "dispatch", grid_id=grid.id, dispatched_at=ctx.now)
    return [Reply(f"工单 #{order.id} 已派给{grid.name}。")]


def escalate(ctx: Ctx, args: list[str]) -> list[Reply]:
    """`/escalate 12 CG`: 大事 goes to a department of the roster, whose contact signs for it (部门接单);
    a department named in words only (`/escalate 12 城管执法`) is noted, and staff finish it themselves."""
    ctx.require_staff()
    if len(args) < 2:
        raise Refusal("用法：/escalate 工单号 部门编号，例如 /escalate 128 CG")
    order = _order(ctx, args[0])
    found = departments.find(ctx.session, " ".join(args[1:]))
    if found is not None and not found.active:
        raise Refusal(f"{found.name}已停用，请转交其他部门。")
    if found is not None:
        return departments_chat.escalate_to(ctx, order, found)
    department = " ".join(args[1:])[:40]
    _move(ctx, order, "escalate", department=department, tier="大事", department_id=None, escalated_at=ctx.now)
    return [Reply(f"工单 #{order.id} 已转交 {department}。部门办结后发送 /done {order.id} 说明。")]


def close(ctx: Ctx, args: list[str]) -> list[Reply]:
    """`/close 12 说明`: staff close an order with a note the resident reads (私事 advice too)."""
    ctx.require_staff()
    if len(args) < 2:
        raise Refusal("用法：/close 工单号 说明，例如 /close 128 已电话答复居民")
    order = _order(ctx, args[0])
    note = " ".join(args[1:])[:500]
    _move(ctx, order, "close", note=note, closed_at=ctx.now)
    return [Reply(f"工单 #{order.id} 已关闭。")]


def reopen(ctx: Ctx, args: list[str]) -> list[Reply]:
    """Staff send a done or closed order back to its grid (返工), with a note: a fresh card marked 返工,
    the grid leaders and the earlier claimer told, as when the resident says 没修好."""
    ctx.require_staff()
    if not args:
        raise Refusal("用法：/reopen 工单号 说明，例如 /reopen 128 居民反映仍未修好")
    order = _order(ctx, args[0])
    if order.grid_id is None:
        raise Refusal(f"工单 #{order.id} 没有派到网格，不能退回重办；请重新派单或转交部门。")
    why = " ".join(args[1:])[:60] or "工作人员退回重办"
    changes = {"claimer_id": None, "claimed_at": None, "done_at": None, "closed_at": None}
    _move(ctx, order, "reopen", note=why, dispatched_at=ctx.now, reopens=order.reopens + 1, **changes)
    return [Reply(f"工单 #{order.id} 已退回{_grid_name(ctx, order)}重新办理（返工）。")]


def _grid_name(ctx: Ctx, order: Order) -> str:
    grid = ctx.session.get(Grid, order.grid_id) if order.grid_id else None
    return grid.name if grid else "网格"


def bind_grid(ctx: Ctx, args: list[str]) -> list[Reply]:
    """`/bindgrid G01`: an admin in the grid's group makes it the place of the grid's cards."""
    code = ctx.group_to_bind(args, "网格群", "用法：/bindgrid 网格编号，例如 /bindgrid G01")
    grid = people.grid_by_code(ctx.session, code)
    if grid is None:
        raise Refusal(f"没有网格编号 {code[:20]}，请核对。")
    was = dict(people.grid_chats(ctx.session, grid)).get(ctx.inbound.platform)
    note = f"{ctx.inbound.platform}:{ctx.inbound.chat_id}; was {was}"
    audit.record(ctx.session, "grid", grid.id, ctx.actor.label, "group_bound", ctx.now, note=note)
    people.bind_grid_group(ctx.session, grid, ctx.inbound.platform, ctx.inbound.chat_id)
    return [Reply(f"本群已绑定为{grid.name}（{grid.code}）的网格群，新工单会发到这里。")]


def bind_staff(ctx: Ctx) -> list[Reply]:
    ctx.require_admin()
    if not ctx.inbound.is_group:
        raise Refusal("请在工作人员群里发送这条命令。")
    key = f"staff_chat:{ctx.inbound.platform}"
    audit.record(
        ctx.session,
        "setting",
        key,
        ctx.actor.label,
        "staff_group_bound",
        ctx.now,
        note=f"{ctx.inbound.chat_id}; was {people.get_setting(ctx.session, key)}",
    )
    people.put_setting(ctx.session, key, ctx.inbound.chat_id)
    return [Reply("本群已设为社区工作人员群：待分派、紧急和督办工单会发到这里。")]


def _order(ctx: Ctx, number: str) -> Order:
    order_id = parse_order_number(number)
    order = orders.get(ctx.session, order_id)
    if order is None:
        raise Refusal(f"没有找到工单 #{order_id}，请核对编号。")
    return order


def _move(ctx: Ctx, order: Order, trigger: str, note: str | None = None, **changes) -> None:
    try:
        ctx.move(order, trigger, note=note, **changes)
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 现在是「{order_cards.status_name(order)}」，不能这样操作。") from None
