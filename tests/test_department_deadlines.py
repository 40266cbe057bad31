"""延期 and 督办 levels under the controlled clock (Driver.tick), on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from storage.models import Order
from tests.driver import Driver
from tests.test_departments import CG_CHAT, LIMING, QIANJUN, RESIDENT, STAFF, SUNWEI, counts
from tests.test_departments import chat as department_chat  # noqa: F401 (fixture)

ADMIN, WANGFANG = "541", "513"
G01_CHAT = "-1001"
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def chat(department_chat, services) -> Driver:  # noqa: F811
    for user, phone in ((ADMIN, "13800000041"), (WANGFANG, "13800000013")):
        assert "绑定成功" in department_chat.say(user, contact=(phone, user))
    department_chat.tick(START)
    return department_chat


def urged(chat: Driver, user: str, word: str = "督办") -> list[str]:
    return [text for text in chat.texts(user) if word in text]


def test_unsigned_督办_goes_up_one_level_each_limit_once_each(chat, services):
    chat.say(STAFF, "/escalate 1 CG")
    chat.tick(START + timedelta(hours=1, minutes=59))
    assert urged(chat, SUNWEI) == []
    for minutes in (0, 5):
        chat.tick(START + timedelta(hours=2, minutes=minutes))
    assert urged(chat, SUNWEI) == ["⏰ 督办：工单 #1 · 市政设施 转城管执法中队已超过 2小时 还没有签收，请尽快签收。"]
    assert urged(chat, QIANJUN) == [] and urged(chat, STAFF) == [] and urged(chat, ADMIN) == []
    for minutes in (0, 30):
        chat.tick(START + timedelta(hours=4, minutes=minutes))
    assert [text.splitlines()[0] for text in urged(chat, STAFF)] == [
        "🚨 二级督办：工单 #1 · 市政设施（一网格 / 1号楼） 部门未签收，时限 11月23日 12:00 已过，城管执法中队办理中。"
    ]
    assert urged(chat, ADMIN, "三级督办") == []  # (the admin is staff too, so heard the second level)
    chat.tick(START + timedelta(hours=6))
    chat.tick(START + timedelta(hours=7))
    assert len(urged(chat, ADMIN, "三级督办")) == 1 and len(urged(chat, STAFF)) == 1 and len(urged(chat, SUNWEI)) == 1
    first, second, third = (
        next(row.id for row in chat.outbox(user) if word in row.payload["text"])
        for user, word in ((SUNWEI, "督办"), (STAFF, "二级督办"), (ADMIN, "三级督办"))
    )
    assert first < second < third  # in order: the contact, then the staff, then the admins


def test_a_granted_延期_moves_the_deadline_the_resident_hears_the_date_and_督办_counts_from_it(chat, services):
    chat.say(STAFF, "/escalate 1 CG")
    chat.say(SUNWEI, group=CG_CHAT, callback=chat.button(CG_CHAT, "签收"))
    before = counts(services.engine)
    assert "只有领单人或签收人可以申请延期" in chat.say(LIMING, "/extend 1 3d 等配件")
    assert "时长「三天」看不懂" in chat.say(SUNWEI, "/extend 1 三天 等配件")
    assert "用法" in chat.say(SUNWEI, "延期 1 3d")
    assert counts(services.engine) == before

    assert "到 11月28日 10:00" in chat.say(SUNWEI, "延期 1 3d 等路灯配件到货")
    request = chat.outbox(STAFF)[-1].payload
    assert "孙伟 申请延期 3天" in request["text"] and "理由：等路灯配件到货" in request["text"]
    assert "已有一个延期申请" in chat.say(SUNWEI, "/extend 1 1d 再等等")
    assert "已同意" in chat.say(STAFF, callback=chat.button(STAFF, "同意"))
    assert "预计 11月28日 10:00 前办好" in chat.texts(RESIDENT)[-1]
    assert "延期申请已同意" in chat.texts(SUNWEI)[-1]
    assert "已经答复过了" in chat.say(STAFF, callback=chat.button(STAFF, "同意"))
    with Session(services.engine) as session:
        assert session.get(Order, 1).finish_by == START + timedelta(days=5)

    chat.tick(START + timedelta(hours=48))  # the old deadline: nothing
    assert urged(chat, SUNWEI, "已过办结时限") == []
    chat.tick(START + timedelta(days=5))
    chat.tick(START + timedelta(days=5, minutes=10))
    assert len(urged(chat, SUNWEI, "已过办结时限（11月28日 10:00）")) == 1
    chat.tick(START + timedelta(days=7))  # one finish limit later: the staff
    assert len([t for t in urged(chat, STAFF) if "二级督办" in t and "未办结" in t]) == 1


def test_a_refused_延期_tells_the_grid_claimer_why(chat, services):
    assert "已派给一网格" in chat.say(STAFF, "/dispatch 1 G01")
    chat.say(LIMING, group=G01_CHAT, callback=chat.button(G01_CHAT, "领单"))
    assert "已提交延期申请" in chat.say(LIMING, "/extend 1 2d 等物业开门")
    assert "不同意延期的理由" in chat.say(STAFF, callback=chat.button(STAFF, "不同意"))
    assert "已答复" in chat.say(STAFF, "居民等了很久，请明天办好")
    assert "延期申请未获同意（工单 #1）：居民等了很久，请明天办好" in chat.texts(LIMING)[-1]
    with Session(services.engine) as session:
        refused = session.get(Order, 1)
        assert (refused.finish_by, refused.extension) == (None, None)
    assert not any("办好" in text for text in chat.texts(RESIDENT))


def test_claim_督办_levels_leader_then_staff_then_admins(chat, services):
    chat.say(STAFF, "/dispatch 1 G01")
    for hours in (2, 3, 4, 5, 6, 6.5):
        chat.tick(START + timedelta(hours=hours))
    assert len(urged(chat, WANGFANG, "无人领单")) == 1
    assert len([t for t in urged(chat, STAFF) if "二级督办" in t and "无人领单" in t]) == 1
    assert len([t for t in urged(chat, ADMIN) if "三级督办" in t and "无人领单" in t]) == 1
    chat.say(RESIDENT, "催一下")  # a 催办 moves the version, not the deadline: no 督办 again
    chat.tick(START + timedelta(hours=7))
    assert len(urged(chat, WANGFANG, "无人领单")) == 1
