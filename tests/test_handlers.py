"""The conversations through handlers.router: replies, cards, rows — without any platform library."""

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from storage import audit
from storage.models import AuditEvent, Identity, InboxEntry, Order, OrderEvent, OutboxMessage, PointsEntry
from storage.models import OrderStatus as S
from storage.order_buttons import BuildingCb, RateCb
from tests.driver import Driver

RESIDENT, LIMING, ZHAOQIANG, STAFF, OUTSIDER = "501", "511", "512", "531", "521"
G01_CHAT = "-1001"


def _counts(engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Order, OrderEvent, OutboxMessage, PointsEntry, AuditEvent)
        )


def _trail(engine, subject: str, ref) -> list[tuple[str, str, str | None]]:
    with Session(engine) as session:
        return [(event.actor, event.action, event.note) for event in audit.trail(session, subject, ref)]


def _identity_id(engine, user_id: str) -> int:
    with Session(engine) as session:
        return session.exec(select(Identity.id).where(Identity.user_id == user_id)).one()


@pytest.fixture
def chat(services, roster) -> Driver:
    """Members bound by their own contact, a resident registered in 1号楼 (grid G01)."""
    driver = Driver(services)
    for user, phone in ((LIMING, "13800000011"), (ZHAOQIANG, "13800000012"), (STAFF, "13800000031"), (OUTSIDER, "13800000021")):
        assert "绑定成功" in driver.say(user, contact=(phone, user))
    driver.send(RESIDENT, "/start")
    with Session(services.engine) as session:
        from storage.models import Building

        building = session.exec(select(Building).where(Building.name == "1号楼")).one()
    assert "已登记：1号楼" in driver.say(RESIDENT, callback=BuildingCb(building.id).pack())
    assert "已记下您的手机号" in driver.say(RESIDENT, contact=("+86 138 0000 0001", RESIDENT))
    return driver


def test_the_whole_loop_report_claim_finish_rate(chat, services):
    reply = chat.say(RESIDENT, "2单元楼道里堆满了垃圾，好几天没人清理了")
    assert "工单 #1" in reply and "环境卫生" in reply and "一网格" in reply
    card = chat.outbox(G01_CHAT)[-1]
    assert "🆕 工单 #1" in card.payload["text"] and "领单" in card.payload["buttons"][0][0][0]
    assert "13800000001" not in card.payload["text"]  # no resident phone in the group

    assert "领单成功" in chat.say(LIMING, group=G01_CHAT, callback=chat.button(G01_CHAT, "领单"))
    assert "这张工单已由 李明 领取" in chat.say(ZHAOQIANG, group=G01_CHAT, callback=chat.button(G01_CHAT, "领单"))
    edit = chat.outbox(G01_CHAT)[-1]
    assert edit.kind == "edit" and "李明 已领单" in edit.payload["text"] and edit.payload["buttons"] == []
    details = chat.outbox(LIMING)[-1].payload
    assert "13800000001" in details["text"] and [b[0] for b in details["buttons"][0]] == ["✅ 完成", "↩️ 退单"]
    assert "李明 领取" in chat.outbox(RESIDENT)[-1].payload["text"]

    assert "照片" in chat.say(LIMING, callback=chat.button(LIMING, "完成"))
    assert "已办结" in chat.say(LIMING, photo="after.jpg")
    ask = chat.outbox(RESIDENT)[-1].payload
    assert ask["photo"] == "after.jpg" and len(ask["buttons"][0]) == 5
    assert "谢谢您的评价" in chat.say(RESIDENT, callback=RateCb(1, 5).pack())
    assert "+7" in chat.outbox(LIMING)[-1].payload["text"]
    assert "已完成" in chat.say(RESIDENT, "/status 1") and "5⭐" in chat.say(RESIDENT, "/my")
    assert "本月 7 分" in chat.say(LIMING, "/points")
    assert "李明 7分" in chat.say(ZHAOQIANG, "/rank")


def test_rating_by_typing_a_digit_when_asked(chat):
    chat.say(RESIDENT, "楼道里全是垃圾没人扫")
    chat.say(LIMING, group=G01_CHAT, callback=chat.button(G01_CHAT, "领单"))
    chat.say(LIMING, "/done 1 已经打扫干净")
    assert "谢谢您的评价" in chat.say(RESIDENT, "4")
    with Session(chat.services.engine) as session:
        order = session.get(Order, 1)
        assert (order.status, order.rating, order.finish_note) == (S.CLOSED, 4, "已经打扫干净")


def test_give_back_puts_the_card_up_again(chat):
    chat.say(RESIDENT, "楼下垃圾桶满了好几天了")
    chat.say(LIMING, group=G01_CHAT, callback=chat.button(G01_CHAT, "领单"))
    assert "已退单" in chat.say(LIMING, callback=chat.button(LIMING, "退单"))
    card = chat.outbox(G01_CHAT)[-1]
    assert card.kind == "edit" and "李明 已退单" in card.payload["text"] and "领单" in card.payload["buttons"][0][0][0]
    assert "领单成功" in chat.say(ZHAOQIANG, group=G01_CHAT, callback=chat.button(G01_CHAT, "领单"))


def test_unsure_message_goes_to_staff_who_dispatch_it(chat):
    reply = chat.say(RESIDENT, "你好，想问一下这个事情怎么弄")
    assert "工作人员" in reply
    assert chat.outbox(G01_CHAT) == []
    assert "#1" in chat.say(STAFF, "/pending")
    assert "已派给一网格" in chat.say(STAFF, "/dispatch 1 G01")
    assert "🆕 工单 #1" in chat.outbox(G01_CHAT)[-1].payload["text"]


def test_staff_escalate_and_close(chat):
    chat.say(RESIDENT, "小区门口路灯坏了一个月了晚上黑漆漆的")  # 大事: to staff
    assert "城管执法" in chat.say(STAFF, "/escalate 1 城管执法")
    assert "城管执法" in chat.outbox(RESIDENT)[-1].payload["text"]
    assert "已关闭" in chat.say(STAFF, "/close 1 已修好")
    assert "已修好" in chat.outbox(RESIDENT)[-1].payload["text"]


def test_resident_cancels_and_the_card_says_so(chat):
    chat.say(RESIDENT, "楼道堆满了杂物垃圾")
    assert "已撤销" in chat.say(RESIDENT, "/cancel 1")
    assert "居民已撤销" in chat.outbox(G01_CHAT)[-1].payload["text"]
    assert "不能撤销" in chat.say(RESIDENT, "/cancel 1")


@pytest.mark.parametrize(
    "user, text, expected",
    [
        (RESIDENT, "/dispatch 1 G02", "社区工作人员权限"),
        (LIMING, "/dispatch 1 G02", "社区工作人员权限"),
        (RESIDENT, "/status 99999", "没有找到工单 #99999"),
        (RESIDENT, "/status abc", "工单号应是数字"),
        (RESIDENT, "/frobnicate", "没有这个命令"),
        (STAFF, "/dispatch 1", "用法"),
        (STAFF, "/dispatch 1 G99", "没有网格编号 G99"),
        (RESIDENT, "😀😀😀", "有什么问题直接告诉我"),  # emoji is small talk: answered kindly, nothing filed
        (RESIDENT, "3", "没看懂"),  # a digit with no choice waiting is no report
        (RESIDENT, "长" * 5000, "内容太长"),
        (RESIDENT, "/bind NOSUCHCODE", "邀请码"),
        (OUTSIDER, "领单 1", "只有本网格的党员"),
    ],
)
def test_bad_input_gets_a_short_reason_and_writes_nothing(chat, user, text, expected):
    chat.say(RESIDENT, "楼道里有垃圾")  # order #1, dispatched to G01
    before = _counts(chat.services.engine)
    assert expected in chat.say(user, text)
    assert _counts(chat.services.engine) == before


def test_forged_contact_binds_nobody(chat):
    before = _counts(chat.services.engine)
    assert "本人" in chat.say("777", contact=("13800000013", "888"))  # someone else's card
    assert "需要党员身份" in chat.say("777", "/tasks")
    assert "花名册里没有" in chat.say("778", contact=("13900000000", "778"))
    assert _counts(chat.services.engine) == before  # no binding, so no audit event either


def test_bindings_registrations_and_group_bindings_leave_an_audit_trail(chat):
    engine = chat.services.engine
    [(actor, action, note)] = _trail(engine, "identity", _identity_id(engine, LIMING))
    assert action == "member_bound" and "李明" in note and "contact" in note
    [registered, phone] = _trail(engine, "resident", 1)
    assert registered[1] == "registered" and "1号楼" in registered[2] and phone[1] == "phone_shared"
    assert "管理员权限" in chat.say(LIMING, "/bindgrid G02", group="-1009")
    assert _trail(engine, "grid", 2) == []  # refused: nothing changed, nothing recorded
    assert "绑定成功" in chat.say("541", contact=("13800000041", "541"))  # 周敏, the admin
    assert "二网格" in chat.say("541", "/bindgrid G02", group="-1009")
    [(actor, action, note)] = _trail(engine, "grid", 2)
    assert action == "group_bound" and note.startswith("telegram:-1009") and actor.startswith("member:")


def test_invite_code_binds_once(chat):
    from datetime import UTC, datetime

    from storage.db import transaction
    from storage.invites import create_invite

    with transaction(chat.services.engine) as session:
        code = create_invite(session, "13800000013", datetime.now(UTC))
    assert "王芳" in chat.say("900", f"/bind {code}")
    assert "王芳" not in chat.say("901", f"/bind {code}")


def test_a_redelivered_update_is_processed_once(chat):
    first = chat.say(RESIDENT, "3号楼楼下垃圾没人收", key="same-update")
    again = chat.say(RESIDENT, "3号楼楼下垃圾没人收", key="same-update")
    assert first == again
    with Session(chat.services.engine) as session:
        assert session.exec(select(func.count()).select_from(Order)).one() == 1
        assert (
            session.exec(select(func.count()).select_from(InboxEntry).where(InboxEntry.message_key == "same-update")).one() == 1
        )


def test_the_same_update_number_on_two_platforms_is_two_updates(chat, services):
    """Telegram's update_id and WeChat's MsgId are separate counters: equal numbers are not a retry."""
    wechat = Driver(services, "wechat")
    telegram_answer = chat.say(RESIDENT, "/points", key="42")
    wechat_answer = wechat.say("o_new_resident", "你好", key="42")
    assert wechat_answer != telegram_answer
    assert wechat.say("o_new_resident", "你好", key="42") == wechat_answer  # WeChat's own retry
    assert chat.say(RESIDENT, "/points", key="42") == telegram_answer


def test_a_new_resident_writes_first_and_registers_after(services, roster):
    chat = Driver(services)
    assert "哪栋楼" in chat.say("600", "楼道灯不亮了好几天")
    assert "工单 #1" in chat.say("600", "2号楼")


def test_photo_first_then_words_make_one_order(chat):
    assert "说说是什么问题" in chat.say(RESIDENT, photo="p1.jpg")
    assert "工单 #1" in chat.say(RESIDENT, "门口堆了好多垃圾")
    with Session(chat.services.engine) as session:
        assert session.get(Order, 1).photos == ["p1.jpg"]


def test_emergency_tells_staff_and_leader_first(chat):
    reply = chat.say(RESIDENT, "快来人 1号楼电梯卡住了里面有老人")
    assert reply.splitlines()[0].startswith("⚠️") and "119" in reply.splitlines()[0]
    alerts = [row for row in chat.outbox() if row.key.startswith("urgent:1")]
    assert alerts and all("紧急" in row.payload["text"] for row in alerts)


def test_bindgrid_on_the_console_binds_the_console_group_not_the_telegram_one(chat, services):
    """The demo's groups are console chats: /bindgrid there is kept as the console's group, and the grid's
    Telegram group stays what it was."""
    from storage import people
    from storage.models import Grid

    console = Driver(services, "console")
    assert "绑定成功" in console.say("541", contact=("13800000041", "541"))  # 周敏, the admin
    assert "二网格" in console.say("541", "/bindgrid G02", group="group-G02")
    with Session(services.engine) as session:
        grid = session.exec(select(Grid).where(Grid.code == "G02")).one()
        assert people.grid_chats(session, grid) == [("telegram", "-1002"), ("console", "group-G02")]
    [(_, action, note)] = _trail(services.engine, "grid", 2)
    assert action == "group_bound" and note == "console:group-G02; was None"
