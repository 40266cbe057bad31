"""The 1st of the month at `digest_time`: the staff group gets last month's figures, chart and workbook
(Telegram sendDocument, the WeCom robot's file message), once, across restarts — through the real
`gridbot run` against the fake Bot API and the fake WeCom robot."""

import asyncio
import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.cli import main
from storage.db import make_engine
from storage.models import OutboxMessage
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram, User
from tests.fake_wechat import FakeWeChat
from tests.running import bot_settings, running
from tests.test_e2e_telegram import G01, LIMING, RESIDENT, bind_members, button, db_url, register_resident  # noqa: F401

ADMIN = User(541, "周敏")
STAFF_GROUP = -2000
NOVEMBER = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
FIRST_OF_DECEMBER = datetime(2026, 12, 1, 0, 31, tzinfo=UTC)  # 08:31 in Shanghai, digest_time is 08:30


def _files(tg: FakeTelegram) -> list:
    return [m for m in tg.chat(STAFF_GROUP) if m.document or m.photo]


async def test_last_months_report_reaches_the_staff_once_across_a_restart(db_url, monkeypatch):  # noqa: F811
    clock = Clock(NOVEMBER)
    async with FakeTelegram() as tg, FakeWeChat() as wx:
        monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
        assert main(["staffrobot", wx.robot_url("staff")]) == 0
        settings = bot_settings(tg.root, db_url, tick_seconds=0.1)
        async with running(settings, clock=clock):
            await bind_members(tg, (ADMIN, "13800000041"), (LIMING, "13800000011"))
            tg.push_text(ADMIN, "/bindstaff", chat_id=STAFF_GROUP)
            await tg.wait_for(lambda: any("工作人员群" in (m.text or "") for m in tg.chat(STAFF_GROUP)))
            await register_resident(tg)
            tg.push_text(RESIDENT, "2单元楼道里堆满了垃圾，好几天没人清理了")
            card = await tg.wait_for(lambda: next(m for m in tg.chat(G01) if "领单" in str(m.buttons)))
            tg.push_callback(LIMING, card, button(card, "领单"))
            await tg.wait_for(lambda: "已领单" in (card.text or ""))
            await asyncio.sleep(0.5)
            assert _files(tg) == []  # not the 1st yet

        clock.now = FIRST_OF_DECEMBER
        async with running(settings, clock=clock):
            book = await tg.wait_for(lambda: next(m for m in tg.chat(STAFF_GROUP) if m.document), timeout=15)
            await wx.wait_for(lambda: wx.robot_files["staff"] and wx.robot_images["staff"], timeout=15)
        summary = next(m.text for m in tg.chat(STAFF_GROUP) if "工单月报" in (m.text or "") and not m.document)
        assert "幸福里社区 2026年11月 工单月报" in summary and "受理 1 件" in summary and "响应率" in summary
        chart = next(m for m in tg.chat(STAFF_GROUP) if m.photo)
        assert tg.files[chart.photo].startswith(b"\x89PNG") and "统计图" in chart.text
        assert tg.file_names[book.document].endswith("2026-11工单月报.xlsx") and "工作簿" in book.text
        workbook = load_workbook(io.BytesIO(tg.files[book.document]))
        assert workbook.sheetnames == ["总览", "网格", "类别", "党员", "台账"] and workbook["总览"]["B2"].value == 1
        ((name, content),) = wx.robot_files["staff"]
        assert name.endswith(".xlsx") and content == tg.files[book.document]
        assert wx.robot_images["staff"][0] == tg.files[chart.photo]
        assert any("工单月报" in post for post in wx.robot_posts["staff"])

        clock.now = FIRST_OF_DECEMBER.replace(minute=45)  # restarted the same morning: nothing again
        async with running(settings, clock=clock):
            await asyncio.sleep(1.0)
        assert len(_files(tg)) == 2 and len(wx.robot_files["staff"]) == 1 and len(wx.robot_images["staff"]) == 1
        with Session(make_engine(db_url)) as session:
            keys = [row.key for row in session.exec(select(OutboxMessage).where(OutboxMessage.key.startswith("report:")))]
        assert sorted(keys) == sorted(
            f"report:2026-11:{part}:staff:{platform}"
            for part in ("summary", "chart", "book")
            for platform in ("telegram", "wecom")
        )


async def test_no_report_before_digest_time_on_the_1st(db_url, monkeypatch):  # noqa: F811
    clock = Clock(datetime(2026, 12, 1, 0, 10, tzinfo=UTC))  # 08:10 on the 1st: not yet
    async with FakeTelegram() as tg:
        monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
        async with running(bot_settings(tg.root, db_url, tick_seconds=0.1), clock=clock):
            await bind_members(tg, (ADMIN, "13800000041"))
            tg.push_text(ADMIN, "/bindstaff", chat_id=STAFF_GROUP)
            await tg.wait_for(lambda: any("工作人员群" in (m.text or "") for m in tg.chat(STAFF_GROUP)))
            await asyncio.sleep(0.5)
            assert _files(tg) == []
            clock.now = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)  # 08:30: due
            await tg.wait_for(lambda: _files(tg), timeout=15)
