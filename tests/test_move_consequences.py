"""What a move causes, and the defects that came from writing it at each place that moves an order.

Each test names the defect of issue 10 it holds down; each failed on 8dd4507.
"""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from storage import invites
from storage.db import transaction
from storage.models import Building, Order, PointsEntry
from storage.models import OrderStatus as S
from storage.order_buttons import BuildingCb, OrderCb, RateCb
from tests.driver import Driver

RESIDENT, LIMING, ZHAOQIANG, WANGFANG, STAFF = "501", "511", "512", "513", "531"
G01_CHAT, G02_CHAT = "-1001", "-1002"
LITTER = "2单元楼道里堆满了垃圾，好几天没人清理了"


def _building(services, name: str = "1号楼") -> int:
    with Session(services.engine) as session:
        return session.exec(select(Building.id).where(Building.name == name)).one()


@pytest.fixture
def chat(services, roster) -> Driver:
    """李明 and 赵强 (G01 members), 王芳 (G01 leader), 刘洋 (staff); a resident of 1号楼."""
    driver = Driver(services)
    for user, phone in ((LIMING, "13800000011"), (ZHAOQIANG, "13800000012"), (WANGFANG, "13800000013"), (STAFF, "13800000031")):
        assert "绑定成功" in driver.say(user, contact=(phone, user))
    driver.send(RESIDENT, "/start")
    driver.send(RESIDENT, callback=BuildingCb(_building(services)).pack())
    return driver


def _order(services, number: int = 1) -> Order:
    with Session(services.engine) as session:
        return session.get(Order, number)


def _claim_and_press_finish(chat: Driver) -> None:
    assert "工单 #1" in chat.say(RESIDENT, LITTER)
    assert "领单成功" in chat.say(LIMING, group=G01_CHAT, callback=OrderCb("claim", 1).pack())
    assert "请发一张处理后的照片" in chat.say(LIMING, callback=OrderCb("finish", 1).pack())


def test_1_a_refused_answer_ends_the_question(chat):
    """完成 pressed, the resident cancels meanwhile: the member is told once, then free again."""
    _claim_and_press_finish(chat)
    assert "已撤销" in chat.say(RESIDENT, "/cancel 1")
    assert "不能办结" in chat.say(LIMING, "已经清理干净了")
    later = chat.say(LIMING, "今天天气不错")
    assert "不能办结" not in later and "党员身份" in later


def test_cancel_words_end_any_question(chat):
    _claim_and_press_finish(chat)
    assert "已取消" in chat.say(LIMING, "取消")
    assert "党员身份" in chat.say(LIMING, "照片晚点再发")  # no longer taken as the finish note
    assert _order(chat.services).status == S.CLAIMED
    assert "没有进行中的操作" in chat.say(LIMING, "/cancel")


def test_2_a_member_who_is_also_a_resident_cancels_and_rates_own_orders(chat, services):
    assert "已登记：1号楼" in chat.say(LIMING, callback=BuildingCb(_building(services)).pack())
    assert "工单 #1" in chat.say(LIMING, "3号楼门口的路灯不亮了")
    assert "工单 #1 已撤销" in chat.say(LIMING, "/cancel 1")

    assert "工单 #2" in chat.say(LIMING, LITTER)
    assert "领单成功" in chat.say(ZHAOQIANG, group=G01_CHAT, callback=OrderCb("claim", 2).pack())
    assert "已办结" in chat.say(ZHAOQIANG, "/done 2 已清理")
    assert "谢谢您的评价" in chat.say(LIMING, callback=RateCb(2, 5).pack())
    assert _order(services, 2).rating == 5


def test_2_someone_else_cannot_cancel_or_rate_a_residents_order(chat, services):
    assert "工单 #1" in chat.say(RESIDENT, LITTER)
    chat.send(LIMING, callback=BuildingCb(_building(services)).pack())  # a resident too, of another order
    assert "没有找到您的工单 #1" in chat.say(LIMING, "/cancel 1")
    assert "没有找到您的工单 #1" in chat.say(LIMING, callback=RateCb(1, 1).pack())
    assert _order(services).status == S.DISPATCHED


def test_3_dispatch_to_a_then_b_then_back_to_a(chat, services):
    assert "工单 #1" in chat.say(RESIDENT, "我想问一下医保怎么报销")  # 私事: waits for the staff
    assert _order(services).status == S.SUBMITTED
    assert "已派给一网格" in chat.say(STAFF, "/dispatch 1 G01")
    assert "已派给二网格" in chat.say(STAFF, "/dispatch 1 G02")
    assert "已派给一网格" in chat.say(STAFF, "/dispatch 1 G01")
    cards = [row for row in chat.outbox(G01_CHAT) if row.kind == "send" and "🆕 工单 #1" in row.payload["text"]]
    assert len(cards) == 2  # posted afresh on the return, not refused as "群未绑定"
    moved = [row for row in chat.outbox(G02_CHAT) if row.kind == "edit"]
    assert moved and "已改派一网格" in moved[-1].payload["text"]
    assert "已经在一网格" in chat.say(STAFF, "/dispatch 1 G01")


def test_4_a_finish_photo_from_another_platform_is_said_in_words(services, roster):
    """The claimer on WeChat, the resident on Telegram: a WeChat media id means nothing to Telegram."""
    telegram, wechat = Driver(services, "telegram"), Driver(services, "wechat")
    with transaction(services.engine) as session:
        code = invites.create_invite(session, "13800000011", services.clock())
    assert "绑定成功" in wechat.say("oLIMING", f"绑定 {code}")
    telegram.send(RESIDENT, "/start")
    telegram.send(RESIDENT, callback=BuildingCb(_building(services)).pack())
    assert "工单 #1" in telegram.say(RESIDENT, LITTER)
    assert "领单成功" in wechat.say("oLIMING", "领单 1")
    wechat.say("oLIMING", callback=OrderCb("finish", 1).pack())
    assert "已办结" in wechat.say("oLIMING", photo="wechat-media-id-123")
    ask = telegram.outbox(RESIDENT)[-1].payload
    assert "photo" not in ask and "照片" in ask["text"] and "满意" in ask["text"]
    assert [label for label, _ in ask["buttons"][0]] == ["1⭐", "2⭐", "3⭐", "4⭐", "5⭐"]


def test_4_a_photo_on_the_same_platform_goes_along(chat):
    _claim_and_press_finish(chat)
    chat.say(LIMING, photo="telegram-file-id-9")
    assert chat.outbox(RESIDENT)[-1].payload["photo"] == "telegram-file-id-9"


def test_5_closing_points_one_rule_rated_or_closed_by_the_clock(chat, services):
    for number in (1, 2):
        assert f"工单 #{number}" in chat.say(RESIDENT, LITTER)
        chat.say(LIMING, group=G01_CHAT, callback=OrderCb("claim", number).pack())
        chat.say(LIMING, f"/done {number} 已清理")
    chat.say(RESIDENT, callback=RateCb(1, 5).pack())
    chat.tick(services.clock() + timedelta(days=3, minutes=1))  # #2 unrated past rate_within
    assert _order(services, 2).status == S.CLOSED
    with Session(services.engine) as session:
        earned = {p.ref: p.delta for p in session.exec(select(PointsEntry).where(PointsEntry.reason == "order"))}
    assert earned == {"order:1": 7, "order:2": 5}
    told = chat.texts(LIMING)
    assert any("打了 5⭐，先锋积分 +7" in text for text in told)
    assert any("工单 #2" in text and "自动结单" in text and "+5" in text for text in told)


def test_a_second_claim_and_a_second_overdue_after_give_back_are_new(chat, services):
    start = services.clock()
    assert "工单 #1" in chat.say(RESIDENT, LITTER)
    chat.tick(start + timedelta(hours=2, minutes=1))
    chat.say(LIMING, group=G01_CHAT, callback=OrderCb("claim", 1).pack())
    chat.say(LIMING, callback=OrderCb("give_back", 1).pack())
    chat.say(ZHAOQIANG, group=G01_CHAT, callback=OrderCb("claim", 1).pack())
    chat.say(ZHAOQIANG, callback=OrderCb("give_back", 1).pack())
    chat.tick(start + timedelta(hours=2, minutes=2))
    chat.tick(start + timedelta(hours=2, minutes=3))
    alerts = [text for text in chat.texts(WANGFANG) if "督办" in text and "无人领单" in text]
    assert len(alerts) == 2  # once before the claims, once after the give-backs, never per tick
    told = [text for text in chat.texts(RESIDENT) if "已由党员" in text]
    assert told == ["工单 #1 已由党员 李明 领取，正在处理。", "工单 #1 已由党员 赵强 领取，正在处理。"]


def test_12_personal_commands_in_a_group_are_answered_privately(chat):
    replies = chat.send(LIMING, "/points", group=G01_CHAT)
    assert [reply.private for reply in replies] == [False, True]
    assert "私信" in replies[0].text and "先锋积分" in replies[1].text


def test_12_the_group_card_masks_phones_ids_and_room_numbers(chat):
    chat.say(RESIDENT, "2单元502室门口堆满了垃圾，我电话010-87654321，身份证110101199001011234")
    card = next(row for row in chat.outbox(G01_CHAT) if row.kind == "send").payload["text"]
    assert "87654321" not in card and "110101199001011234" not in card and "502" not in card
    assert "2单元" in card  # the place the members need stays


def test_a_claimed_order_cancelled_tells_the_claimer_and_withdraws_the_card(chat):
    assert "工单 #1" in chat.say(RESIDENT, LITTER)
    assert "领单成功" in chat.say(LIMING, group=G01_CHAT, callback=OrderCb("claim", 1).pack())
    assert "已撤销" in chat.say(RESIDENT, "/cancel 1")
    assert chat.texts(LIMING)[-1] == "工单 #1 已被居民撤销，不用再处理了，辛苦了！"
    withdrawn = [row.payload["text"] for row in chat.outbox(G01_CHAT) if row.kind == "edit"][-1]
    assert withdrawn.startswith("❎ 工单 #1")


def test_an_order_never_dispatched_has_no_card_to_withdraw(chat):
    assert "工单 #1" in chat.say(RESIDENT, "我想问一下医保怎么报销")  # waits for the staff: no card
    assert "已撤销" in chat.say(RESIDENT, "/cancel 1")
    assert chat.outbox(G01_CHAT) == [] and chat.outbox(G02_CHAT) == []


def test_an_automatic_dispatch_is_told_in_the_reply_only(chat):
    answer = chat.say(RESIDENT, LITTER)
    assert "已派给一网格" in answer
    assert chat.texts(RESIDENT) == []  # no second notice of the same dispatch
    assert "已派给" in chat.say(STAFF, "/dispatch 1 G02")
    assert any("二网格" in text for text in chat.texts(RESIDENT))  # a staff's re-route is told
