"""The texts of 部门接单, 延期 and 督办 levels: the department's card, the signer's details, the
notices to the resident, the staff and the asker. Pure functions of rows returning notice payloads."""

from datetime import datetime

from storage.models import Building, Department, Grid, Member, Order, Resident
from storage.order_buttons import OrderCb
from storage.order_cards import hours_text, summary, title, where
from storage.policy import Policy
from storage.recipients import payload

LEVEL_NAMES = {1: "", 2: "二级", 3: "三级"}
STAGE_WORDS = {"sign": "部门未签收", "claim": "无人领单", "finish": "未办结"}


def day_and_time(moment: datetime) -> str:
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"


def _hours(delta) -> str:
    return hours_text(delta.total_seconds() / 3600)


# ---- the department's group --------------------------------------------------------------------


def department_card(order: Order, building: Building | None, grid: Grid | None, department: Department, policy: Policy) -> dict:
    limits = policy.limits_for(order.category)
    lines = [
        f"🏛 {title(order, policy)} · {order.tier} · 请{department.name}办理",
        f"{where(order, building, grid)}：{summary(order.text) or '（照片/位置）'}",
        f"时限：{_hours(limits.sign_within)}内签收，{_hours(limits.finish_within)}内办结",
    ]
    return payload("\n".join(lines), [("✍️ 签收", OrderCb("sign", order.id).pack())])


def signed_card(order: Order, department: Department, signer: Member, policy: Policy, at: datetime) -> dict:
    return payload(f"✅ {title(order, policy)} — {department.name} {signer.name} 已签收（{at:%H:%M}）")


def returned_card(order: Order, department: Department, policy: Policy, reason: str) -> dict:
    return payload(f"↩️ {title(order, policy)} — {department.name} 已退单：{reason}")


def finished_card(order: Order, department: Department, policy: Policy) -> dict:
    return payload(f"🎉 {title(order, policy)} — {department.name} 已办结")


# ---- the signer ------------------------------------------------------------------------------


def signer_details(order: Order, resident: Resident, building: Building | None, department: Department, policy: Policy) -> dict:
    place = " ".join(filter(None, [building.name if building else "", resident.room or ""])) or "未登记"
    lines = [
        f"您已签收{title(order, policy)}（{department.name}）",
        f"地点：{place}　居民：{resident.name} {resident.phone or '未留电话'}（仅签收人可见）",
        f"内容：{order.text or '（见照片）'}",
    ]
    if order.latitude is not None:
        lines.append(f"定位：{order.latitude:.5f},{order.longitude:.5f}")
    lines.append(f"办好后点「办结」；不归本部门办理请点「退单」写明理由；需要延期请发「延期 {order.id} 3d 原因」。")
    return payload(
        "\n".join(lines), [("✅ 办结", OrderCb("settle", order.id).pack()), ("↩️ 退单", OrderCb("return", order.id).pack())]
    )


def withdrawn_notice(order: Order, why: str) -> dict:
    return payload(f"工单 #{order.id} {why}，不用再处理了，辛苦了！")


# ---- the resident and the staff -----------------------------------------------------------------


def signed_notice(order: Order, department: Department, signer: Member) -> dict:
    return payload(f"工单 #{order.id} 已由{department.name}的{signer.name}签收办理，有进展会告诉您。")


def returned_notice(order: Order) -> dict:
    return payload(f"工单 #{order.id} 社区正在重新安排处理，请稍候。")


def returned_note(department: Department, reason: str) -> str:
    return f"↩️ {department.name}退单：{reason}"


# ---- 延期 ------------------------------------------------------------------------------------------


def extension_request(order: Order, policy: Policy, asker: Member, asked: str, until: datetime, reason: str) -> dict:
    text = (
        f"⏳ 延期申请：{title(order, policy)}\n{asker.name} 申请延期 {asked}，办结时限改到 {day_and_time(until)}\n理由：{reason}"
    )
    return payload(text, [("👍 同意", OrderCb("grant", order.id).pack()), ("👎 不同意", OrderCb("deny", order.id).pack())])


def extension_decided_card(order: Order, policy: Policy, staff: str, outcome: str) -> dict:
    return payload(f"⏳ 延期申请：{title(order, policy)} — {staff} {outcome}")


def new_date_notice(order: Order, until: datetime, reason: str) -> dict:
    return payload(f"工单 #{order.id} 需要多一些时间：{reason}。预计 {day_and_time(until)} 前办好，请您谅解。")


def granted_notice(order: Order, until: datetime) -> dict:
    return payload(f"您的延期申请已同意：工单 #{order.id} 办结时限改到 {day_and_time(until)}。")


def refused_notice(order: Order, why: str, due: datetime) -> dict:
    return payload(f"您的延期申请未获同意（工单 #{order.id}）：{why}\n请在 {day_and_time(due)} 前办结。")


# ---- 督办 levels --------------------------------------------------------------------------------


def urge_alert(order: Order, policy: Policy, place: str, stage: str, level: int, due: datetime, who: str) -> dict:
    """Level 2 and 3: the staff, then every admin — the lower levels have been told already."""
    told = "网格长/部门已督促过" if level == 2 else "网格长/部门和工作人员已督促过"
    return payload(
        f"🚨 {LEVEL_NAMES[level]}督办：{title(order, policy)}{place} {STAGE_WORDS[stage]}，时限 {day_and_time(due)} 已过{who}。"
        f"\n（{told}，请过问。）"
    )


def unsigned_alert(order: Order, policy: Policy, department: Department, hours: str) -> dict:
    return payload(
        f"⏰ 督办：{title(order, policy)} 转{department.name}已超过 {hours} 还没有签收，请尽快签收。",
        [("✍️ 签收", OrderCb("sign", order.id).pack())],
    )


def signer_nudge(order: Order, due: datetime) -> dict:
    return payload(
        f"⏰ 您签收的工单 #{order.id} 已过办结时限（{day_and_time(due)}），请尽快办理，办好后点「办结」；"
        f"需要延期请发「延期 {order.id} 3d 原因」。",
        [("✅ 办结", OrderCb("settle", order.id).pack())],
    )
