"""WeChat defects of issue 10, through the real callback (each failed on 8dd4507)."""

import time

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import InboxEntry, Order, OutboxMessage, OutboxState
from tests.fake_wechat import TOKEN, Account, message_xml, sign, text_fields, wechat_settings
from tests.running import running
from tests.test_wechat import (  # noqa: F401 (engine_wx, wx: fixtures)
    LIMING,
    RESIDENT,
    card_with_liming_bound,
    engine_wx,
    register_resident,
    wx,
)


def _inbox(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(InboxEntry)).one()


def _held(engine, openid: str) -> bool:
    with Session(engine) as session:
        return (
            session.exec(
                select(OutboxMessage).where(OutboxMessage.chat_id == openid, OutboxMessage.state == OutboxState.HELD)
            ).first()
            is not None
        )


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


async def test_8_a_number_never_presses_a_button_of_a_message_not_delivered(engine_wx, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await card_with_liming_bound(account, wx, engine_wx)
        wx.out_of_window.add(LIMING)  # WeChat refuses 李明's customer-service messages (45015)
        assert "已由您领取" in await account.text(LIMING, "领单 1")
        await wx.wait_for(lambda: (LIMING, 45015) in wx.refused)  # the details with 完成 / 退单: refused
        await wx.wait_for(lambda: _held(engine_wx, LIMING))  # and held: the sender has taken their choices back
        answer = await account.text(LIMING, "2")  # 2 would be 退单, on a message 李明 never saw
        assert "仅领单人可见" in answer and "已退单" not in answer  # the held details come now, unpressed
        with Session(engine_wx) as session:
            assert session.get(Order, 1).status == "claimed"
        assert "已退单" in await account.text(LIMING, "2")  # now it was shown: 2 presses 退单
