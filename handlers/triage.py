"""三事分流 by one tap: the resident confirms or picks a category; staff accept, re-categorise,
re-tier (大事 → a department, 小事 → the grid, 私事 → advice and close).

Every change goes through storage/orders.py (`retag`, `dispatch`, `escalate`, `advise`) with its
audit event; every notice through the outbox.
"""

from handlers import cards, notify, staff
from handlers.callbacks import TriageCb
from handlers.context import Ctx, Refusal
from handlers.messages import Reply, buttons
from storage import orders, people
from storage.models import Building, Grid, Order
from storage.models import OrderStatus as S
from storage.orders import SYSTEM

TIERS = {"b": "大事", "s": "小事", "p": "私事"}
PER_ROW = 3


def category_rows(order: Order, ctx: Ctx, action: str, first: str | None = None) -> list[list[tuple[str, str]]]:
    """One button per category (the `first` code leading, marked ✅), three to a row."""
    codes = sorted(ctx.policy.categories, key=lambda code: code != first)
    choices = []
    for code in codes:
        label = f"✅ 是「{ctx.policy.categories[code].name}」" if code == first else ctx.policy.categories[code].name
        data = _packed(TriageCb(action, order.id, code))
        if data:
            choices.append((label, data))
    return [choices[i:i + PER_ROW] for i in range(0, len(choices), PER_ROW)]


def ask_resident(ctx: Ctx, order: Order) -> Reply:
    """Unsure: the resident confirms the guess or picks the category with one tap."""
    name = ctx.policy.category(order.category).name
    return Reply(f"已受理 ✅ 工单 #{order.id}\n您反映的是「{name}」方面的问题吗？请点一下确认，或选一个更贴切的类别。"
                 f"\n社区工作人员也会尽快分派。查看进度：/status {order.id}",
                 buttons(*category_rows(order, ctx, "pick", first=order.category)))


def staff_card(ctx: Ctx, order: Order) -> Reply:
    """The triage card: proposed category, tier and confidence, with the one-tap decisions."""
    building = ctx.session.get(Building, order.building_id) if order.building_id else None
    grid = ctx.session.get(Grid, order.grid_id) if order.grid_id else None
    text = cards.staff_card(order, building, grid, ctx.policy).text
    return Reply(text, buttons(
        [(f"👍 按{order.tier}处理", TriageCb("ok", order.id).pack())],
        [("🏷 改类别", TriageCb("cats", order.id).pack()), ("⚖️ 改分级", TriageCb("tiers", order.id).pack())],
    ))


def on_button(ctx: Ctx, callback: TriageCb) -> list[Reply]:
    order = orders.get(ctx.session, callback.order_id)
    if order is None:
        raise Refusal(f"没有找到工单 #{callback.order_id}。", alert=True)
    if callback.action == "pick":
        return resident_picks(ctx, order, callback.value)
    ctx.require_staff()
    _require_untriaged(order)
    actions = {"ok": accept, "cats": offer_categories, "cat": set_category, "tiers": offer_tiers,
               "tier": set_tier, "dep": escalate_to}
    action = actions.get(callback.action)
    if action is None:
        raise Refusal("这个按钮已失效，请重新操作。", alert=True)
    return action(ctx, order, callback.value)


def resident_picks(ctx: Ctx, order: Order, code: str) -> list[Reply]:
    """The resident's tap settles the category; a 小事 with a grid group goes to the grid at once."""
    if ctx.resident is None or order.resident_id != ctx.resident.id:
        raise Refusal(f"没有找到工单 #{order.id}。", alert=True)
    if order.status != S.SUBMITTED:
        raise Refusal(f"工单 #{order.id} 工作人员已经在处理了，谢谢您！", alert=True)
    category = _category(ctx, code)
    _retag(ctx, order, category.code, category.tier)
    grid = ctx.session.get(Grid, order.grid_id) if order.grid_id else None
    if order.tier == "小事" and not order.urgent and grid is not None and people.grid_has_group(ctx.session, grid):
        orders.apply(ctx.session, order, "dispatch", SYSTEM, ctx.now, dispatched_at=ctx.now, grid_id=grid.id)
        building = ctx.session.get(Building, order.building_id) if order.building_id else None
        notify.to_grid(ctx, grid, f"card:{order.id}:{grid.id}", cards.group_card(order, building, ctx.policy))
        notify.to_staff(ctx, f"picked:{order.id}", Reply(
            f"居民确认工单 #{order.id} 为「{category.name}」，已自动派给{grid.name}，无需再分派。"))
        return [Reply(f"好的，工单 #{order.id} 按「{category.name}」已派给{grid.name}，党员领单后会第一时间告诉您。")]
    notify.to_staff(ctx, f"picked:{order.id}", _with_note(staff_card(ctx, order), f"居民确认类别：{category.name}"))
    return [Reply(f"好的，工单 #{order.id} 已按「{category.name}」登记，社区工作人员会尽快分派。")]


def accept(ctx: Ctx, order: Order, _value: str = "") -> list[Reply]:
    """Act on the order's tier as proposed."""
    if order.tier == "大事":
        return [_department_choice(ctx, order)]
    if order.tier == "私事":
        return advise_and_close(ctx, order)
    grid = ctx.session.get(Grid, order.grid_id) if order.grid_id else None
    if grid is None:
        raise Refusal(f"工单 #{order.id} 不知道属于哪个网格，请用 /dispatch {order.id} 网格编号 派单。", alert=True)
    return staff.dispatch(ctx, [str(order.id), grid.code])


def offer_categories(ctx: Ctx, order: Order, _value: str = "") -> list[Reply]:
    return [Reply(f"工单 #{order.id} 改成哪一类？", buttons(*category_rows(order, ctx, "cat")))]


def set_category(ctx: Ctx, order: Order, code: str) -> list[Reply]:
    category = _category(ctx, code)
    _retag(ctx, order, category.code, category.tier)
    return [_with_note(staff_card(ctx, order), f"已改为「{category.name}」（{category.tier}）")]


def offer_tiers(ctx: Ctx, order: Order, _value: str = "") -> list[Reply]:
    return [Reply(f"工单 #{order.id} 按哪类处理？大事转部门，小事派网格，私事告知居民办理方法并办结。",
                  buttons([(tier, TriageCb("tier", order.id, key).pack()) for key, tier in TIERS.items()]))]


def set_tier(ctx: Ctx, order: Order, key: str) -> list[Reply]:
    tier = TIERS.get(key)
    if tier is None:
        raise Refusal("这个按钮已失效，请重新操作。", alert=True)
    _retag(ctx, order, order.category, tier)
    return accept(ctx, order)


def escalate_to(ctx: Ctx, order: Order, index: str) -> list[Reply]:
    departments = ctx.policy.departments
    if not index.isdigit() or int(index) >= len(departments):
        raise Refusal("这个部门已不在名单里，请用 /escalate 工单号 部门。", alert=True)
    return staff.escalate(ctx, [str(order.id), departments[int(index)]])


def advise_and_close(ctx: Ctx, order: Order) -> list[Reply]:
    """私事: the resident gets the category's advice text; the order closes (trigger `advise`)."""
    advice = ctx.policy.category(order.category).advice or ctx.policy.raw.get("default_advice", "")
    _move(ctx, order, "advise", note=advice[:200], closed_at=ctx.now)
    notify.to_resident(ctx, order.resident_id, f"advised:{order.id}", Reply(f"关于工单 #{order.id}：{advice}"))
    return [Reply(f"工单 #{order.id} 按私事办结，已把办理方法告诉居民。")]


def _department_choice(ctx: Ctx, order: Order) -> Reply:
    if not ctx.policy.departments:
        raise Refusal(f"配置里没有部门名单，请用 /escalate {order.id} 部门。", alert=True)
    choices = [(name, TriageCb("dep", order.id, str(i)).pack()) for i, name in enumerate(ctx.policy.departments)]
    return Reply(f"工单 #{order.id} 是大事，转哪个部门？", buttons(*[choices[i:i + PER_ROW] for i in range(0, len(choices), PER_ROW)]))


def _retag(ctx: Ctx, order: Order, category: str, tier: str) -> None:
    _move(ctx, order, "retag", note=f"{order.category}/{order.tier} → {category}/{tier}", category=category, tier=tier)


def _move(ctx: Ctx, order: Order, trigger: str, note: str, **changes) -> None:
    """orders.apply, with a lost race (someone else triaged it first) answered, not raised."""
    try:
        orders.apply(ctx.session, order, trigger, ctx.actor, ctx.now, note=note, **changes)
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 刚刚已被处理，请刷新后再看。", alert=True) from None


def _require_untriaged(order: Order) -> None:
    if order.status != S.SUBMITTED:
        raise Refusal(f"工单 #{order.id} 已经是「{cards.STATUS_NAMES[S(order.status)]}」，无需再分派。", alert=True)


def _category(ctx: Ctx, code: str):
    if code not in ctx.policy.categories:
        raise Refusal("这个类别已不存在，请重新选择。", alert=True)
    return ctx.policy.categories[code]


def _with_note(reply: Reply, note: str) -> Reply:
    return Reply(f"{note}\n{reply.text}", reply.buttons)


def _packed(callback: TriageCb) -> str | None:
    try:
        return callback.pack()
    except ValueError:  # a category code too long for Telegram's 64 bytes: left out, staff can still set it
        return None

