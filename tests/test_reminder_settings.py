"""The `[reminders]` settings of GRIDBOT_CONFIG are the ones used; what a reminder says about time left;
the start-of-session call and the attendance report go to whom they should, when they should.

Written against mutants of scheduler/timing.py and scheduler/calendar_ticks.py that survived (docs/MUTATION.md):
the built-in settings equal the code's fallbacks, so only other settings show that the file is read.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.context import Services
from scheduler.timing import remaining_text
from storage.policy import load_policy
from tests.driver import Driver
from tests.test_reminders import LIMING, SESSION_AT, SHIFT_AT, STAFF, START, WANGFANG, ZHAOQIANG, new_session

SETTINGS = """
[reminders]
shift_leads = ["2h", "1m", "90s"]
session_leads = ["3h"]
ack_escalate_after = "15m"
digest_time = "09:15"
grace = "10m"
"""


@pytest.fixture
def chat(engine, clock, roster, tmp_path) -> Driver:
    config = tmp_path / "gridbot.toml"
    config.write_text(SETTINGS, encoding="utf-8")
    driver = Driver(Services(engine=engine, policy=load_policy(config), timezone=ZoneInfo("Asia/Shanghai"), clock=clock))
    for user, phone in ((LIMING, "13800000011"), (ZHAOQIANG, "13800000012"), (WANGFANG, "13800000013"), (STAFF, "13800000031")):
        assert "绑定成功" in driver.say(user, contact=(phone, user))
    return driver


def _said(chat: Driver, user: str, words: str) -> list[str]:
    return [text for text in chat.texts(user) if words in text]


def test_the_configured_leads_acknowledgement_delay_and_grace_are_used(chat):
    assert "已安排值班" in chat.say(STAFF, "/newshift 11月25日 10:00-12:00 党群服务中心 李明")
    chat.tick(START)
    assert chat.tick(SHIFT_AT - timedelta(days=1)) == 0  # not the built-in day ahead
    chat.tick(SHIFT_AT - timedelta(hours=2))
    assert [text.splitlines()[1] for text in _said(chat, LIMING, "值班提醒")] == ["2小时后开始，请点「收到」确认。"]
    chat.tick(SHIFT_AT - timedelta(hours=2) + timedelta(minutes=14))
    assert not _said(chat, WANGFANG, "值班未确认")
    chat.tick(SHIFT_AT - timedelta(hours=2) + timedelta(minutes=15))  # 15 minutes, not 30
    assert len(_said(chat, WANGFANG, "值班未确认")) == 1
    chat.tick(SHIFT_AT - timedelta(seconds=90))
    chat.tick(SHIFT_AT - timedelta(seconds=60))  # a 90-second and a 1-minute lead: two reminders, not one
    assert len(_said(chat, LIMING, "值班提醒")) == 3


def test_a_lead_missed_by_more_than_the_configured_grace_is_skipped(chat):
    new_session(chat)
    chat.tick(START + timedelta(minutes=1))
    chat.tick(SESSION_AT - timedelta(hours=3) + timedelta(minutes=11))  # 11 minutes late: past a 10-minute grace
    assert not _said(chat, LIMING, "提醒：学习党的二十大精神")


def test_the_digest_comes_at_the_configured_time(chat):
    digest_at = datetime(2026, 11, 24, 1, 15, tzinfo=UTC)  # 09:15 in Shanghai
    chat.tick(digest_at - timedelta(minutes=50))  # the built-in 08:30 has passed
    assert not _said(chat, WANGFANG, "今日概况")
    chat.tick(digest_at)
    assert len(_said(chat, WANGFANG, "今日概况")) == 1


def test_the_session_reminder_says_the_configured_lead(chat):
    new_session(chat)
    chat.tick(START + timedelta(minutes=1))
    chat.tick(SESSION_AT - timedelta(hours=3))
    assert [text.splitlines()[2][:8] for text in _said(chat, LIMING, "提醒：学习党的二十大精神")] == ["3小时后开始。开"]


@pytest.mark.parametrize(
    "left,said",
    [
        (timedelta(0), "不到1分钟"),
        (timedelta(seconds=-30), "不到1分钟"),
        (timedelta(seconds=30), "1分钟"),
        (timedelta(hours=2), "2小时"),
        (timedelta(minutes=90), "1小时30分钟"),
        (timedelta(days=1), "1天"),
        (timedelta(days=1, minutes=30), "1天"),  # a day ahead, minutes are noise
    ],
)
def test_time_left_reads_as_people_say_it(left, said):
    assert remaining_text(left) == said
