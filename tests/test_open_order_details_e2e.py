"""Words about the resident's own open order, end to end through the real PTB Application: a detail of its thing
is added to it and alarms no one; danger happening now is filed and alarmed; the job praised as done ends it."""

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.db import make_engine
from storage.models import Order, OrderEvent, OutboxMessage
from storage.outbox import URGENT_PREFIX
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram, User
from tests.running import bot_settings, running
from tests.test_e2e_telegram import (  # noqa: F401 (db_url: a fixture)
    LIMING,
    RESIDENT,
    bind_members,
    button,
    db_url,
    last_text,
    register_resident,
    report_and_get_card,
)

WANGFANG = User(513, "王芳")


def _orders_and_alerts(db: str) -> tuple[list[Order], int, list[str]]:
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            orders = list(session.exec(select(Order).order_by(col(Order.id))))
            alerts = session.exec(
                select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.key).startswith(URGENT_PREFIX))
            ).one()
            moves = list(session.exec(select(OrderEvent.trigger).where(OrderEvent.order_id == 1).order_by(OrderEvent.id)))
            return orders, alerts, moves
    finally:
        engine.dispose()


async def claimed_rubbish_order(tg: FakeTelegram, clock: Clock) -> None:
    """The resident's rubbish report claimed by 李明 (王芳, the grid leader, bound); the clock past the add window."""
    await bind_members(tg, (LIMING, "13800000011"), (WANGFANG, "13800000013"))  # the grid leader: alerted
    await register_resident(tg)
    card = await report_and_get_card(tg)
    tg.push_callback(LIMING, card, button(card, "领单"))
    await tg.wait_for(lambda: "已领单" in card.text)
    clock.advance(minutes=30)  # past the minutes in which any words are added to a report


async def _on_the_claimed_order(url: str, text: str, answered: str):
    """The resident writes `text` while their rubbish order is claimed; returns once the answer contains
    `answered`: (orders, alerts queued, the first order's moves)."""
    clock = Clock(datetime.now(UTC))
    async with FakeTelegram() as tg, running(bot_settings(tg.root, url), clock=clock):
        await claimed_rubbish_order(tg, clock)
        tg.push_text(RESIDENT, text)
        await tg.wait_for(lambda: answered in last_text(tg, RESIDENT.id))
    return _orders_and_alerts(url)


async def test_where_the_rubbish_lies_by_the_meter_box_is_a_detail_and_alarms_no_one(db_url):  # noqa: F811
    # the urgency model alone calls these words urgent
    orders, alerts, moves = await _on_the_claimed_order(db_url, "一堆杂物就在电表箱底下", "已补充到工单 #1")
    assert len(orders) == 1 and "电表箱" in orders[0].text and not orders[0].urgent
    assert alerts == 0 and moves[-1] == "amend"


async def test_fire_on_the_open_orders_rubbish_is_filed_and_alarmed(db_url):  # noqa: F811
    orders, alerts, moves = await _on_the_claimed_order(db_url, "楼道那堆垃圾冒烟了 好像着火了", "119")
    assert len(orders) == 2 and orders[1].urgent and alerts >= 1
    assert "amend" not in moves


async def test_the_job_praised_as_done_ends_the_order(db_url):  # noqa: F811
    orders, _, moves = await _on_the_claimed_order(db_url, "楼梯间现在干干净净的 谢谢", "已为您撤销")
    assert len(orders) == 1 and orders[0].status == "cancelled" and moves[-1] == "cancel"


async def test_a_half_job_after_done_is_sent_back(db_url):  # noqa: F811
    clock = Clock(datetime.now(UTC))
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url), clock=clock):
        await claimed_rubbish_order(tg, clock)
        tg.push_text(LIMING, "/done 1 已清理")
        await tg.wait_for(lambda: "满意吗" in " ".join(m.text for m in tg.chat(RESIDENT.id)))
        tg.push_text(RESIDENT, "就搬走了一半 剩下的还在")
        await tg.wait_for(lambda: "返工" in last_text(tg, RESIDENT.id))
    orders, _, moves = _orders_and_alerts(db_url)
    assert len(orders) == 1 and moves[-1] == "reopen"


async def test_praise_of_a_pet_is_chat_and_praise_with_a_complaint_is_filed(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await register_resident(tg)
        tg.push_text(RESIDENT, "邻居家的小猫真可爱 毛茸茸的")
        await tg.wait_for(lambda: "谢谢您跟我们分享" in last_text(tg, RESIDENT.id))
        assert _orders_and_alerts(db_url)[0] == []
        tg.push_text(RESIDENT, "小狗好可爱 但是天天在楼道拉屎")
        await tg.wait_for(lambda: "工单 #1" in last_text(tg, RESIDENT.id))
