"""`gridbot import`: bring the database in line with a roster file, upserting by code / name / phone.

References (a building's grid, a member's grid, a shift's phones) may point into the same file
or at rows already in the database. Every problem is found before the first write, so a bad
file writes nothing; the caller's transaction makes the rest all-or-nothing.
"""

import json
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, select

from storage import audit, calendar, departments
from storage.models import Building, Department, DepartmentContact, Grid, Member, Shift, StudySession
from storage.roster_file import Roster, RosterInvalid, normalise_phone, read_roster
from storage.types import utcnow

__all__ = ["Roster", "RosterInvalid", "apply_roster", "normalise_phone", "read_roster"]

Progress = Callable[[int, int], None]
ADDED, UPDATED, SAME = "新增", "更新", "未变"


def _problems(roster: Roster, grid_codes: set[str], phones: set[str], contacts: set[str]) -> list[str]:
    """`contacts`: phones already signing for a department; with the file's, the members who need no grid."""
    errors = []
    contacts = contacts | {phone for row in roster.departments for phone in row.phones}
    for row in roster.buildings:
        if row.grid_code not in grid_codes:
            errors.append(f"buildings 第{row.line}行：网格「{row.grid_code}」不存在")
    for row in roster.members:
        if row.grid_code and row.grid_code not in grid_codes:
            errors.append(f"members 第{row.line}行：网格「{row.grid_code}」不存在")
        if row.role == "member" and not row.grid_code and row.phone not in contacts:
            errors.append(f"members 第{row.line}行：党员要填 grid_code（部门联系人请把手机号写进 departments 表的 phones）")
    for row in roster.shifts:
        unknown = [phone for phone in row.phones if phone not in phones]
        if unknown:
            errors.append(f"shifts 第{row.line}行：手机号「{'、'.join(unknown)}」不在党员名单里")
    for row in roster.departments:
        unknown = [phone for phone in row.phones if phone not in phones]
        if unknown:
            errors.append(f"departments 第{row.line}行：手机号「{'、'.join(unknown)}」不在 members 名单里")
    return errors


def _upsert(session: Session, existing: dict, key: str, model, fields: dict) -> str:
    row = existing.get(key)
    if row is None:
        row = model(**fields)
        session.add(row)
        existing[key] = row
        return ADDED
    if all(getattr(row, name) == value for name, value in fields.items()):
        return SAME
    for name, value in fields.items():
        setattr(row, name, value)
    session.add(row)
    return UPDATED


def _outcome(existed: bool, changed: bool) -> str:
    return (UPDATED if changed else SAME) if existed else ADDED


def apply_roster(
    session: Session, roster: Roster, progress: Progress | None = None, now: datetime | None = None, actor: str = "cli"
) -> dict[str, dict[str, int]]:
    """Write the roster; returns, per sheet present, how many rows were added, updated or unchanged.
    `actor`: who imported it (the audit row's), `cli` or a member on the web (`member:5`)."""
    now = now or utcnow()
    grids = {grid.code: grid for grid in session.exec(select(Grid))}
    buildings = {building.name: building for building in session.exec(select(Building))}
    members = {member.phone: member for member in session.exec(select(Member))}
    shift_keys = {(shift.start_at, shift.place) for shift in session.exec(select(Shift))}
    session_keys = {(study.title, study.start_at) for study in session.exec(select(StudySession))}
    known_departments = {department.code: department for department in session.exec(select(Department))}
    contact_phones = set(session.exec(select(Member.phone).join(DepartmentContact, DepartmentContact.member_id == Member.id)))
    errors = _problems(
        roster,
        set(grids) | {row.code for row in roster.grids},
        set(members) | {row.phone for row in roster.members},
        contact_phones,
    )
    if errors:
        raise RosterInvalid(errors)

    total, done = roster.size(), 0
    counts: dict[str, dict[str, int]] = {}

    def tally(sheet: str, outcome: str) -> None:
        nonlocal done
        figures = counts.setdefault(sheet, {ADDED: 0, UPDATED: 0, SAME: 0})
        figures[outcome] += 1
        done += 1
        if progress and (done == total or done % max(total // 100, 1) == 0):
            progress(done, total)

    for row in roster.grids:
        tally(
            "grids",
            _upsert(
                session,
                grids,
                row.code,
                Grid,
                {
                    "code": row.code,
                    "name": row.name,
                    "leader_phone": row.leader_phone,
                    "telegram_chat_id": row.telegram_chat_id,
                    "wecom_webhook": row.wecom_webhook,
                },
            ),
        )
    session.flush()
    for row in roster.buildings:
        tally(
            "buildings", _upsert(session, buildings, row.name, Building, {"name": row.name, "grid_id": grids[row.grid_code].id})
        )
    for row in roster.members:
        grid_id = grids[row.grid_code].id if row.grid_code else None
        tally(
            "members",
            _upsert(
                session,
                members,
                row.phone,
                Member,
                {"name": row.name, "phone": row.phone, "role": row.role, "grid_id": grid_id, "branch": row.branch},
            ),
        )
    session.flush()
    for row in roster.shifts:
        _, changed = calendar.upsert_shift(
            session, row.start, row.end, row.place, [members[phone].id for phone in row.phones], now
        )
        tally("shifts", _outcome((row.start, row.place) in shift_keys, changed))
    for row in roster.sessions:
        _, changed = calendar.upsert_session(session, row.title, row.kind, row.branch, row.start, row.end, row.place, now)
        tally("sessions", _outcome((row.title, row.start) in session_keys, changed))
    for row in roster.departments:
        fields = {name: getattr(row, name) for name in ("code", "name", "telegram_chat_id", "wecom_webhook")}
        existed = row.code in known_departments
        outcome = _upsert(session, known_departments, row.code, Department, fields)
        session.flush()
        moved = departments.set_contacts(session, known_departments[row.code], [members[phone].id for phone in row.phones])
        tally("departments", _outcome(existed, outcome != SAME or moved))
    changes = {sheet: {k: n for k, n in figures.items() if k != SAME and n} for sheet, figures in counts.items()}
    if any(changes.values()):  # a re-import that changes nothing leaves no trace either
        audit.record(
            session,
            "roster",
            "import",
            actor,
            "imported",
            now,
            note=json.dumps({sheet: c for sheet, c in changes.items() if c}, ensure_ascii=False),
        )
    session.flush()
    return counts
