"""Three `gridbot run` processes on one PostgreSQL database, Telegram in webhook mode: updates spread
over them at random (some delivered twice to different processes, as a retry would), claim races across
processes, and one process killed with SIGKILL midway. Nothing is lost or doubled."""

import asyncio
import copy
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from storage.db import make_engine, migrate, transaction
from storage.models import Building, Grid, Identity, Member, Order, Resident
from storage.order_buttons import OrderCb
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER
from tests.fake_telegram import FakeTelegram, User
from tests.running import free_port

ROOT = Path(__file__).resolve().parents[1]
SECRET = "several-processes"
RESIDENTS, MEMBERS = 120, 50
TEXTS = ["楼道里堆满了垃圾好几天没人清理", "楼上装修太吵了电钻响一天", "小区里流浪猫太多了晚上叫", "单元门的门禁坏了关不上"]
pytestmark = pytest.mark.timeout(300)


def _seed(url: str) -> None:
    """The roster, a building per resident (no two reports look like 'the same thing'), 50 members of G01."""
    engine = make_engine(url)
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        grid = session.exec(select(Grid).where(Grid.code == "G01")).one()
        for n in range(RESIDENTS):
            building = Building(name=f"{n + 10}号楼", grid_id=grid.id)
            session.add(building)
            session.flush()
            resident = Resident(name=f"居民{n}", building_id=building.id)
            session.add(resident)
            session.flush()
            session.add(Identity(platform="telegram", user_id=str(30_000 + n), chat_id=str(30_000 + n), resident_id=resident.id))
        for n in range(MEMBERS):
            member = Member(name=f"党员{n}", phone=f"139{n:08d}", grid_id=grid.id)
            session.add(member)
            session.flush()
            session.add(Identity(platform="telegram", user_id=str(40_000 + n), chat_id=str(40_000 + n), member_id=member.id))
    engine.dispose()


def _worker(url: str, api_root: str, port: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        GRIDBOT_DATABASE_URL=url,
        GRIDBOT_TELEGRAM_TOKEN="123456:TEST",
        GRIDBOT_TELEGRAM_API_URL=api_root,
        GRIDBOT_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
        GRIDBOT_TELEGRAM_WEBHOOK_SECRET=SECRET,
        GRIDBOT_HTTP_PORT=str(port),
        GRIDBOT_TICK_SECONDS="1",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def _deliver(client: httpx.AsyncClient, ports: list[int], alive: set[int], update: dict) -> None:
    """As Telegram does: POST until some process answers 200 (a dead or failing one is retried elsewhere)."""
    for _ in range(200):
        port = random.choice(sorted(alive))
        try:
            answer = await client.post(
                f"http://127.0.0.1:{port}/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=60
            )
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"update {update['update_id']} never answered 200")


def _text_update(tg: FakeTelegram, user: User, text: str) -> dict:
    """An update as Telegram would send it; the test, not the fake, delivers it (it is the load balancer)."""
    return {"update_id": next(tg._update_ids), "message": tg._user_message(user, None, text=text)}


def _tap_update(tg: FakeTelegram, user: User, card, data: str) -> dict:
    tg._users[user.id] = user
    query = {"id": str(next(tg._callback_ids)), "from": user.to_dict(), "chat_instance": str(card.chat_id), "data": data}
    return {"update_id": next(tg._update_ids), "callback_query": query | {"message": copy.deepcopy(card.raw)}}


async def test_three_workers_lose_nothing_double_nothing_and_one_may_die(postgres_url):
    _seed(postgres_url)
    random.seed(7)
    async with FakeTelegram() as tg, httpx.AsyncClient() as client:
        ports = [free_port() for _ in range(3)]
        workers = {port: _worker(postgres_url, tg.root, port) for port in ports}
        try:
            for port in ports:  # each is up when its health check answers
                await tg.wait_for(lambda p=port: _healthy(p), timeout=60)
            alive = set(ports)
            reports = []
            for n in range(RESIDENTS):
                reports.append(_text_update(tg, User(30_000 + n, f"居民{n}"), f"{TEXTS[n % len(TEXTS)]}（{n}）"))
            deliveries = [_deliver(client, ports, alive, update) for update in reports]
            half = len(deliveries) // 2
            await asyncio.gather(*deliveries[:half])
            victim = ports[0]
            workers[victim].send_signal(signal.SIGKILL)  # midway, without a goodbye
            alive.discard(victim)
            await asyncio.gather(*deliveries[half:])
            # Telegram sends an update again when our 200 did not reach it: to whichever process.
            await asyncio.gather(*(_deliver(client, ports, alive, update) for update in random.sample(reports, RESIDENTS // 10)))
            for n in range(RESIDENTS):
                await tg.wait_for(lambda n=n: any("工单 #" in (m.text or "") for m in tg.chat(30_000 + n)), timeout=60)
            replies = {n: [m.text for m in tg.chat(30_000 + n) if "工单 #" in (m.text or "")] for n in range(RESIDENTS)}

            # A group gets 20 messages a minute: race on the first five cards posted.
            cards = await tg.wait_for(lambda: _cards(tg) if len(_cards(tg)) >= 5 else None, timeout=60)
            races = sorted(cards.items())[:5]  # five cards, each tapped 领单 by all 50 members across processes
            taps = []
            for number, card in races:
                for m in range(MEMBERS):
                    taps.append(_tap_update(tg, User(40_000 + m, f"党员{m}"), card, OrderCb("claim", number).pack()))
            random.shuffle(taps)
            await asyncio.gather(*(_deliver(client, ports, alive, update) for update in taps))
            for number, _ in races:  # the winner gets the details privately
                await tg.wait_for(lambda n=number: _detail_holders(tg, n), timeout=60)
            winners = {number: _detail_holders(tg, number) for number, _ in races}
        finally:
            for process in workers.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in workers.values():
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

    engine = make_engine(postgres_url)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Order)).one() == RESIDENTS  # one order per report
        claimed = session.exec(select(Order).where(Order.id.in_([number for number, _ in races]))).all()
        assert all(order.status == "claimed" and order.claimer_id is not None for order in claimed)  # one winner each
    assert all(len(texts) == 1 for texts in replies.values()), {n: t for n, t in replies.items() if len(t) != 1}
    numbers = [_number(m.text) for m in tg.chat(-1001) if m.text and m.text.startswith("🆕")]
    assert len(numbers) == len(set(numbers))  # no card posted twice
    assert all(len(holders) == 1 for holders in winners.values()), winners  # one winner each, told once


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _cards(tg: FakeTelegram) -> dict:
    """Order number → its card in the G01 group."""
    return {_number(m.text): m for m in tg.chat(-1001) if m.text and "工单 #" in m.text and "领单" in str(m.buttons)}


def _detail_holders(tg: FakeTelegram, number: int) -> list[int]:
    """Members who were sent the claimer's details of order `number` (once each counts)."""
    return [
        m
        for m in range(MEMBERS)
        for message in tg.chat(40_000 + m)
        if (message.text or "").startswith(f"您已领取工单 #{number} ·")
    ]


def _number(text: str) -> int:
    return int(text.split("工单 #", 1)[1].split(" ", 1)[0].split("·")[0].strip())
