"""Several `gridbot run` workers on one PostgreSQL database: the same load on 1, 2 and 4 of them.

Each worker serves Telegram (webhook) and WeChat (safe mode) against the local fakes; a tiny
round-robin spreader in this script stands in front of them (as nginx would). Per worker count:

- Telegram: TELEGRAM reports from as many residents (a building each: every one is filed, with a card),
  at most 40 webhook requests in flight (Telegram's max_connections). Throughput = updates answered
  per second; latency = webhook POST → its 200, which comes after the reply was sent.
- WeChat: 200 residents (a building each) push a report at the same instant, AES-sealed. Latency =
  push → the answer: the passive reply, or for a push answered `success` at the 3 s guard, the
  customer-service message carrying its answer (late count beside it). Beside it, the CPU seconds the
  burst took (Linux /proc): the workers, PostgreSQL, and this script (the client and the fakes), which
  share the machine's cores.
- Outbox: FANOUT notices queued at once to as many members' private chats; delivered rate with the
  bot's configured limit (GRIDBOT_TELEGRAM_RATE, 30/s) against that limit.
- Scheduler failover (2 and 4 workers): SIGKILL the leader; time until another says it leads.

Send limits: the bot's 30 msg/s as configured; the per-group limit lifted, since the fake has one
group for the whole district where a real one has dozens.

    PYTHONPATH=. .venv/bin/python bench/scale.py [WORKERS=1,2,4] [TELEGRAM=600] [FANOUT=300]
"""

import asyncio
import itertools
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlmodel import select

from storage import outbox
from storage.db import make_engine, transaction
from storage.models import Grid
from tests.conftest import PG_ROOT
from tests.fake_telegram import FakeTelegram
from tests.fake_wechat import Account, FakeWeChat, message_xml, next_msg_id, text_fields, wechat_env, wechat_settings
from tests.running import free_port
from tests.scratch_schema import scratch_schema
from tests.workers import (
    MEMBER_IDS,
    SECRET,
    add_residents,
    leaders,
    resident,
    seed,
    start_worker,
    stop_workers,
    text_update,
    wait_healthy,
)

WECHAT_RESIDENTS = 200
MAX_CONNECTIONS = 40
REPORT = "楼道里堆满了垃圾好几天没人清理"
RATE = 30  # GRIDBOT_TELEGRAM_RATE, as shipped


class Spreader:
    """Round robin over the workers, as nginx's upstream does; a failed request goes to the next one."""

    def __init__(self, client: httpx.AsyncClient, ports: list[int]):
        self.client, self.ports, self.turn = client, ports, itertools.cycle(ports)

    async def post(self, path: str, **request) -> httpx.Response:
        for _ in range(len(self.ports) * 3):
            try:
                answer = await self.client.post(f"http://127.0.0.1:{next(self.turn)}{path}", timeout=60, **request)
                if answer.status_code == 200:
                    return answer
            except httpx.TransportError:
                pass
        raise RuntimeError(f"no worker answered {path}")


def seed_wechat(url: str) -> None:
    engine = make_engine(url)
    with transaction(engine) as session:
        grid = session.exec(select(Grid).where(Grid.code == "G01")).one()
        add_residents(session, grid, WECHAT_RESIDENTS, "wechat", lambda n: (f"微{n}号楼", f"微信居民{n}", f"o_{n}"))
    engine.dispose()


async def telegram_load(tg: FakeTelegram, spread: Spreader, reports: int) -> tuple[float, list[float]]:
    updates = [text_update(tg, resident(n), REPORT) for n in range(reports)]
    slots = asyncio.Semaphore(MAX_CONNECTIONS)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def one(update: dict) -> float:
        async with slots:
            started = time.monotonic()
            await spread.post("/telegram", json=update, headers=headers)
            return time.monotonic() - started

    started = time.monotonic()
    latencies = await asyncio.gather(*(one(update) for update in updates))
    return reports / (time.monotonic() - started), latencies


async def wechat_burst(wx: FakeWeChat, spread: Spreader, account: Account) -> tuple[list[float], int]:
    xml = [message_xml(f"o_{n}", "text", text_fields(REPORT), msg_id=next_msg_id()) for n in range(WECHAT_RESIDENTS)]
    sealed = [account.sealed(push) for push in xml]
    since = len(wx.sent)

    async def one(n: int) -> tuple[str, float, float, str]:
        query, body = sealed[n]
        started = time.monotonic()
        answer = await spread.post("/wechat", params=query, content=body, headers={"Content-Type": "text/xml"})
        return f"o_{n}", started, time.monotonic() - started, account.reply_text(answer)

    pushes = await asyncio.gather(*(one(n) for n in range(WECHAT_RESIDENTS)))
    late = [(openid, started) for openid, started, _elapsed, answer in pushes if not answer]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_arrived(wx, since)) < len(late):
        await asyncio.sleep(0.1)
    arrived = _arrived(wx, since)
    passive = [elapsed for _openid, _started, elapsed, answer in pushes if answer]
    return passive + [arrived[openid] - started for openid, started in late if openid in arrived], len(late)


def cpu_seconds(workers: dict) -> tuple[float, float, float]:
    """CPU seconds used so far by the workers, by every PostgreSQL process, and by this script."""
    own = os.times()
    return sum(map(_process_cpu, (w.pid for w in workers.values()))), _postgres_cpu(), own.user + own.system


def _process_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _postgres_cpu() -> float:
    total = 0.0
    for entry in os.scandir("/proc"):
        try:
            with open(f"{entry.path}/comm") as comm:
                if entry.name.isdigit() and comm.read().strip() == "postgres":
                    total += _process_cpu(int(entry.name))
        except OSError:
            continue
    return total


def _arrived(wx: FakeWeChat, since: int) -> dict[str, float]:
    first = {}
    for (openid, content), at in zip(wx.sent[since:], wx.sent_at[since:], strict=True):
        if "已受理" in content:
            first.setdefault(openid, at)
    return first


async def fanout(tg: FakeTelegram, url: str, notices: int) -> float:
    engine = make_engine(url)
    now = datetime.now(UTC)
    with transaction(engine) as session:
        for n in range(notices):
            outbox.enqueue(session, f"bench:{n}", "telegram", str(MEMBER_IDS + n), {"text": f"通知 {n}"}, not_before=now)
    engine.dispose()
    started = time.monotonic()
    while sum(1 for n in range(notices) if tg.chat(MEMBER_IDS + n)) < notices:
        await asyncio.sleep(0.05)
        if time.monotonic() - started > 300:
            break
    return notices / (time.monotonic() - started)


async def failover(client: httpx.AsyncClient, workers: dict, ports: list[int]) -> float | None:
    if len(ports) < 2:
        return None
    leader = (await leaders(client, ports))[0]
    workers[leader].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    survivors = [port for port in ports if port != leader]
    while not await leaders(client, survivors):
        await asyncio.sleep(0.02)
    return time.monotonic() - killed


async def run(count: int, reports: int, notices: int) -> None:
    with scratch_schema(PG_ROOT, "scale") as url:
        seed(url, reports, notices)
        seed_wechat(url)
        limits = httpx.Limits(max_connections=400)
        async with FakeTelegram() as tg, FakeWeChat() as wx, httpx.AsyncClient(limits=limits) as client:
            ports = [free_port() for _ in range(count)]
            env = wechat_env(wx.root) | {"GRIDBOT_TELEGRAM_GROUP_RATE": "100000", "GRIDBOT_TELEGRAM_RATE": str(RATE)}
            workers = {port: start_worker(url, tg.root, port, GRIDBOT_TICK_SECONDS="30", **env) for port in ports}
            try:
                await wait_healthy(client, ports, timeout=180)
                spread = Spreader(client, ports)
                rate, telegram = await telegram_load(tg, spread, reports)
                await _drained(url)
                account = Account(wechat_settings(wx.root, url), client)
                before = cpu_seconds(workers)
                wechat, late = await wechat_burst(wx, spread, account)
                burst_cpu = [after - then for after, then in zip(cpu_seconds(workers), before, strict=True)]
                await _drained(url)
                delivered = await fanout(tg, url, notices)
                takeover = await failover(client, workers, ports)
            finally:
                stop_workers(workers)
    print(
        f"{count} worker(s): telegram {rate:5.1f} updates/s, webhook→200 p50 {_p(telegram, 50)} p99 {_p(telegram, 99)}"
        f" | wechat 200 at once: answer p50 {_p(wechat, 50)} p99 {_p(wechat, 99)} ({late} late)"
        f" (cpu: workers {burst_cpu[0]:.2f} s, postgres {burst_cpu[1]:.2f} s, bench {burst_cpu[2]:.2f} s)"
        f" | outbox {delivered:5.1f} sends/s against the limit {RATE}/s ({delivered / RATE:.0%})"
        + (f" | scheduler failover {takeover:.2f} s" if takeover is not None else ""),
        flush=True,
    )


async def _drained(url: str) -> None:
    """Wait for the outbox to empty (cards, replies' notices) so one load does not ride on another's."""
    engine = make_engine(url)
    for _ in range(1200):
        with transaction(engine) as session:
            if outbox.backlog(session) == 0:
                break
        await asyncio.sleep(0.25)
    engine.dispose()


def _p(values: list[float], q: int) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]:.2f} s"


def main() -> None:
    counts = [int(c) for c in (sys.argv[1] if len(sys.argv) > 1 else "1,2,4").split(",")]
    reports = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    notices = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    print(f"load: {reports} Telegram reports, {WECHAT_RESIDENTS} WeChat pushes at once, {notices} notices; PostgreSQL {PG_ROOT}")
    for count in counts:
        asyncio.run(run(count, reports, notices))


if __name__ == "__main__":
    main()
