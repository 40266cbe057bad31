"""The outbox under load and in outages (issue 10, defect 7; each failed on 8dd4507)."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.sender import Delivered, OutboxSender
from storage import outbox
from storage.db import make_engine, migrate, transaction
from storage.models import OutboxMessage

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def _queue(engine, key: str, chat: str, not_before: datetime = NOW) -> None:
    with transaction(engine) as session:
        outbox.enqueue(session, key, "telegram", chat, {"text": key}, not_before=not_before)


class Gate:
    """A transport that records what it sent and holds one chat until released."""

    def __init__(self, held_chat: str | None = None):
        self.sent: list[str] = []
        self.held_chat = held_chat
        self.release = asyncio.Event()
        self.holding = asyncio.Event()

    async def __call__(self, row: OutboxMessage, _edit_target) -> Delivered:
        if row.chat_id == self.held_chat:
            self.holding.set()
            await self.release.wait()
        self.sent.append(row.key)
        return Delivered(str(len(self.sent)))


def test_rows_in_backoff_do_not_crowd_out_due_rows_of_other_chats(engine):
    with transaction(engine) as session:
        for n in range(600):  # a fan-out to WeChat during its outage: every row waiting out a backoff
            outbox.enqueue(
                session, f"fanout:{n}", "telegram", f"member-{n}", {"text": "x"}, not_before=NOW + timedelta(minutes=5)
            )
    _queue(engine, "reply-card", "group-B")
    with transaction(engine) as session:
        batches = outbox.due_batches(session, {"telegram"}, NOW, timedelta(seconds=60))
    assert list(batches) == ["telegram:group-B"]


async def test_a_slow_chat_never_holds_an_urgent_alert_to_another(engine):
    errors: list[dict] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, context: errors.append(context))
    gate = Gate(held_chat="group-A")
    clock = [NOW]
    sender = OutboxSender(engine, {"telegram": gate}, lambda: clock[0], idle_poll=0.02)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        _queue(engine, "card:1:v1:g1", "group-A")
        sender.wake()
        await asyncio.wait_for(gate.holding.wait(), 5)
        _queue(engine, "urgent:2:v1:staff", "staff-group")
        sender.wake()
        for _ in range(200):
            if "urgent:2:v1:staff" in gate.sent:
                break
            await asyncio.sleep(0.01)
        assert gate.sent == ["urgent:2:v1:staff"]  # delivered while group-A is still held
    finally:
        gate.release.set()
        stop.set()
        await asyncio.wait_for(running, 5)
    assert sorted(gate.sent) == ["card:1:v1:g1", "urgent:2:v1:staff"]
    assert errors == []  # nothing failed quietly in a callback


async def test_a_send_that_outlives_its_lease_is_not_sent_again_by_another_process(engine):
    gate = Gate(held_chat="group-A")
    clock = [NOW]
    first = OutboxSender(engine, {"telegram": gate}, lambda: clock[0], idle_poll=0.02, renew_every=0.02)
    other = OutboxSender(engine, {"telegram": gate}, lambda: clock[0])
    stop = asyncio.Event()
    running = asyncio.create_task(first.run(stop))
    try:
        _queue(engine, "card:1:v1:g1", "group-A")
        first.wake()
        await asyncio.wait_for(gate.holding.wait(), 5)
        clock[0] += timedelta(seconds=90)  # the send is slow: past the 60 s lease
        await asyncio.sleep(0.2)  # the first sender renews the lease meanwhile
        assert not await asyncio.wait_for(other.deliver_due(), 10)  # the other process finds nothing to send
    finally:
        gate.release.set()
        stop.set()
        await asyncio.wait_for(running, 5)
    assert gate.sent == ["card:1:v1:g1"]
    with Session(engine) as session:
        assert session.exec(select(OutboxMessage.state)).all() == ["sent"]


def test_two_processes_leasing_at_once_never_split_a_chat_on_postgresql(postgres_url, clock):
    """A second leasing pass waits for the first to commit: it would not see the first one's leases
    before that, and would hand the chat's later row to another process (sent out of order)."""
    import threading

    engine = make_engine(postgres_url)
    migrate(engine)
    now = clock()
    with transaction(engine) as session:
        for n in range(4):
            outbox.enqueue(session, f"order:{n}", "telegram", "777", {"text": f"第{n}条"}, not_before=now)
    second: dict = {}
    with transaction(engine) as first:
        leased = outbox.due_batches(first, {"telegram"}, now, timedelta(seconds=30), limit=3)
        assert [row.key for row in leased["telegram:777"]] == ["order:0", "order:1", "order:2"]

        def lease_again():
            with transaction(engine) as session:
                second.update(outbox.due_batches(session, {"telegram"}, now, timedelta(seconds=30)))

        thread = threading.Thread(target=lease_again)
        thread.start()
        thread.join(timeout=1.0)  # blocked until the first pass commits
    thread.join(timeout=10)
    assert "telegram:777" not in second  # order:3 waits for the three before it
