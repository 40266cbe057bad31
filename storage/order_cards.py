"""What orders look like in chat: the group card, the triage card, the claimer's details, the
notices of each move, status lines. Pure functions of rows returning notice payloads.

storage/consequences.py decides who gets which; handlers answer with status lines and names.
"""

from datetime import datetime

from storage.models import Building, Grid, Member, Order, Resident
from storage.models import OrderStatus as S
from storage.order_buttons import OrderCb, RateCb, TriageCb
from storage.policy import Policy
from storage.privacy import mask_private
from storage.recipients import payload

STATUS_NAMES = {
    S.SUBMITTED: "待分派",
    S.DISPATCHED: "待领单",
    S.CLAIMED: "办理中",
    S.ESCALATED: "已转部门办理",
    S.SIGNED: "部门办理中",
    S.DONE: "已办结，待评价",
    S.CLOSED: "已完成",
    S.CANCELLED: "已撤销",
}
SUMMARY_CHARS = 80


def hours_text(hours: float) -> str:
    if hours >= 24 and hours % 24 == 0:
        return f"{int(hours // 24)}天"
    return f"{int(hours)}小时" if hours >= 1 else f"{int(hours * 60)}分钟"


def summary(text: str) -> str:
    """What a group may see of the resident's words: shortened, phones, IDs and room numbers masked."""
    masked = mask_private(" ".join(text.split()))
    return masked if len(masked) <= SUMMARY_CHARS else masked[: SUMMARY_CHARS - 1] + "…"


def title(order: Order, policy: Policy) -> str:
    return f"工单 #{order.id} · {policy.category(order.category).name}"


def status_name(order: Order) -> str:
    return STATUS_NAMES.get(S(order.status), order.status)


def where(order: Order, building: Building | None, grid: Grid | None) -> str:
    return " / ".join(filter(None, [grid.name if grid else "", building.name if building else ""])) or "位置未知"


# ---- the grid group's card ---------------------------------------------------------------------


def group_card(order: Order, building: Building | None, policy: Policy, note: str = "") -> dict:
    limits = policy.limits_for(order.category)
    urgent = "🚨 紧急 · " if order.urgent else ""
    lines = [
        f"🆕 {urgent}{title(order, policy)} · {order.tier}",
        f"{building.name if building else '位置未知'}：{summary(order.text) or '（照片/位置）'}",
        (
            f"时限：{hours_text(limits.claim_within.total_seconds() / 3600)}内领单，"
            f"{hours_text(limits.finish_within.total_seconds() / 3600)}内办结"
        ),
    ]
    if note:
        lines.append(note)
    return payload("\n".join(lines), [("🙋 领单", OrderCb("claim", order.id).pack())])


def claimed_card(order: Order, claimer: Member, policy: Policy, at: datetime, note: str = "") -> dict:
    text = f"✅ {title(order, policy)} — {claimer.name} 已领单（{at:%H:%M}）"
    return payload(f"{text}\n{note}" if note else text)


def marks(order: Order, followers: int) -> str:
    """What the card adds about the order's history: 返工, 催办 ×n, how many residents reported it."""
    parts = ["🔁 返工"] if order.reopens else []
    if order.chases:
        parts.append(f"⏰ 催办 ×{order.chases}")
    if followers:
        parts.append(f"👥 已有 {followers + 1} 位居民反映")
    return "　".join(parts)


def finished_card(order: Order, claimer_name: str, policy: Policy) -> dict:
    return payload(f"🎉 {title(order, policy)} — {claimer_name} 已办结")


def withdrawn_card(order: Order, policy: Policy, why: str) -> dict:
    return payload(f"❎ {title(order, policy)} — {why}")


# ---- the staff's triage card ---------------------------------------------------------------------


def staff_card(order: Order, building: Building | None, grid: Grid | None, policy: Policy, note: str = "") -> dict:
    """The triage card: proposed category, tier and confidence, with the one-tap decisions."""
    urgent = "🚨 紧急 · " if order.urgent else ""
    text = (
        f"📥 {urgent}待分派 {title(order, policy)} · {order.tier}（把握 {order.confidence:.0%}）\n"
        f"{where(order, building, grid)}：{summary(order.text) or '（照片/位置）'}\n"
        f"派单：/dispatch {order.id} <网格编号>　转部门：/escalate {order.id} <部门>　办结：/close {order.id} <说明>"
    )
    return payload(
        f"{note}\n{text}" if note else text,
        [(f"👍 按{order.tier}处理", TriageCb("ok", order.id).pack())],
        [("🏷 改类别", TriageCb("cats", order.id).pack()), ("⚖️ 改分级", TriageCb("tiers", order.id).pack())],
        [] if order.urgent else [("🚨 标为紧急", OrderCb("urgent", order.id).pack())],
    )


# ---- to the claimer ----------------------------------------------------------------------------


def claimer_details(order: Order, resident: Resident, building: Building | None, policy: Policy) -> dict:
    place = " ".join(filter(None, [building.name if building else "", resident.room or ""])) or "未登记"
    phone = resident.phone or "未留电话"
    lines = [
        f"您已领取{title(order, policy)}",
        f"地点：{place}　居民：{resident.name} {phone}（仅领单人可见）",
        f"内容：{order.text or '（见照片）'}",
    ]
    if order.latitude is not None:
        lines.append(f"定位：{order.latitude:.5f},{order.longitude:.5f}")
    return payload(
        "\n".join(lines), [("✅ 完成", OrderCb("finish", order.id).pack()), ("↩️ 退单", OrderCb("give_back", order.id).pack())]
    )


def withdrawn_notice(order: Order) -> dict:
    return payload(f"工单 #{order.id} 已被居民撤销，不用再处理了，辛苦了！")


def closing_points_notice(order: Order, earned: int) -> dict:
    how = f"居民给工单 #{order.id} 打了 {order.rating}⭐" if order.rating else f"工单 #{order.id} 超过评价时限，已自动结单"
    return payload(f"{how}，先锋积分 +{earned}。")


# ---- to the resident -------------------------------------------------------------------------


def dispatched_notice(order: Order, grid: Grid) -> dict:
    return payload(f"工单 #{order.id} 已派给{grid.name}，党员领单后会第一时间告诉您。")


def claimed_notice(order: Order, claimer: Member) -> dict:
    return payload(f"工单 #{order.id} 已由党员 {claimer.name} 领取，正在处理。")


def given_back_notice(order: Order) -> dict:
    return payload(f"工单 #{order.id} 正在重新安排党员处理，请稍候。")


def chased_notice(order: Order) -> dict:
    return payload(f"⏰ 居民催办：工单 #{order.id}（第 {order.chases} 次），请尽快处理。")


def amended_notice(order: Order, note: str, photo: str | None) -> dict:
    return payload(f"📎 居民补充了工单 #{order.id}：{note or '（照片/位置）'}", photo=photo)


def reopened_alert(order: Order, policy: Policy, why: str) -> dict:
    return payload(f"🔁 返工：{title(order, policy)} 居民反映没解决（{why}），已退回网格重新领单，请跟进。")


def escalated_notice(order: Order) -> dict:
    return payload(f"工单 #{order.id} 已转交 {order.department} 办理，有进展会告诉您。")


def rating_request(order: Order, policy: Policy, photo: str | None = None, photo_left_out: bool = False) -> dict:
    text = f"{title(order, policy)} 已处理完毕"
    if order.finish_note:
        text += f"：{order.finish_note}"
    if photo_left_out:
        text += "\n（办理人拍了处理后的照片，已存档备查）"
    return payload(
        text + "\n您满意吗？请点星打分（或直接回复 1-5）。",
        [(f"{stars}⭐", RateCb(order.id, stars).pack()) for stars in range(1, 6)],
        photo=photo,
    )


def closed_notice(order: Order, note: str) -> dict:
    return payload(f"工单 #{order.id} 已办结：{note}")


def advice_notice(order: Order, advice: str) -> dict:
    return payload(f"关于工单 #{order.id}：{advice}")


def auto_closed_notice(order: Order) -> dict:
    return payload(f"工单 #{order.id} 已办结，因超过评价时限已自动结单。感谢您的支持！")


# ---- 督办 -----------------------------------------------------------------------------------------


def unclaimed_alert(order: Order, place: str, policy: Policy, hours: str) -> dict:
    return payload(f"⏰ 督办：{title(order, policy)}{place} 派单已超过 {hours} 无人领单，请安排党员领取（/tasks 查看）。")


def unfinished_alert(order: Order, place: str, policy: Policy, hours: str, claimer: Member | None) -> dict:
    who = f"，领单人 {claimer.name}" if claimer else (f"，{order.department}办理中" if order.department else "，尚无人领单")
    return payload(f"🚨 督办：{title(order, policy)}{place} 已超过 {hours} 未办结{who}。")


def unfinished_nudge(order: Order, hours: str) -> dict:
    return payload(
        f"⏰ 您领取的工单 #{order.id} 已超过办结时限（{hours}），请尽快处理，办好后点「完成」或发送 /done {order.id}。"
    )


# ---- status lines (replies) ------------------------------------------------------------------


def status_line(order: Order, policy: Policy, claimer_name: str | None = None) -> str:
    line = f"#{order.id} {policy.category(order.category).name}：{status_name(order)}"
    if claimer_name and order.status in (S.CLAIMED, S.DONE, S.CLOSED):
        line += f"（{claimer_name}）"
    if order.department and order.status in (S.ESCALATED, S.SIGNED):
        line += f"（{order.department}）"
    if order.rating:
        line += f" {order.rating}⭐"
    return line
