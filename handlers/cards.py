"""What orders look like in chat: the group card, the claimer's details, status lines.

Pure functions of rows: no session, no sending.
"""

import re
from datetime import datetime

from handlers.callbacks import OrderCb, RateCb
from handlers.messages import Reply, buttons
from storage.models import Building, Grid, Member, Order, Resident
from storage.models import OrderStatus as S
from storage.policy import Policy

STATUS_NAMES = {
    S.SUBMITTED: "待分派", S.DISPATCHED: "待领单", S.CLAIMED: "办理中", S.ESCALATED: "已转部门办理",
    S.DONE: "已办结，待评价", S.CLOSED: "已完成", S.CANCELLED: "已撤销",
}
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
SUMMARY_CHARS = 80


def hours_text(hours: float) -> str:
    return f"{int(hours // 24)}天" if hours >= 24 and hours % 24 == 0 else f"{int(hours)}小时" if hours >= 1 else f"{int(hours * 60)}分钟"


def summary(text: str) -> str:
    """What a group may see of the resident's words: shortened, phone numbers masked."""
    masked = _PHONE.sub(r"\1****\2", " ".join(text.split()))
    return masked if len(masked) <= SUMMARY_CHARS else masked[: SUMMARY_CHARS - 1] + "…"


def title(order: Order, policy: Policy) -> str:
    return f"工单 #{order.id} · {policy.category(order.category).name}"


def group_card(order: Order, building: Building | None, policy: Policy, note: str = "") -> Reply:
    limits = policy.limits_for(order.category)
    urgent = "🚨 紧急 · " if order.urgent else ""
    lines = [
        f"🆕 {urgent}{title(order, policy)} · {order.tier}",
        f"{building.name if building else '位置未知'}：{summary(order.text) or '（照片/位置）'}",
        (f"时限：{hours_text(limits.claim_within.total_seconds() / 3600)}内领单，"
         f"{hours_text(limits.finish_within.total_seconds() / 3600)}内办结"),
    ]
    if note:
        lines.append(note)
    return Reply("\n".join(lines), buttons([("🙋 领单", OrderCb("claim", order.id).pack())]))


def claimed_card(order: Order, claimer: Member, policy: Policy, at: datetime) -> Reply:
    return Reply(f"✅ {title(order, policy)} — {claimer.name} 已领单（{at:%H:%M}）")


def finished_card(order: Order, claimer_name: str, policy: Policy) -> Reply:
    return Reply(f"🎉 {title(order, policy)} — {claimer_name} 已办结")


def withdrawn_card(order: Order, policy: Policy, why: str) -> Reply:
    return Reply(f"❎ {title(order, policy)} — {why}")


def claimer_details(order: Order, resident: Resident, building: Building | None, policy: Policy) -> Reply:
    place = " ".join(filter(None, [building.name if building else "", resident.room or ""])) or "未登记"
    phone = resident.phone or "未留电话"
    lines = [
        f"您已领取{title(order, policy)}",
        f"地点：{place}　居民：{resident.name} {phone}（仅领单人可见）",
        f"内容：{order.text or '（见照片）'}",
    ]
    if order.latitude is not None:
        lines.append(f"定位：{order.latitude:.5f},{order.longitude:.5f}")
    return Reply("\n".join(lines), buttons([("✅ 完成", OrderCb("finish", order.id).pack()),
                                           ("↩️ 退单", OrderCb("give_back", order.id).pack())]))


def rating_request(order: Order, policy: Policy) -> Reply:
    text = f"{title(order, policy)} 已处理完毕"
    if order.finish_note:
        text += f"：{order.finish_note}"
    return Reply(text + "\n您满意吗？请点星打分（或直接回复 1-5）。",
                 buttons([(f"{stars}⭐", RateCb(order.id, stars).pack()) for stars in range(1, 6)]))


def staff_card(order: Order, building: Building | None, grid: Grid | None, policy: Policy) -> Reply:
    urgent = "🚨 紧急 · " if order.urgent else ""
    where = " / ".join(filter(None, [grid.name if grid else "", building.name if building else ""])) or "位置未知"
    return Reply(
        f"📥 {urgent}待分派 {title(order, policy)} · {order.tier}（把握 {order.confidence:.0%}）\n"
        f"{where}：{summary(order.text) or '（照片/位置）'}\n"
        f"派单：/dispatch {order.id} <网格编号>　转部门：/escalate {order.id} <部门>　办结：/close {order.id} <说明>"
    )


def status_line(order: Order, policy: Policy, claimer_name: str | None = None) -> str:
    line = f"#{order.id} {policy.category(order.category).name}：{STATUS_NAMES.get(S(order.status), order.status)}"
    if claimer_name and order.status in (S.CLAIMED, S.DONE, S.CLOSED):
        line += f"（{claimer_name}）"
    if order.department and order.status == S.ESCALATED:
        line += f"（{order.department}）"
    if order.rating:
        line += f" {order.rating}⭐"
    return line
