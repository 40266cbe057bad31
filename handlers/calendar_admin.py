"""Staff set up the calendar in chat: /newshift and /newsession, a few short questions each.

The step is the person's conversation state (storage/conversation.py: NEW_SHIFT_PLACE…), the
answers so far its data. 「取消」 at any step drops them (handlers/router.py).
"""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from handlers.context import Ctx, Refusal
from handlers.messages import Reply, buttons
from storage import calendar, conversation
from storage.calendar_buttons import KindCb
from storage.conversation import Waiting as W
from storage.models import Member

STEPS = (
    W.NEW_SHIFT_WHEN,
    W.NEW_SHIFT_PLACE,
    W.NEW_SHIFT_MEMBERS,
    W.NEW_SESSION_TITLE,
    W.NEW_SESSION_KIND,
    W.NEW_SESSION_BRANCH,
    W.NEW_SESSION_WHEN,
    W.NEW_SESSION_PLACE,
)
WHEN_EXAMPLE = "例如：明天 8:30-12:00，或 11月25日 14:00-16:00"

_DAY = re.compile(r"^(?:(今天|明天|后天)|(?:(\d{4})[-/年.])?(\d{1,2})[-/月.](\d{1,2})[日号]?)\s*")
_HOURS = re.compile(r"^(\d{1,2})[:：点](\d{2})?\s*[-–—~至到]\s*(\d{1,2})[:：点](\d{2})?\s*")
_RELATIVE_DAYS = {"今天": 0, "明天": 1, "后天": 2}


def parse_span(text: str, today: date, tz: ZoneInfo) -> tuple[datetime, datetime, str] | None:
    """`明天 8:30-12:00 党群服务中心` → (start, end, rest). A date without a year that has passed
    means next year's; an end before the start means the next day (a night shift)."""
    day_match = _DAY.match(text.strip())
    if day_match is None:
        return None
    word, year, month, day = day_match.groups()
    rest = text.strip()[day_match.end() :]
    hours = _HOURS.match(rest)
    if hours is None:
        return None
    try:
        if word:
            on = today + timedelta(days=_RELATIVE_DAYS[word])
        else:
            on = date(int(year) if year else today.year, int(month), int(day))
            if not year and on < today:
                on = on.replace(year=today.year + 1)
        start = datetime.combine(on, time(int(hours[1]), int(hours[2] or 0)), tzinfo=tz)
        end = datetime.combine(on, time(int(hours[3]), int(hours[4] or 0)), tzinfo=tz)
    except ValueError:
        return None
    if end <= start:
        end += timedelta(days=1)
    return start, end, rest[hours.end() :].strip()


def new_shift(ctx: Ctx, args: list[str]) -> list[Reply]:
    """/newshift, or in one line: /newshift 明天 8:30-12:00 党群服务中心 李明 赵强"""
    ctx.require_staff()
    if args:
        parsed = parse_span(" ".join(args), ctx.local(ctx.now).date(), ctx.services.timezone)
        words = parsed[2].split() if parsed else []
        if parsed is None or len(words) < 2:
            raise Refusal(
                f"格式：/newshift 日期 时间 地点 姓名…\n{WHEN_EXAMPLE} 党群服务中心 李明 赵强\n"
                "也可以只发 /newshift，我一步步问您。"
            )
        return [_create_shift(ctx, parsed[0], parsed[1], words[0], words[1:])]
    _ask(ctx, W.NEW_SHIFT_WHEN, {})
    return [Reply(f"新建值班（发「取消」可退出）。\n值班时间？{WHEN_EXAMPLE}")]


def new_session(ctx: Ctx, _args: list[str]) -> list[Reply]:
    """/newsession: title → kind → branch → time → place."""
    ctx.require_staff()
    _ask(ctx, W.NEW_SESSION_TITLE, {})
    return [Reply("新建学习活动（发「取消」可退出）。\n活动主题是什么？例如：学习党的二十大精神")]


def choose_kind(ctx: Ctx, index: int) -> list[Reply]:
    ctx.require_staff()
    if not conversation.is_waiting(ctx.identity, W.NEW_SESSION_KIND, ctx.now) or not 0 <= index < len(calendar.SESSION_KINDS):
        raise Refusal("这个按钮已失效，请重新发送 /newsession。", alert=True)
    branches = _branches(ctx)
    _ask(ctx, W.NEW_SESSION_BRANCH, {**_draft(ctx), "kind": calendar.SESSION_KINDS[index]})
    return [Reply(f"类型：{calendar.SESSION_KINDS[index]}。哪个支部参加？\n现有支部：{'、'.join(branches) or '无'}")]


def on_text(ctx: Ctx, state: conversation.State) -> list[Reply]:
    """One answer of the dialogue in progress. A wrong answer is asked again (「取消」 leaves)."""
    step, text = state.name, ctx.inbound.text.strip()
    if not text:
        raise Refusal("请用文字回答。发「取消」可退出。", ask_again=True)
    ctx.require_staff()
    draft = state.data
    if step == W.NEW_SHIFT_WHEN:
        start, end = _when(ctx, text)
        _ask(ctx, W.NEW_SHIFT_PLACE, {"start": start.isoformat(), "end": end.isoformat()})
        return [Reply("值班地点？例如：党群服务中心")]
    if step == W.NEW_SHIFT_PLACE:
        _ask(ctx, W.NEW_SHIFT_MEMBERS, {**draft, "place": text[:60]})
        return [Reply("哪些党员值班？发姓名，用空格或顿号分开，例如：李明 赵强")]
    if step == W.NEW_SHIFT_MEMBERS:
        names = [name for name in re.split(r"[\s、,，]+", text) if name]
        reply = _create_shift(
            ctx, datetime.fromisoformat(draft["start"]), datetime.fromisoformat(draft["end"]), draft["place"], names
        )
        _ask(ctx, None, None)
        return [reply]
    if step == W.NEW_SESSION_TITLE:
        _ask(ctx, W.NEW_SESSION_KIND, {"title": text[:60]})
        return [Reply("活动类型？", buttons(*[[(kind, KindCb(i).pack())] for i, kind in enumerate(calendar.SESSION_KINDS)]))]
    if step == W.NEW_SESSION_KIND:
        raise Refusal("请点上面的按钮选择活动类型。发「取消」可退出。", ask_again=True)
    if step == W.NEW_SESSION_BRANCH:
        if text not in _branches(ctx):
            raise Refusal(f"没有「{text[:20]}」这个支部。现有支部：{'、'.join(_branches(ctx))}", ask_again=True)
        _ask(ctx, W.NEW_SESSION_WHEN, {**draft, "branch": text})
        return [Reply(f"活动时间？{WHEN_EXAMPLE}")]
    if step == W.NEW_SESSION_WHEN:
        start, end = _when(ctx, text)
        _ask(ctx, W.NEW_SESSION_PLACE, {**draft, "start": start.isoformat(), "end": end.isoformat()})
        return [Reply("活动地点？例如：党群服务中心三楼会议室")]
    if step == W.NEW_SESSION_PLACE:
        study, _ = calendar.upsert_session(
            ctx.session,
            draft["title"],
            draft["kind"],
            draft["branch"],
            datetime.fromisoformat(draft["start"]),
            datetime.fromisoformat(draft["end"]),
            text[:60],
            ctx.now,
            created_by=ctx.member.id,
        )
        _ask(ctx, None, None)
        members = len(calendar.branch_members(ctx.session, study.branch))
        return [
            Reply(
                f"✅ 已创建：{study.kind}「{study.title}」\n"
                f"{calendar.span_text(study.start_at, study.end_at, ctx.services.timezone)} {study.place}\n"
                f"{study.branch} {members} 名党员会按时收到提醒，活动开始后可签到。"
            )
        ]
    _ask(ctx, None, None)
    return [Reply("刚才的操作已过期，请重新开始。")]


def _create_shift(ctx: Ctx, start: datetime, end: datetime, place: str, names: list[str]) -> Reply:
    if start <= ctx.now:
        raise Refusal("值班开始时间已经过了，请换一个时间。")
    found = {m.name: m for m in ctx.session.exec(select(Member).where(col(Member.name).in_(names)))}
    unknown = [name for name in names if name not in found]
    if unknown:
        raise Refusal(f"花名册里没有：{'、'.join(unknown)[:60]}。请核对姓名后再发。")
    shift, _ = calendar.upsert_shift(
        ctx.session,
        start.astimezone(ctx.now.tzinfo),
        end.astimezone(ctx.now.tzinfo),
        place,
        [found[name].id for name in names],
        ctx.now,
        created_by=ctx.member.id,
    )
    return Reply(
        f"✅ 已安排值班：{calendar.span_text(shift.start_at, shift.end_at, ctx.services.timezone)} {shift.place}\n"
        f"值班党员：{'、'.join(names)}。他们会按时收到提醒。"
    )


def _when(ctx: Ctx, text: str) -> tuple[datetime, datetime]:
    parsed = parse_span(text, ctx.local(ctx.now).date(), ctx.services.timezone)
    if parsed is None:
        raise Refusal(f"没看懂这个时间。{WHEN_EXAMPLE}", ask_again=True)
    start, end, _ = parsed
    if start <= ctx.now:
        raise Refusal("这个时间已经过了，请换一个时间。", ask_again=True)
    return start.astimezone(ctx.now.tzinfo), end.astimezone(ctx.now.tzinfo)


def _branches(ctx: Ctx) -> list[str]:
    return sorted(set(ctx.session.exec(select(Member.branch).where(col(Member.branch).is_not(None)))))


def _draft(ctx: Ctx) -> dict:
    state = conversation.current(ctx.identity, ctx.now)
    return dict(state.data) if state is not None else {}


def _ask(ctx: Ctx, step: W | None, draft: dict | None) -> None:
    """Move the dialogue on (None: it is over)."""
    if step is None:
        conversation.end(ctx.identity)
    else:
        conversation.begin(ctx.identity, step, ctx.now, **(draft or {}))
