"""Where a scheduler notice goes, and what it says: outbox rows, never a send.

Payloads have the shape of handlers.messages.Reply.to_payload (`text` and button rows), built here
from storage rows; scheduler/ does not import handlers/ (DESIGN.md: scheduler → storage).
"""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from scheduler.timing import remaining_text
from storage import calendar, recipients
from storage.calendar_buttons import SessionCb, ShiftCb
from storage.models import Shift, StudySession

logger = logging.getLogger(__name__)

MAX_NAMES = 30


payload = recipients.payload


def to_members(session: Session, member_ids: Iterable[int], key: Callable[[int], str], body: dict, now: datetime) -> int:
    """The same notice to each member, on the chat they used last, under each one's key."""
    return recipients.queue_each(session, member_ids, key, body, now)


def to_staff(session: Session, key: str, body: dict, now: datetime) -> int:
    """The staff group where one is bound, otherwise each staff member privately."""
    return recipients.queue(session, key, recipients.staff(session), body, now)


def to_leaders(session: Session, grid_id: int | None, key: str, body: dict, now: datetime) -> int:
    """The grid's leaders; the staff when the grid has none."""
    return recipients.queue(session, key, recipients.leaders(session, grid_id), body, now)


def names_text(names: list[str]) -> str:
    shown = "、".join(names[:MAX_NAMES])
    return shown + (f" 等{len(names)}人" if len(names) > MAX_NAMES else "") if names else "无"


# ---- what the notices say (pure) ------------------------------------------------------------


def shift_reminder(shift: Shift, tz: ZoneInfo, now: datetime) -> dict:
    text = (
        f"📅 值班提醒：{calendar.span_text(shift.start_at, shift.end_at, tz)} {shift.place}\n"
        f"{remaining_text(shift.start_at - now)}后开始，请点「收到」确认。"
    )
    return payload(text, [("✅ 收到", ShiftCb("ack", shift.id).pack()), ("🔁 申请换班", ShiftCb("swap", shift.id).pack())])


def unacked_alert(shift: Shift, names: list[str], tz: ZoneInfo) -> dict:
    return payload(
        f"⚠️ 值班未确认：{calendar.span_text(shift.start_at, shift.end_at, tz)} {shift.place}\n"
        f"{names_text(names)} 还没点「收到」，请联系确认。"
    )


def session_reminder(study: StudySession, tz: ZoneInfo, now: datetime) -> dict:
    where = f" {study.place}" if study.place else ""
    text = (
        f"📚 {study.kind}提醒：{study.title}\n{calendar.span_text(study.start_at, study.end_at, tz)}{where}\n"
        f"{remaining_text(study.start_at - now)}后开始。开始后点「签到」；来不了请点「请假」。"
    )
    return payload(text, [("✍️ 签到", SessionCb("checkin", study.id).pack()), ("🙏 请假", SessionCb("leave", study.id).pack())])


def session_open(study: StudySession, tz: ZoneInfo) -> dict:
    where = f"（{study.place}）" if study.place else ""
    return payload(
        f"🔔 {study.title}{where}现在开始，到场后请点「签到」。\n签到截止 {study.end_at.astimezone(tz):%H:%M}。",
        [("✍️ 签到", SessionCb("checkin", study.id).pack())],
    )


def attendance_report(study: StudySession, names: dict[str, list[str]], tz: ZoneInfo) -> dict:
    return payload(
        f"📋 {study.title}（{calendar.span_text(study.start_at, study.end_at, tz)}）签到情况\n"
        f"出席 {len(names['present'])}：{names_text(names['present'])}\n"
        f"请假 {len(names['leave'])}：{names_text(names['leave'])}\n"
        f"缺席 {len(names['absent'])}：{names_text(names['absent'])}"
    )
