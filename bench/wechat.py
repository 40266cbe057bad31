"""WeChat passive-reply latency: 200 residents push signed, AES-encrypted (safe mode) messages to the
real `/wechat` endpoint of `gridbot run` (its own process); the whole handler path runs, each order
is a new work order whose card goes to a WeCom robot.

Two loads: `paced` — 200 concurrent residents each writing again after a think time (exponential,
mean 200/RATE s, so RATE messages/s in all); `burst` — all 200 push in the same instant, ROUNDS times.
Prints p50/p99/max of push → passive reply and the margin left to WeChat's 5 s deadline.

    .venv/bin/python bench/wechat.py [RESIDENTS] [RATE] [SECONDS] [ROUNDS] [DATABASE_URL]
"""

import asyncio
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlmodel import select

from storage.db import make_engine, migrate, transaction
from storage.models import Building, Grid, Identity, Resident
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER
from tests.fake_wechat import (
    Account,
    FakeWeChat,
    message_xml,
    next_msg_id,
    text_fields,
    wechat_env,
    wechat_settings,
)

GRIDBOT = str(Path(sys.executable).with_name("gridbot"))

DEADLINE = 5.0  # WeChat gives up on a passive reply after 5 s and retries the push
TEXTS = [
    "楼道里堆满了垃圾好几天没人清理",
    "小区门口路灯坏了",
    "楼上装修太吵了",
    "电动车在楼道里充电很危险",
    "想问一下医保怎么报销",
    "独居老人需要帮忙买菜",
]


def prepare_database(url: str, residents: int, robot_url) -> None:
    engine = make_engine(url)
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        for grid in session.exec(select(Grid)):
            grid.telegram_chat_id, grid.wecom_webhook = None, robot_url(grid.code)
            session.add(grid)
        building = session.exec(select(Building)).first()
        for n in range(residents):
            resident = Resident(name=f"居民{n}", building_id=building.id)
            session.add(resident)
            session.flush()
            session.add(Identity(platform="wechat", user_id=f"o_bench_{n}", chat_id=f"o_bench_{n}", resident_id=resident.id))
    engine.dispose()


LATE: list[int] = []  # pushes answered `success` at the deadline guard, the answer sent as a message


async def one_push(account: Account, n: int, round_: int) -> float:
    """Push → passive reply, timed as WeChat's servers would see it: from sending the sealed request
    (built beforehand, as their own machines do) to the reply's arrival."""
    openid = f"o_bench_{n}"
    xml = message_xml(openid, "text", text_fields(TEXTS[(n + round_) % len(TEXTS)]), msg_id=next_msg_id())
    request = account.sealed(xml, openid=openid)
    started = time.monotonic()
    response = await account.send(*request)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, (response.status_code, response.text)
    answer = account.reply_text(response)
    if not answer:
        LATE.append(n)
    else:
        assert "#" in answer, answer
    return elapsed


async def paced(account: Account, residents: int, rate: float, seconds: float) -> list[float]:
    async def resident(n: int) -> list[float]:
        rng = random.Random(n)
        ends = time.monotonic() + seconds
        await asyncio.sleep(rng.uniform(0, residents / rate))
        latencies = []
        while time.monotonic() < ends:
            latencies.append(await one_push(account, n, len(latencies)))
            await asyncio.sleep(rng.expovariate(rate / residents))
        return latencies

    return [x for per_resident in await asyncio.gather(*map(resident, range(residents))) for x in per_resident]


async def burst(account: Account, residents: int, rounds: int) -> list[float]:
    latencies: list[float] = []
    for round_ in range(rounds):
        latencies += await asyncio.gather(*(one_push(account, n, round_) for n in range(residents)))
    return latencies


async def bench(residents: int, rate: float, seconds: float, rounds: int, url: str | None) -> None:
    """gridbot runs as its own process (`gridbot run`), as in production: the pushing client, the
    fake WeChat API and the robots live in this one and do not take its CPU time."""
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/bench.db"
        async with FakeWeChat() as wx:
            prepare_database(url, residents, wx.robot_url)
            settings = wechat_settings(wx.root, url)
            env = (
                {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
                | wechat_env(wx.root)
                | {"GRIDBOT_DATABASE_URL": url, "GRIDBOT_HTTP_PORT": str(settings.http_port)}
            )
            process = await asyncio.create_subprocess_exec(
                GRIDBOT, "run", env=env, stdin=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            limits = httpx.Limits(max_connections=residents, max_keepalive_connections=0)  # as separate pushes
            try:
                async with httpx.AsyncClient(timeout=30, limits=limits) as client:
                    account = await Account(settings, client).ready(timeout=60)
                    database = url.split(":")[0].split("+")[0]
                    report(
                        f"paced: {residents} residents, {rate:.0f} msg/s for {seconds:.0f} s, {database}",
                        await paced(account, residents, rate, seconds),
                    )
                    report(
                        f"burst: {residents} residents at the same instant × {rounds}, {database}",
                        await burst(account, residents, rounds),
                    )
            finally:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), timeout=30)


def report(name: str, latencies: list[float]) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    worst = max(latencies)
    print(
        f"{name}: {len(latencies)} pushes\n"
        f"  p50 {cuts[49] * 1000:7.1f} ms   p99 {cuts[98] * 1000:7.1f} ms   max {worst * 1000:7.1f} ms   "
        f"margin to the {DEADLINE:.0f} s deadline at max: {(DEADLINE - worst) * 1000:.0f} ms   "
        f"answered by message instead (deadline guard): {len(LATE)}"
    )
    LATE.clear()


def main() -> None:
    args = sys.argv[1:]
    residents = int(args[0]) if len(args) > 0 else 200
    rate = float(args[1]) if len(args) > 1 else 20.0
    seconds = float(args[2]) if len(args) > 2 else 30.0
    rounds = int(args[3]) if len(args) > 3 else 1
    url = args[4] if len(args) > 4 else None
    asyncio.run(bench(residents, rate, seconds, rounds, url))


if __name__ == "__main__":
    main()
