"""What staff may do to an order from the browser: the chat's own use cases (handlers/staff.py,
handlers/emergency.py), run as the signed-in member, so the lifecycle, the consequences (cards,
notices, queued in the same transaction) and the audit are the chat's. A refusal writes nothing."""

import secrets
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.web.pages import Refused, require_staff
from handlers import emergency, staff
from handlers.context import Ctx, Refusal, Services
from handlers.messages import Inbound, Reply
from storage import consequences, events, orders
from storage.models import Identity, Member, Order

PLATFORM = "web"  # the moves' `via`, and the Inbound's platform: the web has no chat of its own


def _form_text(form: dict, name: str, limit: int) -> str:
    return " ".join(str(form.get(name) or "").split())[:limit]


def _required_text(form: dict, name: str, limit: int, missing: str) -> str:
    text = _form_text(form, name, limit)
    if not text:
        raise Refusal(missing)
    return text


def _dispatch(ctx: Ctx, order: Order, form: dict) -> list[Reply]:
    grid = _required_text(form, "grid", 20, "请选择要派往的网格。")
    return staff.dispatch(ctx, [str(order.id), grid])


def _escalate(ctx: Ctx, order: Order, form: dict) -> list[Reply]:
    department = _required_text(form, "department", 40, "请选择或填写承办部门。")
    return staff.escalate(ctx, [str(order.id), department])


def _close(ctx: Ctx, order: Order, form: dict) -> list[Reply]:
    note = _required_text(form, "note", 500, "关闭工单请写一句说明，居民会看到。")
    return staff.close(ctx, [str(order.id), note])


def _reopen(ctx: Ctx, order: Order, form: dict) -> list[Reply]:
    return staff.reopen(ctx, [str(order.id), _form_text(form, "note", 60)])


def _urgent(ctx: Ctx, order: Order, form: dict) -> list[Reply]:
    return emergency.mark_urgent(ctx, order.id)


ACTIONS: dict[str, Callable[[Ctx, Order, dict], list[Reply]]] = {
    "dispatch": _dispatch,
    "escalate": _escalate,
    "close": _close,
    "reopen": _reopen,
    "urgent": _urgent,
}


def web_ctx(session: Session, services: Services, member: Member, now: datetime) -> Ctx:
    """A use case's context for a member acting in the browser. The identity is a stand-in, never
    saved: the web asks no questions, so no conversation state is kept for it."""
    inbound = Inbound(PLATFORM, f"web:{secrets.token_hex(8)}", f"member:{member.id}", "", display_name=member.name)
    identity = Identity(platform=PLATFORM, user_id=inbound.user_id, chat_id="", member_id=member.id)
    return Ctx(session, services, inbound, identity, now, member=member)


def act(session: Session, services: Services, member: Member, order: Order, action: str, form: dict) -> str:
    """Do `action` on `order`; returns what to tell the person. Refused (nothing written) otherwise."""
    use_case = ACTIONS.get(action)
    if use_case is None:
        raise Refused("没有这个操作。", 404)
    require_staff(member)
    ctx = web_ctx(session, services, member, services.clock())
    mark = events.mark(session)
    try:
        with session.begin_nested():
            replies = use_case(ctx, order, form)
            consequences.publish(session, services.policy, services.timezone)
    except Refusal as refused:
        events.forget_since(session, mark)
        raise Refused(refused.text) from None
    except orders.NotPermitted:
        events.forget_since(session, mark)
        raise Refused("这个操作您没有权限。", 403) from None
    return " ".join(reply.text for reply in replies)
