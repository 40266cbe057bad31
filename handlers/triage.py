"""三事分流 by one tap: the resident confirms or picks a category; staff accept, re-categorise,
re-tier (大事 → a department, 小事 → the grid, 私事 → advice and close).

Every change goes through storage/orders.py (`retag`, `dispatch`, `escalate`, `advise`) with its
audit event; every notice through the outbox.
"""

from handlers import staff
from handlers.context import Ctx, Refusal
from handlers.messages import Reply, buttons
from storage import departments, order_cards, orders, people
from storage.models import Building, Grid, Order
from storage.models import OrderStatus as S
from storage.order_buttons import TriageCb
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
    return [choices[i : i + PER_ROW] for i in range(0, len(choices), PER_ROW)]


def route_new_order(ctx: Ctx, order: Order) -> Reply:
    """A new order that is no emergency: straight to its grid when the triage is sure of a 小事 and the
    grid has a group; else to the staff (the resident is told so, or asked to confirm the category)."""
    name = ctx.policy.category(order.category).name
    sure = order.confidence >= ctx.policy.confidence_threshold and order.category != "other"
    grid = ctx.session.get(Grid, order.grid_id) if order.grid_id is not None else None
    if sure and order.tier == "小事" and grid is not None and people.grid_has_group(ctx.session, grid):
        orders.apply(ctx.session, order, "dispatch", SYSTEM, ctx.now, dispatched_at=ctx.now, grid_id=grid.id)
        return Reply(
            f"已受理 ✅ 工单 #{order.id}（{name}）\n已派给{grid.name}，党员领单后会第一时间告诉您。查看进度：/status {order.id}"
        )
    if sure:
        return Reply(f"已受理 ✅ 工单 #{order.id}（{name}）\n社区工作人员会尽快分派处理。查看进度：/status {order.id}")
    return ask_resident(ctx, order)


def ask_resident(ctx: Ctx, order: Order) -> Reply:
    """Unsure: the resident confirms the guess or picks the category with one tap."""
    name = ctx.policy.category(order.category).name
    return Reply(
        f"已受理 ✅ 工单 #{order.id}\n您反映的是「{name}」方面的问题吗？请点一下确认，或选一个更贴切的类别。"
        f"\n社区工作人员也会尽快分派。查看进度：/status {order.id}",
        buttons(*category_rows(order, ctx, "pick", first=order.category)),
    )


def staff_card(ctx: Ctx, order: Order, note: str = "") -> Reply:
    """The triage card as a reply (after a change of category, say)."""
    building = ctx.session.get(Building, order.building_id) if order.building_id else None
    grid = ctx.session.get(Grid, order.grid_id) if order.grid_id else None
    return Reply.from_payload(order_cards.staff_card(order, building, grid, ctx.policy, note=note))


def on_button(ctx: Ctx, callback: TriageCb) -> list[Reply]:
    order = orders.get(ctx.session, callback.order_id)
    if order is None:
        raise Refusal(f"没有找到工单 #{callback.order_id}。", alert=True)
    if callback.action == "pick":
        return resident_picks(ctx, order, callback.value)
    ctx.require_staff()
    _require_untriaged(order)
    actions = {
        "ok": accept,
        "cats": offer_categories,
        "cat": set_category,
        "tiers": offer_tiers,
        "tier": set_tier,
        "dep": escalate_to,
    }
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
    _retag(ctx, order, category.code, category.tier, as_resident=True)
    grid = ctx.session.get(Grid, order.grid_id) if order.grid_id else None
    if order.tier == "小事" and not order.urgent and grid is not None and people.grid_has_group(ctx.session, grid):
        orders.apply(ctx.session, order, "dispatch", SYSTEM, ctx.now, dispatched_at=ctx.now, grid_id=grid.id)
        return [Reply(f"好的，工单 #{order.id} 按「{category.name}」已派给{grid.name}，党员领单后会第一时间告诉您。")]
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
    return [staff_card(ctx, order, note=f"已改为「{category.name}」（{category.tier}）")]


def offer_tiers(ctx: Ctx, order: Order, _value: str = "") -> list[Reply]:
    return [
        Reply(
            f"工单 #{order.id} 按哪类处理？大事转部门，小事派网格，私事告知居民办理方法并办结。",
            buttons([(tier, TriageCb("tier", order.id, key).pack()) for key, tier in TIERS.items()]),
        )
    ]


def set_tier(ctx: Ctx, order: Order, key: str) -> list[Reply]:
    tier = TIERS.get(key)
    if tier is None:
        raise Refusal("这个按钮已失效，请重新操作。", alert=True)
    _retag(ctx, order, order.category, tier)
    return accept(ctx, order)


def escalate_to(ctx: Ctx, order: Order, index: str) -> list[Reply]:
    if departments.by_code(ctx.session, index) is not None:  # a department of the roster, by its code
        return staff.escalate(ctx, [str(order.id), index])
    names = ctx.policy.departments
    if not index.isdigit() or int(index) >= len(names):
        raise Refusal("这个部门已不在名单里，请用 /escalate 工单号 部门。", alert=True)
    return staff.escalate(ctx, [str(order.id), names[int(index)]])


def advise_and_close(ctx: Ctx, order: Order) -> list[Reply]:
    """私事: the resident gets the category's advice text; the order closes (trigger `advise`)."""
    advice = ctx.policy.category(order.category).advice or ctx.policy.raw.get("default_advice", "")
    _move(ctx, order, "advise", note=advice[:500], closed_at=ctx.now)
    return [Reply(f"工单 #{order.id} 按私事办结，已把办理方法告诉居民。")]


def _department_choice(ctx: Ctx, order: Order) -> Reply:
    listed = [(d.name, _packed(TriageCb("dep", order.id, d.code))) for d in departments.listed(ctx.session)]
    if listed:  # the roster's departments, whose contacts sign for it; else the policy's names
        choices = [(name, data) for name, data in listed if data]
        rows = [choices[i : i + PER_ROW] for i in range(0, len(choices), PER_ROW)]
        return Reply(f"工单 #{order.id} 是大事，转哪个部门？", buttons(*rows))
    if not ctx.policy.departments:
        raise Refusal(f"配置里没有部门名单，请用 /escalate {order.id} 部门。", alert=True)
    choices = [(name, TriageCb("dep", order.id, str(i)).pack()) for i, name in enumerate(ctx.policy.departments)]
    return Reply(
        f"工单 #{order.id} 是大事，转哪个部门？", buttons(*[choices[i : i + PER_ROW] for i in range(0, len(choices), PER_ROW)])
    )


def _retag(ctx: Ctx, order: Order, category: str, tier: str, as_resident: bool = False) -> None:
    _move(
        ctx,
        order,
        "retag",
        note=f"{order.category}/{order.tier} → {category}/{tier}",
        as_resident=as_resident,
        category=category,
        tier=tier,
    )


def _move(ctx: Ctx, order: Order, trigger: str, note: str, as_resident: bool = False, **changes) -> None:
    """A move, with a lost race (someone else triaged it first) answered, not raised."""
    try:
        ctx.move(order, trigger, note=note, as_resident=as_resident, **changes)
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 刚刚已被处理，请刷新后再看。", alert=True) from None


def _require_untriaged(order: Order) -> None:
    if order.status != S.SUBMITTED:
        raise Refusal(f"工单 #{order.id} 已经是「{order_cards.status_name(order)}」，无需再分派。", alert=True)


def _category(ctx: Ctx, code: str):
    if code not in ctx.policy.categories:
        raise Refusal("这个类别已不存在，请重新选择。", alert=True)
    return ctx.policy.categories[code]


def _packed(callback: TriageCb) -> str | None:
    try:
        return callback.pack()
    except ValueError:  # a category code too long for Telegram's 64 bytes: left out, staff can still set it
        return None
