"""A resident's message about an order they already have: 催办, 补充, 没解决 (返工), 已经好了 — and
"is this the same thing as #n?" when a neighbour reports what is already open. Which order a message is
about, and as what, is handlers/order_in_question.py's; the readings of the open orders are here.

Each is a move (storage/orders.py: chase, amend, reopen, cancel, follow); what it causes (the card's
marks, who is told) is storage/consequences.py's. Small talk is answered here too: it moves nothing.
"""

import re
from datetime import timedelta

from sqlalchemy import Row, bindparam
from sqlmodel import col, select

from handlers.context import Ctx, Refusal
from handlers.intent import Kind, letters_and_digits
from handlers.messages import Reply, buttons
from storage import conversation, order_cards, orders, people
from storage.conversation import Waiting
from storage.models import Member, Order, OrderFollower
from storage.models import OrderStatus as S
from storage.order_buttons import OrderCb, RateCb

ADD_WINDOW = timedelta(minutes=10)  # words, a photo or a place sent this soon after a report belong to it
OPEN = (S.SUBMITTED, S.DISPATCHED, S.CLAIMED, S.ESCALATED, S.SIGNED)
ADD_PREFIX = re.compile(r"^(再补充|补充一下|补充|另外|再说一下|再说一句)[，,：:、。\s]*")

SMALL_TALK = {
    Kind.SMALL_TALK: "您好！我是{community}服务助手 😊 有什么问题直接告诉我，比如「3号楼路灯坏了」，也可以发照片或位置。",
    Kind.CHITCHAT: "😊 谢谢您跟我们分享！有需要帮忙的事，随时发文字、照片或位置给我。",
    Kind.OPENER: "好的，请说说是什么问题、在哪里，我马上为您登记。也可以发照片或位置。",
    Kind.ABOUT_BOT: "我是{community}的服务助手：您反映的问题我会登记成工单，派给网格党员处理，并随时告诉您进度。"
    "直接发文字、照片或位置就行；/my 查看您的工单。",
}
THANKS = "不客气，有事随时找我们 😊"


def small_talk(ctx: Ctx, kind: Kind, text: str) -> list[Reply]:
    """Answered kindly; nothing is filed, nothing is posted."""
    if kind not in (Kind.OPENER, Kind.ABOUT_BOT) and any(word in letters_and_digits(text) for word in ("谢", "辛苦", "感恩")):
        return [Reply(THANKS)]
    return [Reply(SMALL_TALK.get(kind, SMALL_TALK[Kind.CHITCHAT]).format(community=ctx.policy.community_name))]


def chase_which(ctx: Ctx, among: tuple[Order, ...]) -> list[Reply]:
    """催办 with several orders open: which one? (a button each)."""
    return [
        Reply(
            "您有几张工单在办理，催哪一张？",
            buttons(*[[(f"⏰ 催 #{o.id} {_short(ctx, o)}", OrderCb("chase", o.id).pack())] for o in among]),
        )
    ]


def ask_if_solved(ctx: Ctx, done: Order) -> list[Reply]:
    """Asked "怎么样了" about a job called done: told it is done, asked to rate (or to say 没解决)."""
    return rate_instead(ctx, done, f"工单 #{done.id} 已办结。问题解决了吗？请打个分；没解决请回复「没解决」。")


def chase(ctx: Ctx, order_id: int) -> list[Reply]:
    """催办: the claimer (else the grid leader, else the staff) is reminded; the card counts it."""
    order = _followed_order(ctx, order_id)
    try:
        ctx.move(order, "chase", as_resident=True, chases=order.chases + 1)
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 现在是「{order_cards.status_name(order)}」，不用催办了。") from None
    return [
        Reply(
            f"工单 #{order.id}（{ctx.policy.category(order.category).name}）{order_cards.status_name(order)}。"
            f"已替您催办，{_who_is_told(ctx, order)} 会收到提醒。"
        )
    ]


def amend(ctx: Ctx, order: Order, note: str | None) -> list[Reply]:
    """补充: the words, photo or place go onto the order; the claimer sees them."""
    inbound = ctx.inbound
    changes: dict = {}
    note = ADD_PREFIX.sub("", note or "") or None
    if not (note or inbound.photo or inbound.location):  # a bare "补充一下": nothing to add yet
        return [Reply(f"好的，请直接发要补充的内容（文字、照片或位置），我加到工单 #{order.id}。")]
    if note:
        changes["text"] = f"{order.text}\n补充：{note}"[:2000]
    if inbound.photo:
        changes["photos"] = [*order.photos, inbound.photo]
    if inbound.location:
        changes["latitude"], changes["longitude"] = inbound.location
    # The event's note is the added words; none means a photo or a place (storage/consequences.py).
    ctx.move(order, "amend", note=note or None, as_resident=True, **changes)
    seen_by = _claimer_name(ctx, order)
    return [Reply(f"已补充到工单 #{order.id}" + (f"，{seen_by} 能看到。" if seen_by else "。"))]


def reopen(ctx: Ctx, order: Order, why: str) -> list[Reply]:
    """返工: back to its grid, posted again marked 返工, the grid leader told; the claimer's points wait."""
    if order.grid_id is None:
        raise Refusal(f"工单 #{order.id} 是部门办理的，已请社区工作人员跟进，请稍候。")
    try:
        ctx.move(
            order,
            "reopen",
            note=why,
            as_resident=True,
            claimer_id=None,
            claimed_at=None,
            done_at=None,
            dispatched_at=ctx.now,
            reopens=order.reopens + 1,
        )
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 现在是「{order_cards.status_name(order)}」，不能退回了。") from None
    leaders = "、".join(m.name for m in people.grid_leaders(ctx.session, order.grid_id))
    who = f"网格长 {leaders}" if leaders else "社区工作人员"
    return [Reply(f"抱歉！工单 #{order.id} 已退回重新处理（返工），{who} 会跟进。")]


def offer_same(ctx: Ctx, earlier: Order | Row) -> Reply:
    """Before filing: is this what a neighbour already reported?"""
    conversation.begin(ctx.identity, Waiting.SAME_THING, ctx.now, order_id=earlier.id)
    return Reply(
        f"是不是和 #{earlier.id}「{order_cards.summary(earlier.text)[:20]}」同一件事？",
        buttons(
            [("是同一件事", OrderCb("same", earlier.id).pack()), ("不是，另一个问题", OrderCb("notsame", earlier.id).pack())]
        ),
    )


def same_thing(ctx: Ctx, order_id: int) -> list[Reply]:
    """是同一件事: the resident follows #n (told at every step, asked to rate); no second order."""
    order = orders.get(ctx.session, order_id)
    if order is None or ctx.resident is None:
        raise Refusal("这个按钮已失效，请重新发送您的问题。", alert=True)
    conversation.end(ctx.identity)
    ctx.identity.draft = None
    try:
        ctx.move(order, "follow", as_resident=True)
    except orders.IllegalTransition:
        raise Refusal(
            f"工单 #{order.id} 已经「{order_cards.status_name(order)}」了。如果问题还在，请再发一次，我给您新登记。"
        ) from None
    ctx.session.add(OrderFollower(order_id=order.id, resident_id=ctx.resident.id, at=ctx.now))
    count = 1 + len(list(ctx.session.exec(select(OrderFollower.id).where(OrderFollower.order_id == order.id))))
    return [Reply(f"好的，您已关注工单 #{order.id}，有进展会通知您。（已有 {count} 位居民反映）")]


def same_open_order(ctx: Ctx, category: str) -> Row | None:
    """A neighbour's open order of this category in the resident's building, not yet followed (its row
    of `_AROUND`: its number and words are what the question shows)."""
    if ctx.resident is None or ctx.resident.building_id is None:
        return None
    found = next(
        (
            row
            for row in _orders_around(ctx)
            if row.building_id == ctx.resident.building_id
            and row.category == category
            and row.resident_id != ctx.resident.id
            and not row.followed
            and not row.urgent
        ),
        None,
    )
    return found


# ---- reading ------------------------------------------------------------------------------------

_FOLLOWED = col(Order.id).in_(select(OrderFollower.order_id).where(OrderFollower.resident_id == bindparam("resident")))
# The open orders a resident's message may be about, newest first: their own, those they follow, and
# their building's (a neighbour may have reported the same thing) — with whether they follow it. Only
# the columns that decide which one it is about: a building has dozens open, a message concerns one.
_AROUND = (
    select(
        Order.id,
        Order.status,
        Order.resident_id,
        Order.building_id,
        Order.category,
        Order.urgent,
        Order.created_at,
        Order.text,
        _FOLLOWED.label("followed"),
    )
    .where(
        col(Order.status).in_(OPEN),
        (Order.resident_id == bindparam("resident")) | (Order.building_id == bindparam("building")) | _FOLLOWED,
    )
    .order_by(col(Order.id).desc())
)


def _orders_around(ctx: Ctx) -> list[Row]:
    """Read once per message (a report asks "recent?" and "a neighbour's?" of the same rows), again
    after a move (Ctx.move, submit_order) or when the resident's building changed; open ones only."""
    key = (ctx.resident.id, ctx.resident.building_id)
    if ctx.around is None or ctx.around[0] != key:
        ctx.around = (key, ctx.session.exec(_AROUND, params={"resident": key[0], "building": key[1]}).all())
    return [row for row in ctx.around[1] if row.status in OPEN]


def _orders(ctx: Ctx, rows: list[Row]) -> list[Order]:
    """The orders of these rows of `_orders_around`, newest first, those still open (in this transaction)."""
    if not rows:
        return []
    found = {o.id: o for o in ctx.session.exec(select(Order).where(col(Order.id).in_([row.id for row in rows])))}
    return [order for row in rows if (order := found.get(row.id)) is not None and order.status in OPEN]


def recent_report(ctx: Ctx) -> Row | None:
    """The resident's own newest open order reported within ADD_WINDOW, its row of `_AROUND`."""
    since = ctx.now - ADD_WINDOW
    return next((r for r in open_rows(ctx) if r.resident_id == ctx.resident.id and r.created_at >= since), None)


def newest_open(ctx: Ctx) -> Order | None:
    """The resident's own newest open order reported within ADD_WINDOW."""
    recent = recent_report(ctx)
    return next(iter(_orders(ctx, [recent])), None) if recent is not None else None


def newest_own_open(ctx: Ctx) -> Order | None:
    """The resident's own newest open order, whenever it was reported."""
    own = [row for row in open_rows(ctx) if row.resident_id == ctx.resident.id]
    return next(iter(_orders(ctx, own[:1])), None)


def open_orders(ctx: Ctx) -> list[Order]:
    """The resident's open orders, reported or followed, newest first."""
    return _orders(ctx, open_rows(ctx))


def open_rows(ctx: Ctx) -> list[Row]:
    return [row for row in _orders_around(ctx) if row.resident_id == ctx.resident.id or row.followed]


def recently_done(ctx: Ctx) -> Order | None:
    """The newest of the resident's orders done and not yet rated, within its `rate_within`."""
    followed = select(OrderFollower.order_id).where(OrderFollower.resident_id == ctx.resident.id)
    for order in ctx.session.exec(
        select(Order)
        .where(
            (Order.resident_id == ctx.resident.id) | col(Order.id).in_(followed),
            Order.status == S.DONE,
        )
        .order_by(col(Order.id).desc())
    ):
        if order.done_at and order.done_at + ctx.policy.limits_for(order.category).rate_within > ctx.now:
            return order
    return None


def _followed_order(ctx: Ctx, order_id: int) -> Order:
    order = orders.get(ctx.session, order_id)
    if order is None or ctx.resident is None or order.id not in {row.id for row in open_rows(ctx)}:
        raise Refusal(f"没有找到您在办理中的工单 #{order_id}，发送 /my 查看。", alert=True)
    return order


def withdraw(ctx: Ctx, order: Order) -> list[Reply]:
    """已经好了: an open order of one's own is withdrawn; a followed one is left to its reporter."""
    if order.resident_id != ctx.resident.id:
        return [Reply(f"好的，谢谢告知！工单 #{order.id} 是邻居先反映的，我们会跟进确认。")]
    ctx.move(order, "cancel", note="居民说已经好了", as_resident=True, closed_at=ctx.now)
    return [Reply(f"太好了！工单 #{order.id} 已为您撤销。有需要随时再找我们。")]


def _who_is_told(ctx: Ctx, order: Order) -> str:
    names = [_claimer_name(ctx, order)] if order.status == S.CLAIMED else []
    if order.status in (S.CLAIMED, S.DISPATCHED) and order.grid_id:
        names += [f"网格长 {m.name}" for m in people.grid_leaders(ctx.session, order.grid_id)]
    return " 和 ".join(filter(None, names)) or "社区工作人员"


def _claimer_name(ctx: Ctx, order: Order) -> str | None:
    claimer = ctx.session.get(Member, order.claimer_id) if order.claimer_id and order.status == S.CLAIMED else None
    return claimer.name if claimer else None


def _short(ctx: Ctx, order: Order) -> str:
    return ctx.policy.category(order.category).name


def rate_instead(ctx: Ctx, order: Order, text: str = "") -> list[Reply]:
    """After it was done the rating is what is missing."""
    return [
        Reply(
            text or f"太好了！请给工单 #{order.id} 打个分吧：",
            buttons([(f"{stars}⭐", RateCb(order.id, stars).pack()) for stars in range(1, 6)]),
        )
    ]
