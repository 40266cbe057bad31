"""Duty shifts and study sessions: reminders at each lead, 收到 escalation, check-in call, attendance report.

Each function runs inside the tick's transaction and returns how many outbox rows it queued.
Keys: `shift:{id}:m{member}:t-{minutes}`, `session:{id}:m{member}:t-{minutes}`, `session:{id}:m{member}:open`,
`shift:{id}:unacked:…`, `session:{id}:report:…` — a second tick (or process) finds them queued.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import Session, col, select

from scheduler import notices
from scheduler.timing import LOOKBACK, SEND, SKIP, Due, lead_label, lead_moments
from storage import calendar, notice_keys
from storage.models import Member, Shift, StudySession

logger = logging.getLogger(__name__)


def _leads_due(kind: str, events: Iterable[Shift | StudySession], leads: tuple, due: Due):
    """(event, lead label) for each reminder to send now; a lead missed by more than the grace
    window is logged as skipped (once: the next tick no longer sees it)."""
    for event in events:
        for lead, moment in lead_moments(event.start_at, event.created_at, leads):
            verdict = due.verdict(moment)
            if verdict == SKIP:
                logger.warning(
                    "%s %s reminder %s due %s skipped: more than the grace window late",
                    kind,
                    event.id,
                    lead_label(lead),
                    moment.isoformat(),
                )
            elif verdict == SEND:
                yield event, lead_label(lead)


def shift_reminders(session: Session, due: Due) -> int:
    leads = due.timing.shift_leads
    if not leads:
        return 0
    shifts = calendar.shifts_between(session, due.window_start, due.now + max(leads))
    return sum(_remind_shift(session, shift, label, due) for shift, label in _leads_due("shift", shifts, leads, due))


def _remind_shift(session: Session, shift: Shift, label: str, due: Due) -> int:
    member_ids = [row.member_id for row in calendar.shift_rows(session, shift.id)]
    body = notices.shift_reminder(shift, due.tz, due.now)
    queued = notices.to_members(session, member_ids, notice_keys.shift_reminder(shift.id, label), body, due.now)
    calendar.mark_reminded(session, shift.id, due.now)
    return queued


def unacked_shifts(session: Session, due: Due) -> int:
    """收到 not pressed `ack_escalate_after` after the first reminder: the member's grid leader is told, once."""
    groups: dict[tuple[int, int | None], list[Member]] = defaultdict(list)
    shifts: dict[int, Shift] = {}
    for shift, row in calendar.unacked(session, due.now, due.timing.ack_after):
        member = session.get(Member, row.member_id)
        if member is not None and calendar.mark_escalated(session, row, due.now):
            groups[(shift.id, member.grid_id)].append(member)
            shifts[shift.id] = shift
    queued = 0
    for (shift_id, grid_id), members in groups.items():
        body = notices.unacked_alert(shifts[shift_id], [m.name for m in members], due.tz)
        queued += notices.to_leaders(
            session, grid_id, notice_keys.shift_unacked(shift_id, [m.id for m in members]), body, due.now
        )
    return queued


def session_reminders(session: Session, due: Due) -> int:
    leads = due.timing.session_leads
    if not leads:
        return 0
    queued = 0
    studies = calendar.sessions_between(session, due.window_start, due.now + max(leads))
    for study, label in _leads_due("session", studies, leads, due):
        on_leave = _on_leave(session, study)
        members = [m.id for m in calendar.branch_members(session, study.branch) if m.id not in on_leave]
        queued += notices.to_members(
            session,
            members,
            notice_keys.session_reminder(study.id, label),
            notices.session_reminder(study, due.tz, due.now),
            due.now,
        )
    return queued


def sessions_opening(session: Session, due: Due) -> int:
    """From the start to the end: a fresh message with 签到 to each member not yet present or on leave."""
    queued = 0
    rows = session.exec(
        select(StudySession).where(
            StudySession.start_at <= due.now,
            StudySession.end_at > due.now,
            StudySession.start_at >= due.now - LOOKBACK,
            col(StudySession.active).is_(True),
        )
    )
    for study in rows:
        seen = calendar.attendance(session, study.id)
        members = [m.id for m in calendar.branch_members(session, study.branch) if m.id not in seen]
        queued += notices.to_members(
            session, members, notice_keys.session_open(study.id), notices.session_open(study, due.tz), due.now
        )
    return queued


def sessions_ended(session: Session, due: Due) -> int:
    """After the end, once: the absent are recorded and the leaders get the attendance list."""
    queued = 0
    rows = session.exec(
        select(StudySession).where(
            StudySession.end_at <= due.now,
            col(StudySession.reported_at).is_(None),
            StudySession.end_at >= due.now - LOOKBACK,
            StudySession.created_at < StudySession.end_at,
            col(StudySession.active).is_(True),
        )
    )
    for study in list(rows):
        if not calendar.close_session(session, study, due.now):
            continue
        queued += _report(session, study, due)
    return queued


def _report(session: Session, study: StudySession, due: Due) -> int:
    names: dict[str, list[str]] = {calendar.PRESENT: [], calendar.LEAVE: [], calendar.ABSENT: []}
    members = {m.id: m for m in calendar.branch_members(session, study.branch)}
    for member_id, row in sorted(calendar.attendance(session, study.id).items()):
        name = members[member_id].name if member_id in members else str(member_id)
        names[row.status].append(f"{name}（{row.reason}）" if row.status == calendar.LEAVE and row.reason else name)
    body = notices.attendance_report(study, names, due.tz)
    grids = {m.grid_id for m in members.values() if m.grid_id}
    leaders = (
        [m.id for m in session.exec(select(Member).where(col(Member.grid_id).in_(grids), Member.role == "grid_leader"))]
        if grids
        else []
    )
    recipients = list(dict.fromkeys([*leaders, *([study.created_by] if study.created_by else [])]))
    if not recipients:
        return notices.to_staff(session, notice_keys.session_report(study.id), body, due.now)
    return notices.to_members(session, recipients, notice_keys.session_report_to(study.id), body, due.now)


def _on_leave(session: Session, study: StudySession) -> set[int]:
    return {m for m, row in calendar.attendance(session, study.id).items() if row.status == calendar.LEAVE}
