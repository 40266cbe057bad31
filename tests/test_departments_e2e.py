"""部门接单 end to end on Telegram: the real PTB Application against the fake Bot API — escalate → 签收 →
办结 → rated; 退单 with a reason back to triage; 延期 granted and refused; 督办 levels under a clock the
test moves."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from storage.db import make_engine, migrate, transaction
from storage.models import Order
from storage.models import OrderStatus as S
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER, Clock
from tests.fake_telegram import FakeTelegram, User
from tests.running import bot_settings, running
from tests.test_departments import DEPARTMENTS, LAMP
from tests.test_e2e_telegram import RESIDENT, STAFF, bind_members, button, last_text, register_resident

SUNWEI, QIANJUN, ADMIN = User(551, "孙伟"), User(552, "钱军"), User(541, "周敏")
CG = -3001


@pytest.fixture
def dept_url(sqlite_url):
    engine = make_engine(sqlite_url)
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        apply_roster(session, read_roster(DEPARTMENTS))
    engine.dispose()
    return sqlite_url


def texts(tg: FakeTelegram, user: User, part: str) -> list[str]:
    return [m.text for m in tg.chat(user.id) if part in (m.text or "")]


def newest(tg: FakeTelegram, chat_id: int, part: str):
    return next(m for m in reversed(tg.chat(chat_id)) if part in (m.text or ""))


async def escalated_card(tg: FakeTelegram):
    """The resident's 大事 reaches the staff; the staff hand it to 城管执法中队: its card, with 签收."""
    tg.push_text(RESIDENT, LAMP)
    await tg.wait_for(lambda: "已受理" in last_text(tg, RESIDENT.id))
    tg.push_text(STAFF, "/escalate 1 CG")
    await tg.wait_for(lambda: "等待部门签收" in last_text(tg, STAFF.id))
    return await tg.wait_for(lambda: next(m for m in tg.chat(CG) if "签收" in str(m.buttons)))


async def signed_details(tg: FakeTelegram, card):
    tg.push_callback(SUNWEI, card, button(card, "签收"))
    await tg.wait_for(lambda: "孙伟 已签收" in card.text and card.buttons == [])
    return await tg.wait_for(lambda: newest(tg, SUNWEI.id, "仅签收人可见"))


async def test_escalate_sign_finish_with_a_photo_and_rated(dept_url):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, dept_url)):
        await bind_members(tg, (STAFF, "13800000031"), (SUNWEI, "13800000051"), (QIANJUN, "13800000052"))
        await register_resident(tg)
        card = await escalated_card(tg)
        assert "请城管执法中队办理" in card.text and "13800000001" not in card.text

        answered = len(tg.callback_answers)
        tg.push_callback(QIANJUN, card, button(card, "签收"))
        await tg.wait_for(lambda: len(tg.callback_answers) == answered + 1)
        assert "只有城管执法中队的联系人可以签收" in tg.callback_answers[-1][1] and "签收" in str(card.buttons)

        details = await signed_details(tg, card)
        assert "13800000001" in details.text
        await tg.wait_for(lambda: "城管执法中队的孙伟签收办理" in last_text(tg, RESIDENT.id))

        tg.push_callback(SUNWEI, details, button(details, "办结"))
        await tg.wait_for(lambda: "办理结果或一张照片" in last_text(tg, SUNWEI.id))
        tg.push_photo(SUNWEI, "lamp-fixed")
        rate = await tg.wait_for(lambda: next(m for m in tg.chat(RESIDENT.id) if "满意吗" in (m.text or "")))
        assert rate.photo == "lamp-fixed"
        await tg.wait_for(lambda: "城管执法中队 已办结" in card.text)
        tg.push_callback(RESIDENT, rate, button(rate, "4⭐"))
        await tg.wait_for(lambda: "谢谢您的评价" in last_text(tg, RESIDENT.id))
    with Session(make_engine(dept_url)) as session:
        done = session.get(Order, 1)
        assert (done.status, done.rating, done.department) == (S.CLOSED, 4, "城管执法中队")


async def test_returned_with_a_reason_then_延期_granted_and_refused(dept_url):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, dept_url)):
        await bind_members(tg, (STAFF, "13800000031"), (SUNWEI, "13800000051"))
        await register_resident(tg)
        details = await signed_details(tg, await escalated_card(tg))
        tg.push_callback(SUNWEI, details, button(details, "退单"))
        await tg.wait_for(lambda: "退单理由" in last_text(tg, SUNWEI.id))
        tg.push_text(SUNWEI, "路灯归供电所管")
        await tg.wait_for(lambda: "已退回社区" in last_text(tg, SUNWEI.id))
        back = await tg.wait_for(lambda: newest(tg, STAFF.id, "城管执法中队退单：路灯归供电所管"))
        assert "待分派" in back.text and "按大事处理" in str(back.buttons)

        card = await tg.wait_for(lambda: next(m for m in tg.chat(CG) if "已退单" in (m.text or "")))
        tg.push_text(STAFF, "/escalate 1 CG")
        card = await tg.wait_for(lambda: next(m for m in reversed(tg.chat(CG)) if "签收" in str(m.buttons)))
        await signed_details(tg, card)
        tg.push_text(SUNWEI, "/extend 1 3d 等配件")
        request = await tg.wait_for(lambda: newest(tg, STAFF.id, "延期申请"))
        assert "孙伟 申请延期 3天" in request.text
        tg.push_callback(STAFF, request, button(request, "同意"))
        await tg.wait_for(lambda: "前办好" in last_text(tg, RESIDENT.id))
        await tg.wait_for(lambda: "刘洋 已同意" in request.text)
        await tg.wait_for(lambda: texts(tg, SUNWEI, "延期申请已同意"))

        tg.push_text(SUNWEI, "延期 1 2d 还要等")
        second = await tg.wait_for(lambda: next(m for m in reversed(tg.chat(STAFF.id)) if "申请延期 2天" in (m.text or "")))
        tg.push_callback(STAFF, second, button(second, "不同意"))
        await tg.wait_for(lambda: "不同意延期的理由" in last_text(tg, STAFF.id))
        tg.push_text(STAFF, "已经延过一次了")
        await tg.wait_for(lambda: texts(tg, SUNWEI, "未获同意（工单 #1）：已经延过一次了"))
        assert len(texts(tg, RESIDENT, "前办好")) == 1


async def test_督办_levels_fire_once_each_in_order_under_the_clock(dept_url):
    clock = Clock(datetime.now(UTC))
    async with FakeTelegram() as tg, running(bot_settings(tg.root, dept_url, tick_seconds=0.2), clock=clock):
        await bind_members(tg, (STAFF, "13800000031"), (SUNWEI, "13800000051"), (ADMIN, "13800000041"))
        await register_resident(tg)
        await escalated_card(tg)
        start = clock.now
        clock.now = start + timedelta(hours=2, minutes=1)
        await tg.wait_for(lambda: texts(tg, SUNWEI, "还没有签收"))
        await asyncio.sleep(1)  # several ticks: no level before its time
        assert texts(tg, STAFF, "二级督办") == [] and texts(tg, ADMIN, "督办") == []
        clock.now = start + timedelta(hours=4, minutes=1)
        await tg.wait_for(lambda: texts(tg, STAFF, "二级督办"))
        await asyncio.sleep(1)
        assert texts(tg, ADMIN, "三级督办") == []
        clock.now = start + timedelta(hours=6, minutes=1)
        await tg.wait_for(lambda: texts(tg, ADMIN, "三级督办"))
        clock.now = start + timedelta(hours=7)
        await asyncio.sleep(1)  # more ticks: nobody is told twice
    assert [len(texts(tg, SUNWEI, "督办")), len(texts(tg, STAFF, "二级督办")), len(texts(tg, ADMIN, "三级督办"))] == [1, 1, 1]
