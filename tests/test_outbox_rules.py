"""The outbox's rules as a person would notice them: who goes first, what waits, what is kept for later.

Written against mutants of storage/outbox.py and bot/sender.py that survived the suite (docs/MUTATION.md).
"""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.sender import MAX_ATTEMPTS, OutboxSender, Retry, next_step
from bot.telegram.delivery import transport
from bot.wechat.api import WeChatApi
from bot.wechat.delivery import wechat_transport
from storage import outbox
from storage.db import make_engine, migrate, transaction
from storage.models import OutboxMessage, OutboxState
from tests.fake_telegram import FakeTelegram

NOW = datetime(2026, 11, 23, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def _queue(engine, *rows, platform: str = "telegram") -> None:
    with transaction(engine) as session:
        for key, chat, not_before in rows:
            outbox.enqueue(session, key, platform, chat, {"text": key, "buttons": []}, not_before=not_before)


def _due(engine, now: datetime = NOW, platforms=frozenset({"telegram"})) -> dict[str, list[str]]:
    with transaction(engine) as session:
        batches = outbox.due_batches(session, set(platforms), now, LEASE)
    return {chat: [row.key for row in rows] for chat, rows in batches.items()}


def _set(engine, key: str, **values) -> None:
    with transaction(engine) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.key == key).values(**values))


def _rows(engine) -> dict[str, OutboxMessage]:
    with Session(engine) as session:
        return {row.key: row for row in session.exec(select(OutboxMessage))}


def test_an_emergency_goes_first_even_past_a_chat_that_waits(engine):
    _queue(engine, ("late", "A", NOW + timedelta(minutes=5)), ("a2", "A", NOW), ("b1", "B", NOW), ("urgent:1", "A", NOW))
    assert _due(engine) == {"telegram:A": ["urgent:1"], "telegram:B": ["b1"]}
    _set(engine, "urgent:1", state=OutboxState.SENT)
    _set(engine, "b1", state=OutboxState.SENT)
    assert _due(engine, NOW + timedelta(minutes=6)) == {"telegram:A": ["late", "a2"]}  # the rest, in order, once due


def test_the_urgent_rows_are_leased_before_older_ordinary_ones(engine):
    _queue(engine, *((f"n{i}", f"C{i}", NOW) for i in range(3)), ("urgent:9", "D", NOW))
    with transaction(engine) as session:
        batches = outbox.due_batches(session, {"telegram"}, NOW, LEASE, limit=1)
    assert [row.key for rows in batches.values() for row in rows] == ["urgent:9"]


def test_only_an_earlier_pending_row_of_the_same_chat_and_platform_holds_a_row_back(engine):
    _queue(engine, ("wx-late", "A", NOW + timedelta(minutes=5)), platform="wechat")  # same chat id, other platform
    _queue(engine, ("failed", "A", NOW), ("a", "A", NOW))
    _set(engine, "failed", state=OutboxState.FAILED, not_before=NOW + timedelta(minutes=5))  # given up: out of the way
    assert _due(engine) == {"telegram:A": ["a"]}


def test_a_later_row_that_waits_does_not_hold_back_an_earlier_one(engine):
    _queue(engine, ("now", "A", NOW), ("later", "A", NOW + timedelta(minutes=5)))
    assert _due(engine) == {"telegram:A": ["now"]}


def test_a_row_due_exactly_now_and_a_lease_ending_now_do_not_hold_back(engine):
    _queue(engine, ("first", "A", NOW), ("second", "A", NOW))
    assert _due(engine) == {"telegram:A": ["first", "second"]}
    assert _due(engine) == {}  # leased
    assert _due(engine, NOW + LEASE) == {"telegram:A": ["first", "second"]}  # a lease ending now is over


def test_a_row_leased_elsewhere_holds_its_chats_later_rows(engine):
    _queue(engine, ("first", "A", NOW), ("second", "A", NOW))
    _set(engine, "first", lease_until=NOW + timedelta(seconds=30))  # another process is sending it
    assert _due(engine) == {}
    assert _due(engine, NOW + timedelta(seconds=30)) == {"telegram:A": ["first", "second"]}


def test_a_sender_leases_only_its_own_platforms(engine):
    _queue(engine, ("tg", "A", NOW))
    _queue(engine, ("wx", "B", NOW), platform="wechat")
    assert _due(engine, platforms={"wechat"}) == {"wechat:B": ["wx"]}


def test_renewing_keeps_only_the_rows_still_being_sent(engine):
    _queue(engine, ("sending", "A", NOW), ("other", "B", NOW), ("done", "C", NOW))
    _due(engine)
    with transaction(engine) as session:
        ids = {row.key: row.id for row in session.exec(select(OutboxMessage))}
        outbox.mark_sent(session, ids["done"], NOW, "m1")
        outbox.renew_leases(session, [ids["sending"], ids["done"]], NOW + timedelta(minutes=5))
    rows = _rows(engine)
    assert rows["sending"].lease_until.replace(tzinfo=UTC) == NOW + timedelta(minutes=5)
    assert rows["other"].lease_until.replace(tzinfo=UTC) == NOW + LEASE
    assert rows["done"].lease_until is None and rows["done"].sent_at.replace(tzinfo=UTC) == NOW


def test_a_failing_platform_is_tried_exactly_max_attempts_times():
    assert next_step(Retry("502"), MAX_ATTEMPTS - 2, NOW) is not None
    assert next_step(Retry("502"), MAX_ATTEMPTS - 1, NOW) is None


@pytest.fixture
def sqlite_engine(sqlite_url):
    engine = make_engine(sqlite_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
async def telegram():
    async with FakeTelegram() as tg:
        bot = Bot("123:TEST", base_url=f"{tg.root}/bot", request=HTTPXRequest(connection_pool_size=8))
        async with bot:
            yield tg, bot


async def test_a_retry_frees_the_chats_later_rows_and_both_follow_after_the_backoff(sqlite_engine, telegram):
    tg, bot = telegram
    clock = [NOW]
    sender = OutboxSender(sqlite_engine, {"telegram": transport(bot)}, lambda: clock[0])
    _queue(sqlite_engine, ("first", "42", NOW), ("second", "42", NOW))
    tg.fail_next(42, 502)
    await sender.deliver_due()
    rows = _rows(sqlite_engine)
    assert (rows["first"].error and "502" in rows["first"].error) or "Bad Gateway" in rows["first"].error
    assert rows["second"].lease_until is None and tg.chat(42) == []
    clock[0] += timedelta(seconds=2)  # past the first backoff (1 s), well inside a lease
    while await sender.deliver_due():
        pass
    assert [m.text for m in tg.chat(42)] == ["first", "second"]
    assert {row.sent_at.replace(tzinfo=UTC) for row in _rows(sqlite_engine).values()} == {clock[0]}


async def test_a_notice_given_up_after_every_attempt_says_so(sqlite_engine, telegram):
    tg, bot = telegram
    clock = [NOW]
    sender = OutboxSender(sqlite_engine, {"telegram": transport(bot)}, lambda: clock[0])
    _queue(sqlite_engine, ("doomed", "7", NOW))
    tg.fail_next(7, 502, count=MAX_ATTEMPTS + 2)
    for _ in range(MAX_ATTEMPTS + 2):
        await sender.deliver_due()
        clock[0] += timedelta(seconds=400)
    row = _rows(sqlite_engine)["doomed"]
    assert (row.state, row.attempts, row.lease_until) == (OutboxState.FAILED, MAX_ATTEMPTS, None)
    assert tg.chat(7) == []


async def test_a_restarted_sender_does_not_wait_out_the_leases_of_its_dead_run(sqlite_engine, telegram):
    import asyncio

    tg, bot = telegram
    _queue(sqlite_engine, ("orphan", "9", NOW))
    _set(sqlite_engine, "orphan", lease_until=NOW + timedelta(minutes=1))  # leased by the run that died
    sender = OutboxSender(sqlite_engine, {"telegram": transport(bot)}, lambda: NOW, idle_poll=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    for _ in range(100):
        if tg.chat(9):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert [m.text for m in tg.chat(9)] == ["orphan"]


async def test_a_notice_wechat_will_not_push_is_kept_for_the_next_reply(sqlite_engine):
    """Out of WeChat's 48-hour window: held, not failed, and handed once to the next passive reply."""
    async with httpx.AsyncClient() as client:
        api = WeChatApi("http://127.0.0.1:9", "appid", "secret", client)  # never reached: the window decides first
        sender = OutboxSender(sqlite_engine, {"wechat": wechat_transport(api, sqlite_engine, lambda: NOW)}, lambda: NOW)
        _queue(sqlite_engine, ("n1", "o_zhang", NOW), ("n2", "o_zhang", NOW), ("other", "o_li", NOW), platform="wechat")
        _queue(sqlite_engine, ("tg", "o_zhang", NOW))  # the same id on Telegram is another chat
        _queue(sqlite_engine, ("tg-held", "o_zhang", NOW))
        _set(sqlite_engine, "tg-held", state=OutboxState.HELD)
        _queue(sqlite_engine, ("tomorrow", "o_zhang", NOW + timedelta(days=1)), platform="wechat")  # not held: not due
        while await sender.deliver_due():
            pass
    rows = _rows(sqlite_engine)
    assert "48 h" in rows["n1"].error and rows["n1"].lease_until is None  # why it waits, and free to be taken
    assert {key: rows[key].state for key in ("n1", "n2", "other")} == dict.fromkeys(("n1", "n2", "other"), OutboxState.HELD)
    with transaction(sqlite_engine) as session:
        assert [p["text"] for p in outbox.take_held(session, "wechat", "o_zhang", NOW)] == ["n1", "n2"]
    with transaction(sqlite_engine) as session:
        assert outbox.take_held(session, "wechat", "o_zhang", NOW) == []  # once
    rows = _rows(sqlite_engine)
    assert rows["n1"].state == OutboxState.SENT and rows["n1"].sent_at.replace(tzinfo=UTC) == NOW
    assert rows["other"].state == OutboxState.HELD and rows["tg"].state == OutboxState.PENDING
    assert (rows["tg-held"].state, rows["tomorrow"].state) == (OutboxState.HELD, OutboxState.PENDING)
