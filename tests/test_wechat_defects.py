"""WeChat defects of issue 10, through the real callback (each failed on 8dd4507)."""

import time

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import InboxEntry, Order
from tests.fake_wechat import TOKEN, Account, message_xml, sign, text_fields, wechat_settings
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


async def test_11_a_captured_request_cannot_be_replayed_with_another_body(engine_wx, wx, database_url):  # noqa: F811
    """Plain mode: the signature covers token, timestamp and nonce only."""
    settings = wechat_settings(wx.root, database_url, safe_mode=False)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        query, body = account.sealed(message_xml(RESIDENT, "text", text_fields("/my"), msg_id=424242), openid=RESIDENT)
        assert (await account.send(query, body)).status_code == 200
        assert (await account.send(query, body)).status_code == 200  # WeChat's own retry: same body
        forged = message_xml(RESIDENT, "text", text_fields("我要反映：有人偷东西"), msg_id=424243).encode()
        refused = await account.send(query, forged)  # the captured signature, another body
        assert refused.status_code == 403
        stale = dict(query, timestamp=str(int(time.time()) - 600), nonce="n-old")
        stale["signature"] = sign(TOKEN, stale["timestamp"], stale["nonce"])
        assert (await account.send(stale, body)).status_code == 403
    with Session(engine_wx) as session:
        assert session.exec(select(func.count()).select_from(Order)).one() == 0
