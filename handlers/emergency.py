"""Emergencies in the chat: the question when unsure, its answers, `收到`, and staff marking an order urgent.

What each move causes (the alert, the edits, the resident's notice, the admins' reminders) is
storage/alerts.py's; the moves are storage/orders.py's.
"""

from handlers import triage
from handlers.context import Ctx, Refusal
from handlers.messages import Reply, buttons
from storage import conversation, emergency_cards, orders
from storage.conversation import Waiting
from storage.models import Member, Order
from storage.order_buttons import OrderCb

DANGER_WORDS = ("有危险", "有", "危险", "有人受伤", "受伤了", "是", "是的", "有的", "急")
SAFE_WORDS = ("没有", "没", "没事", "不危险", "没危险", "没有危险", "没人受伤", "不是", "不急")


def urgent_reply(ctx: Ctx, order: Order) -> Reply:
    """The resident's answer to an urgent report: the number to call first, then what the community does."""
    line = emergency_cards.first_line(order, ctx.policy)
    return Reply(f"{line}\n已同时通知社区值班人员和网格长，工单 #{order.id}。")


def ask_danger(ctx: Ctx, order: Order) -> Reply:
    """Between clearly urgent and clearly not: one question before anything else happens."""
    conversation.begin(ctx.identity, Waiting.DANGER, ctx.now, order_id=order.id)
    return Reply(
        f"收到，工单 #{order.id}。{emergency_cards.DANGER_QUESTION}",
        buttons([("⚠️ 有危险", OrderCb("danger", order.id).pack()), ("没有", OrderCb("safe", order.id).pack())]),
    )


def danger_answer(ctx: Ctx, state: conversation.State) -> list[Reply] | None:
    """有危险 / 没有 typed (WeChat, or typed on Telegram); anything else is not an answer."""
    typed = ctx.inbound.text.strip().rstrip("。！!？?")
    if typed in DANGER_WORDS:
        return in_danger(ctx, state.number("order_id"))
    if typed in SAFE_WORDS:
        return not_in_danger(ctx, state.number("order_id"))
    return None


def in_danger(ctx: Ctx, order_id: int) -> list[Reply]:
    order = _asked(ctx, order_id)
    conversation.end(ctx.identity)
    orders.mark_urgent(ctx.session, order, ctx.resident_actor, ctx.now, note="居民：有危险", via=ctx.inbound.platform)
    return [urgent_reply(ctx, order)]


def not_in_danger(ctx: Ctx, order_id: int) -> list[Reply]:
    """没有: the order goes on as any other report (to its grid, or to staff triage)."""
    order = _asked(ctx, order_id)
    conversation.end(ctx.identity)
    ctx.move(order, "not_urgent", note="居民：没有危险", as_resident=True, danger_asked_at=None)
    return [triage.route_new_order(ctx, order)]


def _asked(ctx: Ctx, order_id: int) -> Order:
    order = ctx.session.get(Order, order_id)
    if order is None or ctx.resident is None or order.resident_id != ctx.resident.id:
        raise Refusal("这个按钮已失效，请重新操作。", alert=True)
    if order.danger_asked_at is None:
        conversation.end(ctx.identity)
        raise Refusal(f"工单 #{order.id} 已经按{'紧急情况' if order.urgent else '普通工单'}处理了。", alert=True)
    return order


def acknowledge(ctx: Ctx, order_id: int) -> list[Reply]:
    """`收到` on an alert: the first press names who has it; later presses are told who."""
    member = ctx.require_member()
    order = ctx.session.get(Order, order_id)
    if order is None or not order.urgent:
        raise Refusal("这个按钮已失效，请重新操作。", alert=True)
    try:
        if order.acked_by is None:
            ctx.move(order, "acknowledge", acked_by=member.id, acked_at=ctx.now)
    except orders.NotPermitted:
        raise Refusal("只有社区工作人员、管理员和本网格网格长可以确认收到。", alert=True) from None
    except orders.IllegalTransition:
        ctx.session.refresh(order)  # someone pressed it a moment earlier
    if order.acked_by != member.id:
        holder = ctx.session.get(Member, order.acked_by) if order.acked_by else None
        raise Refusal(f"{holder.name if holder else '已有人'} 已收到这条警报。", alert=True)
    return [Reply(f"已确认收到紧急工单 #{order.id}，请马上联系居民。", alert=f"已收到 #{order.id}")]


def mark_urgent(ctx: Ctx, order_id: int) -> list[Reply]:
    """Staff decide an order is an emergency: the same alert as an urgent report."""
    ctx.require_staff()
    order = ctx.session.get(Order, order_id)
    if order is None:
        raise Refusal(f"没有找到工单 #{order_id}。", alert=True)
    if order.urgent:
        raise Refusal(f"工单 #{order.id} 已经是紧急工单。", alert=True)
    try:
        orders.mark_urgent(ctx.session, order, ctx.actor, ctx.now, note="工作人员标为紧急", via=ctx.inbound.platform)
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 已结束，不能再标为紧急。", alert=True) from None
    return [Reply(f"工单 #{order.id} 已标为紧急，已通知值班人员和网格长。", alert=f"#{order.id} 已标为紧急")]
