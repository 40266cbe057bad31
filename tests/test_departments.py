"""部门接单 through handlers.router, on SQLite and PostgreSQL: escalate → 签收 → 办结 → rated; 退单 with a
reason back to triage; a member of another department, a second 签收, a bad command write nothing."""

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from storage.db import transaction
from storage.models import Building, Department, DepartmentContact, Order, OrderEvent, OutboxMessage
from storage.models import OrderStatus as S
from storage.order_buttons import BuildingCb, OrderCb, RateCb
from storage.roster import apply_roster, read_roster
from tests.driver import Driver

DEPARTMENTS = Path(__file__).parent / "fixtures" / "departments"
RESIDENT, LIMING, STAFF, SUNWEI, QIANJUN = "501", "511", "531", "551", "552"
CG_CHAT, SZ_CHAT = "-3001", "-3002"
LAMP = "小区门口路灯坏了一个月了晚上黑漆漆的"


def counts(engine) -> tuple[int, int]:
    with Session(engine) as session:
        return tuple(session.exec(select(func.count()).select_from(table)).one() for table in (OrderEvent, OutboxMessage))


def order(engine) -> Order:
    with Session(engine) as session:
        return session.get(Order, 1)


def triggers(engine) -> list[str]:
    with Session(engine) as session:
        return [e.trigger for e in session.exec(select(OrderEvent).where(OrderEvent.order_id == 1).order_by(OrderEvent.id))]


@pytest.fixture
def chat(services, roster) -> Driver:
    """The fixture roster and its two departments (城管执法中队 CG, 市政工程队 SZ), everyone bound, a
    resident of 1号楼 with a phone, and a 大事 (a street lamp) waiting for staff triage."""
    with transaction(services.engine) as session:
        apply_roster(session, read_roster(DEPARTMENTS))
    driver = Driver(services)
    for user, phone in ((LIMING, "13800000011"), (STAFF, "13800000031"), (SUNWEI, "13800000051"), (QIANJUN, "13800000052")):
        assert "绑定成功" in driver.say(user, contact=(phone, user))
    driver.send(RESIDENT, "/start")
    with Session(services.engine) as session:
        building = session.exec(select(Building).where(Building.name == "1号楼")).one()
    driver.send(RESIDENT, callback=BuildingCb(building.id).pack())
    driver.send(RESIDENT, contact=("13800000001", RESIDENT))
    assert "工单 #1" in driver.say(RESIDENT, LAMP)
    return driver


def test_the_roster_brings_departments_and_their_contacts_and_a_reimport_changes_nothing(services, roster):
    with transaction(services.engine) as session:
        first = apply_roster(session, read_roster(DEPARTMENTS))
    with transaction(services.engine) as session:
        again = apply_roster(session, read_roster(DEPARTMENTS))
    assert first["departments"] == {"新增": 2, "更新": 0, "未变": 0}
    assert again["departments"] == {"新增": 0, "更新": 0, "未变": 2}
    with Session(services.engine) as session:
        cg = session.exec(select(Department).where(Department.code == "CG")).one()
        assert (cg.name, cg.telegram_chat_id) == ("城管执法中队", "-3001")
        assert len(session.exec(select(DepartmentContact)).all()) == 2


def test_bad_department_rows_are_reported_by_row_and_nothing_is_written(services, roster, tmp_path):
    (tmp_path / "departments.csv").write_text(
        "code,name,telegram_chat_id,wecom_webhook,phones\nCG,城管执法中队,,,13800000099\nSZ,,,,\nCG,重复,,,\n", encoding="utf-8"
    )
    (tmp_path / "members.csv").write_text("name,phone,role,grid_code,branch\n无网格,13800000061,member,,\n", encoding="utf-8")
    with pytest.raises(ValueError) as invalid, transaction(services.engine) as session:
        apply_roster(session, read_roster(tmp_path))
    message = str(invalid.value)
    assert "departments 第3行：「name」不能为空" in message and "departments 第4行：与第2行重复" in message
    (tmp_path / "departments.csv").write_text(
        "code,name,telegram_chat_id,wecom_webhook,phones\nCG,城管执法中队,,,13800000099\n", encoding="utf-8"
    )
    with pytest.raises(ValueError) as invalid, transaction(services.engine) as session:
        apply_roster(session, read_roster(tmp_path))
    message = str(invalid.value)
    assert "departments 第2行：手机号「13800000099」不在 members 名单里" in message
    assert "members 第2行：党员要填 grid_code" in message
    with Session(services.engine) as session:
        assert session.exec(select(Department)).all() == []


def test_escalate_sign_finish_and_the_resident_rates_it(chat, services):
    assert "已转交 城管执法中队" in chat.say(STAFF, "/escalate 1 CG")
    card = chat.outbox(CG_CHAT)[-1]
    assert "请城管执法中队办理" in card.payload["text"] and "13800000001" not in card.payload["text"]
    assert "已转交 城管执法中队 办理" in chat.texts(RESIDENT)[-1]

    before = counts(services.engine)
    refused = chat.say(QIANJUN, group=CG_CHAT, callback=chat.button(CG_CHAT, "签收"))
    assert "只有城管执法中队的联系人可以签收" in refused
    assert "需要党员身份" in chat.say(RESIDENT, "签收 1")
    assert counts(services.engine) == before  # every refusal writes nothing

    assert "签收成功" in chat.say(SUNWEI, group=CG_CHAT, callback=chat.button(CG_CHAT, "签收"))
    edit = chat.outbox(CG_CHAT)[-1]
    assert edit.kind == "edit" and edit.edit_key == f"{card.key}" and "城管执法中队 孙伟 已签收" in edit.payload["text"]
    details = chat.texts(SUNWEI)[-1]
    assert "仅签收人可见" in details and "13800000001" in details
    assert not any("13800000001" in text for text in chat.texts(CG_CHAT))
    assert "城管执法中队的孙伟签收办理" in chat.texts(RESIDENT)[-1]

    before = counts(services.engine)
    assert "这张工单已由 孙伟 签收" in chat.say(SUNWEI, group=CG_CHAT, callback=OrderCb("sign", 1).pack())
    assert "这张工单已由 孙伟 签收" in chat.say(SUNWEI, "签收 1")
    assert counts(services.engine) == before

    assert "请发一句办理结果或一张照片" in chat.say(SUNWEI, callback=chat.button(SUNWEI, "办结"))
    assert "已办结" in chat.say(SUNWEI, "路灯已更换，晚上亮了")
    assert "城管执法中队 已办结" in chat.texts(CG_CHAT)[-1]
    rate = chat.outbox(RESIDENT)[-1].payload
    assert "路灯已更换" in rate["text"] and "满意吗" in rate["text"]
    assert "谢谢您的评价" in chat.say(RESIDENT, callback=RateCb(1, 5).pack())
    assert (order(services.engine).status, order(services.engine).rating) == (S.CLOSED, 5)
    assert triggers(services.engine) == ["submit", "escalate", "sign", "finish", "rate"]


def test_the_triage_card_offers_the_roster_departments(chat, services):
    tiers = chat.send(STAFF, callback=chat.button(STAFF, "按大事处理"))[0]
    labels = {b.label: b.data for row in tiers.buttons for b in row}
    assert "城管执法中队" in labels and "市政工程队" in labels
    assert "已转交 市政工程队" in chat.say(STAFF, callback=labels["市政工程队"])
    assert "签收" in str(chat.outbox(SZ_CHAT)[-1].payload["buttons"])


def test_a_department_returns_it_with_a_reason_and_it_is_back_in_triage(chat, services):
    chat.say(STAFF, "/escalate 1 CG")
    chat.say(SUNWEI, group=CG_CHAT, callback=chat.button(CG_CHAT, "签收"))
    assert "请写一句退单理由" in chat.say(SUNWEI, callback=chat.button(SUNWEI, "退单"))
    assert "退单要写明理由" in chat.say(SUNWEI, photo="some-photo")
    assert order(services.engine).status == S.SIGNED
    assert "已退回社区重新分派" in chat.say(SUNWEI, "这是供电局管的路灯，不归城管")
    returned = order(services.engine)
    assert (returned.status, returned.signer_id) == (S.SUBMITTED, None)
    staff_card = chat.texts(STAFF)[-1]
    assert "城管执法中队退单：这是供电局管的路灯，不归城管" in staff_card and "待分派" in staff_card
    assert "已退单：这是供电局管的路灯" in chat.texts(CG_CHAT)[-1]
    assert "重新安排" in chat.texts(RESIDENT)[-1]
    assert "#1" in chat.say(STAFF, "/pending")


def test_退单_typed_without_a_reason_asks_for_one_and_another_department_may_not(chat, services):
    chat.say(STAFF, "/escalate 1 CG")
    before = counts(services.engine)
    assert "不是您部门承办的" in chat.say(QIANJUN, "退单 1 不是我们的")
    assert counts(services.engine) == before
    assert "请写一句退单理由" in chat.say(SUNWEI, "退单 1")
    assert "已退回社区" in chat.say(SUNWEI, "应由市政工程队处理")
    assert order(services.engine).status == S.SUBMITTED


def test_binddept_by_an_admin_in_the_group(chat, services):
    admin = "541"
    assert "绑定成功" in chat.say(admin, contact=("13800000041", admin))
    assert "管理员权限" in chat.say(STAFF, "/binddept CG", group="-4000")
    assert "没有部门编号 XX" in chat.say(admin, "/binddept XX", group="-4000")
    assert "部门群" in chat.say(admin, "/binddept CG", group="-4000")
    chat.say(STAFF, "/escalate 1 CG")
    assert "请城管执法中队办理" in chat.texts("-4000")[-1]
