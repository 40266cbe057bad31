"""部门接单 in the chat: staff hand an order to a department, its contact signs for it (签收), finishes it
(办结, with a note or photo) or returns it to staff triage with a reason (退单); admins bind the
department's group (/binddept).

The moves are storage/orders.py's (`escalate`, `sign`, `finish`, `return`); what each causes (the
card, the signer's details, the notices) is storage/department_consequences.py's.
"""

from dataclasses import replace

from handlers import member as grid_member
from handlers.context import Ctx, Refusal, parse_order_number
from handlers.messages import Reply
from storage import audit, conversation, departments, order_cards, orders
from storage.conversation import Waiting
from storage.models import Department, Member, Order
from storage.models import OrderStatus as S


def escalate_to(ctx: Ctx, order: Order, department: Department) -> list[Reply]:
    """Staff hand the order to a department of the roster: its group gets the card with 签收."""
    if not departments.group_chats(ctx.session, department):
        raise Refusal(f"{department.name} 还没有绑定群聊，请管理员在部门群里发送 /binddept {department.code}")
    changes = {"department": department.name, "department_id": department.id, "escalated_at": ctx.now}
    _move(ctx, order, "escalate", tier="大事", signer_id=None, signed_at=None, finish_by=None, extension=None, **changes)
    return [Reply(f"工单 #{order.id} 已转交 {department.name}，等待部门签收。")]


def sign(ctx: Ctx, order_id: int) -> list[Reply]:
    """签收: one contact of the order's department wins; the card names them, the details go to them."""
    member = ctx.require_member()
    order = _order(ctx, order_id)
    try:
        _move(ctx, order, "sign", signer_id=member.id, signed_at=ctx.now)
    except orders.NotPermitted:
        department = ctx.session.get(Department, order.department_id) if order.department_id else None
        raise Refusal(f"只有{department.name if department else '承办部门'}的联系人可以签收这张工单。", alert=True) from None
    return [Reply(f"已签收工单 #{order.id}，详情已私信发给您。", alert=f"签收成功！工单 #{order.id} 详情已私信发给您")]


def sign_command(ctx: Ctx, args: list[str]) -> list[Reply]:
    """`签收 12` typed (WeChat: the card in a WeCom group has no button)."""
    if not args:
        raise Refusal("请带上工单号，例如：签收 128")
    return sign(ctx, parse_order_number(args[0]))


def ask_finish(ctx: Ctx, order_id: int) -> list[Reply]:
    """`办结` pressed: the note or photo is asked for."""
    order = _own_signed(ctx, order_id)
    conversation.begin(ctx.identity, Waiting.DEPT_FINISH, ctx.now, order_id=order.id)
    return [Reply(f"工单 #{order.id}：请发一句办理结果或一张照片，会转给居民。发「取消」先不办结。")]


def finish_proof(ctx: Ctx, state: conversation.State) -> list[Reply] | None:
    note, photo = ctx.inbound.text.strip() or None, ctx.inbound.photo
    if note is None and photo is None:
        return None
    return finish(ctx, state.number("order_id"), note, photo)


def finish(ctx: Ctx, order_id: int, note: str | None, photo: str | None = None) -> list[Reply]:
    order = _own_signed(ctx, order_id)
    conversation.end(ctx.identity)
    _move(ctx, order, "finish", note=note, done_at=ctx.now, finish_note=note, finish_photo=photo)
    return [Reply(f"工单 #{order.id} 已办结，已请居民评价。辛苦了！")]


def settle_command(ctx: Ctx, args: list[str]) -> list[Reply]:
    """`办结 12 已清理`: finished with that note; `办结 12` asks for it."""
    if not args:
        raise Refusal("请带上工单号，例如：办结 128 已修复")
    order_id = parse_order_number(args[0])
    if not args[1:]:
        return ask_finish(ctx, order_id)
    return finish(ctx, order_id, " ".join(args[1:])[:500])


def ask_return(ctx: Ctx, order_id: int) -> list[Reply]:
    """`退单` pressed: the reason is asked for (the staff read it)."""
    order = _order(ctx, order_id)
    _require_contact(ctx, order)
    conversation.begin(ctx.identity, Waiting.RETURN_REASON, ctx.now, order_id=order.id)
    return [Reply(f"工单 #{order.id}：请写一句退单理由（会转告社区工作人员重新分派）。发「取消」先不退。")]


def return_reason(ctx: Ctx, state: conversation.State) -> list[Reply]:
    reason = ctx.inbound.text.strip()
    if not reason:
        raise Refusal("退单要写明理由，请发一句文字。", ask_again=True)
    return return_order(ctx, state.number("order_id"), reason)


def return_order(ctx: Ctx, order_id: int, reason: str) -> list[Reply]:
    """退单: back to staff triage with the reason; the department card and the staff are told."""
    order = _order(ctx, order_id)
    conversation.end(ctx.identity)
    try:
        _move(ctx, order, "return", note=reason[:300], signer_id=None, signed_at=None, finish_by=None, extension=None)
    except orders.NotPermitted:
        raise Refusal(f"工单 #{order.id} 不是您部门承办的。", alert=True) from None
    return [Reply(f"已退单：工单 #{order.id} 已退回社区重新分派。", alert="已退单")]


def return_command(ctx: Ctx, args: list[str]) -> list[Reply]:
    """`退单 12 理由`: a department returns it; a grid member who claimed it gives it back (no reason needed)."""
    if not args:
        raise Refusal("请带上工单号和理由，例如：退单 128 不属于本部门职责")
    order = _order(ctx, parse_order_number(args[0]))
    member = ctx.require_member()
    if order.status == S.CLAIMED and order.claimer_id == member.id:
        return grid_member.give_back(ctx, order.id)
    if not args[1:]:
        return ask_return(ctx, order.id)
    return return_order(ctx, order.id, " ".join(args[1:]))


def bind_department(ctx: Ctx, args: list[str]) -> list[Reply]:
    """`/binddept CG`: an admin in the department's group makes it the place of its cards."""
    code = ctx.group_to_bind(args, "部门群", "用法：/binddept 部门编号，例如 /binddept CG")
    department = departments.by_code(ctx.session, code)
    if department is None:
        raise Refusal(f"没有部门编号 {code[:20]}，请核对（花名册 departments 表）。")
    was = next((c.chat_id for c in departments.group_chats(ctx.session, department) if c.platform == ctx.inbound.platform), None)
    note = f"{ctx.inbound.platform}:{ctx.inbound.chat_id}; was {was}"
    audit.record(ctx.session, "department", department.id, ctx.actor.label, "group_bound", ctx.now, note=note)
    departments.bind_group(ctx.session, department, ctx.inbound.platform, ctx.inbound.chat_id)
    return [Reply(f"本群已绑定为{department.name}（{department.code}）的部门群，转给部门的工单会发到这里。")]


def _move(ctx: Ctx, order: Order, trigger: str, note: str | None = None, **changes) -> None:
    """A move as the member with their departments (who may sign or return depends on them)."""
    actor = replace(ctx.actor, department_ids=departments.of_member(ctx.session, ctx.member.id) if ctx.member else ())
    try:
        orders.apply(ctx.session, order, trigger, actor, ctx.now, note=note, via=ctx.inbound.platform, **changes)
    except orders.IllegalTransition:
        ctx.session.refresh(order)
        signer = ctx.session.get(Member, order.signer_id) if order.signer_id else None
        if trigger == "sign" and signer is not None:
            raise Refusal(f"这张工单已由 {signer.name} 签收", alert=True) from None
        raise Refusal(f"工单 #{order.id} 现在是「{order_cards.status_name(order)}」，不能这样操作。", alert=True) from None


def _order(ctx: Ctx, order_id: int) -> Order:
    order = orders.get(ctx.session, order_id)
    if order is None:
        raise Refusal(f"没有找到工单 #{order_id}，请核对编号。", alert=True)
    return order


def _require_contact(ctx: Ctx, order: Order) -> None:
    member = ctx.require_member()
    if order.department_id is None or order.department_id not in departments.of_member(ctx.session, member.id):
        raise Refusal(f"工单 #{order.id} 不是您部门承办的。", alert=True)


def _own_signed(ctx: Ctx, order_id: int) -> Order:
    member = ctx.require_member()
    order = _order(ctx, order_id)
    if order.signer_id != member.id or order.status != S.SIGNED:
        raise Refusal(f"工单 #{order.id} 不是您签收办理中的工单。", alert=True)
    return order


COMMANDS = {"sign": sign_command, "settle": settle_command, "return": return_command, "binddept": bind_department}
WORDS = {"签收": "sign", "办结": "settle", "退单": "return"}
BUTTONS = {"sign": sign, "settle": ask_finish, "return": ask_return}
ANSWERS = {Waiting.DEPT_FINISH: finish_proof, Waiting.RETURN_REASON: return_reason}
