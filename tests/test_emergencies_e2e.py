"""Emergencies end to end: the real PTB Application against the fake Bot API, and the real WeChat
callback against the fake WeChat API — the alert, nobody pressing 收到, the admins told and told
again, a press that stops it."""

import asyncio

import httpx
from sqlmodel import Session

from storage.models import Order
from tests.fake_telegram import FakeTelegram, User
from tests.fake_wechat import Account, wechat_settings
from tests.running import bot_settings, running
from tests.test_e2e_telegram import RESIDENT, STAFF, bind_members, button, db_url, last_text, register_resident
from tests.test_wechat import RESIDENT as WX_RESIDENT
from tests.test_wechat import engine_wx, invite, wx  # noqa: F401 (fixtures)
from tests.test_wechat import register_resident as wx_register_resident

__all__ = ["db_url"]
LEADER, ADMIN = User(513, "王芳"), User(541, "周敏")
TRAPPED = "救命！1号楼2单元电梯卡在6楼和7楼中间了，我妈关在里面出不来"
FAST = '[urgency]\nack_within = "2s"\nanswer_within = "2s"\n'
REMINDER = "无人点「收到」"


def _fast(folder):
    """A community whose alerts and questions wait 2 s, not minutes: the ticks run every 0.3 s."""
    config = folder / "community.toml"
    config.write_text(FAST, encoding="utf-8")
    return config


def _reminders(tg: FakeTelegram, user: User) -> list:
    return [m for m in tg.chat(user.id) if REMINDER in (m.text or "")]


async def test_nobody_presses_收到_the_admin_is_told_again_until_a_press(db_url, tmp_path):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url, config=_fast(tmp_path), tick_seconds=0.3)):
        await bind_members(tg, (STAFF, "13800000031"), (LEADER, "13800000013"), (ADMIN, "13800000041"))
        await register_resident(tg)
        tg.push_text(RESIDENT, TRAPPED)
        await tg.wait_for(lambda: "119" in last_text(tg, RESIDENT.id).splitlines()[0])
        alert = await tg.wait_for(lambda: next(m for m in tg.chat(LEADER.id) if "收到" in str(m.buttons)))
        await tg.wait_for(lambda: len(_reminders(tg, ADMIN)) >= 2, timeout=10)  # told, and told again
        tg.push_callback(LEADER, alert, button(alert, "收到"))
        await tg.wait_for(lambda: "王芳已收到您的紧急求助" in last_text(tg, RESIDENT.id))
        await tg.wait_for(lambda: all("王芳 已收到" in (m.text or "") for m in _reminders_or_edited(tg, ADMIN)))
        told = len(_reminders_or_edited(tg, ADMIN))
        await asyncio.sleep(3)  # longer than ack_within: no new reminder once someone has it
        assert len(_reminders_or_edited(tg, ADMIN)) == told
        assert "王芳 已收到" in next(m for m in tg.chat(LEADER.id) if m.message_id == alert.message_id).text


def _reminders_or_edited(tg: FakeTelegram, user: User) -> list:
    """The admin's reminders as the chat shows them now (an acknowledged one is edited in place)."""
    return [m for m in tg.chat(user.id) if REMINDER in (m.text or "") or "已收到，正在处理" in (m.text or "")]


WX_ADMIN = "o-admin-zhoumin"


async def test_on_wechat_the_admin_answers_a_reminder_with_its_number(engine_wx, wx, database_url, tmp_path):  # noqa: F811
    settings = wechat_settings(wx.root, database_url, config=_fast(tmp_path), tick_seconds=0.3)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        assert "绑定成功" in await account.text(WX_ADMIN, f"绑定 {invite(engine_wx, '13800000041')}")
        await wx_register_resident(account)
        first_line = (await account.text(WX_RESIDENT, TRAPPED)).splitlines()[0]
        assert "119" in first_line
        await wx.wait_for(lambda: any(REMINDER in text for text in wx.texts_to(WX_ADMIN)), timeout=10)
        reminder = next(text for text in wx.texts_to(WX_ADMIN) if REMINDER in text)
        assert "1" in reminder and "收到" in reminder
        assert "已确认收到" in await account.text(WX_ADMIN, "1")
        with Session(engine_wx) as session:
            assert session.get(Order, 1).acked_by is not None
        await wx.wait_for(lambda: any("周敏已收到您的紧急求助" in text for text in wx.texts_to(WX_RESIDENT)))


UNSURE = "隔壁家一直有人尖叫"


async def test_the_unsure_question_answered_有危险_on_telegram(db_url, tmp_path):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url, config=_fast(tmp_path), tick_seconds=0.3)):
        await bind_members(tg, (STAFF, "13800000031"), (LEADER, "13800000013"))
        await register_resident(tg)
        tg.push_text(RESIDENT, UNSURE)
        question = await tg.wait_for(lambda: next(m for m in tg.chat(RESIDENT.id) if "有危险吗" in (m.text or "")))
        assert not any("工单 #1" in (m.text or "") for m in tg.chat(STAFF.id))  # nothing goes out before the answer
        tg.push_callback(RESIDENT, question, button(question, "有危险"))
        await tg.wait_for(lambda: "已同时通知" in last_text(tg, RESIDENT.id))
        await tg.wait_for(lambda: any("🚨 紧急" in (m.text or "") for m in tg.chat(LEADER.id)))


async def test_the_unsure_question_unanswered_on_wechat_becomes_urgent(engine_wx, wx, database_url, tmp_path):  # noqa: F811
    settings = wechat_settings(wx.root, database_url, config=_fast(tmp_path), tick_seconds=0.3)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await wx_register_resident(account)
        asked = await account.text(WX_RESIDENT, UNSURE)
        assert "有危险吗" in asked and "1" in asked  # the buttons as numbered choices
        await wx.wait_for(lambda: any("没等到您的回复" in text for text in wx.texts_to(WX_RESIDENT)), timeout=10)
        with Session(engine_wx) as session:
            assert session.get(Order, 1).urgent


async def test_the_unsure_question_answered_没有_on_wechat_goes_on_as_a_report(engine_wx, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await wx_register_resident(account)
        assert "有危险吗" in await account.text(WX_RESIDENT, UNSURE)
        answer = await account.text(WX_RESIDENT, "没有")
        assert "工单 #1" in answer and "紧急" not in answer
        with Session(engine_wx) as session:
            order = session.get(Order, 1)
            assert not order.urgent and order.danger_asked_at is None
