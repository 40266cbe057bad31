"""三事分流 through handlers.router: the unsure path, staff triage buttons, urgent orders — on both databases."""

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from storage import outbox
from storage.db import transaction
from storage.models import Building, Order, OrderEvent, OutboxMessage
from storage.models import OrderStatus as S
from storage.order_buttons import BuildingCb
from storage.policy import load_policy
from tests.driver import Driver

RESIDENT, NEIGHBOUR, LIMING, LEADER, STAFF = "501", "502", "511", "513", "531"
G01_CHAT = "-1001"
RUBBISH = "2单元楼道里堆满了垃圾，好几天没人清理了"


def _driver(services, roster, threshold: float | None = None, config: Path | None = None) -> Driver:
    if config is not None:
        services = dataclasses.replace(services, policy=load_policy(config))
    if threshold is not None:
        services = dataclasses.replace(services, policy=dataclasses.replace(services.policy, confidence_threshold=threshold))
    driver = Driver(services)
    for user, phone in ((LIMING, "13800000011"), (LEADER, "13800000013"), (STAFF, "13800000031")):
        assert "绑定成功" in driver.say(user, contact=(phone, user))
    with Session(services.engine) as session:
        building = session.exec(select(Building).where(Building.name == "1号楼")).one()
    for user in (RESIDENT, NEIGHBOUR):
        driver.send(user, "/start")
        assert "已登记：1号楼" in driver.say(user, callback=BuildingCb(building.id).pack())
    return driver


@pytest.fixture
def chat(services, roster) -> Driver:
    return _driver(services, roster)


@pytest.fixture
def unsure_chat(services, roster) -> Driver:
    """A community whose threshold no guess reaches: every report is 'unsure'."""
    return _driver(services, roster, threshold=1.01)  # above any confidence


def _order(driver: Driver, order_id: int = 1) -> Order:
    with Session(driver.services.engine) as session:
        return session.get(Order, order_id)


def _events(driver: Driver, order_id: int = 1) -> list[tuple[str, str, str | None]]:
    with Session(driver.services.engine) as session:
        rows = session.exec(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
        return [(e.trigger, e.actor, e.to_status) for e in rows]


def _buttons(reply) -> dict[str, str]:
    return {b.label: b.data for row in reply.buttons for b in row}


def test_unsure_report_asks_the_resident_and_goes_to_staff_not_a_grid(unsure_chat):
    [reply] = unsure_chat.send(RESIDENT, RUBBISH)
    assert "#1" in reply.text and "环境卫生" in reply.text
    labels = list(_buttons(reply))
    assert labels[0] == "✅ 是「环境卫生」" and "噪音扰民" in labels and "其他" in labels
    assert unsure_chat.outbox(G01_CHAT) == []
    card = unsure_chat.outbox(STAFF)[-1].payload
    assert "待分派 工单 #1 · 环境卫生 · 小事" in card["text"] and "把握" in card["text"]
    assert [label for row in card["buttons"] for label, _ in row] == ["👍 按小事处理", "🏷 改类别", "⚖️ 改分级", "🚨 标为紧急"]


def test_resident_confirms_by_tap_and_the_order_goes_to_the_grid(unsure_chat):
    [reply] = unsure_chat.send(RESIDENT, RUBBISH)
    answer = unsure_chat.say(RESIDENT, callback=_buttons(reply)["✅ 是「环境卫生」"])
    assert "已派给一网格" in answer
    assert "🆕 工单 #1 · 环境卫生" in unsure_chat.outbox(G01_CHAT)[-1].payload["text"]
    assert "居民确认" in unsure_chat.outbox(STAFF)[-1].payload["text"]
    assert _order(unsure_chat).status == S.DISPATCHED
    assert _events(unsure_chat)[1:] == [("retag", "resident:1", S.SUBMITTED), ("dispatch", "system", S.DISPATCHED)]
    # A second tap, or the staff's accept, cannot dispatch it twice.
    assert "已经在处理" in unsure_chat.say(RESIDENT, callback=_buttons(reply)["噪音扰民"])
    assert "无需再分派" in unsure_chat.say(STAFF, callback=unsure_chat.button(STAFF, "按小事处理"))
    assert len(unsure_chat.outbox(G01_CHAT)) == 1


def test_resident_picks_a_大事_category_and_staff_see_the_choice(unsure_chat):
    [reply] = unsure_chat.send(RESIDENT, RUBBISH)
    assert "社区工作人员会尽快分派" in unsure_chat.say(RESIDENT, callback=_buttons(reply)["市政设施"])
    order = _order(unsure_chat)
    assert (order.category, order.tier, order.status) == ("facilities", "大事", S.SUBMITTED)
    assert "居民确认类别：市政设施" in unsure_chat.outbox(STAFF)[-1].payload["text"]
    assert unsure_chat.outbox(G01_CHAT) == []


def test_only_the_reporter_can_pick_the_category(unsure_chat):
    [reply] = unsure_chat.send(RESIDENT, RUBBISH)
    assert "没有找到工单 #1" in unsure_chat.say(NEIGHBOUR, callback=_buttons(reply)["噪音扰民"])
    assert _order(unsure_chat).category == "sanitation" and len(_events(unsure_chat)) == 1


def test_staff_change_category_then_tier_to_大事_and_pick_a_department(unsure_chat):
    unsure_chat.send(RESIDENT, RUBBISH)
    choices = unsure_chat.send(STAFF, callback=unsure_chat.button(STAFF, "改类别"))[0]
    card = unsure_chat.send(STAFF, callback=_buttons(choices)["噪音扰民"])[0]
    assert "已改为「噪音扰民」（小事）" in card.text and "工单 #1 · 噪音扰民" in card.text
    tiers = unsure_chat.send(STAFF, callback=_buttons(card)["⚖️ 改分级"])[0]
    departments = unsure_chat.send(STAFF, callback=_buttons(tiers)["大事"])[0]
    assert "转哪个部门" in departments.text and "城管执法" in _buttons(departments)
    assert "已转交 城管执法" in unsure_chat.say(STAFF, callback=_buttons(departments)["城管执法"])
    order = _order(unsure_chat)
    assert (order.category, order.tier, order.status, order.department) == ("noise", "大事", S.ESCALATED, "城管执法")
    assert [t for t, _, _ in _events(unsure_chat)] == ["submit", "retag", "retag", "escalate"]
    assert "已转交 城管执法 办理" in unsure_chat.outbox(RESIDENT)[-1].payload["text"]


def test_staff_mark_it_私事_and_the_resident_gets_the_advice(unsure_chat):
    unsure_chat.send(RESIDENT, "想问问我妈的养老金怎么认证")
    tiers = unsure_chat.send(STAFF, callback=unsure_chat.button(STAFF, "改分级"))[0]
    assert "按私事办结" in unsure_chat.say(STAFF, callback=_buttons(tiers)["私事"])
    assert "12345" in unsure_chat.outbox(RESIDENT)[-1].payload["text"]  # consult's advice from the config
    assert _order(unsure_chat).status == S.CLOSED
    assert [t for t, _, _ in _events(unsure_chat)] == ["submit", "retag", "advise"]


def test_staff_accept_a_小事_dispatches_to_the_residents_grid(unsure_chat):
    unsure_chat.send(RESIDENT, RUBBISH)
    assert "已派给一网格" in unsure_chat.say(STAFF, callback=unsure_chat.button(STAFF, "按小事处理"))
    assert "领单" in unsure_chat.outbox(G01_CHAT)[-1].payload["buttons"][0][0][0]


def test_triage_buttons_are_for_staff_only(unsure_chat):
    unsure_chat.send(RESIDENT, RUBBISH)
    data = unsure_chat.button(STAFF, "按小事处理")
    assert "工作人员权限" in unsure_chat.say(LIMING, callback=data)
    assert _order(unsure_chat).status == S.SUBMITTED


def test_a_sure_小事_skips_the_question_and_goes_straight_to_the_grid(chat):
    [reply] = chat.send(RESIDENT, RUBBISH)
    assert "已派给一网格" in reply.text and reply.buttons == ()


def test_a_category_added_in_the_config_file_is_used_for_orders(services, roster, tmp_path):
    config = tmp_path / "community.toml"
    config.write_text(
        '[categories.pets]\nname = "宠物管理"\ntier = "小事"\nkeywords = ["流浪狗", "狗绳", "宠物"]\n', encoding="utf-8"
    )
    chat = _driver(services, roster, config=config)
    reply = chat.say(RESIDENT, "小区里流浪狗越来越多，遛狗的也不拴狗绳")
    assert "宠物管理" in reply and "已派给一网格" in reply
    assert _order(chat).category == "pets"
    assert "工单 #1 · 宠物管理" in chat.outbox(G01_CHAT)[-1].payload["text"]


def test_urgent_report_alerts_staff_and_leader_and_gives_the_numbers_first(chat):
    reply = chat.say(RESIDENT, "救命！1号楼电梯卡在5楼了，我妈关在里面出不来")
    first_line = reply.splitlines()[0]
    assert "119" in first_line and "110" not in first_line  # people trapped: the fire and rescue service
    for person in (STAFF, LEADER):
        [alert] = chat.outbox(person)[-1:]
        assert alert.key.startswith(outbox.URGENT_PREFIX) and "🚨 紧急" in alert.payload["text"]
    assert chat.outbox(G01_CHAT) == []  # not a 领单 card waiting for someone to notice
    assert _order(chat).urgent


def test_urgent_rows_are_leased_ahead_of_any_backlog(engine, clock):
    now = clock()
    with transaction(engine) as session:
        for n in range(600):
            outbox.enqueue(session, f"card:{n}", "telegram", str(n % 7), {"text": f"普通 {n}"}, not_before=now)
        outbox.enqueue(session, "later:531", "telegram", "531", {"text": "稍后"}, not_before=now + timedelta(hours=1))
        outbox.enqueue(session, "urgent:9:m1", "telegram", "531", {"text": "🚨 紧急"}, not_before=now)
    with transaction(engine) as session:
        batches = outbox.due_batches(session, {"telegram"}, now, timedelta(seconds=30), limit=500)
    assert [row.key for row in batches["telegram:531"]] == ["urgent:9:m1"]
    with Session(engine) as session:
        assert session.exec(select(OutboxMessage).where(OutboxMessage.key == "later:531")).one().state == "pending"
