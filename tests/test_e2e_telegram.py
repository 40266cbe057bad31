"""End to end: the real python-telegram-bot Application, polling the in-process fake Bot API."""

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.db import make_engine, transaction
from storage.models import InboxEntry, Order, OrderEvent, OutboxMessage
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER
from tests.fake_telegram import FakeTelegram, User
from tests.running import bot_settings, running

RESIDENT = User(501, "张阿姨")
LIMING, ZHAOQIANG, CHENGANG = User(511, "李明"), User(512, "赵强"), User(521, "陈刚")
STAFF = User(531, "刘洋")
G01 = -1001


@pytest.fixture
def db_url(sqlite_url):
    engine = make_engine(sqlite_url)
    from storage.db import migrate

    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
    engine.dispose()
    return sqlite_url


def last_text(tg: FakeTelegram, chat_id: int) -> str:
    messages = tg.chat(chat_id)
    return messages[-1].text if messages else ""


def button(message, part: str) -> str:
    return next(data for row in message.buttons for label, data in row if part in label)


async def bind_members(tg, *users_and_phones):
    for user, phone in users_and_phones:
        tg.push_contact(user, phone, user.id)
        await tg.wait_for(lambda u=user: "绑定成功" in last_text(tg, u.id))


async def register_resident(tg):
    tg.push_text(RESIDENT, "/start")
    ask = await tg.wait_for(lambda: next(m for m in tg.chat(RESIDENT.id) if "哪栋楼" in m.text))
    tg.push_callback(RESIDENT, ask, button(ask, "1号楼"))
    await tg.wait_for(lambda: "上门前会先联系您" in last_text(tg, RESIDENT.id))
    tg.push_contact(RESIDENT, "13800000001", RESIDENT.id)
    await tg.wait_for(lambda: "已记下您的手机号" in last_text(tg, RESIDENT.id))


async def report_and_get_card(tg, text="2单元楼道里堆满了垃圾，好几天没人清理了"):
    tg.push_text(RESIDENT, text)
    await tg.wait_for(lambda: "已受理" in last_text(tg, RESIDENT.id))
    return await tg.wait_for(lambda: next(m for m in tg.chat(G01) if "领单" in str(m.buttons)))


async def test_whole_loop_with_a_race_for_the_card(db_url):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await bind_members(tg, (LIMING, "13800000011"), (ZHAOQIANG, "13800000012"))
        await register_resident(tg)
        card = await report_and_get_card(tg)
        assert "#1" in last_text(tg, RESIDENT.id) and "/status 1" in last_text(tg, RESIDENT.id)
        assert "🆕 工单 #1 · 环境卫生" in card.text

        # Both press 领单 on the same card at the same moment.
        answered_before = len(tg.callback_answers)
        tg.push_callback(LIMING, card, button(card, "领单"))
        tg.push_callback(ZHAOQIANG, card, button(card, "领单"))
        await tg.wait_for(lambda: len(tg.callback_answers) == answered_before + 2)
        await tg.wait_for(lambda: "已领单" in card.text and card.buttons == [])
        winner = LIMING if "李明 已领单" in card.text else ZHAOQIANG
        loser_answer = [text for _, text, _ in tg.callback_answers[answered_before:] if text and "已由" in text]
        assert loser_answer == [f"这张工单已由 {winner.first_name} 领取"]
        details = await tg.wait_for(lambda: next(m for m in tg.chat(winner.id) if "仅领单人可见" in m.text))
        assert "13800000001" in details.text
        await tg.wait_for(lambda: "领取，正在处理" in last_text(tg, RESIDENT.id))

        tg.push_callback(winner, details, button(details, "完成"))
        await tg.wait_for(lambda: "照片" in last_text(tg, winner.id))
        tg.push_photo(winner, "proof-1")
        rate = await tg.wait_for(lambda: next(m for m in tg.chat(RESIDENT.id) if "满意吗" in (m.text or "")))
        assert rate.photo == "proof-1" and len(rate.buttons[0]) == 5
        await tg.wait_for(lambda: "已办结" in card.text)

        tg.push_callback(RESIDENT, rate, button(rate, "5⭐"))
        await tg.wait_for(lambda: "谢谢您的评价" in last_text(tg, RESIDENT.id))
        await tg.wait_for(lambda: "+7" in last_text(tg, winner.id))
        tg.push_text(RESIDENT, "/status 1")
        await tg.wait_for(lambda: "已完成" in last_text(tg, RESIDENT.id) and "5⭐" in last_text(tg, RESIDENT.id))


async def test_wrong_role_is_refused_and_nothing_written(db_url):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await register_resident(tg)
        await report_and_get_card(tg)
        engine = make_engine(db_url)
        with Session(engine) as session:
            before = (
                session.exec(select(func.count()).select_from(OrderEvent)).one(),
                session.exec(select(func.count()).select_from(OutboxMessage)).one(),
            )
        tg.push_text(RESIDENT, "/dispatch 1 G02")
        await tg.wait_for(lambda: "社区工作人员权限" in last_text(tg, RESIDENT.id))
        with Session(engine) as session:
            after = (
                session.exec(select(func.count()).select_from(OrderEvent)).one(),
                session.exec(select(func.count()).select_from(OutboxMessage)).one(),
            )
            assert session.get(Order, 1).grid_id is not None
        assert after == before


async def test_a_redelivered_update_creates_nothing_new(db_url):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await register_resident(tg)
        update = tg.push_text(RESIDENT, "楼下垃圾桶满了好几天没人收")
        await tg.wait_for(lambda: "已受理" in last_text(tg, RESIDENT.id))
        tg.repeat(update)
        await tg.wait_for(lambda: tg.pending_updates() == 0)
        tg.push_text(RESIDENT, "/my")
        await tg.wait_for(lambda: "您最近的工单" in last_text(tg, RESIDENT.id))
        assert "#2" not in last_text(tg, RESIDENT.id)
        with Session(make_engine(db_url)) as session:
            assert session.exec(select(func.count()).select_from(Order)).one() == 1


async def test_updates_answered_once_get_no_second_answer_when_redelivered(db_url):
    """Telegram sends again what it thinks went unanswered (a crash before the offset was confirmed):
    the replies that went out the first time do not go out again, for every update of a burst."""
    engine = make_engine(db_url)

    def marked_replied() -> int:
        with Session(engine) as session:
            return session.exec(select(func.count()).where(col(InboxEntry.replied_at).is_not(None))).one()

    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        repeated, control = [User(600 + n, f"居民{n}") for n in range(6)], User(700, "对照")
        updates = [tg.push_text(user, "你好") for user in repeated]
        tg.push_text(control, "你好")
        await tg.wait_for(lambda: all(tg.chat(user.id) for user in [*repeated, control]))
        await tg.wait_for(lambda: marked_replied() == 7)
        for update in updates:
            tg.repeat(update)
        for user in [*repeated, control]:  # each person's updates are handled in order: after the repeats
            tg.push_text(user, "谢谢")
        await tg.wait_for(lambda: tg.pending_updates() == 0 and marked_replied() == 14)
        assert [len(tg.chat(user.id)) for user in repeated] == [len(tg.chat(control.id))] * 6


async def test_bad_input_gets_a_chinese_reason(db_url):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await register_resident(tg)
        for text, expected in [
            ("/nonsense", "没有这个命令"),
            ("/status 99999", "没有找到工单 #99999"),
            ("🙏🙏🙏", "有什么问题直接告诉我"),
            ("好" * 4096, "内容太长"),
        ]:
            tg.push_text(RESIDENT, text)
            await tg.wait_for(lambda e=expected: e in last_text(tg, RESIDENT.id))
        tg.push_contact(User(777, "冒充"), "13800000011", 511)  # someone else's contact card
        await tg.wait_for(lambda: "本人" in last_text(tg, 777))


async def test_restart_in_the_middle_of_the_loop(db_url):
    async with FakeTelegram() as tg:
        async with running(bot_settings(tg.root, db_url)):
            await bind_members(tg, (LIMING, "13800000011"))
            await register_resident(tg)
            card = await report_and_get_card(tg)
            tg.push_callback(LIMING, card, button(card, "领单"))
            details = await tg.wait_for(lambda: next(m for m in tg.chat(LIMING.id) if "仅领单人可见" in m.text))
        # Stopped (as by SIGTERM) between the claim and the finish; start again on the same database.
        async with running(bot_settings(tg.root, db_url)):
            tg.push_callback(LIMING, details, button(details, "完成"))
            await tg.wait_for(lambda: "照片" in last_text(tg, LIMING.id))
            tg.push_text(LIMING, "已清理干净")  # the "waiting for proof" state survived the restart
            await tg.wait_for(lambda: "已办结" in card.text, timeout=10)  # card edited in place after restart
            rate = await tg.wait_for(lambda: next(m for m in tg.chat(RESIDENT.id) if "满意吗" in (m.text or "")))
            tg.push_callback(RESIDENT, rate, button(rate, "4⭐"))
            tg.push_text(RESIDENT, "/status 1")
            await tg.wait_for(lambda: "已完成" in last_text(tg, RESIDENT.id))
        assert [m.text for m in tg.chat(G01)].count(card.text) == 1  # one card, edited, never re-sent


async def test_a_webhook_is_answered_only_after_its_update_has_committed(db_url):
    """Answered 200 before the commit, a process killed in between would lose the update for good."""
    from tests.running import free_port

    port = free_port()
    engine = make_engine(db_url)
    orders_when_answered: list[int] = []

    def count_orders(update: dict, status: int) -> None:
        if "小区门口的路灯" in str(update) and status == 200:
            with Session(engine) as session:  # read at the very moment Telegram gets its 200
                orders_when_answered.append(session.exec(select(func.count()).select_from(Order)).one())

    async with FakeTelegram() as tg:
        settings = bot_settings(tg.root, db_url, http_port=port, telegram_webhook_url=f"http://127.0.0.1:{port}/telegram")
        async with running(settings):
            await tg.wait_for(lambda: tg.webhook_url.endswith("/telegram"))
            await register_resident(tg)
            tg.on_webhook_answer = count_orders
            tg.push_text(RESIDENT, "小区门口的路灯坏了三盏，晚上很黑")
            await tg.wait_for(lambda: "工单 #1" in last_text(tg, RESIDENT.id))
            await tg.wait_for(lambda: orders_when_answered)
    assert orders_when_answered == [1]


async def test_webhook_mode_takes_updates_only_with_the_secret(db_url):
    from tests.running import free_port

    port = free_port()
    async with FakeTelegram() as tg:
        settings = bot_settings(tg.root, db_url, http_port=port, telegram_webhook_url=f"http://127.0.0.1:{port}/telegram")
        async with running(settings), httpx.AsyncClient() as client:
            await tg.wait_for(lambda: tg.webhook_url.endswith("/telegram"))
            assert tg.webhook_secret  # none configured: one is made for the run and given to Telegram
            await register_resident(tg)  # every update arrives by POST /telegram with the secret
            tg.push_text(RESIDENT, "2单元楼道里堆满了垃圾，好几天没人清理了")
            await tg.wait_for(lambda: "工单 #1" in last_text(tg, RESIDENT.id))
            assert tg.pending_updates() == 0 and set(tg.webhook_answers) == {200}

            forged = {
                "update_id": 999001,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 501, "type": "private"},
                    "from": {"id": 501, "is_bot": False, "first_name": "张阿姨"},
                    "text": "楼下路灯坏了",
                },
            }
            url = f"http://127.0.0.1:{port}/telegram"
            assert (await client.post(url, json=forged)).status_code == 403
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guessed"}
            assert (await client.post(url, json=forged, headers=wrong)).status_code == 403
            right = {"X-Telegram-Bot-Api-Secret-Token": tg.webhook_secret}
            assert (await client.post(url, content=b"{not json", headers=right)).status_code == 400
            assert (await client.get(f"http://127.0.0.1:{port}/healthz")).text == "ok"
        with Session(make_engine(db_url)) as session:
            assert session.exec(select(func.count()).select_from(Order)).one() == 1  # the forged one made none
