"""`gridbot import`: CSV folders and .xlsx, idempotent re-import, bad rows reported and nothing written."""

import shutil
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

from bot.cli import main
from storage.db import transaction
from storage.models import (
    AuditEvent,
    Building,
    CalendarEvent,
    Grid,
    Member,
    Shift,
    ShiftMember,
    StudySession,
)
from storage.roster import RosterInvalid, apply_roster, normalise_phone, read_roster
from tests.conftest import ROSTER

SHIFTS = "date,start,end,place,phones\n2026-11-25,08:30,12:00,社区服务站,13800000011;+86 138 0000 0012\n"
SESSIONS = "title,kind,branch,start,end,place\n十一月主题党日,主题党日,第一支部,2026-11-28 14:30,2026-11-28 16:30,党群服务中心\n"


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _snapshot(engine) -> list:
    with Session(engine) as session:
        return [
            sorted(repr(sorted(row.model_dump().items())) for row in session.exec(select(model)))
            for model in (Grid, Building, Member, Shift, ShiftMember, StudySession)
        ]


def _import(engine, path, tz="Asia/Shanghai"):
    with transaction(engine) as session:
        return apply_roster(session, read_roster(path, tz))


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "roster"
    shutil.copytree(ROSTER, target)
    (target / "shifts.csv").write_text(SHIFTS, encoding="utf-8")
    (target / "sessions.csv").write_text(SESSIONS, encoding="utf-8")
    return target


@pytest.mark.parametrize(
    "phone,expected",
    [
        ("13800000011", "13800000011"),
        ("+86 138 0000 0011", "13800000011"),
        ("8613800000011", "13800000011"),
        ("138-0000-0011", "13800000011"),
        ("1380000001", None),
        ("23800000011", None),
        ("", None),
    ],
)
def test_phones_are_normalised(phone, expected):
    assert normalise_phone(phone) == expected


def test_a_csv_folder_imports_every_sheet(engine, folder):
    counts = _import(engine, folder)
    assert counts["members"] == {"新增": 6, "更新": 0, "未变": 0}
    assert counts["shifts"]["新增"] == 1 and counts["sessions"]["新增"] == 1
    with Session(engine) as session:
        wang = session.exec(select(Member).where(Member.name == "王芳")).one()
        grid = session.get(Grid, wang.grid_id)
        assert (wang.role, grid.code, grid.telegram_chat_id) == ("grid_leader", "G01", "-1001")
        shift = session.exec(select(Shift)).one()
        assert shift.start_at == datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # 08:30 Beijing time
        on_duty = session.exec(select(Member.name).join(ShiftMember, ShiftMember.member_id == Member.id)).all()
        assert sorted(on_duty) == ["李明", "赵强"]
        study = session.exec(select(StudySession)).one()
        assert (study.kind, study.branch, study.place) == ("主题党日", "第一支部", "党群服务中心")
        events = session.exec(select(CalendarEvent.kind, CalendarEvent.action)).all()
        assert sorted(events) == [
            ("session", "created"),
            ("shift", "created"),
            ("shift", "member_added"),
            ("shift", "member_added"),
        ]


def test_importing_the_same_folder_again_changes_nothing(engine, folder):
    _import(engine, folder)
    before = _snapshot(engine)
    counts = _import(engine, folder)
    assert all(figures["新增"] == figures["更新"] == 0 for figures in counts.values())
    assert _snapshot(engine) == before
    assert _count(engine, AuditEvent) == 1  # the first import is on record; the second changed nothing


def test_an_edited_row_is_updated_in_place(engine, folder):
    _import(engine, folder)
    members = folder / "members.csv"
    members.write_text(
        members.read_text(encoding="utf-8").replace("李明,13800000011,member,G01", "李明,13800000011,member,G02"),
        encoding="utf-8",
    )
    counts = _import(engine, folder)
    assert counts["members"] == {"新增": 0, "更新": 1, "未变": 5}
    with Session(engine) as session:
        latest = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert latest.subject == "roster" and '"members": {"更新": 1}' in latest.note
    with Session(engine) as session:
        li = session.exec(select(Member).where(Member.phone == "13800000011")).one()
        assert session.get(Grid, li.grid_id).code == "G02"
    assert _count(engine, Member) == 6


def test_bad_rows_are_all_reported_with_sheet_and_row_and_nothing_is_written(engine, folder):
    (folder / "members.csv").write_text(
        "name,phone,role,grid_code,branch\n"
        "李明,13800000011,member,G01,第一支部\n"
        "赵强,1380000,member,G01,第一支部\n"
        "王芳,13800000013,boss,G01,第一支部\n"
        "陈刚,13800000011,member,G01,第二支部\n",
        encoding="utf-8",
    )
    with pytest.raises(RosterInvalid) as invalid:
        _import(engine, folder)
    message = str(invalid.value)
    assert "members 第3行" in message and "1380000" in message
    assert "members 第4行" in message and "boss" in message
    assert "members 第5行" in message and "重复" in message
    assert _count(engine, Grid) == 0  # the valid grids sheet was not written either


def test_a_reference_to_a_missing_grid_or_member_writes_nothing(engine, folder):
    (folder / "buildings.csv").write_text("name,grid_code\n1号楼,G01\n9号楼,G09\n", encoding="utf-8")
    (folder / "shifts.csv").write_text(SHIFTS.replace("13800000011", "13999999999"), encoding="utf-8")
    with pytest.raises(RosterInvalid) as invalid:
        _import(engine, folder)
    assert "buildings 第3行" in str(invalid.value) and "G09" in str(invalid.value)
    assert "shifts 第2行" in str(invalid.value) and "13999999999" in str(invalid.value)
    assert _count(engine, Grid) == 0 and _count(engine, Member) == 0


def test_a_later_file_may_refer_to_grids_already_imported(engine, folder, tmp_path):
    _import(engine, folder)
    later = tmp_path / "later"
    later.mkdir()
    (later / "buildings.csv").write_text("name,grid_code\n5号楼,G02\n", encoding="utf-8")
    assert _import(engine, later) == {"buildings": {"新增": 1, "更新": 0, "未变": 0}}


def test_a_gb18030_csv_saved_by_excel_is_read(engine, folder):
    members = folder / "members.csv"
    members.write_bytes(members.read_text(encoding="utf-8").encode("gb18030"))
    _import(engine, folder)
    with Session(engine) as session:
        assert session.exec(select(Member.name).where(Member.phone == "13800000041")).one() == "周敏"


def _workbook(path, member_phone):
    book = Workbook()
    book.remove(book.active)
    sheets = {
        "grids": [
            ("code", "name", "leader_phone", "telegram_chat_id", "wecom_webhook"),
            ("G01", "一网格", 13800000013, -1001, None),
        ],
        "buildings": [("name", "grid_code"), ("1号楼", "G01")],
        "members": [
            ("name", "phone", "role", "grid_code", "branch"),
            ("李明", member_phone, "member", "G01", "第一支部"),
            ("王芳", 13800000013, "grid_leader", "G01", "第一支部"),
        ],
        "shifts": [
            ("date", "start", "end", "place", "phones"),
            (datetime(2026, 11, 25), "08:30", "12:00", "服务站", "13800000011;13800000013"),
        ],
        "sessions": [
            ("title", "kind", "branch", "start", "end", "place"),
            ("支部党员大会", "支部党员大会", "第一支部", datetime(2026, 11, 28, 14, 30), datetime(2026, 11, 28, 16, 0), "会议室"),
        ],
    }
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_an_xlsx_with_numeric_and_date_cells_imports(engine, tmp_path):
    path = _workbook(tmp_path / "roster.xlsx", "+86 138 0000 0011")
    counts = _import(engine, path)
    assert counts["members"]["新增"] == 2 and counts["shifts"]["新增"] == 1
    with Session(engine) as session:
        assert session.exec(select(Member.phone).where(Member.name == "李明")).one() == "13800000011"
        assert session.exec(select(Grid.telegram_chat_id)).one() == "-1001"
        assert session.exec(select(StudySession.start_at)).one() == datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
    assert all(f["新增"] == f["更新"] == 0 for f in _import(engine, path).values())


def test_gridbot_import_reports_bad_rows_and_exit_code(tmp_path, monkeypatch, capsys):
    database = tmp_path / "cli.db"
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", f"sqlite:///{database}")
    bad = _workbook(tmp_path / "bad.xlsx", "12345")
    assert main(["import", str(bad)]) == 1
    assert "members 第2行" in capsys.readouterr().err

    good = _workbook(tmp_path / "good.xlsx", "13800000011")
    assert main(["import", str(good)]) == 0
    captured = capsys.readouterr()
    assert "导入 [" in captured.err and "members: 新增 2" in captured.out
    assert main(["import", str(tmp_path / "nowhere.txt")]) == 1
    assert "无法读取" in capsys.readouterr().err
