"""部门接单 on WeChat/WeCom: the department's card goes to its WeCom group robot (no buttons there: the
card says to send `签收 <n>` to the Official Account); the contact, the staff and the resident answer
through the Official Account (typed words and numbered choices), the real callback and its crypto."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, select

from storage.db import make_engine, migrate, transaction
from storage.models import Department, Grid, Order
from storage.models import OrderStatus as S
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER, Clock
from tests.fake_wechat import Account, wechat_settings
from tests.running import running
from tests.test_departments import DEPARTMENTS, LAMP
from tests.test_wechat import RESIDENT, invite, register_resident, wx  # noqa: F401 (fixture)

SUNWEI, QIANJUN, STAFF, ADMIN = "o_dept_sunwei", "o_dept_qianjun", "o_staff_liuyang", "o_admin_zhoumin"


@pytest.fixture
def engine_dept(database_url, wx):  # noqa: F811
    """A WeChat-only community: grids and departments post to WeCom robots."""
    engine = make_engine(database_url)
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        apply_roster(session, read_roster(DEPARTMENTS))
        for row in [*session.exec(select(Grid)), *session.exec(select(Department))]:
            row.telegram_chat_id = None
            row.wecom_webhook = wx.robot_url(row.code)
            session.add(row)
    yield engine
    engine.dispose()


async def bind(account: Account, engine, *people: tuple[str, str]) -> None:
    for openid, phone in people:
        assert "绑定成功" in await account.text(openid, f"绑定 {invite(engine, phone)}")


async def escalated(account: Account, wx) -> str:  # noqa: F811
    await register_resident(account)
    assert "已受理" in await account.text(RESIDENT, LAMP)
    assert "等待部门签收" in await account.text(STAFF, "/escalate 1 CG")
    return await wx.wait_for(lambda: next(p for p in wx.robot_posts["CG"] if "工单 #1" in p))


async def test_on_wecom_the_contact_signs_finishes_and_the_resident_rates(engine_dept, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await bind(account, engine_dept, (STAFF, "13800000031"), (SUNWEI, "13800000051"), (QIANJUN, "13800000052"))
        card = await escalated(account, wx)
        assert "签收 1" in card and "公众号" in card and "13800000001" not in card

        assert "只有城管执法中队的联系人可以签收" in await account.text(QIANJUN, "签收 1")
        assert "已签收工单 #1" in await account.text(SUNWEI, "签收 1")
        assert "已由 孙伟 签收" in await account.text(SUNWEI, "签收 1")
        details = await wx.wait_for(lambda: next(t for t in wx.texts_to(SUNWEI) if "仅签收人可见" in t))
        assert "1号楼" in details and "回复数字：1 ✅ 办结　2 ↩️ 退单" in details
        await wx.wait_for(lambda: any("孙伟 已签收" in p for p in wx.robot_posts["CG"]))
        await wx.wait_for(lambda: any("城管执法中队的孙伟签收办理" in t for t in wx.texts_to(RESIDENT)))

        assert "办理结果或一张照片" in await account.text(SUNWEI, "1")
        assert "已办结" in await account.text(SUNWEI, "路灯已更换")
        rate = await wx.wait_for(lambda: next(t for t in wx.texts_to(RESIDENT) if "满意吗" in t))
        assert "路灯已更换" in rate
        assert "谢谢您的评价" in await account.text(RESIDENT, "5")
        await wx.wait_for(lambda: any("城管执法中队 已办结" in p for p in wx.robot_posts["CG"]))
    with Session(engine_dept) as session:
        assert (session.get(Order, 1).status, session.get(Order, 1).rating) == (S.CLOSED, 5)


async def test_on_wechat_退单_with_a_reason_then_延期_granted_and_refused(engine_dept, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await bind(account, engine_dept, (STAFF, "13800000031"), (SUNWEI, "13800000051"))
        await escalated(account, wx)
        await account.text(SUNWEI, "签收 1")
        await wx.wait_for(lambda: any("仅签收人可见" in t for t in wx.texts_to(SUNWEI)))
        assert "退单理由" in await account.text(SUNWEI, "2")
        assert "已退回社区" in await account.text(SUNWEI, "路灯归供电所管")
        await wx.wait_for(lambda: any("城管执法中队退单：路灯归供电所管" in t for t in wx.texts_to(STAFF)))
        with Session(engine_dept) as session:
            assert session.get(Order, 1).status == S.SUBMITTED

        assert "等待部门签收" in await account.text(STAFF, "/escalate 1 CG")
        assert "已签收" in await account.text(SUNWEI, "签收 1")
        assert "已提交延期申请" in await account.text(SUNWEI, "延期 1 3d 等配件")
        request = await wx.wait_for(lambda: next(t for t in wx.texts_to(STAFF) if "申请延期 3天" in t))
        assert "回复数字：1 👍 同意　2 👎 不同意" in request
        assert "已同意" in await account.text(STAFF, "1")
        await wx.wait_for(lambda: any("前办好" in t for t in wx.texts_to(RESIDENT)))
        await wx.wait_for(lambda: any("延期申请已同意" in t for t in wx.texts_to(SUNWEI)))

        assert "已提交延期申请" in await account.text(SUNWEI, "延期 1 2d 还要等")
        await wx.wait_for(lambda: any("申请延期 2天" in t for t in wx.texts_to(STAFF)))
        assert "不同意延期的理由" in await account.text(STAFF, "2")
        assert "已答复" in await account.text(STAFF, "已经延过一次了")
        await wx.wait_for(lambda: any("未获同意（工单 #1）：已经延过一次了" in t for t in wx.texts_to(SUNWEI)))


async def test_on_wechat_督办_levels_reach_the_contact_the_staff_then_the_admin(engine_dept, wx, database_url):  # noqa: F811
    clock = Clock(datetime.now(UTC))
    settings = wechat_settings(wx.root, database_url, tick_seconds=0.2)
    async with running(settings, clock=clock), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await bind(account, engine_dept, (STAFF, "13800000031"), (SUNWEI, "13800000051"), (ADMIN, "13800000041"))
        await escalated(account, wx)
        start = clock.now
        for hours, openid, word in ((2, SUNWEI, "还没有签收"), (4, STAFF, "二级督办"), (6, ADMIN, "三级督办")):
            clock.now = start + timedelta(hours=hours, minutes=1)
            await wx.wait_for(lambda o=openid, w=word: any(w in t for t in wx.texts_to(o)))
        await asyncio.sleep(1)  # more ticks: nobody is told twice
    told = [sum(word in t for t in wx.texts_to(o)) for o, word in ((SUNWEI, "督办"), (STAFF, "二级督办"), (ADMIN, "三级督办"))]
    assert told == [1, 1, 1]
