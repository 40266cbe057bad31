"""Intake throughput: N resident messages through the real Application and the fake Bot API.

Prints messages/s and p50/p99 reply latency for gridbot (`serve()`, SQLite, the whole handler path)
and for a bare PTB echo bot on the same fake server: the ceiling of the transport itself.

    .venv/bin/python bench/intake.py [N] [RESIDENTS]
"""

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import select
from telegram.ext import Application, MessageHandler, filters

from bench import cost
from storage.db import make_engine, migrate, transaction
from storage.models import Building, Identity, Resident
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER
from tests.fake_telegram import FakeTelegram, User
from tests.running import bot_settings, running

TEXTS = [
    "楼道里堆满了垃圾好几天没人清理",
    "小区门口路灯坏了",
    "楼上装修太吵了",
    "电动车在楼道里充电很危险",
    "想问一下医保怎么报销",
    "独居老人需要帮忙买菜",
]


def prepare_database(path: Path, residents: int) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        building = session.exec(select(Building)).first()
        for n in range(residents):
            resident = Resident(name=f"居民{n}", building_id=building.id)
            session.add(resident)
            session.flush()
            user = str(10_000 + n)
            session.add(Identity(platform="telegram", user_id=user, chat_id=user, resident_id=resident.id))
    engine.dispose()
    return url


async def drive(tg: FakeTelegram, messages: int, residents: int, offered: float | None = None) -> tuple[float, list[float]]:
    """Push messages all at once (offered=None) or paced at `offered` per second;
    latency = push → the reply in that resident's chat."""
    users = [User(10_000 + n, f"居民{n}") for n in range(residents)]
    pushed: dict[int, list[float]] = {u.id: [] for u in users}
    start = time.monotonic()
    for i in range(messages):
        user = users[i % residents]
        if offered:
            await asyncio.sleep(max(0.0, start + i / offered - time.monotonic()))
        pushed[user.id].append(time.monotonic())
        tg.push_text(user, TEXTS[i % len(TEXTS)])
    await tg.wait_for(lambda: sum(len(tg.chat(u.id)) for u in users) >= messages, timeout=600, interval=0.005)
    elapsed = time.monotonic() - start
    latencies = [tg.sent_at[u.id][k] - t for u in users for k, t in enumerate(pushed[u.id])]
    return messages / elapsed, latencies


def report(name: str, rate: float, latencies: list[float]) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name:<34} {rate:8.1f} msg/s   p50 {cuts[49] * 1000:7.1f} ms   p99 {cuts[98] * 1000:7.1f} ms")


async def gridbot_run(messages: int, residents: int, offered: float | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = prepare_database(Path(tmp) / "bench.db", residents)
        # The send limiter is lifted so the figure is gridbot's own capacity, not Telegram's 30/s.
        unlimited = {"telegram_rate": 100_000.0, "telegram_group_rate": 100_000}
        async with FakeTelegram() as tg, running(bot_settings(tg.root, url, **unlimited)):
            with cost.counting() as tally:
                rate, latencies = await drive(tg, messages, residents, offered)
        label = f"gridbot, paced {offered:.0f}/s" if offered else "gridbot (SQLite, full path)"
        report(label, rate, latencies)
        print(tally.line(messages, "whole process (sender and fake API too)"))


async def echo_run(messages: int, residents: int) -> None:
    async with FakeTelegram() as tg:
        app = Application.builder().token("1:ECHO").base_url(f"{tg.root}/bot").concurrent_updates(64).build()

        async def echo(update, context):
            await update.message.reply_text(update.message.text)

        app.add_handler(MessageHandler(filters.TEXT, echo))
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=10)
            rate, latencies = await drive(tg, messages, residents)
            await app.updater.stop()
            await app.stop()
    report("bare PTB echo (ceiling)", rate, latencies)


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    residents = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    print(f"{messages} messages from {residents} residents, fake Bot API on loopback")
    asyncio.run(echo_run(messages, residents))
    asyncio.run(gridbot_run(messages, residents))
    asyncio.run(gridbot_run(min(messages, 600), residents, offered=30.0))  # Telegram's own send ceiling
    print("\n".join(cost.handler_lines()))


if __name__ == "__main__":
    main()
