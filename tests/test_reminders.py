"""Duty shifts and study sessions driven by a controlled clock: leads, grace window, idempotency,
收到 escalation, swaps, leave and check-in — on SQLite and PostgreSQL."""

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from scheduler.ticks import tick
from storage.db import make_engine
from storage.models import (
    Attendance,
    CalendarEvent,
    OutboxMessage,
    PointsEntry,
    Shift,
    ShiftMember,
)
from storage.policy import load_policy
from tests.driver import Driver
from tests.processes import in_processes

LIMING, ZHAOQIANG, WANGFANG, CHENGANG, STAFF = "511", "512", "513", "521", "531"
G01_CHAT = "-1001"
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the clock fixture's start
SHIFT_AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 11月25日 10:00
SESSION_AT = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # 11月24日 14:30


@pytest.fixture
def chat(services, roster) -> Driver:
    """李明、赵强、王芳 (G01 leader), 陈刚 (G02), 刘洋 (staff) bound on Telegram."""
    driver = Driver(services)
    for user, phone in (
        (LIMING, "13800000011"),
        (ZHAOQIANG, "13800000012"),
        (WANGFANG, "13800000013"),
        (CHENGANG, "13800000021"),
        (STAFF, "13800000031"),
    ):
        assert "绑定成功" in driver.say(user, contact=(phone, user))
    return driver


def reminders(chat: Driver, prefix: str) -> list[str]:
    """Keys of the lead reminders queued (`shift:1:m2:t-60`), not of alerts or reports."""
    return [row.key for row in chat.outbox() if row.key.startswith(prefix) and ":t-" in row.key]


def new_shift(chat: Driver) -> None:
    assert "已安排值班" in chat.say(STAFF, "/newshift 11月25日 10:00-12:00 党群服务中心 李明 赵强")


def test_each_lead_reminds_each_member_exactly_once(chat, services):
    new_shift(chat)
    assert chat.tick(START + timedelta(minutes=5)) == 0
    assert chat.tick(SHIFT_AT - timedelta(days=1, minutes=1)) == 0
    assert chat.tick(SHIFT_AT - timedelta(days=1)) == 2
    for later in (0, 5, 10, 40):  # the same moment again, and later ticks: no new reminder
        chat.tick(SHIFT_AT - timedelta(days=1) + timedelta(minutes=later))
        assert len(reminders(chat, "shift:")) == 2
    chat.tick(SHIFT_AT - timedelta(hours=1))
    assert sorted(reminders(chat, "shift:")) == sorted(f"shift:1:m{m}:{lead}" for m in (1, 2) for lead in ("t-1440", "t-60"))
    reminder = chat.outbox(LIMING)[-1].payload
    assert "值班提醒：11月25日 10:00–12:00 党群服务中心" in reminder["text"] and "1小时后开始" in reminder["text"]
    assert [label for label, _ in reminder["buttons"][0]] == ["✅ 收到", "🔁 申请换班"]


def test_a_reminder_missed_while_down_is_sent_within_grace_and_skipped_after(chat, services, caplog):
    new_shift(chat)
    chat.tick(START + timedelta(minutes=1))
    # Down across the 1-day lead; back 20 minutes later: still sent.
    assert chat.tick(SHIFT_AT - timedelta(days=1) + timedelta(minutes=20)) == 2
    # Down across the 1-hour lead; back 2 hours later: skipped, with a log line, and never sent after.
    with caplog.at_level(logging.WARNING, logger="scheduler"):
        chat.tick(SHIFT_AT + timedelta(hours=1))
    assert any("t-60" in record.getMessage() and "skipped" in record.getMessage() for record in caplog.records)
    chat.tick(SHIFT_AT + timedelta(hours=1, minutes=5))
    assert sorted(reminders(chat, "shift:")) == ["shift:1:m1:t-1440", "shift:1:m2:t-1440"]


def test_a_shift_set_up_at_short_notice_is_announced_once(chat, services):
    assert "已安排值班" in chat.say(STAFF, "/newshift 今天 10:30-12:00 社区广场 李明")
    assert chat.tick(START + timedelta(minutes=1)) == 1
    assert chat.tick(START + timedelta(minutes=2)) == 0
    assert "29分钟后开始" in chat.texts(LIMING)[-1]
    assert reminders(chat, "shift:") == ["shift:1:m1:t-60"]


class _Failures(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def tick_from_own_process(barrier, url: str, moments: list[datetime]) -> list[str]:
    """One `gridbot run`'s scheduler: its own engine, ticking each minute at the same time as the
    other process (the barrier), its clock a few seconds off. Returns the jobs that failed (tick()
    logs and swallows them)."""
    engine = make_engine(url)
    failures = _Failures()
    logging.getLogger("scheduler").addHandler(failures)
    try:
        for moment in moments:
            barrier.wait()
            tick(engine, load_policy(None), ZoneInfo("Asia/Shanghai"), moment)
    finally:
        engine.dispose()
    return failures.messages


def test_two_processes_and_a_clock_jump_neither_double_nor_lose(chat, services, database_url):
    new_shift(chat)
    chat.tick(START)
    due = SHIFT_AT - timedelta(days=1)
    # Two OS processes tick through the lead's moment together, a few seconds apart, as two
    # schedulers would; they meet only in the database (PostgreSQL, or the SQLite file).
    minutes = [due + timedelta(minutes=m) for m in range(-2, 4)]
    failed = in_processes(
        tick_from_own_process, [(database_url, minutes), (database_url, [m + timedelta(seconds=7) for m in minutes])]
    )
    assert failed == [[], []]  # a job that failed in either process: its notices were at risk
    services.clock.now = due + timedelta(minutes=4)
    chat.tick(due - timedelta(hours=3))  # the clock jumps back…
    chat.tick(due + timedelta(minutes=5))  # …and forward again
    # Counted by what each member receives, not by key (two rows of one key cannot exist):
    # one day-ahead reminder each, none lost, none doubled.
    for member in (LIMING, ZHAOQIANG):
        assert [text for text in chat.texts(member) if "值班提醒" in text] == [
            "📅 值班提醒：11月25日 10:00–12:00 党群服务中心\n1天后开始，请点「收到」确认。"
        ]
    assert not [text for text in chat.texts(WANGFANG) if "值班" in text]


def test_unacknowledged_members_are_escalated_to_the_leader_once(chat, services):
    new_shift(chat)
    chat.tick(START)
    chat.tick(SHIFT_AT - timedelta(days=1))
    assert "已确认值班" in chat.say(LIMING, callback=chat.button(LIMING, "收到"))
    assert "已确认过" in chat.say(LIMING, callback=chat.button(LIMING, "收到"))
    chat.tick(SHIFT_AT - timedelta(days=1) + timedelta(minutes=29))
    assert not any("未确认" in text for text in chat.texts(WANGFANG))
    chat.tick(SHIFT_AT - timedelta(days=1) + timedelta(minutes=30))
    chat.tick(SHIFT_AT - timedelta(hours=1))
    chat.tick(SHIFT_AT - timedelta(minutes=20))
    alerts = [text for text in chat.texts(WANGFANG) if "值班未确认" in text]
    assert alerts == ["⚠️ 值班未确认：11月25日 10:00–12:00 党群服务中心\n赵强 还没点「收到」，请联系确认。"]
    with Session(services.engine) as session:
        actions = session.exec(select(CalendarEvent.action).where(CalendarEvent.kind == "shift")).all()
    assert actions.count("ack") == 1 and actions.count("unacked_escalated") == 1


def test_duty_lists_my_shifts_and_a_swap_is_taken_by_one_grid_mate(chat, services):
    new_shift(chat)
    duty = chat.send(ZHAOQIANG, "/duty")[0]
    assert "11月25日 10:00–12:00 党群服务中心（待确认）" in duty.text
    swap_button = next(b.data for row in duty.buttons for b in row if "换班" in b.label)
    assert "已发出换班申请" in chat.say(ZHAOQIANG, callback=swap_button)
    assert "已申请过" in chat.say(ZHAOQIANG, callback=swap_button)
    offer = chat.outbox(G01_CHAT)[-1].payload
    assert "赵强 申请换班" in offer["text"]
    take = offer["buttons"][0][0][1]
    assert "只有同一网格" in chat.say(CHENGANG, group=G01_CHAT, callback=take)
    assert "您已经在这个班次里了" in chat.say(LIMING, group=G01_CHAT, callback=take)
    assert "已替 赵强 值班" in chat.say(WANGFANG, group=G01_CHAT, callback=take)
    assert "王芳 已替您值班" in chat.texts(ZHAOQIANG)[-1]
    leader = chat.texts(WANGFANG)  # 王芳 leads G01: told of the request and of who took it
    assert any("赵强 申请换班" in text for text in leader) and any("赵强 → 王芳" in text for text in leader)
    assert "您近期没有值班安排" in chat.say(ZHAOQIANG, "/duty")
    with Session(services.engine) as session:
        shift = session.exec(select(Shift)).one()
        on_duty = session.exec(select(ShiftMember.member_id).where(ShiftMember.shift_id == shift.id)).all()
    assert sorted(on_duty) == [1, 3]  # 李明 and 王芳


def new_session(chat: Driver) -> None:
    assert "活动主题" in chat.say(STAFF, "/newsession")
    kinds = chat.send(STAFF, "学习党的二十大精神")[0]
    themed = next(b.data for row in kinds.buttons for b in row if b.label == "主题党日")
    assert "哪个支部" in chat.say(STAFF, callback=themed)
    assert "没有「第九支部」" in chat.say(STAFF, "第九支部")
    assert "活动时间" in chat.say(STAFF, "第一支部")
    assert "没看懂" in chat.say(STAFF, "下周吧")
    assert "活动地点" in chat.say(STAFF, "11月24日 14:30-16:30")
    created = chat.say(STAFF, "党群服务中心")
    assert "已创建：主题党日「学习党的二十大精神」" in created and "第一支部 3 名党员" in created


def test_a_session_reminds_takes_leave_checks_in_once_and_reports(chat, services):
    new_session(chat)
    for at in (START + timedelta(minutes=1), SESSION_AT - timedelta(days=1), SESSION_AT - timedelta(hours=1)):
        chat.tick(at)
    assert len(reminders(chat, "session:1:")) == 2 * 3  # two leads, three members of 第一支部
    checkin = chat.button(LIMING, "签到")
    assert "活动还没开始" in chat.say(LIMING, callback=checkin)
    assert "请简单说一下原因" in chat.say(ZHAOQIANG, callback=chat.button(ZHAOQIANG, "请假"))
    assert "已为您请假" in chat.say(ZHAOQIANG, "去医院复查")
    assert "这是第一支部的活动" in chat.say(CHENGANG, callback=checkin)

    chat.tick(SESSION_AT + timedelta(minutes=1))
    assert "现在开始" in chat.texts(LIMING)[-1] and "现在开始" not in chat.texts(ZHAOQIANG)[-1]
    assert "签到成功" in chat.say(LIMING, callback=checkin)
    assert "已签到过" in chat.say(LIMING, callback=checkin)
    assert "已签到过" in chat.say(LIMING, "签到")  # the typed word, as on WeChat

    chat.tick(SESSION_AT + timedelta(hours=2, minutes=1))
    assert "活动已经结束" in chat.say(WANGFANG, callback=chat.button(WANGFANG, "签到"))
    report = [text for text in chat.texts(WANGFANG) if "签到情况" in text]
    assert report == [
        ("📋 学习党的二十大精神（11月24日 14:30–16:30）签到情况\n出席 1：李明\n请假 1：赵强（去医院复查）\n缺席 1：王芳")
    ]
    chat.tick(SESSION_AT + timedelta(hours=2, minutes=10))
    assert len([text for text in chat.texts(WANGFANG) if "签到情况" in text]) == 1
    with Session(services.engine) as session:
        statuses = dict(session.exec(select(Attendance.member_id, Attendance.status)).all())
        earned = session.exec(select(PointsEntry.delta).where(PointsEntry.reason == "session")).all()
    assert statuses == {1: "present", 2: "leave", 3: "absent"}
    assert earned == [services.policy.points["session_attended"]]


def test_sessions_lists_upcoming_with_my_state(chat, services):
    new_session(chat)
    listing = chat.send(LIMING, "/sessions")[0]
    assert "11月24日 14:30–16:30 学习党的二十大精神 @党群服务中心" in listing.text
    assert [b.label for row in listing.buttons for b in row] == ["🙏 请假 学习党的二十大精神"]
    assert "近期没有学习活动安排" in chat.say(CHENGANG, "/sessions")


@pytest.mark.parametrize(
    "command,reason",
    [
        ("/newshift", "需要社区工作人员权限"),
        ("/newsession", "需要社区工作人员权限"),
    ],
)
def test_members_cannot_set_up_the_calendar(chat, services, command, reason):
    before = len(chat.outbox())
    assert reason in chat.say(LIMING, command)
    assert len(chat.outbox()) == before


def test_bad_shift_input_gets_a_reason_and_writes_nothing(chat, services):
    assert "格式" in chat.say(STAFF, "/newshift 下周一 党群服务中心 李明")
    assert "花名册里没有：张三" in chat.say(STAFF, "/newshift 明天 9:00-11:00 广场 李明 张三")
    assert "已经过了" in chat.say(STAFF, "/newshift 今天 8:00-9:00 广场 李明")
    assert "值班时间" in chat.say(STAFF, "/newshift")
    assert "已取消" in chat.say(STAFF, "取消")
    with Session(services.engine) as session:
        assert session.exec(select(Shift)).all() == []
        assert session.exec(select(OutboxMessage).where(OutboxMessage.key.like("shift:%"))).all() == []


def test_the_start_call_reaches_those_not_on_leave_at_the_start_and_never_after_the_end(chat, services):
    new_session(chat)
    chat.tick(START + timedelta(minutes=1))
    chat.tick(SESSION_AT - timedelta(days=1))
    assert "请简单说一下原因" in chat.say(ZHAOQIANG, callback=chat.button(ZHAOQIANG, "请假"))
    assert "已为您请假" in chat.say(ZHAOQIANG, "去医院复查")
    chat.tick(SESSION_AT - timedelta(hours=1))  # no more reminders for one on leave
    reminded = {user: len([t for t in chat.texts(user) if "提醒：学习" in t]) for user in (LIMING, ZHAOQIANG)}
    assert reminded == {LIMING: 2, ZHAOQIANG: 1}
    chat.tick(SESSION_AT)  # exactly at the start
    calls = {user: len([t for t in chat.texts(user) if "现在开始" in t]) for user in (LIMING, ZHAOQIANG, WANGFANG, CHENGANG)}
    assert calls == {LIMING: 1, ZHAOQIANG: 0, WANGFANG: 1, CHENGANG: 0}


def test_a_session_slept_through_gets_no_start_call_but_its_report(chat, services):
    new_session(chat)
    chat.tick(START + timedelta(minutes=1))
    chat.tick(SESSION_AT + timedelta(hours=2, minutes=5))  # down from before the start until after the end
    assert not any("现在开始" in text for text in chat.texts(LIMING))
    reports = {user: [t for t in chat.texts(user) if "签到情况" in t] for user in (WANGFANG, STAFF, CHENGANG, LIMING)}
    assert [len(reports[user]) for user in (WANGFANG, STAFF, CHENGANG, LIMING)] == [
        1,
        1,
        0,
        0,
    ]  # the grid's leader and the organiser
    assert "缺席 3：李明、赵强、王芳" in reports[STAFF][0]
