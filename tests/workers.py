"""Several `gridbot run` processes on one PostgreSQL database, and the load balancer in front of them.

The test (or bench) plays Telegram: it POSTs each update to a worker picked at random and, as
Telegram does, sends it again elsewhere until some worker answers 200. At most MAX_CONNECTIONS
updates are in flight at once, as Telegram's webhook `max_connections` (default 40) allows.
"""

import asyncio
import copy
import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlmodel import select

from storage.db import make_engine, migrate, transaction
from storage.models import Building, Grid, Identity, Member, Resident, Shift, ShiftMember
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER
from tests.fake_telegram import FakeTelegram, SentMessage, User

ROOT = Path(__file__).resolve().parents[1]
SECRET = "several-processes"
MAX_CONNECTIONS = 40
RESIDENT_IDS, MEMBER_IDS = 30_000, 40_000  # Telegram user ids: resident n is 30_000 + n


def add_residents(session, grid: Grid, count: int, platform: str, named) -> None:
    """`count` residents of `grid`, each in a building of their own; `named(n)` gives (building, name, user id)."""
    for n in range(count):
        building_name, name, user = named(n)
        building = Building(name=building_name, grid_id=grid.id)
        session.add(building)
        session.flush()
        resident = Resident(name=name, building_id=building.id)
        session.add(resident)
        session.flush()
        session.add(Identity(platform=platform, user_id=user, chat_id=user, resident_id=resident.id))


def seed(url: str, residents: int, members: int) -> None:
    """The roster, a building per resident (no two reports look like 'the same thing'), members of G01."""
    engine = make_engine(url)
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        grid = session.exec(select(Grid).where(Grid.code == "G01")).one()
        add_residents(session, grid, residents, "telegram", lambda n: (f"{n + 10}号楼", f"居民{n}", str(RESIDENT_IDS + n)))
        for n in range(members):
            member = Member(name=f"党员{n}", phone=f"139{n:08d}", grid_id=grid.id)
            session.add(member)
            session.flush()
            user = str(MEMBER_IDS + n)
            session.add(Identity(platform="telegram", user_id=user, chat_id=user, member_id=member.id))
    engine.dispose()


def shift_due_in(url: str, seconds: float, members: list[int]) -> int:
    """A duty shift whose one-hour reminder falls due `seconds` from now, for members `党员{n}`; its id.
    Made two days ago, so the one-day reminder is long past and skipped: only the one-hour one goes."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    with transaction(engine) as session:
        start = now + timedelta(hours=1, seconds=seconds)
        shift = Shift(start_at=start, end_at=start + timedelta(hours=3), place="党群服务中心", created_at=now - timedelta(days=2))
        session.add(shift)
        session.flush()
        for n in members:
            member = session.exec(select(Member).where(Member.name == f"党员{n}")).one()
            session.add(ShiftMember(shift_id=shift.id, member_id=member.id))
        shift_id = shift.id
    engine.dispose()
    return shift_id


def start_process(url: str, port: int, **env: str) -> subprocess.Popen:
    """One `gridbot run` on `url`, its HTTP server on `port`, configured by `env` (GRIDBOT_* variables)."""
    variables = dict(os.environ, GRIDBOT_TICK_SECONDS="1", PYTHONPATH=str(ROOT), GRIDBOT_DATABASE_URL=url)
    variables.update(GRIDBOT_HTTP_PORT=str(port), **env)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], env=variables, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def start_worker(url: str, api_root: str, port: int, **extra: str) -> subprocess.Popen:
    """One `gridbot run`, Telegram in webhook mode at http://127.0.0.1:{port}/telegram."""
    telegram = {
        "GRIDBOT_TELEGRAM_TOKEN": "123456:TEST",
        "GRIDBOT_TELEGRAM_API_URL": api_root,
        "GRIDBOT_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "GRIDBOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
    }
    return start_process(url, port, **(telegram | extra))


def stop_workers(workers: dict[int, subprocess.Popen]) -> None:
    for process in workers.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in workers.values():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def healthy(client: httpx.AsyncClient, port: int) -> bool:
    try:
        return (await client.get(f"http://127.0.0.1:{port}/healthz", timeout=1)).status_code == 200
    except httpx.TransportError:
        return False


async def wait_healthy(client: httpx.AsyncClient, ports: list[int], timeout: float = 90) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    for port in ports:
        while not await healthy(client, port):
            assert asyncio.get_running_loop().time() < deadline, f"worker on {port} never became healthy"
            await asyncio.sleep(0.1)


async def leaders(client: httpx.AsyncClient, ports: list[int]) -> list[int]:
    """The workers whose /metrics say they run the scheduler now."""
    leading = []
    for port in ports:
        try:
            page = (await client.get(f"http://127.0.0.1:{port}/metrics", timeout=5)).text
        except httpx.TransportError:
            continue
        if "\ngridbot_scheduler_leader 1.0" in page:
            leading.append(port)
    return leading


class Balancer:
    """Telegram's side of the webhook: each update POSTed until a live worker answers 200."""

    def __init__(self, client: httpx.AsyncClient, ports: list[int]):
        self.client = client
        self.alive = set(ports)
        self.slots = asyncio.Semaphore(MAX_CONNECTIONS)
        self.attempts = 0  # POSTs made, first deliveries and retries alike
        self.cut_off: set[int] = set()  # update_ids whose worker died while handling them

    async def deliver(self, update: dict, avoid: int | None = None) -> int:
        """POST until answered 200; the port that answered. `avoid`: not to that worker (a retry elsewhere)."""
        async with self.slots:
            for _ in range(200):
                port = random.choice(sorted(self.alive - {avoid}) or sorted(self.alive))
                self.attempts += 1
                try:
                    answer = await self.client.post(
                        f"http://127.0.0.1:{port}/telegram",
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                        timeout=60,
                    )
                    if answer.status_code == 200:
                        return port
                except httpx.TransportError:  # the worker died under it: Telegram sends it again
                    self.cut_off.add(update["update_id"])
                await asyncio.sleep(0.2)
        raise AssertionError(f"update {update['update_id']} never answered 200")

    async def deliver_twice(self, update: dict) -> None:
        """Answered 200, but the answer lost on the way: Telegram sends it again, to another worker."""
        port = await self.deliver(update)
        await self.deliver(update, avoid=port)


def text_update(tg: FakeTelegram, user: User, text: str) -> dict:
    """An update as Telegram would send it; the test, not the fake, delivers it (it is the load balancer)."""
    return {"update_id": next(tg._update_ids), "message": tg._user_message(user, None, text=text)}


def tap_update(tg: FakeTelegram, user: User, card: SentMessage, data: str) -> dict:
    tg._users[user.id] = user
    query = {"id": str(next(tg._callback_ids)), "from": user.to_dict(), "chat_instance": str(card.chat_id), "data": data}
    return {"update_id": next(tg._update_ids), "callback_query": query | {"message": copy.deepcopy(card.raw)}}


def resident(n: int) -> User:
    return User(RESIDENT_IDS + n, f"居民{n}")


def member(n: int) -> User:
    return User(MEMBER_IDS + n, f"党员{n}")
