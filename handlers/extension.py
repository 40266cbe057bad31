"""延期 in the chat: the claimer (grid) or the signer (department) asks `/extend <n> <duration> <reason>`
(WeChat: `延期 12 3d 等配件`); staff answer `同意` or `不同意` (then a reason for the asker).

The moves are storage/orders.py's (`ask_extension`, `extend`, `refuse_extension`); the request card,
the new date to the resident and the answers to the asker are storage/extensions.py's.
"""

from datetime import timedelta

from handlers.context import Ctx, Refusal, parse_order_number
from handlers.messages import Reply
from storage import conversation, deadlines, department_cards, extensions, order_cards, orders
from storage.conversation import Waiting
from storage.models import Order
from storage.policy import parse_duration

LONGEST = timedelta(days=30)
USAGE = "用法：/extend 工单号 时长 理由，例如 /extend 128 3d 等配件（微信里发：延期 128 3d 等配件）"


def ask(ctx: Ctx, args: list[str]) -> list[Reply]:
    """The claimer or the signer asks for more time; the staff get the request with 同意 / 不同意."""
    member = ctx.require_member()
    if len(args) < 3:
        raise Refusal(USAGE)
    order = _order(ctx, args[0])
    try:
        more = parse_duration(args[1].lower())
    except ValueError:
        raise Refusal(f"时长「{args[1][:10]}」看不懂，请写成 3d（3天）、12h（12小时）。\n{USAGE}") from None
    if not timedelta(hours=1) <= more <= LONGEST:
        raise Refusal("延期时长应在 1 小时到 30 天之间。")
    if order.extension and order.extension.get("by") in (order.claimer_id, order.signer_id):  # else: asked by an earlier claimer
        raise Refusal(f"工单 #{order.id} 已有一个延期申请在等工作人员答复。")
    reason = " ".join(args[2:])[:200]
    until = deadlines.finish_due(order, ctx.policy.limits_for(order.category)) + more
    asked = {"by": member.id, "until": until.isoformat(), "asked": order_cards.hours_text(more.total_seconds() / 3600)}
    try:
        ctx.move(order, "ask_extension", note=reason, extension=asked)
    except orders.NotPermitted:
        raise Refusal("只有领单人或签收人可以申请延期。") from None
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 现在是「{order_cards.status_name(order)}」，不能申请延期。") from None
    when = department_cards.day_and_time(ctx.local(until))
    return [Reply(f"已提交延期申请：工单 #{order.id} 延期 {asked['asked']}（到 {when}），工作人员答复后会告诉您。")]


def grant(ctx: Ctx, order_id: int) -> list[Reply]:
    """同意: the deadline moves to the asked date; the resident and the asker are told."""
    ctx.require_staff()
    order = _waiting(ctx, order_id)
    until = extensions.until(order.extension)
    _move(ctx, order, "extend", note=f"延期到 {until.isoformat()}", finish_by=until, extension=None)
    when = department_cards.day_and_time(ctx.local(until))
    return [Reply(f"已同意：工单 #{order.id} 办结时限改到 {when}，已告诉居民和申请人。", alert="已同意延期")]


def deny(ctx: Ctx, order_id: int) -> list[Reply]:
    """不同意: the reason is asked for, privately; the asker reads it."""
    ctx.require_staff()
    order = _waiting(ctx, order_id)
    conversation.begin(ctx.identity, Waiting.REFUSE_REASON, ctx.now, order_id=order.id)
    question = f"工单 #{order.id}：请发一句不同意延期的理由（会转告申请人）。发「取消」先不答复。"
    if ctx.inbound.is_group:
        return [Reply(alert="请在私聊里发送不同意的理由"), Reply(question, private=True)]
    return [Reply(question)]


def refuse_reason(ctx: Ctx, state: conversation.State) -> list[Reply]:
    why = ctx.inbound.text.strip()
    if not why:
        raise Refusal("请写一句理由（文字）。", ask_again=True)
    ctx.require_staff()
    order = _waiting(ctx, state.number("order_id"))
    conversation.end(ctx.identity)
    _move(ctx, order, "refuse_extension", note=why[:200], extension=None)
    return [Reply(f"已答复：工单 #{order.id} 不同意延期，理由已转告申请人。")]


def _order(ctx: Ctx, number: str | int) -> Order:
    order_id = number if isinstance(number, int) else parse_order_number(number)
    order = orders.get(ctx.session, order_id)
    if order is None:
        raise Refusal(f"没有找到工单 #{order_id}，请核对编号。", alert=True)
    return order


def _waiting(ctx: Ctx, order_id: int) -> Order:
    order = _order(ctx, order_id)
    if not order.extension:
        raise Refusal(f"工单 #{order.id} 的延期申请已经答复过了。", alert=True)
    if order.extension.get("by") not in (order.claimer_id, order.signer_id):
        raise Refusal(f"工单 #{order.id} 已换人办理，这个延期申请已作废。", alert=True)
    return order


def _move(ctx: Ctx, order: Order, trigger: str, note: str, **changes) -> None:
    try:
        ctx.move(order, trigger, note=note, **changes)
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 现在是「{order_cards.status_name(order)}」，延期申请已作废。", alert=True) from None


COMMANDS = {"extend": ask}
WORDS = {"延期": "extend"}
BUTTONS = {"grant": grant, "deny": deny}
ANSWERS = {Waiting.REFUSE_REASON: refuse_reason}
