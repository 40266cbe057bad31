"""The roster as it stands, in the roster file's own format (storage/roster_file.py COLUMNS): the
workbench's 花名册 lists these cells and exports them as .xlsx, which `gridbot import` (or the
workbench's import) reads back unchanged. Deactivated rows are listed on the page, not exported."""

import io
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlmodel import Session, col, select

from storage.models import Building, Department, DepartmentContact, Grid, Member, Shift, ShiftMember, StudySession
from storage.report_workbook import _fit, _header
from storage.roster_file import COLUMNS, SHEETS

MODELS = {
    "grids": Grid,
    "buildings": Building,
    "members": Member,
    "shifts": Shift,
    "sessions": StudySession,
    "departments": Department,
}
ORDER = {
    "grids": Grid.code,
    "buildings": Building.name,
    "members": Member.id,
    "shifts": Shift.start_at,
    "sessions": StudySession.start_at,
    "departments": Department.code,
}


@dataclass(frozen=True)
class Line:
    id: int
    active: bool
    cells: dict[str, str]  # column → text, as in the roster file


def lines(session: Session, sheet: str, tz: ZoneInfo) -> list[Line]:
    """Every row of `sheet` (deactivated ones too) as roster-file cells."""
    model = MODELS[sheet]
    rows = list(session.exec(select(model).order_by(ORDER[sheet])))
    cells = _CELLS[sheet](session, rows, tz)
    return [
        Line(row.id, row.active, dict(zip(COLUMNS[sheet], values, strict=True))) for row, values in zip(rows, cells, strict=True)
    ]


def workbook_bytes(session: Session, tz: ZoneInfo) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in SHEETS:
        page = book.create_sheet(sheet)
        _header(page, COLUMNS[sheet])
        for line in lines(session, sheet, tz):
            if line.active:
                page.append([line.cells[column] for column in COLUMNS[sheet]])
        _fit(page)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text(value) -> str:
    return "" if value is None else str(value)


def _grid_codes(session: Session) -> dict[int, str]:
    return dict(session.exec(select(Grid.id, Grid.code)).all())


def _phones_of(session: Session, link, owner_column, ids: list[int]) -> dict[int, str]:
    """`;`-joined phones of the members linked to each owner (a shift's members, a department's contacts)."""
    phones: dict[int, list[str]] = defaultdict(list)
    query = (
        select(owner_column, Member.phone)
        .join(Member, Member.id == link.member_id)
        .where(col(owner_column).in_(ids))
        .order_by(link.id)
    )
    for owner, phone in session.exec(query):
        phones[owner].append(phone)
    return {owner: ";".join(found) for owner, found in phones.items()}


def _grids(session, rows: list[Grid], tz) -> list[tuple]:
    return [(g.code, g.name, _text(g.leader_phone), _text(g.telegram_chat_id), _text(g.wecom_webhook)) for g in rows]


def _buildings(session, rows: list[Building], tz) -> list[tuple]:
    codes = _grid_codes(session)
    return [(b.name, codes.get(b.grid_id, "")) for b in rows]


def _members(session, rows: list[Member], tz) -> list[tuple]:
    codes = _grid_codes(session)
    return [(m.name, m.phone, m.role, codes.get(m.grid_id, ""), _text(m.branch)) for m in rows]


def _shifts(session, rows: list[Shift], tz) -> list[tuple]:
    phones = _phones_of(session, ShiftMember, ShiftMember.shift_id, [s.id for s in rows])
    out = []
    for shift in rows:
        start, end = shift.start_at.astimezone(tz), shift.end_at.astimezone(tz)
        out.append((f"{start:%Y-%m-%d}", f"{start:%H:%M}", f"{end:%H:%M}", shift.place, phones.get(shift.id, "")))
    return out


def _sessions(session, rows: list[StudySession], tz) -> list[tuple]:
    return [
        (
            s.title,
            s.kind,
            s.branch,
            f"{s.start_at.astimezone(tz):%Y-%m-%d %H:%M}",
            f"{s.end_at.astimezone(tz):%Y-%m-%d %H:%M}",
            s.place,
        )
        for s in rows
    ]


def _departments(session, rows: list[Department], tz) -> list[tuple]:
    phones = _phones_of(session, DepartmentContact, DepartmentContact.department_id, [d.id for d in rows])
    return [(d.code, d.name, _text(d.telegram_chat_id), _text(d.wecom_webhook), phones.get(d.id, "")) for d in rows]


_CELLS = {
    "grids": _grids,
    "buildings": _buildings,
    "members": _members,
    "shifts": _shifts,
    "sessions": _sessions,
    "departments": _departments,
}
