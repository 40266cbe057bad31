"""花名册 through the running bot: an admin edits, adds and deactivates rows (the database and the audit
trail show it, a bad row writes nothing), exports the roster and imports it back in the roster's
format; nobody else may open it; a POST without the CSRF token changes nothing."""

import io

from openpyxl import load_workbook
from sqlmodel import Session, select

from storage import people
from storage.db import make_engine
from storage.models import AuditEvent, Building, Grid, Member
from tests.fake_telegram import FakeTelegram
from tests.running import bot_settings, running
from tests.web_client import ADMIN_ID, LEADER_ID, STAFF_ID, browser, csrf, served, session_cookie, web_db

__all__ = ["web_db"]


def _read(url, query):
    engine = make_engine(url)
    with Session(engine) as session:
        found = list(session.exec(query))
    engine.dispose()
    return found


async def test_an_admin_edits_adds_deactivates_exports_and_imports_the_roster(web_db, clock):
    async with FakeTelegram() as tg, running(settings := bot_settings(tg.root, web_db), clock=clock):
        root = await served(f"http://127.0.0.1:{settings.http_port}")
        async with browser(root, session_cookie(web_db, ADMIN_ID, clock())) as web:
            token = await csrf(web)
            listed = (await web.get("/web/roster", params={"sheet": "members"})).text
            assert "李明" in listed and "13800000011" in listed and "网格长" in listed

            edit = await web.get("/web/roster/members/1")
            assert 'value="13800000011"' in edit.text and 'value="第一支部"' in edit.text
            form = {"name": "李明明", "phone": "138 0000 0011", "role": "member", "grid_code": "G02", "branch": "第二支部"}
            saved = await web.post("/web/roster/members/1", data={**form, "csrf": token})
            assert saved.status_code == 303 and "已修改" in (await web.get(saved.headers["location"])).text
            (member,) = _read(web_db, select(Member).where(Member.id == 1))
            assert (member.name, member.grid_id, member.branch) == ("李明明", 2, "第二支部")
            (trail,) = _read(web_db, select(AuditEvent).where(AuditEvent.subject == "members", AuditEvent.ref == "1"))
            assert (trail.actor, trail.action) == (f"member:{ADMIN_ID}", "web_edited")
            assert "李明明" in trail.note and "G02" in trail.note and "13800000011" not in trail.note  # only what changed

            refused = await web.post("/web/roster/members", data={**form, "phone": "12345", "name": "错号", "csrf": token})
            assert refused.status_code == 409 and "不是11位手机号" in refused.text
            assert not _read(web_db, select(Member).where(Member.name == "错号"))

            grid = {"code": "G03", "name": "三网格", "leader_phone": "", "telegram_chat_id": "-1003", "wecom_webhook": ""}
            assert (await web.post("/web/roster/grids", data={**grid, "csrf": token})).status_code == 303
            building = {"name": "5号楼", "grid_code": "G03", "csrf": token}
            assert (await web.post("/web/roster/buildings", data=building)).status_code == 303
            (added,) = _read(web_db, select(Building).where(Building.name == "5号楼"))
            assert added.grid_id == _read(web_db, select(Grid.id).where(Grid.code == "G03"))[0]
            assert (await web.post("/web/roster/grids", data={**grid, "csrf": token})).status_code == 409  # already there

            off = await web.post("/web/roster/members/2/active", data={"active": "0", "csrf": token})
            assert off.status_code == 303 and "已停用" in (await web.get(off.headers["location"])).text
            assert not _read(web_db, select(Member.active).where(Member.id == 2))[0]
            actions = _read(web_db, select(AuditEvent.action).where(AuditEvent.subject == "members", AuditEvent.ref == "2"))
            assert actions == ["deactivated"]

            exported = await web.get("/web/roster.xlsx")
            book = load_workbook(io.BytesIO(exported.content))
            assert book.sheetnames == ["grids", "buildings", "members", "shifts", "sessions", "departments"]
            members = list(book["members"].iter_rows(values_only=True))
            assert members[0] == ("name", "phone", "role", "grid_code", "branch")
            assert ("李明明", "13800000011", "member", "G02", "第二支部") in members
            assert not any(row[0] == "赵强" for row in members)  # deactivated: not exported
            assert ("G03", "三网格", None, "-1003", None) in list(book["grids"].iter_rows(values_only=True))

            book["members"].append(("孙丽", "13800000051", "member", "G03", "第三支部"))
            upload = io.BytesIO()
            book.save(upload)
            files = {"file": ("roster.xlsx", upload.getvalue(), "application/octet-stream")}
            imported = await web.post("/web/roster/import", data={"csrf": token}, files=files)
            assert imported.status_code == 303
            told = (await web.get(imported.headers["location"])).text
            assert "人员 新增 1" in told and "未变" in told
            assert _read(web_db, select(Member.grid_id).where(Member.phone == "13800000051")) == [added.grid_id]

            book["buildings"].append(("6号楼", "G99"))
            upload = io.BytesIO()
            book.save(upload)
            files = {"file": ("roster.xlsx", upload.getvalue(), "application/octet-stream")}
            bad = await web.post("/web/roster/import", data={"csrf": token}, files=files)
            assert bad.status_code == 409 and "G99" in bad.text
            assert not _read(web_db, select(Building).where(Building.name == "6号楼"))

            unsigned = await web.post("/web/roster/members/1", data={**form, "name": "改不了"})
            assert unsigned.status_code == 403 and _read(web_db, select(Member.name).where(Member.id == 1)) == ["李明明"]

        for member_id in (STAFF_ID, LEADER_ID):
            async with browser(root, session_cookie(web_db, member_id, clock())) as other:
                assert (await other.get("/web/roster")).status_code == 403
                assert (await other.get("/web/roster.xlsx")).status_code == 403
                data = {"active": "0", "csrf": await csrf(other)}
                assert (await other.post("/web/roster/members/1/active", data=data)).status_code == 403
        assert _read(web_db, select(Member.active).where(Member.id == 1)) == [True]


async def test_a_deactivated_member_is_signed_out_and_gets_no_notices_as_staff(web_db, clock):
    async with FakeTelegram() as tg, running(settings := bot_settings(tg.root, web_db), clock=clock):
        root = await served(f"http://127.0.0.1:{settings.http_port}")
        async with (
            browser(root, session_cookie(web_db, ADMIN_ID, clock())) as admin,
            browser(root, session_cookie(web_db, STAFF_ID, clock())) as staff,
        ):
            assert (await staff.get("/web/")).status_code == 200
            off = await admin.post("/web/roster/members/5/active", data={"active": "0", "csrf": await csrf(admin)})
            assert off.status_code == 303
            assert (await staff.get("/web/")).status_code == 401
            engine = make_engine(web_db)
            with Session(engine) as session:
                assert [m.name for m in people.staff_members(session)] == ["周敏"]  # the admin only
            engine.dispose()
            on = await admin.post("/web/roster/members/5/active", data={"active": "1", "csrf": await csrf(admin)})
            assert on.status_code == 303 and (await staff.get("/web/")).status_code == 200
