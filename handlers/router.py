"""One inbound in, replies out: inbox check, who is asking, which conversation — one transaction."""

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session

from handlers import (
    calendar,
    calendar_admin,
    common,
    department,
    emergency,
    extension,
    followup,
    member,
    resident,
    staff,
    stats,
    triage,
    web,
)
from handlers.classifier import Verdict, classify
from handlers.context import Ctx, Refusal, Services, parse_order_number
from handlers.intent import Kind, kind_of
from handlers.messages import Inbound, Reply
from storage import arrivals, calendar_buttons, consequences, conversation, inbox, orders, outbox, people
from storage.conversation import Waiting
from storage.db import transaction
from storage.models import Identity, Member, Resident
from storage.order_buttons import BadCallback, BuildingCb, OrderCb, RateCb, TriageCb, unpack

logger = logging.getLogger(__name__)

Handler = Callable[[Ctx, list[str]], list[Reply]]

COMMANDS: dict[str, Handler] = {
    "start": lambda ctx, _: common.start(ctx),
    "help": lambda ctx, _: common.help_command(ctx),
    "bind": common.bind_code,
    "my": lambda ctx, _: resident.my_orders(ctx),
    "status": resident.status,
    "cancel": resident.cancel,
    "tasks": lambda ctx, _: member.tasks(ctx),
    "mine": lambda ctx, _: member.mine(ctx),
    "done": member.done_command,
    "points": lambda ctx, _: member.my_points(ctx),
    "rank": lambda ctx, _: member.rank(ctx),
    "pending": lambda ctx, _: staff.pending(ctx),
    "dispatch": staff.dispatch,
    "escalate": staff.escalate,
    "close": staff.close,
    "stats": stats.stats,
    "bindgrid": staff.bind_grid,
    "bindstaff": lambda ctx, _: staff.bind_staff(ctx),
    "duty": calendar.duty,
    "sessions": calendar.sessions,
    "checkin": calendar.checkin_word,
    "newshift": calendar_admin.new_shift,
    "newsession": calendar_admin.new_session,
    "web": web.web_link,
    **department.COMMANDS,
    **extension.COMMANDS,
}
# Plain words that mean a command (WeChat has no slash commands; elderly users type words).
WORDS = {
    "领单": "claim",
    "绑定": "bind",
    "进度": "my",
    "我的工单": "my",
    "帮助": "help",
    "积分": "points",
    "撤销": "cancel",
    "值班": "duty",
    "学习": "sessions",
    "签到": "checkin",
    **department.WORDS,
    **extension.WORDS,
    "统计": "stats",
}

# What the bot is waiting for → the function that takes the answer (None: that was no answer).
ANSWERS: dict[Waiting, Callable[[Ctx, conversation.State], list[Reply] | None]] = {
    Waiting.BUILDING: resident.building_answer,
    Waiting.FINISH_PROOF: member.finish_proof,
    Waiting.RATING: resident.rating_answer,
    Waiting.LEAVE_REASON: calendar.leave_reason,
    Waiting.SAME_THING: resident.same_thing_answer,
    Waiting.PROBLEM: resident.problem_answer,
    Waiting.DANGER: emergency.danger_answer,
    **dict.fromkeys(calendar_admin.STEPS, calendar_admin.on_text),
    **department.ANSWERS,
    **extension.ANSWERS,
}
CANCEL_WORDS = {"取消", "算了", "不用了", "退出"}
# About the person alone: typed in a group, answered in their private chat.
PERSONAL_COMMANDS = {"my", "mine", "points", "status", "duty", "sessions", "web", "stats"}

BUSY = Reply("系统繁忙，请稍后再试。")
NOT_PERMITTED = "这个操作您没有权限。"


class ReadAhead(NamedTuple):
    """What a message's words are, by text, worked out before its transaction (Ctx keeps them)."""

    verdicts: dict[str, Verdict]
    kinds: dict[tuple[str, bool], Kind]  # by (text, read with follow-ups): Ctx.kind_of's


# Called with the replies just before the transaction commits (an adapter's last word in it).
BeforeCommit = Callable[[Session, list[Reply]], None]


def handle(
    services: Services, inbound: Inbound, deliver_held: bool = False, before_commit: BeforeCommit | None = None
) -> list[Reply]:
    """Process one update exactly once. A platform retry of it gets the answer given before, unless
    that answer was delivered already (inbox.mark_replied).

    `deliver_held`: the platform refuses some pushes (WeChat outside its 48 h window); notices it
    held back for this chat go in front of the answer, in the same transaction.

    The person's earlier update, still being handled by another process, goes first (storage/arrivals).
    """
    ahead = read_ahead(services, inbound)
    stop_waiting_at = time.monotonic() + arrivals.HOLD
    while True:
        try:
            wait = time.monotonic() < stop_waiting_at
            return _handle_in_turn(services, inbound, ahead, wait, deliver_held, before_commit)
        except arrivals.NotYourTurn:
            time.sleep(arrivals.POLL)


def _handle_in_turn(
    services: Services,
    inbound: Inbound,
    ahead: ReadAhead,
    wait: bool,
    deliver_held: bool,
    before_commit: BeforeCommit | None,
) -> list[Reply]:
    now = services.clock()
    turn = (services, inbound, now, wait, deliver_held, before_commit)
    try:
        return _in_one_transaction(*turn, lambda session, identity: _routed(session, services, inbound, identity, now, ahead))
    except _Refused as refused:  # that transaction rolled back whole; the refusal is answered in one of its own
        return _in_one_transaction(*turn, refused.answer)


def _in_one_transaction(
    services: Services,
    inbound: Inbound,
    now: datetime,
    wait: bool,
    deliver_held: bool,
    before_commit: BeforeCommit | None,
    answer: Callable[[Session, Identity], list[Reply]],
) -> list[Reply]:
    with transaction(services.engine) as session:
        arrivals.take_turn(session, inbound.platform, inbound.user_id, inbound.seq, wait)
        entry_id = inbox.first_sight(session, inbound.platform, inbound.message_key, now)
        if entry_id is None:
            logger.info("duplicate %s update %s dropped", inbound.platform, inbound.message_key)
            earlier = inbox.earlier_replies(session, inbound.platform, inbound.message_key, unless_delivered=True)
            return [Reply.from_payload(p) for p in earlier]
        identity = people.identity_for(
            session, inbound.platform, inbound.user_id, inbound.chat_id, inbound.display_name, now, private=not inbound.is_group
        )
        replies = answer(session, identity)
        if deliver_held:
            replies = [Reply.from_payload(p) for p in outbox.take_held(session, inbound.platform, inbound.chat_id, now)] + replies
        inbox.record_replies(session, entry_id, [reply.to_payload() for reply in replies])
        if before_commit is not None:
            before_commit(session, replies)
    return replies


def _routed(
    session: Session, services: Services, inbound: Inbound, identity: Identity, now: datetime, ahead: ReadAhead
) -> list[Reply]:
    ctx = Ctx(
        session,
        services,
        inbound,
        identity,
        now,
        member=_active(session.get(Member, identity.member_id)) if identity.member_id else None,
        resident=session.get(Resident, identity.resident_id) if identity.resident_id else None,
        verdicts=ahead.verdicts,
        kinds=ahead.kinds,
    )
    try:
        replies = route(ctx)
        consequences.publish(session, ctx.policy, ctx.services.timezone)
    except (Refusal, orders.NotPermitted) as refused:
        raise _Refused(refused, ctx.answering is not None, inbound.callback is not None) from None
    session.add(ctx.identity)
    return replies


class _Refused(Exception):
    """A refusal carried out of the update's transaction, which then rolls back whole: nothing the
    handler wrote stays. (A savepoint around every update cost each two statements and a flush;
    refusals are few.)"""

    def __init__(self, refused: Refusal | orders.NotPermitted, answering: bool, pressed: bool):
        super().__init__(str(refused))
        self.refusal = refused if isinstance(refused, Refusal) else Refusal(NOT_PERMITTED, alert=True)
        self.answering, self.pressed = answering, pressed  # a question was being answered; a button pressed

    def answer(self, _session: Session, identity: Identity) -> list[Reply]:
        if self.answering and not self.refusal.ask_again:
            conversation.end(identity)  # refused answers never leave the person stuck in the question
        return [Reply(self.refusal.text, alert=self.refusal.text if self.pressed else None)]


def read_ahead(services: Services, inbound: Inbound) -> ReadAhead:
    """Words that may be a report, classified before the transaction: the model's work (the costliest
    step of a report) then holds no write lock. Small talk, commands and buttons are not classified."""
    text = inbound.text.strip()
    if inbound.is_group or inbound.callback is not None or not text or inbound.command or text in CANCEL_WORDS:
        return ReadAhead({}, {})
    if _worded_command(text) is not None:
        return ReadAhead({}, {})
    kind = kind_of(text, services.acts)
    kinds = {(text, True): kind}
    if kind in followup.SMALL_TALK and kind != Kind.CHITCHAT:  # the chat model's guess is checked for danger
        return ReadAhead({}, kinds)
    return ReadAhead({text: classify(text, services.policy)}, kinds)


def route(ctx: Ctx) -> list[Reply]:
    inbound = ctx.inbound
    if inbound.callback is not None:
        return on_button(ctx, inbound.callback)
    if inbound.contact is not None:
        return common.bind_contact(ctx)
    if not inbound.is_group and _is_cancel(inbound):
        return stop_waiting(ctx)
    command = inbound.command or _worded_command(inbound.text)
    if command is not None:
        name, args = command
        if name == "claim":
            return member.claim(ctx, _first_number(args))
        handler = COMMANDS.get(name)
        if handler is None:
            raise Refusal("没有这个命令，发送 /help 查看可以用的命令。")
        if inbound.is_group and name in PERSONAL_COMMANDS:
            return [Reply("已私信回复您。"), *(replace(reply, private=True) for reply in handler(ctx, args))]
        return handler(ctx, args)
    if inbound.is_group:
        return []  # group chatter is not for the bot
    return on_private_message(ctx)


def stop_waiting(ctx: Ctx) -> list[Reply]:
    """「取消」 or a bare /cancel: whatever the bot was waiting for is over."""
    state = conversation.current(ctx.identity, ctx.now)
    conversation.end(ctx.identity)
    if state is None:
        return [Reply("好的。现在没有进行中的操作；要撤销工单请发「/cancel 工单号」。")]
    return [Reply("好的，已取消。有需要随时再找我。")]


def on_button(ctx: Ctx, data: str) -> list[Reply]:
    calendar_button = calendar_buttons.parse(data)
    if calendar_button is not None:
        return calendar.on_button(ctx, calendar_button)
    try:
        callback = unpack(data)
    except BadCallback:
        raise Refusal("这个按钮已失效，请重新操作。", alert=True) from None
    if isinstance(callback, RateCb):
        return resident.rate(ctx, callback.order_id, callback.stars)
    if isinstance(callback, BuildingCb):
        return resident.choose_building(ctx, callback.building_id)
    if isinstance(callback, TriageCb):
        return triage.on_button(ctx, callback)
    actions: dict[str, Callable[[Ctx, int], list[Reply]]] = {
        "claim": member.claim,
        "finish": member.ask_finish,
        "give_back": member.give_back,
        "skip": lambda c, n: member.finish(c, n),
        "chase": followup.chase,
        "same": followup.same_thing,
        "notsame": resident.not_same,
        "ack": emergency.acknowledge,
        "danger": emergency.in_danger,
        "safe": emergency.not_in_danger,
        "urgent": emergency.mark_urgent,
        **department.BUTTONS,
        **extension.BUTTONS,
    }
    assert isinstance(callback, OrderCb)
    action = actions.get(callback.action)
    if action is None:
        raise Refusal("这个按钮已失效，请重新操作。", alert=True)
    return action(ctx, callback.order_id)


def on_private_message(ctx: Ctx) -> list[Reply]:
    """Free text, photo or location: the answer to what the bot asked, else a resident's report."""
    state = conversation.current(ctx.identity, ctx.now)
    if state is not None:
        ctx.answering = state
        answered = ANSWERS[state.name](ctx, state)
        if answered is not None:
            return answered
        ctx.answering = None
    if ctx.member is not None and ctx.resident is None:
        return [Reply("您是党员身份，可以用这些命令：\n" + common.MEMBER_HELP)]
    return resident.report(ctx)


def _is_cancel(inbound: Inbound) -> bool:
    return inbound.text.strip() in CANCEL_WORDS or inbound.command == ("cancel", [])


def _worded_command(text: str) -> tuple[str, list[str]] | None:
    words = text.strip().split()
    if words and words[0] in WORDS:
        name = "status" if words[0] == "进度" and words[1:] else WORDS[words[0]]
        return name, words[1:]
    return None


def _active(member: Member | None) -> Member | None:
    """A member deactivated in the roster is no member any more: their words count as anyone's."""
    return member if member is not None and member.active else None


def _first_number(args: list[str]) -> int:
    if not args:
        raise Refusal("请带上工单号，例如：领单 128")
    return parse_order_number(args[0])
