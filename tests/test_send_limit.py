"""The bot's send limit, through a real ExtBot against the fake Bot API: the rate holds, a group's
minute holds, and a reply to someone writing now goes before the notices queued for the limit."""

import asyncio
from contextlib import asynccontextmanager

import pytest
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.telegram.delivery import transport
from bot.telegram.limiter import NOTICE, REPLY_RESERVE, SendLimiter, Slots
from storage.models import OutboxMessage
from tests.fake_telegram import FakeTelegram


class GrantsSeen(Slots):
    """The limiter's own slots, noting when each send was let through: on a loaded machine the fake
    API's arrival times bunch sends the limiter spaced (the HTTP pool and the server lag), so the
    rate the limiter holds is read where it decides."""

    def __init__(self, rate: float, reserve: int):
        super().__init__(rate, reserve)
        self.granted: list[float] = []

    async def take(self, notice: bool = False) -> None:
        await super().take(notice)
        self.granted.append(asyncio.get_running_loop().time())


@asynccontextmanager
async def bot_limited_to(rate: float, group_rate: int):
    async with FakeTelegram() as tg:
        limiter = SendLimiter(rate, group_rate)
        limiter.slots = GrantsSeen(rate, REPLY_RESERVE)
        bot = ExtBot("123:TEST", base_url=f"{tg.root}/bot", request=HTTPXRequest(connection_pool_size=8), rate_limiter=limiter)
        async with bot:
            yield tg, bot


@pytest.fixture
async def limited():
    """10 messages a second, 3 a minute in each group."""
    async with bot_limited_to(10, 3) as both:
        yield both


@pytest.fixture
async def slow():
    """3 messages a second: a slot lasts long enough for the test to queue behind it on a busy machine."""
    async with bot_limited_to(3, 20) as both:
        yield both


def _sent_texts(tg: FakeTelegram) -> list[str]:
    return [params["text"] for method, params in tg.calls if method == "sendMessage"]


async def _until_sent(tg: FakeTelegram, count: int) -> None:
    await tg.wait_for(lambda: len(_sent_texts(tg)) >= count, timeout=10, interval=0.002)


async def test_no_second_holds_more_than_the_rate_and_the_replies_reserve(limited):
    tg, bot = limited
    await asyncio.gather(*(bot.send_message(100 + n, f"第{n}条") for n in range(40)))
    stamps = sorted(t for chat in range(100, 140) for t in tg.sent_at[chat])
    granted = sorted(bot.rate_limiter.slots.granted)
    busiest = max(sum(1 for t in granted if start <= t < start + 1.0) for start in granted)
    assert len(stamps) == 40 and len(granted) == 40 and busiest <= 10 + REPLY_RESERVE + 1
    assert stamps[-1] - stamps[0] >= (40 - 1 - REPLY_RESERVE) / 10 - 0.05  # the rest at 10 a second


async def test_notices_alone_go_at_the_rate_and_leave_the_reserve_to_replies(limited):
    tg, bot = limited
    notices = [asyncio.create_task(bot.send_message(200 + n, f"通知{n}", rate_limit_args=NOTICE)) for n in range(12)]
    await asyncio.gather(*notices)
    stamps = sorted(t for chat in range(200, 212) for t in tg.sent_at[chat])
    assert stamps[-1] - stamps[0] >= 11 / 10 - 0.05  # one every 0.1 s: none spent the reserve
    replies = [bot.send_message(300 + n, f"回复{n}") for n in range(REPLY_RESERVE)]
    start = asyncio.get_running_loop().time()
    await asyncio.gather(*replies)
    assert asyncio.get_running_loop().time() - start < 0.4  # at once: one a slot would take 0.5 s


async def test_a_group_gets_its_minute_and_no_more(limited):
    tg, bot = limited
    sends = [asyncio.create_task(bot.send_message(-500, f"群消息{n}")) for n in range(5)]
    await _until_sent(tg, 3)
    await asyncio.sleep(0.5)  # the overall rate would have let all five through by now
    assert len(tg.chat(-500)) == 3
    await bot.send_message(600, "私聊不受群的限制")
    assert tg.chat(600)[0].text == "私聊不受群的限制"
    for send in sends:
        send.cancel()
    await asyncio.gather(*sends, return_exceptions=True)


async def test_a_reply_goes_before_the_queued_notices(slow):
    tg, bot = slow
    notices = [asyncio.create_task(bot.send_message(200 + n, f"通知{n}", rate_limit_args=NOTICE)) for n in range(5)]
    await _until_sent(tg, 1)  # the first notice took the slot; four wait for theirs
    await bot.send_message(300, "回复")
    await asyncio.gather(*notices)
    assert _sent_texts(tg) == ["通知0", "回复", "通知1", "通知2", "通知3", "通知4"]


async def test_an_emergency_alert_goes_with_the_replies_ahead_of_other_notices(slow):
    tg, bot = slow
    deliver = transport(bot)

    def row(key: str, chat: int, text: str) -> OutboxMessage:
        return OutboxMessage(key=key, platform="telegram", chat_id=str(chat), payload={"text": text, "buttons": []})

    ordinary = [asyncio.create_task(deliver(row(f"card:{n}:v1:g1", 200 + n, f"工单卡片{n}"), None)) for n in range(4)]
    await _until_sent(tg, 1)
    await deliver(row("urgent:7:v1:staff", 300, "紧急：3号楼着火"), None)
    await asyncio.gather(*ordinary)
    assert _sent_texts(tg)[:2] == ["工单卡片0", "紧急：3号楼着火"]
