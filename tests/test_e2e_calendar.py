"""The calendar end to end: `gridbot run` (real PTB Application, APScheduler, outbox sender) against
the fake Bot API, a shift and a session minutes ahead with leads of two and one minute.

The same story runs twice: once with a clock the test moves (seconds of wall time), once in real
time (about three minutes). Each reminder arrives exactly once, across a restart between the
reminder and the escalation; the member who pressed 收到 is not escalated, the other is; 签到 is
accepted only while the session is open.
"""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from storage.calendar import upsert_session, upsert_shift
from storage.db import make_engine, migrate, transaction
from storage.models import Attendance, Member
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER, Clock
from tests.fake_telegram import FakeTelegram, User
from tests.running import bot_settings, running

LIMING, ZHAOQIANG, WANGFANG = User(511, "李明"), User(512, "赵强"), User(513, "王芳")
POLICY = """
[reminders]
shift_leads = ["2m", "1m"]
session_leads = ["2m", "1m"]
ack_escalate_after = "1m"
grace = "30s"
digest_time = "03:00"
"""
# Seconds after the calendar is set up (t0): reminders at +10 s and +70 s (leads 2 min and 1 min).
SHIFT_START, SESSION_START, SESSION_END = 130, 130, 175


class RealTime:
    """The story's moments are moments of the wall clock."""

    clock = None
    tick_seconds = 1.0

    def __init__(self):
        self.t0 = datetime.now(UTC)
        self.started = time.monotonic()

    async def at(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - self.started)))

    def timeout(self, seconds: float) -> float:
        return seconds + 10


class HandClock:
    """The story's moments are set on the bot's clock by the test; the scheduler ticks fast."""

    tick_seconds = 0.2

    def __init__(self):
        self.t0 = datetime.now(UTC).replace(microsecond=0)
        self.clock = Clock(self.t0)

    async def at(self, seconds: float) -> None:
        self.clock.now = max(self.clock.now, self.t0 + timedelta(seconds=seconds))
        await asyncio.sleep(0.5)  # a couple of ticks at the new time

    def timeout(self, seconds: float) -> float:
        return 10


@pytest.fixture(params=["hand_clock", pytest.param("real_time", marks=pytest.mark.timeout(400))])
def story_clock(request):
    return HandClock() if request.param == "hand_clock" else RealTime()


@pytest.fixture
def setup(tmp_path, sqlite_url, story_clock):
    """The roster, a shift (李明、赵强) and a 主题党日 for 第一支部, both starting ~2 minutes after t0."""
    config = tmp_path / "policy.toml"
    config.write_text(POLICY, encoding="utf-8")
    engine = make_engine(sqlite_url)
    migrate(engine)
    t0 = story_clock.t0
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        ids = dict(session.exec(select(Member.name, Member.id)).all())
        upsert_shift(
            session,
            t0 + timedelta(seconds=SHIFT_START),
            t0 + timedelta(seconds=SHIFT_START + 3600),
            "党群服务中心",
            [ids["李明"], ids["赵强"]],
            t0,
        )
        upsert_session(
            session,
            "学习党的二十大精神",
            "主题党日",
            "第一支部",
            t0 + timedelta(seconds=SESSION_START),
            t0 + timedelta(seconds=SESSION_END),
            "三楼会议室",
            t0,
        )
    engine.dispose()
    return bot_settings("", sqlite_url, config=config, tick_seconds=story_clock.tick_seconds)


def texts(tg: FakeTelegram, user: User, part: str) -> list[str]:
    return [m.text for m in tg.chat(user.id) if part in (m.text or "")]


def newest(tg: FakeTelegram, user: User, part: str):
    return next(m for m in reversed(tg.chat(user.id)) if part in (m.text or ""))


def button(message, part: str) -> str:
    return next(data for row in message.buttons for label, data in row if part in label)


async def test_reminders_escalation_and_check_in_across_a_restart(setup, story_clock, sqlite_url):
    clock, wait = story_clock, story_clock.timeout
    async with FakeTelegram() as tg:
        settings = setup.model_copy(update={"telegram_api_url": tg.root})
        async with running(settings, clock=clock.clock):
            for user, phone in ((LIMING, "13800000011"), (ZHAOQIANG, "13800000012"), (WANGFANG, "13800000013")):
                tg.push_contact(user, phone, user.id)
                await tg.wait_for(lambda u=user: texts(tg, u, "绑定成功"), timeout=10)
            await clock.at(10)
            first = await tg.wait_for(lambda: newest(tg, LIMING, "值班提醒"), timeout=wait(15))
            tg.push_callback(LIMING, first, button(first, "收到"))
            await tg.wait_for(lambda: any("已确认" in (text or "") for _, text, _ in tg.callback_answers), timeout=10)
            await tg.wait_for(lambda: len(texts(tg, WANGFANG, "主题党日提醒")) == 1, timeout=wait(5))
        # Stopped (as by SIGTERM) after the first reminder, before the escalation is due.
        await clock.at(40)
        async with running(settings, clock=clock.clock):
            await clock.at(75)
            alert = await tg.wait_for(lambda: newest(tg, WANGFANG, "值班未确认"), timeout=wait(15))
            assert "赵强" in alert.text and "李明" not in alert.text
            await tg.wait_for(lambda: len(texts(tg, ZHAOQIANG, "值班提醒")) == 2, timeout=wait(5))

            reminder = newest(tg, LIMING, "主题党日提醒")
            tg.push_callback(LIMING, reminder, button(reminder, "签到"))
            await tg.wait_for(lambda: any("还没开始" in (text or "") for _, text, _ in tg.callback_answers), timeout=10)

            await clock.at(SESSION_START + 3)
            opened = await tg.wait_for(lambda: newest(tg, LIMING, "现在开始"), timeout=wait(15))
            tg.push_callback(LIMING, opened, button(opened, "签到"))
            await tg.wait_for(lambda: any("签到成功" in (text or "") for _, text, _ in tg.callback_answers), timeout=10)

            await clock.at(SESSION_END + 3)
            report = await tg.wait_for(lambda: newest(tg, WANGFANG, "签到情况"), timeout=wait(15))
            late = newest(tg, ZHAOQIANG, "现在开始")
            tg.push_callback(ZHAOQIANG, late, button(late, "签到"))
            await tg.wait_for(lambda: any("已经结束" in (text or "") for _, text, _ in tg.callback_answers), timeout=10)
            await clock.at(SESSION_END + 8)

    assert "出席 1：李明" in report.text and "缺席 2：赵强、王芳" in report.text
    for user in (LIMING, ZHAOQIANG):
        assert len(texts(tg, user, "值班提醒")) == 2  # the 2-minute and the 1-minute lead, once each
    for user in (LIMING, ZHAOQIANG, WANGFANG):
        assert len(texts(tg, user, "主题党日提醒")) == 2
        assert len(texts(tg, user, "现在开始")) == 1
    assert len(texts(tg, WANGFANG, "值班未确认")) == 1 and len(texts(tg, WANGFANG, "签到情况")) == 1
    with Session(make_engine(sqlite_url)) as session:
        assert session.exec(select(Attendance.status).order_by(Attendance.member_id)).all() == ["present", "absent", "absent"]
