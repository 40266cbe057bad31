"""Reading a roster file (CONTRACT.md 'Roster columns'): `.xlsx` sheets or a folder of `.csv`.

Pure: turns the file into typed rows, or raises RosterInvalid listing every bad row as
`sheet 第N行：reason`. Nothing here touches the database.
"""

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

SHEETS = ("grids", "buildings", "members", "shifts", "sessions", "departments")
COLUMNS = {
    "grids": ("code", "name", "leader_phone", "telegram_chat_id", "wecom_webhook"),
    "buildings": ("name", "grid_code"),
    "members": ("name", "phone", "role", "grid_code", "branch"),
    "shifts": ("date", "start", "end", "place", "phones"),
    "sessions": ("title", "kind", "branch", "start", "end", "place"),
    "departments": ("code", "name", "telegram_chat_id", "wecom_webhook", "phones"),
}
REQUIRED = {
    "grids": ("code", "name"),
    "buildings": ("name", "grid_code"),
    "members": ("name", "phone", "role"),
    "shifts": ("date", "start", "end", "place", "phones"),
    "sessions": ("title", "kind", "branch", "start", "end"),
    "departments": ("code", "name"),
}
ROLES = ("member", "grid_leader", "staff", "admin")
SESSION_KINDS = ("支部党员大会", "支委会", "党小组会", "党课", "主题党日")
_PHONE = re.compile(r"^1\d{10}$")


class RosterInvalid(ValueError):
    """Every problem found in one file; its text is one Chinese line per problem."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class GridRow:
    line: int
    code: str
    name: str
    leader_phone: str | None
    telegram_chat_id: str | None
    wecom_webhook: str | None


@dataclass(frozen=True)
class BuildingRow:
    line: int
    name: str
    grid_code: str


@dataclass(frozen=True)
class MemberRow:
    line: int
    name: str
    phone: str
    role: str
    grid_code: str | None
    branch: str | None


@dataclass(frozen=True)
class ShiftRow:
    line: int
    start: datetime
    end: datetime
    place: str
    phones: tuple[str, ...]


@dataclass(frozen=True)
class SessionRow:
    line: int
    title: str
    kind: str
    branch: str
    start: datetime
    end: datetime
    place: str


@dataclass(frozen=True)
class DepartmentRow:
    line: int
    code: str
    name: str
    telegram_chat_id: str | None
    wecom_webhook: str | None
    phones: tuple[str, ...]  # its contacts, on the members sheet (or already imported)


@dataclass
class Roster:
    grids: list[GridRow] = field(default_factory=list)
    buildings: list[BuildingRow] = field(default_factory=list)
    members: list[MemberRow] = field(default_factory=list)
    shifts: list[ShiftRow] = field(default_factory=list)
    sessions: list[SessionRow] = field(default_factory=list)
    departments: list[DepartmentRow] = field(default_factory=list)

    def size(self) -> int:
        sheets = (self.grids, self.buildings, self.members, self.shifts, self.sessions, self.departments)
        return sum(len(rows) for rows in sheets)


def normalise_phone(raw: str | None) -> str | None:
    """`+86 138-0000-0011`, `8613800000011`, `13800000011` → `13800000011`; anything else → None."""
    if raw is None:
        return None
    digits = re.sub(r"[\s\-()（）]", "", str(raw))
    digits = digits.removeprefix("+")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if _PHONE.match(digits) else None


# ---- reading cells ---------------------------------------------------------------------------


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a person typed: phones stay digits, dates stay dates."""
    if value is None:
        return ""
    if isinstance(value, datetime):  # a date cell comes as a datetime at midnight
        return value.strftime("%Y-%m-%d" if value.time() == time() else "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet_rows(header: list, rows: Iterator[list], sheet: str, errors: list[str]) -> list[tuple[int, dict]]:
    names = [_cell_text(cell).lower() for cell in header]
    missing = [column for column in REQUIRED[sheet] if column not in names]
    if missing:
        errors.append(f"{sheet} 表缺少列：{'、'.join(missing)}")
        return []
    out = []
    for number, cells in enumerate(rows, start=2):  # row 1 is the header
        values = {name: _cell_text(cell) for name, cell in zip(names, cells, strict=False) if name}
        if any(values.values()):
            out.append((number, values))
    return out


def _read_xlsx(path: Path, errors: list[str]) -> dict[str, list[tuple[int, dict]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        found = {}
        for sheet in SHEETS:
            if sheet in workbook.sheetnames:
                rows = workbook[sheet].iter_rows(values_only=True)
                header = next(rows, None)
                found[sheet] = _sheet_rows(list(header or []), (list(r) for r in rows), sheet, errors)
        return found
    finally:
        workbook.close()


def _csv_text(path: Path) -> str:
    """Excel on a Chinese Windows saves CSV as GB18030; everything else as UTF-8 (maybe with a BOM)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _read_folder(path: Path, errors: list[str]) -> dict[str, list[tuple[int, dict]]]:
    found = {}
    for sheet in SHEETS:
        file = path / f"{sheet}.csv"
        if file.is_file():
            rows = csv.reader(_csv_text(file).splitlines())
            header = next(rows, [])
            found[sheet] = _sheet_rows(header, rows, sheet, errors)
    return found


# ---- typed rows ------------------------------------------------------------------------------


def _when(day: str, clock: str, tz: ZoneInfo) -> datetime:
    text = f"{day} {clock}".strip().replace("/", "-").replace("T", " ")
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(text)


def _grid(line: int, v: dict, problems: list[str], tz: ZoneInfo) -> GridRow | None:
    leader = v.get("leader_phone") or None
    if leader and not normalise_phone(leader):
        problems.append(f"网格长手机号「{leader}」不是11位手机号")
    return GridRow(
        line, v["code"], v["name"], normalise_phone(leader), v.get("telegram_chat_id") or None, v.get("wecom_webhook") or None
    )


def _building(line: int, v: dict, problems: list[str], tz: ZoneInfo) -> BuildingRow | None:
    return BuildingRow(line, v["name"], v["grid_code"])


def _member(line: int, v: dict, problems: list[str], tz: ZoneInfo) -> MemberRow | None:
    phone = normalise_phone(v["phone"])
    if phone is None:
        problems.append(f"手机号「{v['phone']}」不是11位手机号")
    role = v["role"].lower()
    if role not in ROLES:
        problems.append(f"角色「{v['role']}」应为 {' | '.join(ROLES)} 之一")
    if role == "grid_leader" and not v.get("grid_code"):
        problems.append("网格长要填 grid_code")  # a member without a grid must be a department's contact (storage/roster.py)
    return MemberRow(line, v["name"], phone or "", role, v.get("grid_code") or None, v.get("branch") or None)


def _phones(text: str, problems: list[str]) -> tuple[str, ...]:
    """`;`-separated phones (，、 too), each normalised; a bad one is reported."""
    phones = tuple(normalise_phone(p) or p.strip() for p in re.split(r"[;；,，、]+", text) if p.strip())
    bad_phones = [p for p in phones if not _PHONE.match(p)]
    if bad_phones:
        problems.append(f"手机号「{'、'.join(bad_phones)}」不是11位手机号")
    return phones


def _shift(line: int, v: dict, problems: list[str], tz: ZoneInfo) -> ShiftRow | None:
    try:
        start, end = _when(v["date"], v["start"], tz), _when(v["date"], v["end"], tz)
    except ValueError as bad:
        problems.append(f"时间「{bad}」看不懂，请写成 2026-11-25 和 08:30")
        return None
    if end <= start:
        problems.append("结束时间要晚于开始时间")
    return ShiftRow(line, start, end, v["place"], _phones(v["phones"], problems))


def _session(line: int, v: dict, problems: list[str], tz: ZoneInfo) -> SessionRow | None:
    if v["kind"] not in SESSION_KINDS:
        problems.append(f"会议类型「{v['kind']}」应为 {'、'.join(SESSION_KINDS)} 之一")
    try:
        start, end = _when(v["start"], "", tz), _when(v["end"], "", tz)
    except ValueError as bad:
        problems.append(f"时间「{bad}」看不懂，请写成 2026-11-25 14:30")
        return None
    if end <= start:
        problems.append("结束时间要晚于开始时间")
    return SessionRow(line, v["title"], v["kind"], v["branch"], start, end, v.get("place", ""))


def _department(line: int, v: dict, problems: list[str], tz: ZoneInfo) -> DepartmentRow | None:
    phones = _phones(v.get("phones", ""), problems)
    return DepartmentRow(line, v["code"], v["name"], v.get("telegram_chat_id") or None, v.get("wecom_webhook") or None, phones)


_UNIQUE = {"grids": "code", "buildings": "name", "members": "phone", "departments": "code"}


def read_roster(path: str | Path, tz: ZoneInfo | str = "Asia/Shanghai") -> Roster:
    """The whole file, checked; RosterInvalid if any row is bad (then nothing may be written)."""
    path, tz = Path(path), ZoneInfo(str(tz))
    errors: list[str] = []
    if path.is_dir():
        raw = _read_folder(path, errors)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        raw = _read_xlsx(path, errors)
    else:
        raise ValueError("花名册应是 .xlsx 文件或放着 CSV 的文件夹")
    if not raw and not errors:
        raise ValueError(f"没有找到 {'、'.join(SHEETS)} 中的任何一张表")
    return roster_of(raw, tz, errors)


def roster_of(raw: dict[str, list[tuple[int, dict]]], tz: ZoneInfo, errors: list[str] | None = None) -> Roster:
    """Rows as a sheet's cells (`{sheet: [(line, {column: text})]}`) checked and typed, as from a file;
    RosterInvalid listing every bad row (with `errors` found before) otherwise."""
    errors = list(errors or [])
    roster = Roster()
    for sheet, rows in raw.items():
        seen: dict[str, int] = {}
        for line, values in rows:
            problems = [f"「{column}」不能为空" for column in REQUIRED[sheet] if not values.get(column)]
            row = None
            if not problems:
                row = _PARSERS[sheet](line, values, problems, tz)
            key = _UNIQUE.get(sheet)
            if row is not None and key:
                value = getattr(row, key)
                if value in seen:
                    problems.append(f"与第{seen[value]}行重复（{key} = {value}）")
                seen.setdefault(value, line)
            if problems:
                errors.extend(f"{sheet} 第{line}行：{problem}" for problem in problems)
            elif row is not None:
                getattr(roster, sheet).append(row)
    if errors:
        raise RosterInvalid(errors)
    return roster


_PARSERS = {
    "grids": _grid,
    "buildings": _building,
    "members": _member,
    "shifts": _shift,
    "sessions": _session,
    "departments": _department,
}
