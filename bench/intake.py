"""Intake: resident messages through the real Application and the fake Bot API.

Four runs, each printed with what it measured:
- a bare PTB echo bot on the same fake server, N messages at once: the ceiling of the transport;
- gridbot (`serve()`, SQLite, the whole handler path), the same N messages at once, send limiter
  lifted: gridbot's own capacity; the line after it says what those messages became. Twice: as
  `gridbot run` starts on SQLite, the handlers in a process of their own (bot/handler_process.py;
  CPU and statements count that process too), then with GRIDBOT_HANDLER_PROCESS=0 (threads);
- gridbot paced at PACE reports/s with the send limiter as in production (30 msg/s, 20/min per
  group): each message is a first report from its own resident, so each gets a reply and queues a
  grid card, and both share the 30 msg/s. The clock stops at the reply and again at the card.

Each run starts its clock once the bot has answered a first message (of its own user): gridbot's
startup (migrations, training the models) is printed on a line of its own, not folded into a rate.

    .venv/bin/python bench/intake.py [N] [RESIDENTS] [PACE]
"""

import asyncio
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert
from sqlmodel import select
from telegram.ext import Application, MessageHandler, filters

from bench import cost
from bench.replies import tally
from storage.db import make_engine, migrate, transaction
from storage.models import Building, Grid, Identity, Resident
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
GRID_TEXTS = [  # 小事 the classifier is sure of: each goes straight to its grid's group as a card
    "楼道里堆满了垃圾好几天没人清理",
    "楼上装修太吵了",
    "独居老人需要帮忙买菜",
    "电梯坏了好几天了",
    "邻居家漏水到我家",
]
WARM_UP = User(9_999, "预热")  # answered before any clock starts: neither a resident of a run nor a group
PACED_GRIDS = 30  # 600 reports → 20 cards a group: within its 20/min, so the 30 msg/s limit is what binds
FIRST_PACED_USER, FIRST_PACED_GROUP = 50_000, -5_000
CARD = re.compile(r"^🆕 工单 #(\d+) ·")


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


def prepare_reporters(path: Path, reports: int) -> str:
    """One resident per report, each in a building of their own (so no report is offered as a
    neighbour's "同一件事"), the buildings spread over PACED_GRIDS grids, each grid with its group."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    with transaction(engine) as session:
        grids = [
            {"code": f"P{g:02d}", "name": f"压测{g}网格", "telegram_chat_id": str(FIRST_PACED_GROUP - g)}
            for g in range(PACED_GRIDS)
        ]
        session.execute(insert(Grid), grids)
        grid_ids = session.exec(select(Grid.id).order_by(Grid.id)).all()
        session.execute(
            insert(Building), [{"name": f"压测{n}号楼", "grid_id": grid_ids[n % PACED_GRIDS]} for n in range(reports)]
        )
        buildings = session.exec(select(Building.id).order_by(Building.id)).all()
        session.execute(
            insert(Resident), [{"name": f"居民{n}", "building_id": b, "created_at": now} for n, b in enumerate(buildings)]
        )
        residents = session.exec(select(Resident.id).order_by(Resident.id)).all()
        chats = [str(FIRST_PACED_USER + n) for n in range(reports)]
        session.execute(
            insert(Identity),
            [
                {"platform": "telegram", "user_id": c, "chat_id": c, "resident_id": r}
                for c, r in zip(chats, residents, strict=True)
            ],
        )
    engine.dispose()
    return url


async def ready(tg: FakeTelegram, user: User = WARM_UP, text: str = TEXTS[0]) -> float:
    """Seconds from here until a first message is answered: startup (migrations, the models' training)
    is printed on its own, and the runs below measure a bot that is up."""
    start = time.monotonic()
    tg.push_text(user, text)
    await tg.wait_for(lambda: tg.chat(user.id), timeout=120, interval=0.005)
    return time.monotonic() - start


async def drive(tg: FakeTelegram, messages: int, residents: int) -> tuple[float, list[float]]:
    """Push all messages at once; latency = push → the reply in that resident's chat."""
    users = [User(10_000 + n, f"居民{n}") for n in range(residents)]
    pushed: dict[int, list[float]] = {u.id: [] for u in users}
    start = time.monotonic()
    for i in range(messages):
        user = users[i % residents]
        pushed[user.id].append(time.monotonic())
        tg.push_text(user, TEXTS[i % len(TEXTS)])
    await tg.wait_for(lambda: sum(len(tg.chat(u.id)) for u in users) >= messages, timeout=600, interval=0.005)
    elapsed = time.monotonic() - start
    latencies = [tg.sent_at[u.id][k] - t for u in users for k, t in enumerate(pushed[u.id])]
    return messages / elapsed, latencies


def outcomes(tg: FakeTelegram, residents: int) -> str:
    """What the replies said the messages became."""
    return tally([m.text or "" for n in range(residents) for m in tg.chat(10_000 + n)])


def report(name: str, rate: float, latencies: list[float]) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name:<34} {rate:8.1f} msg/s   p50 {cuts[49] * 1000:7.1f} ms   p99 {cuts[98] * 1000:7.1f} ms")


def spread(latencies: list[float]) -> str:
    if len(latencies) < 2:
        return "too few to tell"
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return f"p50 {cuts[49] * 1000:7.0f} ms   p99 {cuts[98] * 1000:7.0f} ms   max {max(latencies) * 1000:7.0f} ms"


async def gridbot_run(messages: int, residents: int, handler_process: bool = True) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        url = prepare_database(Path(tmp) / "bench.db", residents)
        # The send limiter is lifted so the figure is gridbot's own capacity, not Telegram's 30/s.
        unlimited = {"telegram_rate": 100_000.0, "telegram_group_rate": 100_000, "handler_process": handler_process}
        async with FakeTelegram() as tg, running(bot_settings(tg.root, url, **unlimited)):
            startup = await ready(tg)
            before = await cost.children()
            with cost.counting() as tally:
                rate, latencies = await drive(tg, messages, residents)
                child = cost.spent(before, await cost.children())
                burst = tally.line(messages, "whole process (bot, sender, the fake Bot API, this script), per message", child)
            became = outcomes(tg, residents)
        report("gridbot at once, limiter lifted" if handler_process else "  the same, handlers in threads", rate, latencies)
        print(f"  gridbot answered its first message {startup:.1f} s after start (migrations, models); the clock started then")
        print(burst)
        print(f"  of these {messages} messages (all residents in one building): {became}")
        return rate


async def paced_run(reports: int, pace: float) -> None:
    """Each report from its own resident at `pace`/s, limiter as in production. Reply latency = push →
    the reply in the resident's chat; card latency = push → the order's card in its grid's group."""
    with tempfile.TemporaryDirectory() as tmp:
        url = prepare_reporters(Path(tmp) / "bench.db", reports + 1)
        # 30 msg/s, 20/min per group; the handlers in their process, as `gridbot run` on SQLite
        async with FakeTelegram() as tg, running(bot_settings(tg.root, url, handler_process=True)):
            # One more reporter's report first, down the same path: its first run (statements compiled)
            # would hold the next replies back, and at 30 a second a backlog never drains.
            await ready(tg, User(FIRST_PACED_USER + reports, "预热"), GRID_TEXTS[0])
            users = [User(FIRST_PACED_USER + n, f"居民{n}") for n in range(reports)]
            pushed: list[float] = []
            start = time.monotonic()
            for n, user in enumerate(users):
                await asyncio.sleep(max(0.0, start + n / pace - time.monotonic()))
                pushed.append(time.monotonic())
                tg.push_text(user, GRID_TEXTS[n % len(GRID_TEXTS)])
            offered = reports / (time.monotonic() - start)
            deadline = time.monotonic() + reports / 10 + 120  # far past what 30 msg/s needs for 2 sends a report
            while time.monotonic() < deadline and not everything_sent(tg, users):
                await asyncio.sleep(0.25)  # the fake stamps each send: polling slowly costs no precision
            replies = {n: tg.sent_at[u.id][0] - pushed[n] for n, u in enumerate(users) if tg.sent_at.get(u.id)}
            orders, cards = sent_to_grid(tg, users), card_times(tg)
        card_waits = [cards[order] - pushed[n] for n, order in orders.items() if order in cards]
        last = max([pushed[n] + wait for n, wait in replies.items()] + list(cards.values()), default=start)
        sends = len(replies) + len(cards)
        print(
            f"gridbot paced {pace:.0f} reports/s (offered {offered:.1f}/s), send limiter as in production (30 msg/s, 20/min per"
            f" group), {reports} first reports from {reports} residents over {PACED_GRIDS} grids, SQLite;"
            f" a reply and a card each: {2 * pace:.0f} sends/s asked of a 30 msg/s limit"
        )
        print(f"  reply to the resident: {len(replies)}/{reports} replied   {spread(list(replies.values()))}")
        print(
            f"  card in the grid group: {len(card_waits)}/{len(orders)} cards of the orders sent to a grid"
            f" ({reports - len(orders)} reports were not sent to a grid)   {spread(card_waits)}"
        )
        print(
            f"  first push → last reply or card: {last - start:.1f} s for {sends} sends = {sends / (last - start):.1f} sends/s"
            f" (limit 30); cards posted {len(card_waits) / (last - start):.1f}/s"
        )


def everything_sent(tg: FakeTelegram, users: list[User]) -> bool:
    """Every resident has their reply, and every order a reply says went to a grid has its card."""
    return all(tg.chat(u.id) for u in users) and set(sent_to_grid(tg, users).values()) <= card_times(tg).keys()


def sent_to_grid(tg: FakeTelegram, users: list[User]) -> dict[int, int]:
    """Report index → order number, for the replies that say the report went to a grid's group."""
    found = {
        n: re.search(r"工单 #(\d+)[^\n]*\n已派给", chat[0].text or "") for n, u in enumerate(users) if (chat := tg.chat(u.id))
    }
    return {n: int(match[1]) for n, match in found.items() if match}


def card_times(tg: FakeTelegram) -> dict[int, float]:
    """Order number → when its card reached its grid's group (the groups get nothing else here)."""
    groups = [FIRST_PACED_GROUP - g for g in range(PACED_GRIDS)]
    return {
        int(match[1]): tg.sent_at[g][i]
        for g in groups
        for i, card in enumerate(tg.chat(g))
        if (match := CARD.match(card.text or ""))
    }


async def echo_run(messages: int, residents: int) -> float:
    async with FakeTelegram() as tg:
        app = Application.builder().token("1:ECHO").base_url(f"{tg.root}/bot").concurrent_updates(64).build()

        async def echo(update, context):
            await update.message.reply_text(update.message.text)

        app.add_handler(MessageHandler(filters.TEXT, echo))
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=10)
            await ready(tg)
            with cost.counting() as tally:
                rate, latencies = await drive(tg, messages, residents)
                spent = tally.line(messages, "whole process (bot, the fake Bot API, this script), per message")
            await app.updater.stop()
            await app.stop()
    report("bare PTB echo at once (ceiling)", rate, latencies)
    print(spent)
    return rate


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    residents = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    pace = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0  # Telegram's own send ceiling
    print(f"{messages} messages from {residents} residents pushed at once, fake Bot API on loopback")
    ceiling = asyncio.run(echo_run(messages, residents))
    apart = asyncio.run(gridbot_run(messages, residents))
    threads = asyncio.run(gridbot_run(messages, residents, handler_process=False))
    print(f"gridbot at once / echo at once: {apart / ceiling:.0%} (handlers in threads: {threads / ceiling:.0%})")
    asyncio.run(paced_run(min(messages, 600), pace))
    print("\n".join(cost.handler_lines()))


if __name__ == "__main__":
    main()
