"""The members' calendar: duty shifts (值班) and study sessions (三会一课、主题党日).

Every change (ack, swap, leave, check-in, absent) is a compare-and-set write plus a
CalendarEvent audit row, in the caller's transaction.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage import outbox
from storage.db import insert_many_if_new
from storage.models import (
    Attendance,
    CalendarEvent,
    Identity,
    Member,
    OutboxMessage,
    OutboxState,
    Shift,
    ShiftMember,
    ShiftSwap,
    StudySession,
)
from storage.types import utcnow

logger = logging.getLogger(__name__)

SESSION_KINDS = ("支部党员大会", "支委会", "党小组会", "党课", "主题党日")
PRESENT, LEAVE, ABSENT = "present", "leave", "absent"


class CalendarError(Exception):
    """A calendar move that is not possible now; the text is for the person."""


# ---- display helpers (pure) -------------------------------------------------------------


def span_text(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """`11月23日 08:30–12:00` in the community's time zone."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    tail = f"{b:%H:%M}" if a.date() == b.date() else f"{b.month}月{b.day}日 {b:%H:%M}"
    return f"{a.month}月{a.day}日 {a:%H:%M}–{tail}"


def is_open(study: StudySession, now: datetime) -> bool:
    return study.start_at <= now < study.end_at


# ---- audit --------------------------------------------------------------------------------


def audit(
    session: Session, kind: str, ref_id: int, member_id: int | None, action: str, now: datetime, note: str | None = None
) -> None:
    session.add(CalendarEvent(kind=kind, ref_id=ref_id, member_id=member_id, action=action, note=note, at=now))


def events(session: Session, kind: str, ref_id: int) -> list[CalendarEvent]:
    return list(
        session.exec(
            select(CalendarEvent).where(CalendarEvent.kind == kind, CalendarEvent.ref_id == ref_id).order_by(CalendarEvent.id)
        )
    )


# ---- shifts -------------------------------------------------------------------------------


def upsert_shift(
    session: Session,
    start: datetime,
    end: datetime,
    place: str,
    member_ids: Iterable[int],
    now: datetime,
    created_by: int | None = None,
) -> tuple[Shift, bool]:
    """A shift by (start, place): created, or its end and members brought up to date. True if changed."""
    shift = session.exec(select(Shift).where(Shift.start_at == start, Shift.place == place)).first()
    changed = shift is None
    if shift is None:
        shift = Shift(start_at=start, end_at=end, place=place, created_by=created_by, created_at=now)
        session.add(shift)
        session.flush()
        audit(session, "shift", shift.id, created_by, "created", now)
    elif shift.end_at != end:
        shift.end_at, changed = end, True
        session.add(shift)
        audit(session, "shift", shift.id, created_by, "updated", now, note=f"end {end.isoformat()}")
    wanted = list(dict.fromkeys(member_ids))
    present = {row.member_id: row for row in shift_rows(session, shift.id)}
    for member_id in wanted:
        if member_id not in present:
            session.add(ShiftMember(shift_id=shift.id, member_id=member_id))
            audit(session, "shift", shift.id, member_id, "member_added", now)
            changed = True
    for member_id, row in present.items():
        if member_id not in wanted:
            session.delete(row)
            audit(session, "shift", shift.id, member_id, "member_removed", now)
            changed = True
    session.flush()
    return shift, changed


def shift_rows(session: Session, shift_id: int) -> list[ShiftMember]:
    return list(session.exec(select(ShiftMember).where(ShiftMember.shift_id == shift_id).order_by(ShiftMember.id)))


def next_shifts(session: Session, member_id: int, now: datetime, limit: int = 5) -> list[tuple[Shift, ShiftMember]]:
    rows = session.exec(
        select(Shift, ShiftMember)
        .join(ShiftMember, ShiftMember.shift_id == Shift.id)
        .where(ShiftMember.member_id == member_id, Shift.end_at > now, col(Shift.active).is_(True))
        .order_by(Shift.start_at)
        .limit(limit)
    )
    return list(rows)


def shifts_between(session: Session, lo: datetime, hi: datetime) -> list[Shift]:
    return list(
        session.exec(
            select(Shift).where(Shift.start_at >= lo, Shift.start_at <= hi, col(Shift.active).is_(True)).order_by(Shift.start_at)
        )
    )


def ack_shift(session: Session, shift_id: int, member_id: int, now: datetime) -> bool:
    """收到: True the first time; False if already acknowledged. CalendarError if not on the shift."""
    row = session.exec(select(ShiftMember).where(ShiftMember.shift_id == shift_id, ShiftMember.member_id == member_id)).first()
    if row is None:
        raise CalendarError("这个班次里没有您，可能已换班。发送 /duty 查看您的值班。")
    result = session.execute(
        update(ShiftMember).where(ShiftMember.id == row.id, ShiftMember.acked_at.is_(None)).values(acked_at=now)
    )
    if result.rowcount != 1:
        return False
    audit(session, "shift", shift_id, member_id, "ack", now)
    return True


def request_swap(session: Session, shift_id: int, member_id: int, now: datetime) -> tuple[ShiftSwap, bool]:
    """申请换班: the open request of this member for this shift (made once). True if new."""
    shift = session.get(Shift, shift_id)
    on_shift = session.exec(
        select(ShiftMember.id).where(ShiftMember.shift_id == shift_id, ShiftMember.member_id == member_id)
    ).first()
    if shift is None or on_shift is None:
        raise CalendarError("这个班次里没有您，可能已换班。发送 /duty 查看您的值班。")
    if shift.start_at <= now:
        raise CalendarError("这个班已经开始了，不能再换班。")
    existing = session.exec(
        select(ShiftSwap).where(ShiftSwap.shift_id == shift_id, ShiftSwap.from_member_id == member_id, ShiftSwap.state == "open")
    ).first()
    if existing is not None:
        return existing, False
    swap = ShiftSwap(shift_id=shift_id, from_member_id=member_id, requested_at=now)
    session.add(swap)
    session.flush()
    audit(session, "shift", shift_id, member_id, "swap_request", now, note=f"swap:{swap.id}")
    return swap, True


def take_swap(session: Session, swap_id: int, taker: Member, now: datetime) -> tuple[ShiftSwap, Shift]:
    """我来替班: exactly one taker wins; the taker's place is acknowledged at once."""
    swap = session.get(ShiftSwap, swap_id)
    shift = session.get(Shift, swap.shift_id) if swap else None
    if swap is None or shift is None:
        raise CalendarError("这个换班请求已失效。")
    asker = session.get(Member, swap.from_member_id)
    if swap.from_member_id == taker.id:
        raise CalendarError("这是您自己的换班请求，请等其他党员替班。")
    if asker is None or asker.grid_id != taker.grid_id:
        raise CalendarError("只有同一网格的党员可以替班。")
    if shift.start_at <= now:
        raise CalendarError("这个班已经开始了，不能再换班。")
    if any(row.member_id == taker.id for row in shift_rows(session, shift.id)):
        raise CalendarError("您已经在这个班次里了。")
    taken = session.execute(
        update(ShiftSwap)
        .where(ShiftSwap.id == swap.id, ShiftSwap.state == "open")
        .values(state="taken", to_member_id=taker.id, taken_at=now)
    )
    if taken.rowcount != 1:
        session.refresh(swap)
        holder = session.get(Member, swap.to_member_id) if swap.to_member_id else None
        raise CalendarError(f"已由 {holder.name} 替班了，谢谢您！" if holder else "这个换班请求已失效。")
    session.execute(
        update(ShiftMember)
        .where(ShiftMember.shift_id == shift.id, ShiftMember.member_id == asker.id)
        .values(member_id=taker.id, acked_at=now, escalated_at=None)
    )
    audit(session, "shift", shift.id, taker.id, "swap_take", now, note=f"swap:{swap.id} from member:{asker.id}")
    session.flush()
    session.refresh(swap)
    return swap, shift


def mark_reminded(session: Session, shift_id: int, now: datetime) -> list[int]:
    """The first reminder of a shift went out: stamp the members not stamped yet. Their ids."""
    rows = session.exec(select(ShiftMember).where(ShiftMember.shift_id == shift_id, col(ShiftMember.reminded_at).is_(None))).all()
    stamped = []
    for row in rows:
        done = session.execute(
            update(ShiftMember).where(ShiftMember.id == row.id, col(ShiftMember.reminded_at).is_(None)).values(reminded_at=now)
        )
        if done.rowcount == 1:
            audit(session, "shift", shift_id, row.member_id, "reminded", now)
            stamped.append(row.member_id)
    return stamped


def unacked(session: Session, now: datetime, ack_after: timedelta) -> list[tuple[Shift, ShiftMember]]:
    """Members reminded `ack_after` ago or more who have not pressed 收到 nor been escalated,
    on shifts not yet over."""
    return list(
        session.exec(
            select(Shift, ShiftMember)
            .join(ShiftMember, ShiftMember.shift_id == Shift.id)
            .where(
                col(ShiftMember.acked_at).is_(None),
                col(ShiftMember.escalated_at).is_(None),
                col(ShiftMember.reminded_at).is_not(None),
                ShiftMember.reminded_at <= now - ack_after,
                Shift.end_at > now,
                col(Shift.active).is_(True),
            )
            .order_by(Shift.start_at, ShiftMember.id)
        )
    )


def mark_escalated(session: Session, row: ShiftMember, now: datetime) -> bool:
    """Once per member and shift: True if this call is the one that escalates."""
    done = session.execute(
        update(ShiftMember)
        .where(ShiftMember.id == row.id, col(ShiftMember.escalated_at).is_(None), col(ShiftMember.acked_at).is_(None))
        .values(escalated_at=now)
    )
    if done.rowcount != 1:
        return False
    audit(session, "shift", row.shift_id, row.member_id, "unacked_escalated", now)
    return True


# ---- study sessions ---------------------------------------------------------------------------


def upsert_session(
    session: Session,
    title: str,
    kind: str,
    branch: str,
    start: datetime,
    end: datetime,
    place: str,
    now: datetime,
    created_by: int | None = None,
) -> tuple[StudySession, bool]:
    study = session.exec(select(StudySession).where(StudySession.title == title, StudySession.start_at == start)).first()
    if study is None:
        study = StudySession(
            title=title, kind=kind, branch=branch, start_at=start, end_at=end, place=place, created_by=created_by, created_at=now
        )
        session.add(study)
        session.flush()
        audit(session, "session", study.id, created_by, "created", now)
        return study, True
    changed = (study.kind, study.branch, study.end_at, study.place) != (kind, branch, end, place)
    if changed:
        study.kind, study.branch, study.end_at, study.place = kind, branch, end, place
        session.add(study)
        audit(session, "session", study.id, created_by, "updated", now)
        session.flush()
    return study, changed


def branch_members(session: Session, branch: str) -> list[Member]:
    return list(session.exec(select(Member).where(Member.branch == branch).order_by(Member.id)))


def upcoming_sessions(session: Session, now: datetime, branch: str | None = None, limit: int = 5) -> list[StudySession]:
    query = (
        select(StudySession)
        .where(StudySession.end_at > now, col(StudySession.active).is_(True))
        .order_by(StudySession.start_at)
        .limit(limit)
    )
    if branch is not None:
        query = query.where(StudySession.branch == branch)
    return list(session.exec(query))


def sessions_between(session: Session, lo: datetime, hi: datetime) -> list[StudySession]:
    return list(
        session.exec(
            select(StudySession)
            .where(StudySession.start_at >= lo, StudySession.start_at <= hi, col(StudySession.active).is_(True))
            .order_by(StudySession.start_at)
        )
    )


def attendance(session: Session, session_id: int) -> dict[int, Attendance]:
    return {row.member_id: row for row in session.exec(select(Attendance).where(Attendance.session_id == session_id))}


def _study_for(session: Session, session_id: int, member: Member) -> StudySession:
    study = session.get(StudySession, session_id)
    if study is None:
        raise CalendarError("没有找到这次活动。发送 /sessions 查看近期安排。")
    if study.branch != member.branch:
        raise CalendarError(f"这是{study.branch}的活动，您所在的是{member.branch or '未登记支部'}。")
    return study


def record_leave(session: Session, session_id: int, member: Member, reason: str, now: datetime) -> StudySession:
    """请假 with a reason; refused once the member has checked in or the session is over."""
    study = _study_for(session, session_id, member)
    if now >= study.end_at:
        raise CalendarError("这次活动已经结束了。")
    row = attendance(session, study.id).get(member.id)
    if row is not None and row.status == PRESENT:
        raise CalendarError("您已经签到了，不用请假。")
    if row is None:
        session.add(Attendance(session_id=study.id, member_id=member.id, status=LEAVE, reason=reason, at=now))
    else:
        row.reason, row.at = reason, now
        session.add(row)
    audit(session, "session", study.id, member.id, "leave", now, note=reason)
    session.flush()
    return study


def check_in(session: Session, session_id: int, member: Member, now: datetime) -> tuple[StudySession, bool]:
    """签到 while the session is open. True the first time; a second tap changes nothing."""
    study = _study_for(session, session_id, member)
    local_note = "未开始" if now < study.start_at else "已结束" if now >= study.end_at else ""
    if local_note:
        raise CalendarError("活动还没开始，开始后再点签到。" if now < study.start_at else "活动已经结束，不能签到了。")
    row = attendance(session, study.id).get(member.id)
    if row is not None and row.status == PRESENT:
        return study, False
    if row is None:
        session.add(Attendance(session_id=study.id, member_id=member.id, status=PRESENT, at=now))
    else:  # had asked for leave, came after all
        session.execute(
            update(Attendance).where(Attendance.id == row.id, Attendance.status != PRESENT).values(status=PRESENT, at=now)
        )
    audit(session, "session", study.id, member.id, "checkin", now)
    session.flush()
    return study, True


def close_session(session: Session, study: StudySession, now: datetime) -> bool:
    """After the end: mark the session reported (once) and record the absent. False if done before."""
    done = session.execute(
        update(StudySession).where(StudySession.id == study.id, StudySession.reported_at.is_(None)).values(reported_at=now)
    )
    if done.rowcount != 1:
        return False
    audit(session, "session", study.id, None, "reported", now)
    seen = attendance(session, study.id)
    for member in branch_members(session, study.branch):
        if member.id not in seen:
            session.add(Attendance(session_id=study.id, member_id=member.id, status=ABSENT, at=now))
            audit(session, "session", study.id, member.id, "absent", now)
    session.flush()
    return True


# ---- delivery helpers shared by scheduler and handlers ---------------------------------------


def reachable_many(session: Session, member_ids: Iterable[int]) -> dict[int, Identity]:
    """For each member, the identity used last (as storage.people.reachable), in one query per 500."""
    ids = list(dict.fromkeys(member_ids))
    best: dict[int, Identity] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.exec(
            select(Identity)
            .where(col(Identity.member_id).in_(chunk))
            .order_by(col(Identity.last_seen_at).desc().nulls_last(), col(Identity.id).desc())
        )
        for identity in rows:
            best.setdefault(identity.member_id, identity)
    return best


def enqueue_many(session: Session, rows: list[tuple[str, str, str, dict]], now: datetime) -> int:
    """(key, platform, chat id, payload) rows, each queued once by key: one INSERT … ON CONFLICT DO
    NOTHING, so a key queued before, or by a racing writer meanwhile, is skipped. Returns how many are new."""
    created = utcnow()
    fresh = {
        key: {
            "key": key,
            "platform": platform,
            "chat_id": chat_id,
            "kind": "send",
            "edit_key": None,
            "payload": payload,
            "state": OutboxState.PENDING,
            "not_before": now,
            "attempts": 0,
            "lease_until": None,
            "sent_at": None,
            "sent_message_id": None,
            "error": None,
            "created_at": created,
        }
        for key, platform, chat_id, payload in rows
    }
    queued = insert_many_if_new(session, OutboxMessage.__table__, list(fresh.values()), "key")
    outbox.note_queued(session, queued)
    return queued


def member_names(session: Session, member_ids: Iterable[int]) -> dict[int, str]:
    ids = list(member_ids)
    if not ids:
        return {}
    return dict(session.exec(select(Member.id, Member.name).where(col(Member.id).in_(ids))).all())


def around(now: datetime, back: timedelta, ahead: timedelta) -> tuple[datetime, datetime]:
    return now - back, now + ahead
