"""The conversation as residents write it, end to end through the real PTB Application and the fake Bot API."""

import asyncio
import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from storage.db import make_engine
from storage.models import Order, OrderEvent, OutboxMessage
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram, User
from tests.running import bot_settings, running
from tests.test_e2e_telegram import (  # noqa: F401 (db_url: a fixture)
    G01,
    LIMING,
    RESIDENT,
    STAFF,
    bind_members,
    button,
    db_url,
    last_text,
    register_resident,
    report_and_get_card,
)
from tests.test_open_order_details_e2e import claimed_rubbish_order

WANGFANG = User(513, "王芳")

LITTER = "2单元楼道里堆满了垃圾，好几天没人清理了"


async def test_a_reply_refused_with_429_is_retried_and_arrives(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await register_resident(tg)
        tg.fail_next(RESIDENT.id, 429, retry_after=1)  # flood control on the reply that carries #n
        tg.push_text(RESIDENT, LITTER)
        await tg.wait_for(lambda: "工单 #1" in last_text(tg, RESIDENT.id), timeout=10)
        tries = [
            c for c in tg.calls_to("sendMessage") if str(c.get("chat_id")) == str(RESIDENT.id) and "工单 #1" in str(c.get("text"))
        ]
        assert len(tries) == 2  # refused once, then delivered


async def test_a_reply_that_cannot_be_delivered_is_logged_and_counted(db_url, caplog):  # noqa: F811
    settings = None
    async with FakeTelegram() as tg, running(settings := bot_settings(tg.root, db_url)):
        await register_resident(tg)
        async with httpx.AsyncClient() as client:

            async def lost() -> float:
                text = (await client.get(f"http://127.0.0.1:{settings.http_port}/metrics")).text
                found = re.search(r'gridbot_reply_failures_total\{platform="telegram",reason="Forbidden"\} (\S+)', text)
                return float(found[1]) if found else 0.0

            before = await lost()
            tg.fail_next(RESIDENT.id, 403, description="Forbidden: bot was blocked by the user")
            tg.push_text(RESIDENT, "/my")
            for _ in range(200):
                if await lost() == before + 1:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the lost reply was not counted in /metrics")
    assert any("blocked by the user" in record.getMessage() for record in caplog.records)


async def _count(db: str, table) -> int:
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(table)).one()
    finally:
        engine.dispose()


async def test_small_talk_creates_no_order_and_no_outbox_row(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await register_resident(tg)
        for text in ("你好", "谢谢", "测试", "在吗"):
            before = len(tg.chat(RESIDENT.id))
            tg.push_text(RESIDENT, text)
            await tg.wait_for(lambda b=before: len(tg.chat(RESIDENT.id)) > b)
        tg.push_raw(
            {
                "message": tg._user_message(
                    RESIDENT,
                    None,
                    sticker={
                        "file_id": "stk",
                        "file_unique_id": "u-stk",
                        "width": 512,
                        "height": 512,
                        "is_animated": False,
                        "is_video": False,
                        "type": "regular",
                    },
                )
            }
        )
        await tg.wait_for(lambda: "有什么问题直接告诉我" in last_text(tg, RESIDENT.id))
        assert all("#" not in m.text for m in tg.chat(RESIDENT.id)[-5:])
    assert await _count(db_url, Order) == 0 and await _count(db_url, OutboxMessage) == 0


async def test_chase_add_reopen_and_the_same_thing_through_telegram(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await bind_members(tg, (LIMING, "13800000011"), (WANGFANG, "13800000013"))
        await register_resident(tg)
        card = await report_and_get_card(tg)
        tg.push_text(RESIDENT, "怎么还没人来")
        await tg.wait_for(lambda: "已替您催办" in last_text(tg, RESIDENT.id) and "#1" in last_text(tg, RESIDENT.id))
        await tg.wait_for(lambda: "催办 ×1" in card.text)
        await tg.wait_for(lambda: "居民催办" in last_text(tg, WANGFANG.id))

        tg.push_photo(RESIDENT, "rubbish-photo")
        await tg.wait_for(lambda: "已补充到工单 #1" in last_text(tg, RESIDENT.id))

        neighbour = User(502, "李大爷")
        tg.push_text(neighbour, "/start")
        ask = await tg.wait_for(lambda: next(m for m in tg.chat(neighbour.id) if "哪栋楼" in m.text))
        tg.push_callback(neighbour, ask, button(ask, "1号楼"))
        await tg.wait_for(lambda: "已登记" in " ".join(m.text for m in tg.chat(neighbour.id)))
        tg.push_text(neighbour, "楼道垃圾好多天没人收了")
        same = await tg.wait_for(lambda: next(m for m in tg.chat(neighbour.id) if "同一件事" in m.text))
        tg.push_callback(neighbour, same, button(same, "是同一件事"))
        await tg.wait_for(lambda: "已有 2 位居民反映" in last_text(tg, neighbour.id))
        await tg.wait_for(lambda: "已有 2 位居民反映" in card.text)

        tg.push_callback(LIMING, card, button(card, "领单"))
        details = await tg.wait_for(lambda: next(m for m in tg.chat(LIMING.id) if "仅领单人可见" in m.text))
        tg.push_text(LIMING, "/done 1 已清理")
        await tg.wait_for(lambda: any("满意吗" in m.text for m in tg.chat(neighbour.id)))
        tg.push_text(RESIDENT, "没解决，还是一堆")
        await tg.wait_for(lambda: "返工" in last_text(tg, RESIDENT.id))
        repost = await tg.wait_for(lambda: next(m for m in tg.chat(G01) if "🔁 返工" in m.text and m.buttons))
        assert repost.message_id != card.message_id and details
        await tg.wait_for(lambda: "返工" in last_text(tg, WANGFANG.id))
    assert await _count(db_url, Order) == 1


async def test_another_thing_worded_like_a_chase_while_an_order_is_open_is_a_new_order(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await bind_members(tg, (LIMING, "13800000011"))
        await register_resident(tg)
        card = await report_and_get_card(tg, "我们单元的电梯坏了，老人上下楼很不方便")
        tg.push_callback(LIMING, card, button(card, "领单"))
        await tg.wait_for(lambda: "已领单" in card.text)
        told_liming = len(tg.chat(LIMING.id))
        tg.push_text(RESIDENT, "我家暖气不热 什么时候能修")
        await tg.wait_for(lambda: "工单 #2" in last_text(tg, RESIDENT.id))
        assert "催办" not in last_text(tg, RESIDENT.id) and "催办" not in card.text
        assert not any("催办" in m.text for m in tg.chat(LIMING.id)[told_liming:])
    engine = make_engine(db_url)
    with Session(engine) as session:
        first, second = session.get(Order, 1), session.get(Order, 2)
        assert first.chases == 0 and "暖气" not in first.text and "暖气" in second.text
        moves = session.exec(select(OrderEvent.trigger).where(OrderEvent.order_id == 1).order_by(OrderEvent.id))
        assert list(moves) == ["submit", "dispatch", "claim"]
    engine.dispose()


async def test_a_telegram_voice_message_goes_to_staff_triage(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await bind_members(tg, (STAFF, "13800000031"))
        await register_resident(tg)
        tg.push_raw(
            {
                "message": tg._user_message(
                    RESIDENT, None, voice={"file_id": "voice-1", "file_unique_id": "u-voice-1", "duration": 4}
                )
            }
        )
        await tg.wait_for(lambda: "工单 #1" in " ".join(m.text for m in tg.chat(RESIDENT.id)))
        await tg.wait_for(lambda: any("语音" in m.text for m in tg.chat(STAFF.id)))
    engine = make_engine(db_url)
    with Session(engine) as session:
        order = session.get(Order, 1)
        assert order.voice == "voice-1" and order.status == "submitted"
    engine.dispose()


async def test_unclear_words_are_asked_about_and_the_next_message_is_filed(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await register_resident(tg)
        for text in ("谢谢你们上次修路灯", "好 我等着", "老师 我家那边有个"):
            before = len(tg.chat(RESIDENT.id))
            tg.push_text(RESIDENT, text)
            await tg.wait_for(lambda b=before: len(tg.chat(RESIDENT.id)) > b)
        assert "请说说是什么问题" in last_text(tg, RESIDENT.id)
        assert await _count(db_url, Order) == 0 and await _count(db_url, OutboxMessage) == 0
        tg.push_text(RESIDENT, "门口那个")
        await tg.wait_for(lambda: "工单 #1" in last_text(tg, RESIDENT.id))
    assert await _count(db_url, Order) == 1


WARM_CHAT = (
    "院子里的玉兰花开了 白白的一树 真好看",  # names a thing of the estate
    "我家狗狗今天学会坐下了 聪明得很",  # a dog, which complaints are often about
    "孙女考上研究生了 可把我乐坏了",  # 坏 in joy
    "今天跟老姐妹们去公园拍照 银杏叶黄了 一片金灿灿的 拍了好多张 回来给孙子看 他说奶奶拍得比他还好",  # news at length
)


async def test_warm_chat_files_no_order_and_no_outbox_row(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await register_resident(tg)
        before = await _count(db_url, OutboxMessage)
        for text in WARM_CHAT:
            answered = len(tg.chat(RESIDENT.id))
            tg.push_text(RESIDENT, text)
            await tg.wait_for(lambda n=answered: len(tg.chat(RESIDENT.id)) > n)
            assert "谢谢您跟我们分享" in last_text(tg, RESIDENT.id), text
    assert await _count(db_url, Order) == 0 and await _count(db_url, OutboxMessage) == before


async def test_a_detail_with_no_word_of_adding_goes_onto_the_open_order(db_url):  # noqa: F811
    clock = Clock(datetime.now(UTC))
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url), clock=clock):
        await claimed_rubbish_order(tg, clock)
        tg.push_text(RESIDENT, "礼拜天一整天都有人 平时要晚上七点以后")
        await tg.wait_for(lambda: "已补充到工单 #1" in last_text(tg, RESIDENT.id))
    assert await _count(db_url, Order) == 1
    engine = make_engine(db_url)
    with Session(engine) as session:
        assert "平时要晚上七点以后" in session.get(Order, 1).text
        assert list(session.exec(select(OrderEvent.trigger).where(OrderEvent.order_id == 1)))[-1] == "amend"
    engine.dispose()


async def test_words_for_the_visit_are_a_detail_and_a_job_done_by_halves_is_reopened(db_url):  # noqa: F811
    clock = Clock(datetime.now(UTC))
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url), clock=clock):
        await claimed_rubbish_order(tg, clock)
        tg.push_text(RESIDENT, "搬的时候当心点 里面有几块碎玻璃")  # names glass, which breaks: for whoever comes
        await tg.wait_for(lambda: "已补充到工单 #1，李明 能看到" in last_text(tg, RESIDENT.id))
        tg.push_text(LIMING, "/done 1 已清理")
        await tg.wait_for(lambda: "满意吗" in last_text(tg, RESIDENT.id))
        tg.push_text(RESIDENT, "垃圾只是挪到了单元门口 这也算处理了？")
        await tg.wait_for(lambda: "返工" in last_text(tg, RESIDENT.id))
        await tg.wait_for(lambda: any("🔁 返工" in m.text for m in tg.chat(G01)))
    assert await _count(db_url, Order) == 1
    engine = make_engine(db_url)
    with Session(engine) as session:
        assert "里面有几块碎玻璃" in session.get(Order, 1).text
        triggers = list(session.exec(select(OrderEvent.trigger).where(OrderEvent.order_id == 1)))
        assert triggers.count("amend") == 1 and triggers.count("reopen") == 1
    engine.dispose()
