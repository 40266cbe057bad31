"""WeChat passive-reply latency: 200 residents push signed, AES-encrypted (safe mode) messages to the
real `/wechat` endpoint of `gridbot run` (its own process); the whole handler path runs. All the
residents live in one building, so after the first few reports most messages are asked "是不是和 #n
同一件事" rather than filed as new orders (whose cards go to a WeCom robot): each load prints what
its answers were.

Two loads: `paced` — 200 concurrent residents each writing again after a think time (exponential,
mean 200/RATE s, so RATE messages/s in all); `burst` — all 200 push in the same instant, ROUNDS times.
Prints, per load:
- the answer as the resident sees it: p50/p99/max of push → the answer, where a push the 3 s
  deadline guard answered `success` (late) is timed to the customer-service message carrying its
  answer; the late count beside it, and any late answer that never came;
- the passive reply as WeChat's servers see it: the slowest HTTP answer and the margin left to the
  5 s deadline after which WeChat retries the push.
The paced load also prints the push rate it achieved (residents wait for each answer, so a slow
bot is offered less).

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
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlmodel import select

from bench.replies import tally
from bot.wechat.callback import ANSWER_WITHIN
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


LATE_ANSWERS_WITHIN = 30.0  # seconds after a load for the customer-service messages still on their way


@dataclass(frozen=True)
class Push:
    openid: str
    started: float  # time.monotonic() the sealed request went out
    passive: float  # seconds until the HTTP answer (the passive reply, or `success`)
    answer: str  # the passive reply's text; '' when the deadline guard answered `success` (late)

    @property
    def late(self) -> bool:
        """Answered `success` by the deadline guard: the answer follows as a customer-service message."""
        return not self.answer


async def one_push(account: Account, n: int, round_: int) -> Push:
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
    if answer:
        assert "#" in answer, answer
    return Push(openid, started, elapsed, answer)


async def paced(account: Account, residents: int, rate: float, seconds: float) -> list[Push]:
    async def resident(n: int) -> list[Push]:
        rng = random.Random(n)
        ends = time.monotonic() + seconds
        await asyncio.sleep(rng.uniform(0, residents / rate))
        latencies = []
        while time.monotonic() < ends:
            latencies.append(await one_push(account, n, len(latencies)))
            await asyncio.sleep(rng.expovariate(rate / residents))
        return latencies

    return [x for per_resident in await asyncio.gather(*map(resident, range(residents))) for x in per_resident]


async def burst(account: Account, residents: int, rounds: int) -> list[Push]:
    pushes: list[Push] = []
    for round_ in range(rounds):
        pushes += await asyncio.gather(*(one_push(account, n, round_) for n in range(residents)))
    return pushes


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
                    since = len(wx.sent)
                    pushes = await paced(account, residents, rate, seconds)
                    report(
                        f"paced: {residents} residents, offered {rate:.0f} msg/s for {seconds:.0f} s, {database}",
                        pushes,
                        await late_answers(wx, since, pushes),
                    )
                    print(f"  achieved: {achieved(pushes)}")
                    since = len(wx.sent)
                    pushes = await burst(account, residents, rounds)
                    report(
                        f"burst: {residents} residents at the same instant × {rounds}, {database}",
                        pushes,
                        await late_answers(wx, since, pushes),
                    )
            finally:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), timeout=30)


async def late_answers(wx: FakeWeChat, since: int, pushes: list[Push]) -> dict[Push, tuple[float, str]]:
    """Each late push → when its answer arrived as a customer-service message, and its text. Waits up
    to LATE_ANSWERS_WITHIN for all of them."""
    late = sorted((p for p in pushes if p.late), key=lambda p: p.started)
    deadline = time.monotonic() + LATE_ANSWERS_WITHIN
    while len(answered := matched(wx, since, late)) < len(late) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return answered


def matched(wx: FakeWeChat, since: int, late: list[Push]) -> dict[Push, tuple[float, str]]:
    """A late push's answer is the first customer-service message to that resident after the push
    not taken by their earlier late push (the sender keeps one chat's messages in order)."""
    arrivals: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for (openid, text), at in zip(wx.sent[since:], wx.sent_at[since:], strict=True):
        arrivals[openid].append((at, text))
    answered = {}
    for push in late:
        after = [arrival for arrival in arrivals[push.openid] if arrival[0] >= push.started]
        if after:
            answered[push] = after[0]
            arrivals[push.openid].remove(after[0])
    return answered


def achieved(pushes: list[Push]) -> str:
    starts = sorted(p.started for p in pushes)
    span = starts[-1] - starts[0]
    return f"{len(pushes)} pushes from the first to the last in {span:.1f} s = {(len(pushes) - 1) / span:.1f} pushes/s"


def report(name: str, pushes: list[Push], late_answered: dict[Push, tuple[float, str]]) -> None:
    seen = [late_answered[p][0] - p.started if p.late else p.passive for p in pushes if not p.late or p in late_answered]
    answers = [p.answer for p in pushes if not p.late] + [text for _at, text in late_answered.values()]
    cuts = statistics.quantiles(seen, n=100, method="inclusive")
    late = sum(1 for p in pushes if p.late)
    never = late - len(late_answered)
    slowest = max(p.passive for p in pushes)
    print(
        f"{name}: {len(pushes)} pushes\n"
        f"  answers: {tally(answers)}\n"
        f"  answer as the resident sees it: p50 {cuts[49] * 1000:7.1f} ms   p99 {cuts[98] * 1000:7.1f} ms"
        f" (late: {late} of {len(pushes)} got `success` at the {ANSWER_WITHIN:.0f} s guard,"
        " timed to their customer-service message)"
        f"   max {max(seen) * 1000:7.1f} ms"
        + (f"   late answers never arrived within {LATE_ANSWERS_WITHIN:.0f} s: {never}" if never else "")
        + f"\n  passive reply (what WeChat waits for): max {slowest * 1000:7.1f} ms, margin to the {DEADLINE:.0f} s deadline"
        f" {(DEADLINE - slowest) * 1000:.0f} ms"
    )


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
