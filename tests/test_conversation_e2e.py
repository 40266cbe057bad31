"""The conversation as residents write it, end to end through the real PTB Application and the fake Bot API."""

import asyncio
import re

import httpx

from tests.fake_telegram import FakeTelegram
from tests.running import bot_settings, running
from tests.test_e2e_telegram import RESIDENT, db_url, last_text, register_resident  # noqa: F401 (db_url: a fixture)

LITTER = "2单元楼道里堆满了垃圾，好几天没人清理了"


async def test_a_reply_refused_with_429_is_retried_and_arrives(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)):
        await register_resident(tg)
        tg.fail_next(RESIDENT.id, 429, retry_after=1)  # flood control on the reply that carries #n
        tg.push_text(RESIDENT, LITTER)
        await tg.wait_for(lambda: "工单 #1" in last_text(tg, RESIDENT.id), timeout=10)
        tries = [c for c in tg.calls_to("sendMessage") if str(c.get("chat_id")) == str(RESIDENT.id) and "工单 #1" in str(c.get("text"))]
        assert len(tries) == 2  # refused once, then delivered


async def test_a_reply_that_cannot_be_delivered_is_logged_and_counted(db_url, caplog):  # noqa: F811
    settings = None
    async with FakeTelegram() as tg, running(settings := bot_settings(tg.root, db_url)):
        await register_resident(tg)
        async with httpx.AsyncClient() as client:
            async def lost() -> float:
                text = (await client.get(f"http://127.0.0.1:{settings.http_port}/metrics")).text
                found = re.search(r'gridbot_reply_failures_total\{platform="telegram",reason="Forbidden"\} (\S+)', text)
                return float(found[1]) if found else 0.0
            before = await lost()
            tg.fail_next(RESIDENT.id, 403, description="Forbidden: bot was blocked by the user")
            tg.push_text(RESIDENT, "/my")
            for _ in range(200):
                if await lost() == before + 1:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the lost reply was not counted in /metrics")
    assert any("blocked by the user" in record.getMessage() for record in caplog.records)
