"""花名册 changed one row at a time (the web workbench): add, edit, deactivate, reactivate, import.

A row added or edited is a one-row roster: its cells are checked by the roster file's own parser
(storage/roster_file.py) and written by `gridbot import`'s own code (storage/roster.py), so the web
and the spreadsheet agree on every rule. Nothing is deleted: a row that is no longer wanted is
deactivated and its history stays. Every change writes an audit row naming who made it.
"""

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from storage import audit
from storage.roster import apply_roster
from storage.roster_export import _CELLS, MODELS
from storage.roster_file import COLUMNS, Roster, RosterInvalid, read_roster, roster_of

# What identifies a row of each sheet: the model's columns, and the typed row's fields that fill them.
KEYS = {
    "grids": (("code",), ("code",)),
    "buildings": (("name",), ("name",)),
    "members": (("phone",), ("phone",)),
    "departments": (("code",), ("code",)),
    "shifts": (("start_at", "place"), ("start", "place")),
    "sessions": (("title", "start_at"), ("title", "start")),
}


class RowRefused(ValueError):
    """A change the roster's rules refuse; one Chinese line per problem."""


def cells_of(session: Session, sheet: str, row, tz: ZoneInfo) -> dict[str, str]:
    return dict(zip(COLUMNS[sheet], _CELLS[sheet](session, [row], tz)[0], strict=True))


def _typed(sheet: str, cells: dict[str, str], tz: ZoneInfo):
    values = {column: " ".join(str(cells.get(column, "")).split()) for column in COLUMNS[sheet]}
    try:
        return getattr(roster_of({sheet: [(1, values)]}, tz), sheet)[0]
    except RosterInvalid as invalid:
        raise RowRefused("\n".join(error.removeprefix(f"{sheet} 第1行：") for error in invalid.errors)) from None


def _find(session: Session, sheet: str, key: tuple):
    model = MODELS[sheet]
    columns, _ = KEYS[sheet]
    return session.exec(select(model).where(*(getattr(model, c) == v for c, v in zip(columns, key, strict=True)))).first()


def _write(session: Session, sheet: str, typed, actor: str, now: datetime) -> None:
    try:
        apply_roster(session, Roster(**{sheet: [typed]}), now=now, actor=actor)
    except RosterInvalid as invalid:
        raise RowRefused("\n".join(error.split("：", 1)[-1] for error in invalid.errors)) from None


def save(session: Session, sheet: str, cells: dict, actor: str, now: datetime, tz: ZoneInfo, row_id: int | None = None) -> int:
    """Add a row (`row_id` None) or edit one, its key included (a member's new phone, a shift's new
    time); returns its id. RowRefused, nothing written, when a rule says no."""
    typed = _typed(sheet, cells, tz)
    columns, fields = KEYS[sheet]
    key = tuple(getattr(typed, field) for field in fields)
    holder = _find(session, sheet, key)
    if row_id is None:
        if holder is not None:
            raise RowRefused("花名册里已有这一行，请在列表中点「编辑」修改。")
        before = {}
    else:
        row = session.get(MODELS[sheet], row_id)
        if row is None:
            raise RowRefused("没有找到这一行，请刷新页面。")
        if holder is not None and holder.id != row.id:
            raise RowRefused("改成的编号、名称、手机号或时间与花名册里另一行相同。")
        before = cells_of(session, sheet, row, tz)
        for column, value in zip(columns, key, strict=True):
            setattr(row, column, value)  # the key first: the import then finds this row by it
        session.add(row)
        session.flush()
    _write(session, sheet, typed, actor, now)
    saved = _find(session, sheet, key)
    after = cells_of(session, sheet, saved, tz)
    changed = {column: [before.get(column, ""), value] for column, value in after.items() if before.get(column, "") != value}
    audit.record(session, sheet, saved.id, actor, "web_edited" if before else "web_added", now, _note(changed))
    return saved.id


def set_active(session: Session, sheet: str, row_id: int, active: bool, actor: str, now: datetime) -> None:
    row = session.get(MODELS[sheet], row_id)
    if row is None:
        raise RowRefused("没有找到这一行，请刷新页面。")
    if row.active == active:
        return
    row.active = active
    session.add(row)
    audit.record(session, sheet, row.id, actor, "reactivated" if active else "deactivated", now)


def import_file(session: Session, path: Path, actor: str, now: datetime, tz: ZoneInfo) -> dict[str, dict[str, int]]:
    """A roster .xlsx uploaded on the web: read and written as `gridbot import` does (all or nothing)."""
    try:
        return apply_roster(session, read_roster(path, tz), now=now, actor=actor)
    except RosterInvalid as invalid:
        raise RowRefused("\n".join(invalid.errors[:20])) from None
    except ValueError as unreadable:
        raise RowRefused(str(unreadable)) from None


def _note(changed: dict) -> str:
    return json.dumps(changed, ensure_ascii=False)[:2000]
