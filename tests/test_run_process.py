"""`gridbot run` as operators start it: a real process, a roster from CSV, SIGTERM, start again."""

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.conftest import ROSTER
from tests.fake_telegram import FakeTelegram, User
from tests.running import free_port

GRIDBOT = str(Path(sys.executable).with_name("gridbot"))
RESIDENT, LIMING = User(501, "张阿姨"), User(511, "李明")
G01 = -1001


def _env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
    env.update(GRIDBOT_DATABASE_URL=f"sqlite:///{tmp_path}/run.db", **extra)
    return env


async def _cli(*args, env) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        GRIDBOT, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode(), err.decode()


async def _healthy(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).text == "ok":
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("gridbot run never became healthy")


def _last(tg, chat_id) -> str:
    messages = tg.chat(chat_id)
    return messages[-1].text or "" if messages else ""


def _button(message, part):
    return next(data for row in message.buttons for label, data in row if part in label)


async def test_no_platform_configured_exits_with_a_hint(tmp_path):
    code, _out, err = await _cli("run", env=_env(tmp_path))
    assert code != 0 and "GRIDBOT_TELEGRAM_TOKEN" in err and "Traceback" not in err


async def test_the_loop_survives_sigterm_and_restart(tmp_path):
    async with FakeTelegram() as tg:
        port = free_port()
        env = _env(tmp_path, GRIDBOT_TELEGRAM_TOKEN="123456:TEST", GRIDBOT_TELEGRAM_API_URL=tg.root, GRIDBOT_HTTP_PORT=str(port))
        code, _out, err = await _cli("import", str(ROSTER), env=env)
        assert code == 0, err

        async def start():
            process = await asyncio.create_subprocess_exec(
                GRIDBOT, "run", env=env, stdin=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
            )
            await _healthy(port)
            return process

        async def sigterm(process):
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
            assert process.returncode == 0, err.decode()[-2000:]

        process = await start()
        tg.push_contact(LIMING, "13800000011", LIMING.id)
        await tg.wait_for(lambda: "绑定成功" in _last(tg, LIMING.id), timeout=15)
        tg.push_text(RESIDENT, "/start")
        ask = await tg.wait_for(lambda: next(m for m in tg.chat(RESIDENT.id) if "哪栋楼" in m.text), timeout=15)
        tg.push_callback(RESIDENT, ask, _button(ask, "1号楼"))
        tg.push_text(RESIDENT, "2单元楼道里堆满了垃圾，好几天没人清理了")
        await tg.wait_for(lambda: "工单 #1" in _last(tg, RESIDENT.id), timeout=15)
        card = await tg.wait_for(lambda: next(m for m in tg.chat(G01) if m.buttons), timeout=15)
        tg.push_callback(LIMING, card, _button(card, "领单"))
        details = await tg.wait_for(lambda: next(m for m in tg.chat(LIMING.id) if "仅领单人可见" in m.text), timeout=15)
        await tg.wait_for(lambda: "李明 已领单" in card.text, timeout=15)  # other chats may be served first
        await sigterm(process)

        process = await start()
        tg.push_callback(LIMING, details, _button(details, "完成"))
        await tg.wait_for(lambda: "照片" in _last(tg, LIMING.id), timeout=15)
        tg.push_photo(LIMING, "proof")
        rate = await tg.wait_for(lambda: next(m for m in tg.chat(RESIDENT.id) if "满意吗" in (m.text or "")), timeout=15)
        await sigterm(process)

        process = await start()
        tg.push_callback(RESIDENT, rate, _button(rate, "5⭐"))
        await tg.wait_for(lambda: "谢谢您的评价" in _last(tg, RESIDENT.id), timeout=15)
        tg.push_text(RESIDENT, "/status 1")
        await tg.wait_for(lambda: "已完成" in _last(tg, RESIDENT.id), timeout=15)
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        assert 'gridbot_orders{status="closed"} 1.0' in metrics
        await tg.wait_for(lambda: "已办结" in card.text, timeout=15)
        await sigterm(process)
