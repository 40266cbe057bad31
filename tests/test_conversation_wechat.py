"""The conversation as residents write it, through the real WeChat callback (signed, parsed by wechatpy)."""

import httpx
from sqlmodel import Session

from storage.models import Order
from tests.fake_wechat import Account, wechat_settings
from tests.running import running
from tests.test_wechat import (  # noqa: F401 (engine_wx, wx: fixtures)
    LIMING,
    RESIDENT,
    counts,
    engine_wx,
    invite,
    register_resident,
    report_and_get_card,
    wx,
)


async def test_small_talk_chase_and_not_fixed_on_wechat(engine_wx, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        assert "绑定成功" in await account.text(LIMING, f"绑定 {invite(engine_wx, '13800000011')}")
        await register_resident(account)
        before = counts(engine_wx)
        for text in ("你好", "谢谢你们", "[微笑]", "我家猫咪又胖了一圈 天天趴窗台晒太阳[呲牙]", "累成狗了 跟你唠两句"):
            answer = await account.text(RESIDENT, text)
            assert answer and "#" not in answer
        assert counts(engine_wx)[2:] == before[2:]  # no order, no event, no outbox row

        await report_and_get_card(account, wx)
        chased = await account.text(RESIDENT, "催一下，怎么还没人来")
        assert "#1" in chased and "网格长" in chased
        await wx.wait_for(lambda: any("催办 ×1" in p for p in wx.robot_posts["G01"]))

        await account.text(LIMING, "领单 1")
        assert "已办结" in await account.text(LIMING, "/done 1 已清理")
        assert "返工" in await account.text(RESIDENT, "又坏了，没修好")
        await wx.wait_for(lambda: any("🔁 返工" in p for p in wx.robot_posts["G01"]))


async def test_a_voice_message_is_read_by_its_recognition_or_asked_again(engine_wx, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        assert "说说是什么问题" in await account.voice(RESIDENT, "media-1")  # no recognition: asked for words
        answer = await account.voice(RESIDENT, "media-2", recognition="2单元楼道里堆满了垃圾好几天没人清理")
        assert "#1" in answer
    with Session(engine_wx) as session:
        assert "楼道" in session.get(Order, 1).text
