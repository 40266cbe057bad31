"""WeChat end to end: `serve()` with only GRIDBOT_WECHAT_* set, pushes signed and AES-encrypted by
wechatpy exactly as WeChat's servers do, a fake WeChat API and fake WeCom group robots."""

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from storage import invites
from storage.db import make_engine, migrate, transaction
from storage.models import Grid, Identity, InboxEntry, Order, OrderEvent, OutboxMessage
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER
from tests.fake_wechat import ACCOUNT, TOKEN, Account, FakeWeChat, sign, wechat_settings
from tests.running import running

RESIDENT, LIMING, ZHAOQIANG = "o_resident_zhang", "o_member_liming", "o_member_zhao"
REPORT = "2单元楼道里堆满了垃圾，好几天没人清理了"


@pytest.fixture
async def wx():
    async with FakeWeChat() as fake:
        yield fake


@pytest.fixture
def engine_wx(database_url, wx):
    """The fixture roster, as a WeChat-only community: grids post to WeCom robots, no Telegram."""
    engine = make_engine(database_url)
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        for grid in session.exec(select(Grid)):
            grid.telegram_chat_id = None
            grid.wecom_webhook = wx.robot_url(grid.code)
            session.add(grid)
    yield engine
    engine.dispose()


def invite(engine, phone: str) -> str:
    with transaction(engine) as session:
        return invites.create_invite(session, phone, datetime.now(UTC))


def counts(engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (InboxEntry, Identity, Order, OrderEvent, OutboxMessage)
        )


async def register_resident(account: Account) -> None:
    welcome = await account.event(RESIDENT, "subscribe")
    assert "哪栋楼" in welcome and "回复数字：1 1号楼" in welcome
    assert "已登记：1号楼" in await account.text(RESIDENT, "1")


async def report_and_get_card(account: Account, wx: FakeWeChat) -> str:
    answer = await account.text(RESIDENT, REPORT)
    assert "已受理" in answer and "#1" in answer
    return await wx.wait_for(lambda: next(p for p in wx.robot_posts["G01"] if "工单 #1" in p))


async def card_with_liming_bound(account: Account, wx: FakeWeChat, engine) -> str:
    """李明 bound by invite code, the resident registered and reporting: the card in 一网格's robot."""
    assert "绑定成功" in await account.text(LIMING, f"绑定 {invite(engine, '13800000011')}")
    await register_resident(account)
    return await report_and_get_card(account, wx)


async def test_whole_loop_resident_robot_member_rating(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        assert "绑定成功：李明" in await account.text(LIMING, f"绑定 {invite(engine_wx, '13800000011')}")
        await register_resident(account)

        card = await report_and_get_card(account, wx)
        assert "领单 1" in card and "环境卫生" in card
        assert "13800000001" not in card and "o_resident" not in card  # no resident details in the group

        claimed = await account.text(LIMING, "领单 1")
        assert "工单 #1 已由您领取" in claimed
        await wx.wait_for(lambda: any("李明 领取" in t for t in wx.texts_to(RESIDENT)))
        await wx.wait_for(lambda: any("李明 已领单" in p for p in wx.robot_posts["G01"]))
        details = await wx.wait_for(lambda: next(t for t in wx.texts_to(LIMING) if "仅领单人可见" in t))
        assert "回复数字：1 ✅ 完成　2 ↩️ 退单" in details

        assert "请发一张处理后的照片" in await account.text(LIMING, "1")  # 1 = 完成
        assert "已办结" in await account.text(LIMING, "已清理干净")
        rate = await wx.wait_for(lambda: next(t for t in wx.texts_to(RESIDENT) if "满意吗" in t))
        assert "回复数字 1-5 打分" in rate
        await wx.wait_for(lambda: any("已办结" in p for p in wx.robot_posts["G01"]))

        assert "谢谢您的评价" in await account.text(RESIDENT, "5")
        status = await account.text(RESIDENT, "/status 1")
        assert "已完成" in status and "5⭐" in status
        assert (await client.get(f"http://127.0.0.1:{settings.http_port}/healthz")).text == "ok"
    assert wx.token_fetches == 1  # fetched once, cached for every later notice


async def test_a_second_member_is_told_who_has_it_and_codes_bind_once(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        code = invite(engine_wx, "13800000011")
        assert "绑定成功" in await account.text(LIMING, f"绑定 {code}")
        assert "已经用过" in await account.text(ZHAOQIANG, f"绑定 {code}")
        assert "绑定成功" in await account.text(ZHAOQIANG, f"绑定 {invite(engine_wx, '13800000012')}")
        await register_resident(account)
        await report_and_get_card(account, wx)
        assert "已由您领取" in await account.text(LIMING, "领单 1")
        assert "这张工单已由 李明 领取" in await account.text(ZHAOQIANG, "领单 1")


async def test_plain_mode_and_the_echostr_check(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url, safe_mode=False)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        raw = await account.post_raw(
            f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{RESIDENT}"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType>text</MsgType><Content>/my</Content><MsgId>42</MsgId></xml>"
        )
        assert "<Encrypt>" not in raw.text and "<Content><![CDATA[" in raw.text
        assert "工单" in account.reply_text(raw)

        url = f"http://127.0.0.1:{settings.http_port}/wechat"
        good = {"signature": sign(TOKEN, "1700000000", "n1"), "timestamp": "1700000000", "nonce": "n1", "echostr": "echo-123"}
        assert (await client.get(url, params=good)).text == "echo-123"
        forged = await client.get(url, params=good | {"signature": sign("nope", "1700000000", "n1")})
        assert forged.status_code == 403 and "echo-123" not in forged.text


async def test_a_retried_msgid_gets_the_same_answer_and_creates_nothing(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        first = await account.text(RESIDENT, REPORT, msg_id=900001)
        before = counts(engine_wx)
        again = await account.text(RESIDENT, REPORT, msg_id=900001)  # WeChat's retry after no answer in 5 s
        assert again == first and "#1" in again
        assert counts(engine_wx) == before


async def test_a_retried_menu_tap_that_claims_is_answered_the_same_and_claims_once(engine_wx, wx, database_url):
    """An event has no MsgId: WeChat's retry repeats sender, time and key. The tap writes (a claim),
    so without the inbox the retry would be refused as "already claimed" and the answer differ."""
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await card_with_liming_bound(account, wx, engine_wx)
        stamp = int(time.time()) - 30
        first = await account.event(LIMING, "CLICK", "o:claim:1", at=stamp)
        assert "工单 #1 已由您领取" in first
        await wx.wait_for(lambda: any("李明 领取" in t for t in wx.texts_to(RESIDENT)))
        before = counts(engine_wx)
        assert await account.event(LIMING, "CLICK", "o:claim:1", at=stamp) == first  # the retry
        assert counts(engine_wx) == before
        await account.text(RESIDENT, "/my")  # a later push: the sender has had its turn
        assert len([t for t in wx.texts_to(RESIDENT) if "李明 领取" in t]) == 1
        with Session(engine_wx) as session:
            claims = session.exec(select(OrderEvent).where(OrderEvent.trigger == "claim")).all()
        assert [event.actor for event in claims] == ["member:1"]


async def test_bad_input_is_refused_and_changes_nothing(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        before = counts(engine_wx)
        message = (
            f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>o_evil</FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
            "<Content>楼道里堆满了垃圾</Content><MsgId>31337</MsgId></xml>"
        )
        assert (await account.post_raw(message, forge_signature=True)).status_code == 403
        assert (await account.post_raw(message, forge_msg_signature=True)).status_code == 403
        assert (await account.post_raw("<xml><ToUserName>broken", encrypt=False)).status_code == 400
        assert (await account.post_raw("<xml><Content>no close", encrypt=True)).status_code == 400
        assert (await account.post_raw("<xml><MsgType>text</MsgType></xml>")).status_code == 400  # from no one
        laughs = (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">' for n in range(1, 10))
            + "]><xml><Content>&lol9;</Content></xml>"
        )
        started = time.monotonic()
        assert (await account.post_raw(laughs, encrypt=False)).status_code == 400
        assert (await account.post_raw(laughs, encrypt=True)).status_code == 400
        assert time.monotonic() - started < 1.0
        assert counts(engine_wx) == before
        assert (await client.get(f"http://127.0.0.1:{settings.http_port}/healthz")).text == "ok"
        assert "已受理" in await account.text(RESIDENT, REPORT)  # and it still serves


async def test_an_expired_access_token_is_fetched_again(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await card_with_liming_bound(account, wx, engine_wx)
        await account.text(LIMING, "领单 1")
        await wx.wait_for(lambda: any("李明 领取" in t for t in wx.texts_to(RESIDENT)))
        assert wx.token_fetches == 1
        wx.expire_tokens()
        await account.text(LIMING, "/done 1 已清理")
        await wx.wait_for(lambda: any("满意吗" in t for t in wx.texts_to(RESIDENT)))
        assert wx.token_fetches == 2 and ("token", 40001) in wx.refused


async def test_a_robot_over_its_limit_is_tried_again_later(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url, wecom_robot_window=1.0)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        wx.robot_errors["G01"].append(45009)
        await register_resident(account)
        await account.text(RESIDENT, REPORT)
        card = await wx.wait_for(lambda: next(p for p in wx.robot_posts["G01"] if "工单 #1" in p), timeout=10)
        assert ("robot:G01", 45009) in wx.refused and "领单 1" in card
        assert wx.robot_posts["G01"].count(card) == 1


@pytest.mark.parametrize("template", [None, "TPL-123"])
async def test_out_of_window_notices_are_never_dropped(engine_wx, wx, database_url, template):
    settings = wechat_settings(wx.root, database_url, wechat_template_id=template)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await card_with_liming_bound(account, wx, engine_wx)
        wx.out_of_window.add(RESIDENT)  # the resident has not written for over 48 h, as WeChat sees it
        await account.text(LIMING, "领单 1")
        await wx.wait_for(lambda: (RESIDENT, 45015) in wx.refused)
        if template:
            sent = await wx.wait_for(lambda: next(t for t in wx.templates if t[0] == RESIDENT))
            assert sent[1] == "TPL-123" and "李明 领取" in sent[2]["content"]["value"]
            return
        await wx.wait_for(lambda: held_notices(engine_wx))
        answer = await account.text(RESIDENT, "/my")
        assert answer.index("已由党员 李明 领取") < answer.index("您最近的工单")
        assert held_notices(engine_wx) == []
        assert "李明 领取" not in await account.text(RESIDENT, "/my")  # delivered once


async def test_the_48_hour_window_is_respected_before_asking_wechat(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await card_with_liming_bound(account, wx, engine_wx)
        with transaction(engine_wx) as session:
            identity = session.exec(select(Identity).where(Identity.user_id == RESIDENT)).one()
            identity.last_seen_at = datetime.now(UTC) - timedelta(hours=49)
            session.add(identity)
        await account.text(LIMING, "领单 1")
        await wx.wait_for(lambda: held_notices(engine_wx))
        assert not wx.texts_to(RESIDENT) and (RESIDENT, 45015) not in wx.refused


def held_notices(engine) -> list[str]:
    with Session(engine) as session:
        return [row.payload["text"] for row in session.exec(select(OutboxMessage).where(OutboxMessage.state == "held"))]


async def test_an_answer_not_ready_in_time_follows_as_a_message(engine_wx, wx, database_url, monkeypatch):
    from bot.wechat import callback

    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        monkeypatch.setattr(callback, "ANSWER_WITHIN", 0.0)  # as when a burst queues this push behind others
        assert await account.text(RESIDENT, REPORT) == ""  # `success`: WeChat neither waits nor retries
        late = await wx.wait_for(lambda: next(t for t in wx.texts_to(RESIDENT) if "已受理" in t))
        assert "#1" in late


async def test_photo_and_location_join_the_report(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        assert "说说是什么问题" in await account.image(RESIDENT, "MEDIA-1")
        await account.location(RESIDENT, 31.2304, 121.4737)
        assert "#1" in await account.text(RESIDENT, REPORT)
    with Session(engine_wx) as session:
        order = session.get(Order, 1)
        assert order.photos == ["MEDIA-1"] and (order.latitude, order.longitude) == (31.2304, 121.4737)


async def test_a_voice_message_is_heard_or_answered(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        await register_resident(account)
        assert "用一句话说说" in await account.voice(RESIDENT, "VOICE-1")  # no recognition: asked to write
        answer = await account.voice(RESIDENT, "VOICE-2", recognition="楼道里的灯坏了好几天了")
        assert "已受理" in answer and "#1" in answer
    with Session(engine_wx) as session:
        assert session.get(Order, 1).text == "楼道里的灯坏了好几天了"


async def test_staff_dispatch_by_text_on_wechat(engine_wx, wx, database_url):
    settings = wechat_settings(wx.root, database_url)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        assert "绑定成功：刘洋" in await account.text("o_staff_liu", f"绑定 {invite(engine_wx, '13800000031')}")
        await register_resident(account)
        assert "社区工作人员会尽快分派" in await account.text(RESIDENT, "想问一下医保怎么报销，需要什么材料")
        await wx.wait_for(lambda: any("待分派" in t for t in wx.texts_to("o_staff_liu")))
        assert "工单 #1 已派给一网格" in await account.text("o_staff_liu", "/dispatch 1 G01")
        await wx.wait_for(lambda: any("工单 #1" in p and "领单 1" in p for p in wx.robot_posts["G01"]))
