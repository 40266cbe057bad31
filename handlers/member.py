"""Party members: claim in the group (党员领单), finish with proof, give back, see points."""

import logging
from datetime import datetime

from sqlmodel import select

from handlers.context import Ctx, Refusal, parse_order_number
from handlers.messages import Reply, buttons
from storage import conversation, order_cards, orders, points
from storage.conversation import Waiting
from storage.models import Member, Order, Role
from storage.models import OrderStatus as S
from storage.order_buttons import OrderCb

logger = logging.getLogger(__name__)


def claim(ctx: Ctx, order_id: int) -> list[Reply]:
    """Member taps 领单: exactly one wins; the card is edited and the claimer gets the details."""
    member = ctx.require_member()
    order = _order(ctx, order_id)
    try:
        ctx.move(order, "claim", claimer_id=member.id, claimed_at=ctx.now)
    except orders.NotPermitted:
        raise Refusal("只有本网格的党员可以领这张工单。", alert=True) from None
    except orders.IllegalTransition:
        ctx.session.refresh(order)
        holder = ctx.session.get(Member, order.claimer_id) if order.claimer_id else None
        if holder is not None and order.status == S.CLAIMED:
            raise Refusal(f"这张工单已由 {holder.name} 领取", alert=True) from None
        raise Refusal(f"工单 #{order.id} 现在是「{order_cards.status_name(order)}」，不能领取。", alert=True) from None
    return [Reply(f"工单 #{order.id} 已由您领取，详情已私信发给您。", alert=f"领单成功！工单 #{order.id} 详情已私信发给您")]


def ask_finish(ctx: Ctx, order_id: int) -> list[Reply]:
    """Member taps 完成: asks for a photo (or a note), with a skip button."""
    order = _own_claimed(ctx, order_id)
    conversation.begin(ctx.identity, Waiting.FINISH_PROOF, ctx.now, order_id=order.id)
    return [
        Reply(
            f"工单 #{order.id}：请发一张处理后的照片或一句说明，或点「跳过」。发「取消」先不办结。",
            buttons([("跳过", OrderCb("skip", order.id).pack())]),
        )
    ]


def finish_proof(ctx: Ctx, state: conversation.State) -> list[Reply]:
    """The photo or note after 完成: finishes the order it was asked for."""
    return finish(ctx, state.number("order_id"), note=ctx.inbound.text.strip() or None, photo=ctx.inbound.photo)


def finish(ctx: Ctx, order_id: int, note: str | None = None, photo: str | None = None) -> list[Reply]:
    """Moves the order to done; the card, the resident's rating request follow from the move."""
    member = ctx.require_member()
    order = _order(ctx, order_id)
    conversation.end(ctx.identity)
    try:
        ctx.move(order, "finish", note=note, done_at=ctx.now, finish_note=note, finish_photo=photo)
    except orders.NotPermitted:
        raise Refusal(f"工单 #{order.id} 不是您领取的，不能办结。", alert=True) from None
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 现在是「{order_cards.status_name(order)}」，不能办结。", alert=True) from None
    this_month = points.total(ctx.session, member.id, month_start(ctx))
    return [Reply(f"工单 #{order.id} 已办结，感谢！居民评价后计入先锋积分（本月已有 {this_month} 分）。")]


def give_back(ctx: Ctx, order_id: int) -> list[Reply]:
    """退单: the order goes back up for the grid, the card shows 领单 again."""
    ctx.require_member()
    order = _order(ctx, order_id)
    conversation.end(ctx.identity)
    try:
        ctx.move(order, "give_back", claimer_id=None, claimed_at=None)
    except orders.NotPermitted:
        raise Refusal(f"工单 #{order.id} 不是您领取的。", alert=True) from None
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 现在是「{order_cards.status_name(order)}」，不能退单。", alert=True) from None
    return [Reply(f"已退单：工单 #{order.id} 已放回网格群，等待其他党员领取。", alert="已退单")]


def done_command(ctx: Ctx, args: list[str]) -> list[Reply]:
    """`/done 12 [说明]`: finish without the photo step."""
    if not args:
        raise Refusal("请带上工单号，例如：/done 128 已清理干净")
    return finish(ctx, parse_order_number(args[0]), note=" ".join(args[1:]) or None)


def tasks(ctx: Ctx) -> list[Reply]:
    member = ctx.require_member()
    query = select(Order).where(Order.status == S.DISPATCHED).order_by(Order.id).limit(10)
    if member.role in (Role.MEMBER, Role.GRID_LEADER):
        query = query.where(Order.grid_id == member.grid_id)
    rows = list(ctx.session.exec(query))
    if not rows:
        return [Reply("本网格暂时没有待领的工单。")]
    return [
        Reply(
            f"待领工单 {len(rows)} 张：\n" + "\n".join(_line(ctx, o) for o in rows),
            buttons(*[[(f"🙋 领单 #{o.id}", OrderCb("claim", o.id).pack())] for o in rows]),
        )
    ]


def mine(ctx: Ctx) -> list[Reply]:
    member = ctx.require_member()
    rows = list(
        ctx.session.exec(select(Order).where(Order.claimer_id == member.id, Order.status == S.CLAIMED).order_by(Order.id))
    )
    if not rows:
        return [Reply("您手上没有办理中的工单。发送 /tasks 看看本网格待领的。")]
    return [
        Reply(
            f"您办理中的工单 {len(rows)} 张：\n" + "\n".join(_line(ctx, o) for o in rows),
            buttons(
                *[
                    [(f"✅ 完成 #{o.id}", OrderCb("finish", o.id).pack()), (f"↩️ 退单 #{o.id}", OrderCb("give_back", o.id).pack())]
                    for o in rows
                ]
            ),
        )
    ]


def my_points(ctx: Ctx) -> list[Reply]:
    member = ctx.require_member()
    this_month, in_all = points.total(ctx.session, member.id, month_start(ctx)), points.total(ctx.session, member.id)
    return [Reply(f"{member.name} 的先锋积分：本月 {this_month} 分，累计 {in_all} 分。")]


def rank(ctx: Ctx) -> list[Reply]:
    ctx.require_member()
    rows = points.ranking(ctx.session, month_start(ctx))
    if not rows:
        return [Reply("本月还没有人获得先锋积分。")]
    medals = ["🥇", "🥈", "🥉"]
    return [
        Reply(
            "本月先锋积分榜：\n"
            + "\n".join(f"{medals[i] if i < 3 else f'{i + 1}.'} {name} {score}分" for i, (name, score) in enumerate(rows))
        )
    ]


def month_start(ctx: Ctx) -> datetime:
    local = ctx.local(ctx.now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _line(ctx: Ctx, order: Order) -> str:
    return f"#{order.id} {ctx.policy.category(order.category).name}：{order_cards.summary(order.text)[:30]}"


def _order(ctx: Ctx, order_id: int) -> Order:
    order = orders.get(ctx.session, order_id)
    if order is None:
        raise Refusal(f"没有找到工单 #{order_id}，请核对编号。", alert=True)
    return order


def _own_claimed(ctx: Ctx, order_id: int) -> Order:
    member = ctx.require_member()
    order = _order(ctx, order_id)
    if order.claimer_id != member.id or order.status != S.CLAIMED:
        raise Refusal(f"工单 #{order.id} 不在您的办理中列表里。", alert=True)
    return order
