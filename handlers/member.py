"""Party members: claim in the group (党员领单), finish with proof, give back, see points."""

import logging
from datetime import datetime

from sqlmodel import select

from handlers import cards, notify
from handlers.callbacks import OrderCb
from handlers.context import Ctx, Refusal, parse_order_number
from handlers.messages import Reply, buttons
from storage import orders, points
from storage.models import Building, Grid, Identity, Member, Order, Resident, Role
from storage.models import OrderStatus as S

logger = logging.getLogger(__name__)


def claim(ctx: Ctx, order_id: int) -> list[Reply]:
    """Member taps 领单: exactly one wins; the card is edited and the claimer gets the details."""
    member = ctx.require_member()
    order = _order(ctx, order_id)
    try:
        orders.apply(ctx.session, order, "claim", ctx.actor, ctx.now, claimer_id=member.id, claimed_at=ctx.now)
    except orders.NotPermitted:
        raise Refusal("只有本网格的党员可以领这张工单。", alert=True) from None
    except orders.IllegalTransition:
        ctx.session.refresh(order)
        holder = ctx.session.get(Member, order.claimer_id) if order.claimer_id else None
        if holder is not None and order.status == S.CLAIMED:
            raise Refusal(f"这张工单已由 {holder.name} 领取", alert=True) from None
        raise Refusal(f"工单 #{order.id} 现在是「{cards.STATUS_NAMES[S(order.status)]}」，不能领取。", alert=True) from None
    grid = ctx.session.get(Grid, order.grid_id)
    resident = ctx.session.get(Resident, order.resident_id)
    building = ctx.session.get(Building, order.building_id) if order.building_id else None
    event_key = f"{order.id}:{len(orders.events(ctx.session, order.id))}"
    notify.edit_grid_card(ctx, grid, f"card:{order.id}:{grid.id}", f"card-claimed:{event_key}",
                          cards.claimed_card(order, member, ctx.policy, ctx.local(ctx.now)))
    notify.to_member(ctx, member.id, f"details:{event_key}", cards.claimer_details(order, resident, building, ctx.policy))
    notify.to_resident(ctx, order.resident_id, f"claimed:{event_key}",
                       Reply(f"工单 #{order.id} 已由党员 {member.name} 领取，正在处理。"))
    return [Reply(f"工单 #{order.id} 已由您领取，详情已私信发给您。", alert=f"领单成功！工单 #{order.id} 详情已私信发给您")]


def ask_finish(ctx: Ctx, order_id: int) -> list[Reply]:
    """Member taps 完成: asks for a photo (or a note), with a skip button."""
    order = _own_claimed(ctx, order_id)
    ctx.identity.awaiting = f"finish:{order.id}"
    return [Reply(f"工单 #{order.id}：请发一张处理后的照片或一句说明，或点「跳过」。",
                  buttons([("跳过", OrderCb("skip", order.id).pack())]))]


def finish(ctx: Ctx, order_id: int, note: str | None = None, photo: str | None = None) -> list[Reply]:
    """Moves the order to done, edits the card and asks the resident to rate it."""
    member = ctx.require_member()
    order = _order(ctx, order_id)
    try:
        orders.apply(ctx.session, order, "finish", ctx.actor, ctx.now, note=note,
                     done_at=ctx.now, finish_note=note, finish_photo=photo)
    except orders.NotPermitted:
        raise Refusal(f"工单 #{order.id} 不是您领取的，不能办结。", alert=True) from None
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 现在是「{cards.STATUS_NAMES[S(order.status)]}」，不能办结。", alert=True) from None
    ctx.identity.awaiting = None
    claimer = ctx.session.get(Member, order.claimer_id) if order.claimer_id else member
    grid = ctx.session.get(Grid, order.grid_id) if order.grid_id and order.dispatched_at else None
    if grid is not None:
        notify.edit_grid_card(ctx, grid, f"card:{order.id}:{grid.id}", f"card-done:{order.id}",
                              cards.finished_card(order, claimer.name, ctx.policy))
    notify.to_resident(ctx, order.resident_id, f"rate-ask:{order.id}", cards.rating_request(order, ctx.policy), photo=photo)
    _await_rating(ctx, order)
    return [Reply(f"工单 #{order.id} 已办结，感谢！居民评价后计入先锋积分（本月已有 {points.total(ctx.session, member.id, month_start(ctx))} 分）。")]


def give_back(ctx: Ctx, order_id: int) -> list[Reply]:
    """退单: the order goes back up for the grid, the card shows 领单 again."""
    member = ctx.require_member()
    order = _order(ctx, order_id)
    try:
        orders.apply(ctx.session, order, "give_back", ctx.actor, ctx.now, claimer_id=None, claimed_at=None)
    except orders.NotPermitted:
        raise Refusal(f"工单 #{order.id} 不是您领取的。", alert=True) from None
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 现在是「{cards.STATUS_NAMES[S(order.status)]}」，不能退单。", alert=True) from None
    ctx.identity.awaiting = None
    grid = ctx.session.get(Grid, order.grid_id)
    building = ctx.session.get(Building, order.building_id) if order.building_id else None
    event_key = f"{order.id}:{len(orders.events(ctx.session, order.id))}"
    notify.edit_grid_card(ctx, grid, f"card:{order.id}:{grid.id}", f"card-back:{event_key}",
                          cards.group_card(order, building, ctx.policy, note=f"↩️ {member.name} 已退单，请其他党员领取"))
    notify.to_resident(ctx, order.resident_id, f"given-back:{event_key}",
                       Reply(f"工单 #{order.id} 正在重新安排党员处理，请稍候。"))
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
    return [Reply(f"待领工单 {len(rows)} 张：\n" + "\n".join(f"#{o.id} {ctx.policy.category(o.category).name}：{cards.summary(o.text)[:30]}" for o in rows),
                  buttons(*[[(f"🙋 领单 #{o.id}", OrderCb("claim", o.id).pack())] for o in rows]))]


def mine(ctx: Ctx) -> list[Reply]:
    member = ctx.require_member()
    rows = list(ctx.session.exec(select(Order).where(Order.claimer_id == member.id, Order.status == S.CLAIMED).order_by(Order.id)))
    if not rows:
        return [Reply("您手上没有办理中的工单。发送 /tasks 看看本网格待领的。")]
    return [Reply(f"您办理中的工单 {len(rows)} 张：\n" + "\n".join(f"#{o.id} {ctx.policy.category(o.category).name}：{cards.summary(o.text)[:30]}" for o in rows),
                  buttons(*[[(f"✅ 完成 #{o.id}", OrderCb("finish", o.id).pack()), (f"↩️ 退单 #{o.id}", OrderCb("give_back", o.id).pack())] for o in rows]))]


def my_points(ctx: Ctx) -> list[Reply]:
    member = ctx.require_member()
    return [Reply(f"{member.name} 的先锋积分：本月 {points.total(ctx.session, member.id, month_start(ctx))} 分，累计 {points.total(ctx.session, member.id)} 分。")]


def rank(ctx: Ctx) -> list[Reply]:
    ctx.require_member()
    rows = points.ranking(ctx.session, month_start(ctx))
    if not rows:
        return [Reply("本月还没有人获得先锋积分。")]
    medals = ["🥇", "🥈", "🥉"]
    return [Reply("本月先锋积分榜：\n" + "\n".join(f"{medals[i] if i < 3 else f'{i + 1}.'} {name} {score}分" for i, (name, score) in enumerate(rows)))]


def month_start(ctx: Ctx) -> datetime:
    local = ctx.local(ctx.now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _await_rating(ctx: Ctx, order: Order) -> None:
    """The resident's next "1"–"5" answers this order (WeChat has no buttons)."""
    for identity in ctx.session.exec(select(Identity).where(Identity.resident_id == order.resident_id)):
        identity.awaiting = f"rate:{order.id}"
        ctx.session.add(identity)


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
