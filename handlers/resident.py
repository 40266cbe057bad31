"""Residents: register by building, report (群众点单), follow, cancel and rate (群众评议)."""

import logging
import unicodedata
from dataclasses import replace

from sqlmodel import col, select

from handlers import emergency, followup, triage, unclear
from handlers.classifier import UNSURE, URGENT, Verdict
from handlers.context import Ctx, Refusal, parse_order_number
from handlers.intent import Kind
from handlers.messages import Reply, buttons
from handlers.order_in_question import CHAT, Move, OrderInQuestion, order_in_question
from storage import audit, conversation, order_cards, orders, people
from storage.conversation import Waiting
from storage.models import Building, Member, Order, Resident
from storage.models import OrderStatus as S
from storage.order_buttons import BuildingCb

logger = logging.getLogger(__name__)

MAX_TEXT = 1000
VOICE_TEXT = "（语音留言，请工作人员收听）"
REOPEN_AT_STARS = 2  # a rating this low means "not fixed": 返工 instead of closing
CHAT_OR_REPORT = "😊 谢谢您跟我们说这些。要是有需要社区帮忙的事，请说说是什么问题、在哪里，我马上为您登记。"
SAY_MORE = "请说说是什么问题、在哪里？说具体一点，我马上为您登记。也可以发照片或位置。"
UNHEARD = Verdict("other", "小事", 0.0, "0")  # a voice message no one has read yet: the staff triage it


def ask_building(ctx: Ctx, greeting: str = "") -> Reply:
    """Offers the buildings as buttons; the answer registers the resident."""
    conversation.begin(ctx.identity, Waiting.BUILDING, ctx.now)
    rows = [[(b.name, BuildingCb(b.id).pack()) for b in chunk] for chunk in _chunks(people.buildings(ctx.session), 3)]
    intro = greeting or f"您好，这里是{ctx.policy.community_name}服务助手。"
    return Reply(f"{intro}请问您住哪栋楼？点下面的按钮，或直接回复楼号。", buttons(*rows))


def choose_building(ctx: Ctx, building_id: int | None = None, typed: str = "") -> list[Reply]:
    """Stores the resident's building; submits what they wrote before registering, if anything."""
    building = ctx.session.get(Building, building_id) if building_id else _building_named(ctx, typed)
    if building is None:
        raise Refusal("没找到这栋楼，请点按钮选择，或回复楼号（例如：1号楼）。")
    resident = ctx.resident or Resident(name=ctx.identity.display_name or "居民")
    moved_from = resident.building_id
    resident.building_id = building.id
    ctx.session.add(resident)
    ctx.session.flush()
    audit.record(
        ctx.session,
        "resident",
        resident.id,
        f"identity:{ctx.identity.id}",
        "moved" if moved_from else "registered",
        ctx.now,
        note=f"{building.name} (building:{building.id})",
    )
    ctx.identity.resident_id = resident.id
    conversation.end(ctx.identity)
    ctx.resident = resident
    replies = [Reply(f"好的，已登记：{building.name}。有什么需要帮忙的，直接发文字、照片或位置给我就行。")]
    if not resident.phone:
        replies.append(Reply("方便的话点下面「📱 分享手机号」，领单党员上门前会先联系您（不留也可以）。", ask_contact=True))
    draft = ctx.identity.draft or {}
    if draft.get("text") or draft.get("voice"):
        replies.append(submit_order(ctx))
    return replies


def building_answer(ctx: Ctx, _state: conversation.State) -> list[Reply] | None:
    """A typed building name after the question; None when it is not one (then it is a report)."""
    typed = ctx.inbound.text.strip()
    if not typed or len(typed) > 10 or _building_named(ctx, typed) is None:
        return None
    return choose_building(ctx, typed=typed)


def report(ctx: Ctx, asked: bool = False) -> list[Reply]:
    """A resident's free text, photo, location or voice: small talk, a follow-up on their order, or a
    report — a new order, or a draft awaiting words. `asked`: the bot asked what the problem is, so
    these words are the report, however few."""
    inbound = ctx.inbound
    text = inbound.text.strip()
    if len(text) > MAX_TEXT:
        raise Refusal(f"内容太长了（{len(text)} 字），请精简到 {MAX_TEXT} 字以内再发。")
    registered = ctx.resident is not None and ctx.resident.building_id is not None
    kind = ctx.kind_of(text) if text else (Kind.SMALL_TALK if inbound.sticker else Kind.REPORT)
    if kind == Kind.SMALL_TALK and ctx.urgent_by_pattern(text):
        kind = Kind.REPORT  # danger named is never small talk
    if kind == Kind.CHITCHAT and (asked or ctx.may_be_danger(text)):
        kind = Kind.REPORT  # nor the chat model's guess on what answers "what is the problem?", or on what may be danger
    brought = inbound.photo or inbound.location or inbound.voice
    if kind in followup.SMALL_TALK and not brought and not (kind == Kind.CHITCHAT and registered):
        return _small_talk(ctx, kind, text, registered)
    question = order_in_question(ctx, kind, text) if registered else None  # reads only: nothing moved yet
    if question == CHAT:
        return _small_talk(ctx, kind if kind in followup.SMALL_TALK else ctx.kind_of(text, follow_ups=False), text, registered)
    if text and not _has_words(text):
        raise Refusal("没看懂您的意思，请用文字说一下遇到了什么问题。")
    if question is not None:
        return _answer_about(ctx, question)
    if not asked and unclear.says_too_little(ctx, text):
        return ask_what_the_problem_is(ctx, text, registered)
    if not asked and unclear.reads_as_chat(ctx, text):
        return [Reply(CHAT_OR_REPORT)]
    draft = dict(ctx.identity.draft or {})
    if inbound.photo:
        draft["photos"] = [*draft.get("photos", []), inbound.photo]
    if inbound.location:
        draft["location"] = list(inbound.location)
    if inbound.voice:
        draft["voice"] = inbound.voice
    if text:
        draft["text"] = (draft.get("text", "") + "\n" + text).strip()
    ctx.identity.draft = draft
    if not registered:
        return [ask_building(ctx, "收到，请先告诉我您住哪栋楼，登记后马上为您受理。")]
    if not draft.get("text") and not draft.get("voice"):
        return [Reply("收到。请再用一句话说说是什么问题，我马上为您登记。")]
    return [submit_order(ctx)]


def _small_talk(ctx: Ctx, kind: Kind, text: str, registered: bool) -> list[Reply]:
    answer = followup.small_talk(ctx, kind, text)
    if kind == Kind.OPENER and registered:
        conversation.begin(ctx.identity, Waiting.PROBLEM, ctx.now)
    return answer if registered else [*answer, ask_building(ctx, "先告诉我您住哪栋楼吧。")]


def _answer_about(ctx: Ctx, question: OrderInQuestion) -> list[Reply]:
    """The move the message asks of the order it is about (handlers/order_in_question.py)."""
    order, text = question.order, ctx.inbound.text.strip()
    logger.debug("order %s in question: %s (%s)", order.id, question.move, question.why)
    if question.move == Move.AMEND:
        return followup.amend(ctx, order, note=text or None)
    if question.move == Move.REOPEN:
        return followup.reopen(ctx, order, text[:60])
    if question.move == Move.CHASE:
        return followup.chase_which(ctx, question.among) if len(question.among) > 1 else followup.chase(ctx, order.id)
    if question.move == Move.WITHDRAW:
        return followup.withdraw(ctx, order)
    if question.move == Move.ASK_IF_SOLVED:
        return followup.ask_if_solved(ctx, order)
    return followup.rate_instead(ctx, order)  # Move.RATE


def ask_what_the_problem_is(ctx: Ctx, text: str, registered: bool) -> list[Reply]:
    """Unclear words: with an order in progress they are most likely about it (added for its claimer to
    read); otherwise kept, and the resident asked what the problem is — the next words are the report."""
    ongoing = followup.newest_own_open(ctx) if registered else None
    if ongoing is not None:
        return followup.amend(ctx, ongoing, note=text)
    if registered:
        ctx.identity.draft = {**(ctx.identity.draft or {}), "text": text}
        conversation.begin(ctx.identity, Waiting.PROBLEM, ctx.now)
    return [Reply(SAY_MORE)]


def problem_answer(ctx: Ctx, _state: conversation.State) -> list[Reply] | None:
    """The words after "请说说是什么问题": the report, filed without asking again. Small talk by the rules is no
    answer (it is answered as such, and the question stands); the chat model's guess is (asked, "院子里" answers)."""
    inbound = ctx.inbound
    text = inbound.text.strip()
    kind = ctx.kind_of(text) if text else None
    if kind in followup.SMALL_TALK and kind != Kind.CHITCHAT and not (inbound.photo or inbound.location or inbound.voice):
        return None
    conversation.end(ctx.identity)
    return report(ctx, asked=True)


def same_thing_answer(ctx: Ctx, state: conversation.State) -> list[Reply] | None:
    """Typed 是 / 不是 (WeChat) to "是不是和 #n 同一件事？": the same as the buttons."""
    typed = ctx.inbound.text.strip().rstrip("。！!")
    if typed in ("是", "是的", "对", "对的", "一样", "同一件事", "是同一件事"):
        return followup.same_thing(ctx, state.number("order_id"))
    if typed in ("不是", "不对", "不一样", "另一个问题", "不是同一件事"):
        return not_same(ctx, state.number("order_id"))
    return None


def not_same(ctx: Ctx, _order_id: int) -> list[Reply]:
    """不是: file the report held back for the question."""
    conversation.end(ctx.identity)
    if not (ctx.identity.draft or {}).get("text"):
        raise Refusal("请再发一次您要反映的问题。")
    return [submit_order(ctx, check_same=False)]


def submit_order(ctx: Ctx, check_same: bool = True) -> Reply:
    """Turns the draft into an order: triage, then to the grid group or to staff. A neighbour's open
    order of the same category in the building is offered first ("同一件事？")."""
    draft = ctx.identity.draft or {}
    resident = ctx.resident
    verdict = _heard_urgency(ctx, ctx.classify(draft["text"])) if draft.get("text") else UNHEARD
    earlier = followup.same_open_order(ctx, verdict.category) if check_same and not verdict.urgent else None
    if earlier is not None and verdict.category != "other":
        return followup.offer_same(ctx, earlier)
    ctx.identity.draft = None
    ctx.around = None  # a new open order of theirs
    location = draft.get("location") or [None, None]
    building = ctx.session.get(Building, resident.building_id)
    grid = people.grid_of_building(ctx.session, building)
    order = orders.submit(
        ctx.session,
        Order(
            resident_id=resident.id,
            building_id=resident.building_id,
            grid_id=grid.id if grid else None,
            category=verdict.category,
            tier=verdict.tier,
            confidence=verdict.confidence,
            urgent=verdict.urgency == URGENT,
            emergency=verdict.emergency,
            alerted_at=ctx.now if verdict.urgency == URGENT else None,
            danger_asked_at=ctx.now if verdict.urgency == UNSURE else None,
            text=draft.get("text") or VOICE_TEXT,
            photos=draft.get("photos", []),
            latitude=location[0],
            longitude=location[1],
            voice=draft.get("voice"),
            origin_platform=ctx.inbound.platform,
        ),
        ctx.resident_actor,
        ctx.now,
        via=ctx.inbound.platform,
    )
    logger.info(
        "order %s submitted: %s %s conf=%.2f urgency=%s %s",
        order.id,
        order.category,
        order.tier,
        verdict.confidence,
        verdict.urgency,
        verdict.emergency or "",
    )
    if verdict.urgency == URGENT:
        return emergency.urgent_reply(ctx, order)
    if verdict.urgency == UNSURE:
        return emergency.ask_danger(ctx, order)
    return triage.route_new_order(ctx, order)


def _heard_urgency(ctx: Ctx, verdict: Verdict) -> Verdict:
    """The urgency model alone (no emergency pattern) on the words of a resident with an order open or just done
    is asked about, not alarmed: their words are mostly about that job ("我下午都在家 来了可以敲门 302") and the
    model guesses on them. A pattern (fire, gas, someone hurt) still raises the alarm at once."""
    text = (ctx.identity.draft or {}).get("text", "")
    if verdict.urgency != URGENT or verdict.emergency or ctx.urgent_by_pattern(text):
        return verdict
    if not followup.open_rows(ctx) and followup.recently_done(ctx) is None:
        return verdict
    return replace(verdict, urgency=UNSURE)


def my_orders(ctx: Ctx) -> list[Reply]:
    resident = _require_resident(ctx)
    rows = list(ctx.session.exec(select(Order).where(Order.resident_id == resident.id).order_by(col(Order.id).desc()).limit(10)))
    if not rows:
        return [Reply("您还没有提交过工单。有什么需要帮忙的，直接发文字给我就行。")]
    return [
        Reply(
            "您最近的工单：\n"
            + "\n".join(order_cards.status_line(o, ctx.policy, _claimer_name(ctx, o)) for o in rows)
            + "\n查看详情：/status 工单号"
        )
    ]


def status(ctx: Ctx, args: list[str]) -> list[Reply]:
    if not args:
        raise Refusal("请带上工单号，例如：/status 128")
    order = _visible_order(ctx, parse_order_number(args[0]))
    lines = [
        order_cards.status_line(order, ctx.policy, _claimer_name(ctx, order)),
        f"提交于 {ctx.local(order.created_at):%m月%d日 %H:%M}",
    ]
    for event in orders.history(ctx.session, order.id)[1:]:
        lines.append(f"{ctx.local(event.at):%m-%d %H:%M} {order_cards.STATUS_NAMES.get(S(event.to_status), event.to_status)}")
    return [Reply("\n".join(lines))]


def cancel(ctx: Ctx, args: list[str]) -> list[Reply]:
    _require_resident(ctx)
    if not args:
        raise Refusal("请带上要撤销的工单号，例如：/cancel 128")
    order = _own_order(ctx, parse_order_number(args[0]))
    try:
        ctx.move(order, "cancel", as_resident=True, closed_at=ctx.now)
    except orders.IllegalTransition:
        raise Refusal(f"工单 #{order.id} 现在是「{order_cards.status_name(order)}」，不能撤销了。") from None
    return [Reply(f"工单 #{order.id} 已撤销。有需要随时再找我们。")]


def rating_answer(ctx: Ctx, state: conversation.State) -> list[Reply] | None:
    """A typed 1–5 after the rating request (WeChat has no buttons); None: not a rating."""
    typed = ctx.inbound.text.strip()
    if typed not in {"1", "2", "3", "4", "5"}:
        return None
    return rate(ctx, state.number("order_id"), int(typed))


def rate(ctx: Ctx, order_id: int, stars: int) -> list[Reply]:
    """Closes a finished order with the resident's stars; the claimer's points follow from the move."""
    order = _own_order(ctx, order_id, followed=True)
    if stars <= REOPEN_AT_STARS and order.status == S.DONE:
        return followup.reopen(ctx, order, orders.rating_note(stars))
    try:
        ctx.move(order, "rate", as_resident=True, rating=stars, closed_at=ctx.now)
    except orders.IllegalTransition:
        if order.rating:
            raise Refusal(f"工单 #{order.id} 已经评价过了（{order.rating}⭐），谢谢您！", alert=True) from None
        raise Refusal(f"工单 #{order.id} 还没办结，办结后再请您评价。", alert=True) from None
    return [Reply("谢谢您的评价！有事随时找我们。")]


def _require_resident(ctx: Ctx) -> Resident:
    if ctx.resident is None:
        raise Refusal("您还没有登记住址，发送 /start 先登记一下。")
    return ctx.resident


def _own_order(ctx: Ctx, order_id: int, followed: bool = False) -> Order:
    """An order the resident reported (or follows, with `followed`): a member who is also a resident
    acts on theirs as a resident."""
    order = orders.get(ctx.session, order_id)
    mine = (
        order is not None
        and ctx.resident is not None
        and (order.resident_id == ctx.resident.id or (followed and ctx.follows(order)))
    )
    if not mine:
        raise Refusal(f"没有找到您的工单 #{order_id}，请核对编号，或发送 /my 查看您的工单。", alert=True)
    return order


def _visible_order(ctx: Ctx, order_id: int) -> Order:
    """Residents see their own orders; members and staff see any."""
    order = orders.get(ctx.session, order_id)
    if order is None or (ctx.member is None and (ctx.resident is None or order.resident_id != ctx.resident.id)):
        raise Refusal(f"没有找到工单 #{order_id}，请核对编号，或发送 /my 查看您的工单。", alert=True)
    return order


def _claimer_name(ctx: Ctx, order: Order) -> str | None:
    claimer = ctx.session.get(Member, order.claimer_id) if order.claimer_id else None
    return claimer.name if claimer else None


def _building_named(ctx: Ctx, typed: str) -> Building | None:
    wanted = typed.strip().replace("栋", "号楼").replace(" ", "")
    if wanted.isdigit():
        wanted += "号楼"
    return next((b for b in people.buildings(ctx.session) if b.name == wanted), None)


def _has_words(text: str) -> bool:
    """False for emoji-only, punctuation-only or number-only messages ("3" is a missed button, not a report)."""
    return any(unicodedata.category(ch)[0] == "L" for ch in text)


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]
