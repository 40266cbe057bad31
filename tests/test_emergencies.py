"""Emergencies through handlers.router: the right number first, the unsure question, 收到, the admins."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from storage import outbox
from storage.models import OrderEvent
from storage.order_buttons import OrderCb
from tests.driver import Driver
from tests.test_move_consequences import G01_CHAT, RESIDENT, STAFF, WANGFANG, _order
from tests.test_move_consequences import chat as chat

ADMIN = "541"
TRAPPED = "救命！1号楼电梯卡在5楼了，我妈关在里面出不来"


@pytest.fixture
def alarm(chat) -> Driver:
    """chat, and 周敏 (admin) bound."""
    assert "绑定成功" in chat.say(ADMIN, contact=("13800000041", ADMIN))
    return chat


def _texts(driver: Driver, person: str) -> list[str]:
    return [row.payload["text"] for row in driver.outbox(person)]


def _triggers(driver: Driver, number: int = 1) -> list[str]:
    with Session(driver.services.engine) as session:
        return list(session.exec(select(OrderEvent.trigger).where(OrderEvent.order_id == number).order_by(OrderEvent.id)))


@pytest.mark.parametrize(
    ("text", "number", "not_this"),
    [
        ("厨房里煤气味特别大，嘶嘶的响", "燃气抢修", "119"),
        ("楼下车棚着火了，火很大", "119", "120"),
        ("我爸突然嘴歪了，说话也说不清", "120", "119"),
        ("楼下有人拿着菜刀追着砍人", "110", "120"),
    ],
)
def test_the_first_line_names_the_service_for_the_kind(alarm, text, number, not_this):
    first_line = alarm.say(RESIDENT, text).splitlines()[0]
    assert number in first_line and not_this not in first_line


def test_an_alert_carries_a_button_and_the_first_press_names_who_has_it(alarm):
    alarm.say(RESIDENT, TRAPPED)
    [alert] = alarm.outbox(WANGFANG)[-1:]
    assert alert.key.startswith(outbox.URGENT_PREFIX) and "收到" in str(alert.payload["buttons"])
    assert "已收到" in alarm.say(WANGFANG, callback=OrderCb("ack", 1).pack())
    assert _order(alarm.services).acked_by is not None
    edits = [row for row in alarm.outbox(STAFF) if row.kind == "edit"]
    assert edits and "王芳 已收到" in edits[-1].payload["text"] and not edits[-1].payload["buttons"]
    assert "王芳已收到您的紧急求助" in _texts(alarm, RESIDENT)[-1]
    second = alarm.say(STAFF, callback=OrderCb("ack", 1).pack())
    assert "王芳 已收到" in second
    assert _triggers(alarm).count("acknowledge") == 1


def test_a_member_who_is_not_a_leader_cannot_acknowledge(alarm):
    alarm.say(RESIDENT, TRAPPED)
    assert "只有社区工作人员" in alarm.say("511", callback=OrderCb("ack", 1).pack())
    assert _order(alarm.services).acked_by is None


def test_nobody_pressing_tells_every_admin_again_and_again_until_a_press(alarm, clock):
    start = clock()
    alarm.say(RESIDENT, TRAPPED)
    alarm.tick(start + timedelta(minutes=4))
    assert not any("无人点" in text for text in _texts(alarm, ADMIN))
    alarm.tick(start + timedelta(minutes=5, seconds=1))
    told = [text for text in _texts(alarm, ADMIN) if "无人点「收到」" in text]
    assert len(told) == 1 and "第 1 次提醒" in told[0]
    alarm.tick(start + timedelta(minutes=7))  # not yet another ack_within
    assert len([text for text in _texts(alarm, ADMIN) if "无人点「收到」" in text]) == 1
    alarm.tick(start + timedelta(minutes=10, seconds=1))
    assert len([text for text in _texts(alarm, ADMIN) if "无人点「收到」" in text]) == 2
    assert "已收到" in alarm.say(ADMIN, callback=OrderCb("ack", 1).pack())
    alarm.tick(start + timedelta(minutes=30))
    assert len([text for text in _texts(alarm, ADMIN) if "无人点「收到」" in text]) == 2
    assert _triggers(alarm).count("alert_admins") == 2


UNSURE = "隔壁家一直有人尖叫"


def _unsure(driver: Driver) -> str:
    answer = driver.say(RESIDENT, UNSURE)
    assert "现在有人受伤或有危险吗" in answer, answer
    return answer


def test_unsure_asks_first_and_有危险_makes_it_urgent(alarm):
    _unsure(alarm)
    assert alarm.outbox(STAFF) == [] and alarm.outbox(G01_CHAT) == []  # nothing goes out before the answer
    reply = alarm.say(RESIDENT, callback=OrderCb("danger", 1).pack())
    assert "已同时通知" in reply and _order(alarm.services).urgent
    assert any(row.key.startswith(outbox.URGENT_PREFIX) for row in alarm.outbox(STAFF))


def test_unsure_answered_没有_goes_on_as_a_report(alarm):
    _unsure(alarm)
    reply = alarm.say(RESIDENT, "没有")
    assert "工单 #1" in reply and not _order(alarm.services).urgent
    assert not any(row.key.startswith(outbox.URGENT_PREFIX) for row in alarm.outbox(STAFF))
    assert alarm.outbox(STAFF) or alarm.outbox(G01_CHAT)  # triaged or dispatched as any report


def test_unsure_unanswered_for_a_minute_is_urgent_and_the_resident_is_told(alarm, clock):
    start = clock()
    _unsure(alarm)
    alarm.tick(start + timedelta(seconds=30))
    assert not _order(alarm.services).urgent
    alarm.tick(start + timedelta(minutes=1, seconds=1))
    assert _order(alarm.services).urgent
    assert any(row.key.startswith(outbox.URGENT_PREFIX) for row in alarm.outbox(WANGFANG))
    assert "没等到您的回复" in _texts(alarm, RESIDENT)[-1]
    late = alarm.say(RESIDENT, "没有")  # a late answer changes nothing
    assert _order(alarm.services).urgent and "紧急" in late


def test_staff_mark_an_order_urgent_from_triage(alarm):
    assert "工单 #1" in alarm.say(RESIDENT, "小区东门那边的路面塌了个坑")
    reply = alarm.say(STAFF, callback=OrderCb("urgent", 1).pack())
    assert "已标为紧急" in reply and _order(alarm.services).urgent
    assert any(row.key.startswith(outbox.URGENT_PREFIX) for row in alarm.outbox(WANGFANG))
    assert "权限" in alarm.say("511", callback=OrderCb("urgent", 1).pack())  # a member may not


@pytest.mark.parametrize(
    "text",
    [
        "上个月楼下电动车着火 早就扑灭了 现在想问问楼道啥时候刷墙",  # over
        "我烫了一下手 起了个泡 已经不流水了 没事",  # over
        "燃气灶旁边的管子有点旧 没漏气 想换根新的",  # the danger denied
    ],
)
def test_a_danger_that_is_over_or_denied_alerts_nobody_and_asks_nothing(alarm, text):
    reply = alarm.say(RESIDENT, text)
    assert "工单 #1" in reply and "有危险" not in reply
    order = _order(alarm.services)
    assert not order.urgent and order.danger_asked_at is None
    assert not any(row.key.startswith(outbox.URGENT_PREFIX) for row in alarm.outbox(STAFF))


@pytest.mark.parametrize(
    "text",
    [
        "老人一氧化碳中毒的话 第一步该干啥",
        "请问小区里哪里有灭火器 着火的话去哪拿",
    ],
)
def test_a_question_about_danger_is_asked_back_not_alarmed(alarm, text):
    reply = alarm.say(RESIDENT, text)
    assert "现在有人受伤或有危险吗" in reply
    assert alarm.outbox(STAFF) == [] and not _order(alarm.services).urgent


def test_a_question_in_a_report_of_danger_now_still_alarms_at_once(alarm):
    reply = alarm.say(RESIDENT, "楼道里着火了 烟还在往上冒 要是打119的话说哪个地址")
    assert "119" in reply.splitlines()[0] and _order(alarm.services).urgent
    assert any(row.key.startswith(outbox.URGENT_PREFIX) for row in alarm.outbox(STAFF))


@pytest.mark.parametrize(
    "text",
    [
        "我刚发现我闺女割腕了 浴缸里全是红的",  # no pattern: the urgency model's alone
        "老伴说胸口像压了块石头 疼到左胳膊 满头冷汗",
        "我女儿刚才还在滑梯那玩 一转眼不见了 5岁 穿红衣服",
    ],
)
def test_an_emergency_that_reads_like_family_news_is_alarmed_not_answered_as_chat(alarm, text):
    """The chat model hears these as news of one's family; the urgency model's alarm decides."""
    answer = alarm.say(RESIDENT, text)
    assert "已同时通知社区值班人员" in answer and "分享" not in answer
    assert _order(alarm.services).urgent
    assert any(row.key.startswith("urgent:1") for row in alarm.outbox())
