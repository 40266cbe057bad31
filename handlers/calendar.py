"""Members' calendar in chat: /duty, /sessions, 收到, 换班, 请假, 签到 — and the buttons on reminders.

Reminders themselves come from scheduler/; this module answers what people do with them.
"""

import logging

from handlers import calendar_admin, notify
from handlers.context import Ctx, Refusal
from handlers.messages import Reply, buttons
from storage import calendar, conversation, notice_keys, people, points
from storage.calendar import CalendarError
from storage.calendar_buttons import CalendarCb, KindCb, SessionCb, ShiftCb, SwapCb
from storage.models import Grid, Member, Shift, StudySession

logger = logging.getLogger(__name__)

STATUS_NAMES = {calendar.PRESENT: "已签到", calendar.LEAVE: "已请假", calendar.ABSENT: "缺席"}


def duty(ctx: Ctx, _args: list[str]) -> list[Reply]:
    """/duty: my next shifts, with 收到 / 换班 on those not yet acknowledged."""
    member = ctx.require_member()
    rows = calendar.next_shifts(ctx.session, member.id, ctx.now)
    if not rows:
        return [Reply("您近期没有值班安排。")]
    lines, keys = [], []
    for shift, row in rows:
        state = "已确认" if row.acked_at else "待确认"
        lines.append(f"• {calendar.span_text(shift.start_at, shift.end_at, ctx.services.timezone)} {shift.place}（{state}）")
        day = f"{ctx.local(shift.start_at):%m/%d}"
        if row.acked_at is None:
            keys.append(
                [(f"✅ 收到 {day}", ShiftCb("ack", shift.id).pack()), (f"🔁 换班 {day}", ShiftCb("swap", shift.id).pack())]
            )
    return [Reply("您近期的值班：\n" + "\n".join(lines), buttons(*keys))]


def sessions(ctx: Ctx, _args: list[str]) -> list[Reply]:
    """/sessions: upcoming study sessions of my branch (all of them for staff)."""
    member = ctx.require_member()
    branch = None if member.role in ("staff", "admin") and not member.branch else member.branch
    rows = calendar.upcoming_sessions(ctx.session, ctx.now, branch=branch)
    if not rows:
        return [Reply("近期没有学习活动安排。")]
    lines, keys = [], []
    for study in rows:
        mine = calendar.attendance(ctx.session, study.id).get(member.id)
        state = f"（{STATUS_NAMES[mine.status]}）" if mine else ""
        where = f" @{study.place}" if study.place else ""
        lines.append(f"• {calendar.span_text(study.start_at, study.end_at, ctx.services.timezone)} {study.title}{where}{state}")
        if study.branch == member.branch and (mine is None or mine.status == calendar.LEAVE):
            action = ("✍️ 签到", "checkin") if calendar.is_open(study, ctx.now) else ("🙏 请假", "leave")
            if not (mine and action[1] == "leave"):
                keys.append([(f"{action[0]} {study.title[:12]}", SessionCb(action[1], study.id).pack())])
    return [Reply("近期学习活动：\n" + "\n".join(lines), buttons(*keys))]


def checkin_word(ctx: Ctx, _args: list[str]) -> list[Reply]:
    """「签到」typed (WeChat has no buttons): the open session of my branch."""
    member = ctx.require_member()
    open_now = [s for s in calendar.upcoming_sessions(ctx.session, ctx.now, branch=member.branch) if calendar.is_open(s, ctx.now)]
    if not open_now:
        raise Refusal("现在没有正在进行的学习活动。发送 /sessions 查看安排。")
    return check_in(ctx, open_now[0].id)


def on_button(ctx: Ctx, callback: CalendarCb) -> list[Reply]:
    if isinstance(callback, KindCb):
        return calendar_admin.choose_kind(ctx, callback.index)
    try:
        if isinstance(callback, ShiftCb):
            return ack(ctx, callback.shift_id) if callback.action == "ack" else ask_swap(ctx, callback.shift_id)
        if isinstance(callback, SwapCb):
            return take_swap(ctx, callback.swap_id)
        if callback.action == "checkin":
            return check_in(ctx, callback.session_id)
        return ask_leave(ctx, callback.session_id)
    except CalendarError as error:
        raise Refusal(str(error), alert=True) from None


def leave_reason(ctx: Ctx, state: conversation.State) -> list[Reply]:
    """The reason after 请假: records the leave for the session it was asked for."""
    reason = ctx.inbound.text.strip()
    if not reason:
        raise Refusal("请用文字说一下请假原因（发「取消」不请假）：", ask_again=True)
    conversation.end(ctx.identity)
    try:
        study = calendar.record_leave(ctx.session, state.number("session_id"), ctx.require_member(), reason[:100], ctx.now)
    except CalendarError as error:
        raise Refusal(str(error)) from None
    return [
        Reply(
            f"已为您请假：{study.title}（{calendar.span_text(study.start_at, study.end_at, ctx.services.timezone)}）。"
            f"原因：{reason[:100]}"
        )
    ]


# ---- duty shifts ---------------------------------------------------------------------------


def ack(ctx: Ctx, shift_id: int) -> list[Reply]:
    """收到: the acknowledgement is stamped once; the leader will not be told."""
    member = ctx.require_member()
    first = calendar.ack_shift(ctx.session, shift_id, member.id, ctx.now)
    shift = ctx.session.get(Shift, shift_id)
    when = f"{calendar.span_text(shift.start_at, shift.end_at, ctx.services.timezone)} {shift.place}"
    if not first:
        return [Reply(f"您已确认过：{when}", alert="已确认过")]
    return [Reply(f"✅ 已确认值班：{when}。谢谢！", alert="已确认")]


def ask_swap(ctx: Ctx, shift_id: int) -> list[Reply]:
    """申请换班: the grid sees it with a 我来替班 button; the leader is told."""
    member = ctx.require_member()
    swap, new = calendar.request_swap(ctx.session, shift_id, member.id, ctx.now)
    shift = ctx.session.get(Shift, shift_id)
    when = f"{calendar.span_text(shift.start_at, shift.end_at, ctx.services.timezone)} {shift.place}"
    if not new:
        return [Reply(f"您已申请过换班（{when}），正在等其他党员替班。", alert="已申请过")]
    grid = ctx.session.get(Grid, member.grid_id) if member.grid_id else None
    offer = Reply(f"🔁 {member.name} 申请换班：{when}\n哪位同志能替班？", buttons([("🙋 我来替班", SwapCb(swap.id).pack())]))
    if grid is None or not notify.to_grid(ctx, grid, notice_keys.swap(swap.id, "post"), offer):
        for other in _grid_mates(ctx, member):
            notify.to_member(ctx, other.id, notice_keys.swap(swap.id, f"m{other.id}"), offer)
    if grid is not None:
        notify.to_grid_leaders(
            ctx, grid.id, notice_keys.swap(swap.id, "asked"), Reply(f"ℹ️ {member.name} 申请换班：{when}，已发到网格群等人替班。")
        )
    return [Reply(f"已发出换班申请：{when}。有人替班后会告诉您；在此之前请按原计划值班。", alert="已申请换班")]


def take_swap(ctx: Ctx, swap_id: int) -> list[Reply]:
    """我来替班: exactly one taker; the asker and the leader are told, the group post is updated."""
    member = ctx.require_member()
    swap, shift = calendar.take_swap(ctx.session, swap_id, member, ctx.now)
    asker = ctx.session.get(Member, swap.from_member_id)
    when = f"{calendar.span_text(shift.start_at, shift.end_at, ctx.services.timezone)} {shift.place}"
    notify.to_member(ctx, asker.id, notice_keys.swap(swap.id, "taken:asker"), Reply(f"🔁 {member.name} 已替您值班：{when}。"))
    grid = ctx.session.get(Grid, member.grid_id) if member.grid_id else None
    if grid is not None:
        notify.to_grid_leaders(
            ctx, grid.id, notice_keys.swap(swap.id, "taken"), Reply(f"🔁 换班：{when}，{asker.name} → {member.name}。")
        )
        if people.grid_has_group(ctx.session, grid):
            notify.edit_grid_card(
                ctx,
                grid,
                notice_keys.swap(swap.id, "post"),
                notice_keys.swap(swap.id, "post-taken"),
                Reply(f"✅ {asker.name} 的值班（{when}）已由 {member.name} 替班。"),
            )
    return [Reply(f"谢谢！您已替 {asker.name} 值班：{when}。", alert="已替班")]


def _grid_mates(ctx: Ctx, member: Member) -> list[Member]:
    if member.grid_id is None:
        return []
    from sqlmodel import select

    return [m for m in ctx.session.exec(select(Member).where(Member.grid_id == member.grid_id)) if m.id != member.id]


# ---- study sessions ------------------------------------------------------------------------


def ask_leave(ctx: Ctx, session_id: int) -> list[Reply]:
    """请假: asks for the reason; the next text records it."""
    member = ctx.require_member()
    study = _own_session(ctx, session_id, member)
    if ctx.now >= study.end_at:
        raise CalendarError("这次活动已经结束了。")
    mine = calendar.attendance(ctx.session, study.id).get(member.id)
    if mine is not None and mine.status == calendar.PRESENT:
        raise CalendarError("您已经签到了，不用请假。")
    conversation.begin(ctx.identity, conversation.Waiting.LEAVE_REASON, ctx.now, session_id=study.id)
    return [Reply(f"请假：{study.title}。请简单说一下原因（比如：出差、生病），发「取消」不请假。", alert="请说明原因")]


def check_in(ctx: Ctx, session_id: int) -> list[Reply]:
    """签到: once, only while the session is open; earns the attendance points."""
    member = ctx.require_member()
    try:
        study, first = calendar.check_in(ctx.session, session_id, member, ctx.now)
    except CalendarError as error:
        raise Refusal(str(error), alert=True) from None
    if not first:
        return [Reply(f"您已签到过：{study.title}。", alert="已签到过")]
    earned = ctx.policy.points.get("session_attended", 0)
    if earned:
        points.award(ctx.session, member.id, earned, "session", f"session:{study.id}", ctx.now)
    bonus = f"，先锋积分 +{earned}" if earned else ""
    return [Reply(f"✅ 签到成功：{study.title}{bonus}。", alert="签到成功")]


def _own_session(ctx: Ctx, session_id: int, member: Member) -> StudySession:
    study = ctx.session.get(StudySession, session_id)
    if study is None:
        raise CalendarError("没有找到这次活动。发送 /sessions 查看近期安排。")
    if study.branch != member.branch:
        raise CalendarError(f"这是{study.branch}的活动。")
    return study
