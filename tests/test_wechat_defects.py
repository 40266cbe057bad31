"""WeChat defects of issue 10, through the real callback (each failed on 8dd4507)."""

import time

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import InboxEntry
from tests.fake_wechat import Account, wechat_settings
from tests.running import running
from tests.test_wechat import RESIDENT, engine_wx, register_resident, wx  # noqa: F401 (fixtures)


def _inbox(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(InboxEntry)).one()


async def test_10_two_menu_taps_in_one_second_are_both_answered(engine_wx, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        second = int(time.time())
        help_answer = await account.event(RESIDENT, "CLICK", key="/help", at=second)
        my_answer = await account.event(RESIDENT, "CLICK", key="/my", at=second)
        assert "/my" in help_answer and "还没有提交过工单" in my_answer
        before = _inbox(engine_wx)
        assert await account.event(RESIDENT, "CLICK", key="/my", at=second) == my_answer  # WeChat's retry
        assert _inbox(engine_wx) == before
