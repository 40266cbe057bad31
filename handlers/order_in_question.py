"""Which of a resident's orders a message is about, and as what — or none: a new report.

The evidence is weighed here, in one order; the first that places the message decides:

1. chat (the chat model's) that the follow-up model places while an order is open or just done ("我下午两点以后都
   在家"): heard as a report, so on to 2–5; else it stays chat (nothing with it) or goes on to 2 (a photo with it);
2. a follow-up phrase (handlers/intent.py: 催办, 补充, 没解决, 已经好了) — or any words beside a photo, a place
   or a voice — on an order it can be about (`_follow_up`);
3. within followup.ADD_WINDOW of a report: a photo, a place, or words of its category that name no other thing (补充);
4. the follow-up model's act, when it is sure (`_follow_up` again, its category check skipped);
5. words that name the open order's thing (or its category), and no other building or unit (补充);
6. trouble named of the thing of an order just done, tied to the job or in a few words, no other building or unit:
   the job did not hold (返工).

A follow-up's phrase that finds no order to follow is chat (CHAT) when it is good news beside no trouble
("谢谢你们上次修好了路灯"), or when the words read as chat without it.

Danger happening now (an emergency pattern) is about no order (but a photo or a place just after a report):
it is filed and alarmed. Reading only; handlers/resident.py makes the move the answer names
(handlers/followup.py).
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from handlers import acts, followup
from handlers.context import Ctx
from handlers.intent import (
    Kind,
    good_news_only,
    keeps_on,
    letters_and_digits,
    mentions_trouble,
    names_other_things,
    refers_back,
    things_named,
)
from storage.models import Order

DESCRIBES_A_PROBLEM = 16  # characters: shorter follow-ups ("都三天了", "是3单元不是2单元") name no new problem
FOLLOW_UP_SURE = 0.5  # the follow-up model moves an order only this sure (chosen leaving each set out)
SAYS_NOT_DONE = re.compile(r"没|不|莫")  # "还没人来", "人不来": the job was not done
NUMBERED_PLACE = re.compile(r"[0-9一二三四五六七八九十两]+(号楼|栋|幢|单元)")
CHAT: Literal["chat"] = "chat"  # the answer for chat that no follow-up reading claims: answered as small talk


class Move(StrEnum):
    """What the message asks of the order."""

    CHASE = "chase"  # 催办 (with several open: which one?)
    AMEND = "amend"  # 补充: the words, photo or place go onto it
    REOPEN = "reopen"  # 没解决 once done: 返工
    WITHDRAW = "withdraw"  # 已经好了 while open: cancelled (a followed one is left to its reporter)
    RATE = "rate"  # 已经好了 once done: the rating is what is missing
    ASK_IF_SOLVED = "ask_if_solved"  # 怎么样了 once done: told it is done, asked whether it is solved


class Why(StrEnum):
    """The evidence that placed the message (for reading the code and the logs)."""

    PHRASE = "phrase"  # handlers/intent.py's follow-up phrase, or words beside a photo, a place or a voice
    JUST_REPORTED = "just_reported"  # sent within ADD_WINDOW of the report
    MODEL = "model"  # the follow-up model's act
    ITS_THING = "its_thing"  # names the open order's thing or category


@dataclass(frozen=True)
class OrderInQuestion:
    order: Order
    move: Move
    why: Why
    among: tuple[Order, ...] = ()  # a chase with several open orders: the ones to choose from


def order_in_question(ctx: Ctx, kind: Kind, text: str) -> OrderInQuestion | Literal["chat"] | None:
    """The order a registered resident's message is about and the move it asks for; CHAT: chat after all;
    None: a new report. `kind`: handlers.intent's reading (danger named already read as a report)."""
    modelled = _modelled_kind(ctx, text) if kind == Kind.CHITCHAT else None
    if modelled is not None:
        kind = Kind.REPORT  # "我下午两点以后都在家" while an order is open: about the job, not chat
    elif kind == Kind.CHITCHAT and not _brought_something(ctx):
        return CHAT
    if kind != Kind.REPORT:
        found = _follow_up(ctx, kind, text, Why.PHRASE)
        if found is not None:
            return found
        if not _brought_something(ctx) and _chat_after_all(ctx, kind, text):
            return CHAT
    recent = followup.newest_open(ctx) if _belongs_to_recent(ctx, text) else None
    if recent is not None:
        return OrderInQuestion(recent, Move.AMEND, Why.JUST_REPORTED)
    if kind != Kind.REPORT or not text:
        return None
    if modelled is None:
        modelled = _modelled_kind(ctx, text)
    found = _follow_up(ctx, modelled, text, Why.MODEL, modelled=True) if modelled is not None else None
    if found is not None:
        return found
    order = _about_its_thing(ctx, text)  # "堆的位置就在电表箱下面": where their rubbish is, not a new alarm
    if order is not None:
        return OrderInQuestion(order, Move.AMEND, Why.ITS_THING)
    done = _its_thing_again(ctx, text)  # "上周刚清的 这礼拜又成垃圾场了": the job did not hold
    return OrderInQuestion(done, Move.REOPEN, Why.ITS_THING) if done is not None else None


def _follow_up(ctx: Ctx, kind: Kind, text: str, why: Why, modelled: bool = False) -> OrderInQuestion | None:
    """The follow-up `kind` on the resident's order; None when there is no order it could be about (or the
    words are an emergency: that is filed, however it is worded). `modelled`: the follow-up model named the
    kind, having read the words whole; only another thing named makes them a new report."""
    if ctx.resident is None or ctx.urgent_by_pattern(text):
        return None
    done = followup.recently_done(ctx)
    if done is not None and kind != Kind.RESOLVED and about_something_else(ctx, done, text, modelled):
        done = None
    if kind == Kind.NOT_FIXED and done is not None:
        return OrderInQuestion(done, Move.REOPEN, why)
    # "已经不吵了" describes no problem at all: whatever category its words name, it is about their order.
    mine = [o for o in followup.open_orders(ctx) if kind == Kind.RESOLVED or not about_something_else(ctx, o, text, modelled)]
    if not mine:
        return _about_a_done_order(kind, done, text, why) if done is not None else None
    if kind == Kind.NOT_FIXED and _modelled_act(ctx, text) == Kind.ADD:  # "还在漏 比昨天还大": it got worse, a detail
        return OrderInQuestion(mine[0], Move.AMEND, why)
    if kind in (Kind.CHASE, Kind.NOT_FIXED):  # "还是不行" while it is being done: hurry it up
        return OrderInQuestion(mine[0], Move.CHASE, why, among=tuple(mine[:5]))
    if kind == Kind.RESOLVED:
        return OrderInQuestion(mine[0], Move.WITHDRAW, why)
    return OrderInQuestion(mine[0], Move.AMEND, why)


def _about_a_done_order(kind: Kind, done: Order, text: str, why: Why) -> OrderInQuestion | None:
    """Chasing a job called done: "怎么还没人来" says it was not done (返工); "怎么样了" asks, and is
    told it is done and asked to rate. 已经好了: the rating is what is missing."""
    if kind == Kind.CHASE and SAYS_NOT_DONE.search(letters_and_digits(text)):
        return OrderInQuestion(done, Move.REOPEN, why)
    if kind == Kind.CHASE:
        return OrderInQuestion(done, Move.ASK_IF_SOLVED, why)
    return OrderInQuestion(done, Move.RATE, why) if kind == Kind.RESOLVED else None


def about_something_else(ctx: Ctx, order: Order, text: str, modelled: bool = False) -> bool:
    """The words name a problem of another category, or another thing: a new report, not a follow-up
    ("楼道灯好几天不亮了" chases nothing of an order about rubbish, "我家暖气不热 什么时候能修" nothing of
    one about a lift) — unless the resident ties them to an earlier job ("上次报的电梯", "补充", "没修好",
    "还是松的"): the order's category is a guess too."""
    if refers_back(text):
        return False
    if names_other_things(text, order.text):
        return True
    if keeps_on(text) or modelled:  # "能不能快点 老人在家等着": a chase, whatever category its words suggest
        return False
    if len(text) < DESCRIBES_A_PROBLEM:  # the category model is sure of anything on a few words: the things named decide
        return False
    if not mentions_trouble(text):  # "我下午都在家 来了可以敲门": no problem of another kind, whatever its category
        return False
    verdict = ctx.classify(text)
    return verdict.confidence >= ctx.policy.confidence_threshold and verdict.category not in (order.category, "other")


def _modelled_kind(ctx: Ctx, text: str) -> Kind | None:
    """No phrase rule matched: the follow-up model's act (handlers/acts.py), when the resident has an order
    it could be about and the model is sure ("周六周日都在 工作日要晚上七点以后": a detail for the visit).
    None: a new report."""
    if ctx.resident is None or ctx.urgent_by_pattern(text):
        return None
    if not followup.open_rows(ctx) and followup.recently_done(ctx) is None:
        return None
    return _modelled_act(ctx, text)


def _modelled_act(ctx: Ctx, text: str) -> Kind | None:
    act, probability = acts.follow_up_act(letters_and_digits(text), ctx.services.acts)
    return Kind(act) if act != acts.REPORT and probability >= FOLLOW_UP_SURE else None


def _belongs_to_recent(ctx: Ctx, text: str) -> bool:
    """Right after a report, a photo or a place belongs to it (补充 words were taken as a follow-up
    already); so do words of the same category, or that name no category with confidence — unless they
    name another thing, or an emergency ("那堆垃圾着火了": filed, and the alarm raised)."""
    if ctx.inbound.photo or ctx.inbound.location:
        return True
    if not text or ctx.urgent_by_pattern(text):
        return False
    recent = followup.recent_report(ctx)
    if recent is None or names_other_things(text, recent.text):
        return False
    verdict = ctx.classify(text)
    return verdict.category == recent.category or verdict.confidence < ctx.policy.confidence_threshold


def _about_its_thing(ctx: Ctx, text: str) -> Order | None:
    """Words no phrase or model placed, from a resident whose own order is open, that name its thing (or its
    category and no other thing) and no other building or unit: a detail of that order (补充) — never a second
    order, nor an alarm. Danger happening now (fire, gas, someone hurt: the emergency patterns) is filed and
    alarmed instead. Once done, the same words may be the thing come back: a new order, unless a phrase says
    the job was not done."""
    if ctx.resident is None or ctx.urgent_by_pattern(text):
        return None
    order = followup.newest_own_open(ctx)
    if order is None or not _names_its_thing(ctx, text, order) or _another_place(text, order.text):
        return None
    return order


def _its_thing_again(ctx: Ctx, text: str) -> Order | None:
    """Trouble named of the thing of an order of theirs done within its `rate_within`, in words tied to that job or
    too few to be a report ("前天才清的 今天又堆成山了"), and no other building or unit: the job did not hold (返工). A
    full report of the thing come back ("2单元楼道里堆满了垃圾，好几天没人清理了" again) is a new order: the claimer
    did the job. Never danger happening now."""
    if not (refers_back(text) or len(text) < DESCRIBES_A_PROBLEM):
        return None
    if ctx.urgent_by_pattern(text) or not mentions_trouble(text) or followup.newest_own_open(ctx) is not None:
        return None
    done = followup.recently_done(ctx)
    if done is None or not _names_its_thing(ctx, text, done) or _another_place(text, done.text):
        return None
    return done


def _names_its_thing(ctx: Ctx, text: str, order: Order) -> bool:
    named = things_named(text)
    if named:
        return bool(named & things_named(order.text))
    verdict = ctx.classify(text)
    return verdict.category == order.category and verdict.confidence >= ctx.policy.confidence_threshold


def _another_place(text: str, earlier: str) -> bool:
    """A building or a unit the order does not name ("3号楼也堆满了"): somewhere else, a report of its own."""
    return any(match.group() not in earlier for match in NUMBERED_PLACE.finditer(letters_and_digits(text)))


def _chat_after_all(ctx: Ctx, kind: Kind, text: str) -> bool:
    """A follow-up's words that found no order to follow: good news ("谢谢你们上次修好了路灯", "楼下已经不吵了"),
    or chat once read as from someone with no order ("孙女教我用手机发表情包": 手机 is a detail only for a visit)."""
    if ctx.may_be_danger(text):
        return False
    if kind == Kind.RESOLVED and good_news_only(text):
        return True
    return ctx.kind_of(text, follow_ups=False) in (Kind.SMALL_TALK, Kind.CHITCHAT)


def _brought_something(ctx: Ctx) -> bool:
    return bool(ctx.inbound.photo or ctx.inbound.location or ctx.inbound.voice)
