"""Reminder fan-out: N reminders due at once for N members, through `gridbot run` (a real process)
against the fake Bot API with the sender limited to 30 messages/s and 20/min per group.

Halfway through, the process is killed with SIGKILL and started again. Meanwhile a resident keeps
writing to the bot; how long they wait for the reply is the cost of the fan-out to intake.

The run lasts until the outbox has nothing left to send (then nothing more can arrive) or a deadline
passes; only then is the process stopped and the fake's chats counted. Prints, whatever they are:
members reached, lost (reached by nothing), doubled (extra copies, counted over the whole run), what
the outbox still held; the achieved rate as a fraction of the limit; intake p50/p99.

    .venv/bin/python bench/fanout.py [MEMBERS] [--no-kill]
"""

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert
from sqlmodel import select

from bench.served import gridbot_env, start_gridbot
from storage.db import make_engine, migrate, transaction
from storage.models import Building, Identity, Member, OutboxMessage, OutboxState, Resident, StudySession
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER
from tests.fake_telegram import FakeTelegram, User
from tests.running import free_port

RATE = 30.0
FIRST_MEMBER = 1_000_000
RESIDENT = User(501, "张阿姨")
POLICY = 'community_name = "压测社区"\n[reminders]\nsession_leads = ["1h"]\nshift_leads = ["1h"]\n'


def prepare(folder: Path, members: int) -> str:
    """The roster, `members` members of one branch with Telegram identities, a resident, and a
    session of that branch whose 1-hour reminder fell due a few seconds ago."""
    url = f"sqlite:///{folder}/fanout.db"
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        session.execute(
            insert(Member),
            [{"name": f"党员{n}", "phone": f"199{n:08d}", "role": "member", "branch": "压测支部"} for n in range(members)],
        )
        ids = session.exec(select(Member.id).where(Member.branch == "压测支部").order_by(Member.id)).all()
        session.execute(
            insert(Identity),
            [
                {
                    "platform": "telegram",
                    "user_id": str(FIRST_MEMBER + n),
                    "chat_id": str(FIRST_MEMBER + n),
                    "member_id": member_id,
                    "display_name": "",
                }
                for n, member_id in enumerate(ids)
            ],
        )
        building = session.exec(select(Building)).first()
        resident = Resident(name="张阿姨", building_id=building.id)
        session.add(resident)
        session.flush()
        session.add(Identity(platform="telegram", user_id=str(RESIDENT.id), chat_id=str(RESIDENT.id), resident_id=resident.id))
        session.add(
            StudySession(
                title="压测学习",
                kind="党课",
                branch="压测支部",
                place="线上",
                start_at=now + timedelta(hours=1, seconds=-5),
                end_at=now + timedelta(hours=2),
                created_at=now - timedelta(days=1),
            )
        )
    engine.dispose()
    (folder / "policy.toml").write_text(POLICY, encoding="utf-8")
    return url


async def intake(tg: FakeTelegram, stop: asyncio.Event, latencies: list[tuple[float, float]]) -> None:
    """The resident writes every 2 s; (when pushed, latency = push → the bot's reply in their chat)."""
    while not stop.is_set():
        seen = len(tg.chat(RESIDENT.id))
        pushed = time.monotonic()
        tg.push_text(RESIDENT, "/my")
        while len(tg.chat(RESIDENT.id)) == seen and not stop.is_set():
            await asyncio.sleep(0.005)
        if not stop.is_set():
            latencies.append((pushed, time.monotonic() - pushed))
        await asyncio.sleep(2)


async def run(members: int, kill: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.monotonic()
        url = prepare(folder, members)
        print(f"{members} members prepared in {time.monotonic() - started:.1f} s; limit {RATE:.0f} msg/s, 20/min per group")
        async with FakeTelegram() as tg:
            port = free_port()
            env = gridbot_env(
                url,
                tg.root,
                port,
                GRIDBOT_CONFIG=str(folder / "policy.toml"),
                GRIDBOT_TELEGRAM_RATE=str(RATE),
                GRIDBOT_TELEGRAM_GROUP_RATE="20",
                GRIDBOT_TICK_SECONDS="5",
            )
            chats = [FIRST_MEMBER + n for n in range(members)]
            reached = lambda: sum(1 for chat in chats if tg.chat(chat))
            stop, latencies = asyncio.Event(), []
            process = await start_gridbot(env, port)
            resident = asyncio.create_task(intake(tg, stop, latencies))
            first = await first_send(tg, chats, timeout=60)
            downtime, outage = 0.0, (0.0, 0.0)
            if kill and first is not None:
                # Halfway by the clock, not on a message's arrival: a crash is not timed by our sends.
                await asyncio.sleep(max(0.0, first + members / 2 / (RATE * 0.9) - time.monotonic()))  # notices get 90%
                process.kill()  # SIGKILL: no shutdown, leases and transactions cut where they are
                await process.wait()
                down = time.monotonic()
                print(f"killed -9 at {reached()} members reached; restarting")
                process = await start_gridbot(env, port)
                downtime, outage = time.monotonic() - down, (down, time.monotonic())
            deadline = time.monotonic() + members / RATE * 2 + 120
            left = await until_outbox_settled(url, deadline)
            stop.set()
            await resident
            process.terminate()  # a copy sent while it stops still counts: the chats are read after this
            await process.wait()
        if os.environ.get("FANOUT_DEBUG"):
            for chat in chats:
                if len(tg.sent_at.get(chat, ())) > 1:
                    print("doubled in", chat, [round((t - outage[0]) * 1000, 1) for t in tg.sent_at[chat]], "ms after the kill")
        print_deliveries(tg, chats, left, first, downtime)
        print_intake(latencies, outage)


async def first_send(tg: FakeTelegram, chats: list[int], timeout: float) -> float | None:
    """When the first reminder reached a member; None if none did within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sent := [tg.sent_at[c][0] for c in chats if tg.sent_at.get(c)]:
            return min(sent)
        await asyncio.sleep(0.05)
    return None


async def until_outbox_settled(url: str, deadline: float) -> dict[str, int]:
    """Wait until no outbox row is pending (nothing more can be sent) or `deadline` passes;
    return the rows by state at that moment."""
    engine = make_engine(url)
    try:
        while True:
            # In a thread: this loop also serves the fake Bot API, whose clock stamps every send.
            states = await asyncio.to_thread(outbox_states, engine)
            if not states.get(OutboxState.PENDING) or time.monotonic() >= deadline:
                return states
            await asyncio.sleep(1)
    finally:
        engine.dispose()


def outbox_states(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())


def print_deliveries(tg: FakeTelegram, chats: list[int], left: dict[str, int], first: float | None, downtime: float) -> None:
    members = len(chats)
    copies = [len(tg.sent_at.get(c, ())) for c in chats]
    reached = sum(1 for n in copies if n)
    doubled = sum(n - 1 for n in copies if n > 1)
    print(
        f"members reached {reached}/{members}   lost {members - reached} (no message at all)"
        f"   doubled {doubled} (extra copies, counted until the process stopped)"
    )
    held = {state: n for state, n in left.items() if state != OutboxState.SENT and n}
    print("outbox at the end: " + (", ".join(f"{n} {state}" for state, n in held.items()) if held else "every row sent"))
    if first is None or not reached:
        print("no reminder arrived within 60 s of the start: no rate to tell")
        return
    last = max(tg.sent_at[c][-1] for c in chats if tg.sent_at.get(c))
    elapsed = last - first
    rate = sum(copies) / (elapsed - downtime) if elapsed > downtime else float("nan")
    print(
        f"first→last send {elapsed:.1f} s (down for the restart {downtime:.1f} s): {rate:.1f} sends/s while up"
        f" = {rate / RATE:.0%} of the {RATE:.0f} msg/s limit"
    )
    busiest = max((tg.max_rate(c) for c in chats), default=0)
    overall = max_rate_overall(tg, chats)
    print(f"busiest second across all chats: {overall} sends (limit {RATE:.0f}); busiest chat {busiest}/s")


def print_intake(latencies: list[tuple[float, float]], outage: tuple[float, float]) -> None:
    # A message written while the process was down waits for the restart: shown apart.
    during = lambda pushed, wait: pushed <= outage[1] and pushed + wait >= outage[0]
    up = [wait for pushed, wait in latencies if not during(pushed, wait)]
    across = [wait for pushed, wait in latencies if during(pushed, wait)]
    if len(up) > 1:
        cuts = statistics.quantiles(up, n=100, method="inclusive")
        print(
            f"resident's /my → reply while up: {len(up)}   p50 {cuts[49] * 1000:.0f} ms   p99 {cuts[98] * 1000:.0f} ms"
            f"   max {max(up) * 1000:.0f} ms"
        )
    if across:
        print(f"resident's /my → reply across the restart: {len(across)}   longest {max(across):.1f} s")


def max_rate_overall(tg: FakeTelegram, chats: list[int]) -> int:
    times = sorted(t for c in chats for t in tg.sent_at.get(c, ()))
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


if __name__ == "__main__":
    count = int(next((a for a in sys.argv[1:] if a.isdigit()), 10_000))
    asyncio.run(run(count, kill="--no-kill" not in sys.argv))
