"""The texts of an emergency: the number to call first, the alert with `收到`, and what follows it."""

from storage import order_cards
from storage.models import Building, Grid, Member, Order
from storage.order_buttons import OrderCb
from storage.policy import Policy
from storage.recipients import payload

DANGER_QUESTION = "现在有人受伤或有危险吗？"
GENERIC_LINE = "⚠️ 紧急情况请先拨打 119（火警）/ 110（报警）/ 120（急救）！"
SERVICE_LINES = {
    "110": "⚠️ 请先拨打 110 报警！",
    "119": "⚠️ 请先拨打 119（消防救援）！",
    "120": "⚠️ 请先拨打 120 急救！",
}


def first_line(order: Order, policy: Policy) -> str:
    """The first thing an urgent report's resident reads: the service for this kind of emergency."""
    kind = policy.emergencies.kinds.get(order.emergency or "")
    if kind is None:
        return GENERIC_LINE
    if kind.service == "gas":
        return f"⚠️ 请马上开窗、离开，不要开关电器、不要打电话在屋里，到外面拨打{policy.emergencies.gas_line}！"
    return SERVICE_LINES.get(kind.service, GENERIC_LINE)


def kind_name(order: Order, policy: Policy) -> str:
    kind = policy.emergencies.kinds.get(order.emergency or "")
    return f"（{kind.name}）" if kind else ""


def alert_card(order: Order, building: Building | None, grid: Grid | None, policy: Policy, note: str = "") -> dict:
    """The staff's and the grid leader's alert: the order, and `收到` for whoever takes it."""
    lines = [
        f"🚨 紧急{kind_name(order, policy)} {order_cards.title(order, policy)}",
        f"{order_cards.where(order, building, grid)}：{order_cards.summary(order.text) or '（照片/位置）'}",
        "请马上联系居民；看到请点「收到」。",
    ]
    return payload("\n".join(filter(None, [note, *lines])), [("✋ 收到", OrderCb("ack", order.id).pack())])


def acked_card(order: Order, policy: Policy, who: Member) -> dict:
    return payload(f"🚨 紧急{kind_name(order, policy)} {order_cards.title(order, policy)}\n✅ {who.name} 已收到，正在处理。")


def acked_notice(order: Order, who: Member) -> dict:
    return payload(f"社区的{who.name}已收到您的紧急求助（工单 #{order.id}），正在处理。")


def admins_note(order: Order, minutes: int, rounds: int) -> str:
    return f"⏰ 已过 {minutes} 分钟无人点「收到」（第 {rounds} 次提醒），请立即安排！"


def unanswered_notice(order: Order, policy: Policy) -> dict:
    """Nobody answered the danger question in time: treated as urgent, and the resident is told so."""
    return payload(f"{first_line(order, policy)}\n没等到您的回复，已按紧急情况通知社区值班人员和网格长（工单 #{order.id}）。")
