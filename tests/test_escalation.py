"""督办 stages and the grid leaders' daily digest, with a controlled clock, on SQLite and PostgreSQL."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from storage.models import Building, Order, OrderEvent, PointsEntry
from storage.models import OrderStatus as S
from storage.order_buttons import BuildingCb
from tests.driver import Driver

RESIDENT, LIMING, WANGFANG, STAFF = "501", "511", "513", "531"
G01_CHAT = "-1001"
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def chat(services, roster) -> Driver:
    driver = Driver(services)
    for user, phone in ((LIMING, "13800000011"), (WANGFANG, "13800000013"), (STAFF, "13800000031")):
        assert "绑定成功" in driver.say(user, contact=(phone, user))
    driver.send(RESIDENT, "/start")
    with Session(services.engine) as session:
        building = session.exec(select(Building).where(Building.name == "1号楼")).one()
    driver.send(RESIDENT, callback=BuildingCb(building.id).pack())
    driver.tick(START)
    return driver


def report(chat: Driver) -> None:
    assert "工单 #1" in chat.say(RESIDENT, "2单元楼道里堆满了垃圾，好几天没人清理了")


def test_unclaimed_unfinished_and_unrated_each_escalate_once(chat, services):
    report(chat)
    chat.tick(START + timedelta(hours=1, minutes=59))
    assert not any("督办" in text for text in chat.texts(WANGFANG))
    for minutes in (0, 10, 20):
        chat.tick(START + timedelta(hours=2, minutes=minutes))
    assert [text for text in chat.texts(WANGFANG) if "督办" in text] == [
        "⏰ 督办：工单 #1 · 环境卫生（一网格 / 1号楼） 派单已超过 2小时 无人领单，请安排党员领取（/tasks 查看）。"
    ]

    services.clock.now = START + timedelta(hours=3)
    assert "领单成功" in chat.say(LIMING, group=G01_CHAT, callback=chat.button(G01_CHAT, "领单"))
    chat.tick(START + timedelta(hours=47, minutes=59))
    assert not any("未办结" in text for text in chat.texts(WANGFANG))
    chat.tick(START + timedelta(hours=48))
    chat.tick(START + timedelta(hours=48, minutes=30))
    assert [text for text in chat.texts(WANGFANG) if "未办结" in text] == [  # first level: the grid leader
        "🚨 督办：工单 #1 · 环境卫生（一网格 / 1号楼） 已超过 48小时 未办结，领单人 李明。"
    ]
    assert not any("未办结" in text for text in chat.texts(STAFF))  # the staff one limit later
    assert sum("已超过办结时限" in text for text in chat.texts(LIMING)) == 1

    services.clock.now = START + timedelta(hours=50)
    chat.say(LIMING, callback=chat.button(LIMING, "完成"))
    assert "已办结" in chat.say(LIMING, "已清理干净")
    chat.tick(START + timedelta(hours=50) + timedelta(days=3) - timedelta(minutes=1))
    with Session(services.engine) as session:
        assert session.get(Order, 1).status == S.DONE
    chat.tick(START + timedelta(hours=50, days=3))
    chat.tick(START + timedelta(hours=50, days=3, minutes=10))
    with Session(services.engine) as session:
        order = session.get(Order, 1)
        closes = session.exec(select(OrderEvent).where(OrderEvent.order_id == 1, OrderEvent.trigger == "auto_close")).all()
        earned = session.exec(select(PointsEntry).where(PointsEntry.ref == "order:1")).all()
    assert order.status == S.CLOSED and order.rating is None and len(closes) == 1
    assert [entry.delta for entry in earned] == [services.policy.points["order_closed"]]
    assert sum("自动结单" in text for text in chat.texts(RESIDENT)) == 1
    assert "已完成" in chat.say(RESIDENT, "/status 1")


def test_the_digest_reaches_each_leader_once_a_day(chat, services):
    report(chat)
    assert "已安排值班" in chat.say(STAFF, "/newshift 明天 9:00-11:00 党群服务中心 李明")
    tomorrow_digest = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    chat.tick(tomorrow_digest - timedelta(minutes=1))
    assert not any("今日概况" in text for text in chat.texts(WANGFANG))
    chat.tick(tomorrow_digest)
    chat.tick(tomorrow_digest + timedelta(minutes=5))
    digests = [text for text in chat.texts(WANGFANG) if "今日概况" in text]
    assert len(digests) == 1
    assert digests[0].splitlines() == [
        "☀️ 一网格 今日概况（11月24日）",
        "值班：11月24日 09:00–11:00 党群服务中心 李明（李明未确认）",
        "待领单 1 · 办理中 0 · 超时 1（#1 已超 20 小时）",
    ]
    assert not any("今日概况" in text for text in chat.texts(LIMING))  # leaders only


def test_a_digest_missed_by_more_than_the_grace_window_is_skipped(chat, services, caplog):
    digest_at = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    chat.tick(digest_at - timedelta(hours=1))
    with caplog.at_level(logging.WARNING, logger="scheduler"):
        chat.tick(digest_at + timedelta(minutes=45))  # down from 07:30 to 09:15
    assert not any("今日概况" in text for text in chat.texts(WANGFANG))
    assert any("digest of 2026-11-24 skipped" in record.getMessage() for record in caplog.records)
    chat.tick(datetime(2026, 11, 25, 0, 40, tzinfo=UTC))  # the next day's comes as usual
    assert [text.splitlines()[0] for text in chat.texts(WANGFANG) if "今日概况" in text] == ["☀️ 一网格 今日概况（11月25日）"]
