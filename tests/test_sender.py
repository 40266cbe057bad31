"""The outbox sender against the fake Bot API through a real telegram.Bot: order, retries, give-ups."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.sender import GiveUp, OutboxSender, Retry, next_step
from bot.telegram.delivery import transport
from storage import outbox
from storage.db import transaction
from storage.models import OutboxMessage, OutboxState
from tests.fake_telegram import FakeTelegram

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_retry_rules():
    assert next_step(Retry("429", retry_after=7), 0, NOW) == NOW + timedelta(seconds=7)
    assert next_step(Retry("502"), 0, NOW) == NOW + timedelta(seconds=1)
    assert next_step(Retry("502"), 3, NOW) == NOW + timedelta(seconds=8)
    assert next_step(Retry("502"), 20, NOW) is None  # too many attempts: give up
    assert next_step(Retry("429", retry_after=3), 20, NOW) is not None  # the platform said when: obey
    assert next_step(GiveUp("403"), 0, NOW) is None


def test_enqueue_is_idempotent_by_key(engine):
    with transaction(engine) as session:
        assert outbox.enqueue(session, "k1", "telegram", "1", {"text": "a"}, not_before=NOW)
        assert not outbox.enqueue(session, "k1", "telegram", "1", {"text": "b"}, not_before=NOW)
    with Session(engine) as session:
        assert [r.payload["text"] for r in session.exec(select(OutboxMessage))] == ["a"]


def test_a_chat_whose_head_is_not_due_waits_in_order(engine):
    with transaction(engine) as session:
        outbox.enqueue(session, "a1", "telegram", "A", {"text": "1"}, not_before=NOW + timedelta(minutes=1))
        outbox.enqueue(session, "a2", "telegram", "A", {"text": "2"}, not_before=NOW)
        outbox.enqueue(session, "b1", "telegram", "B", {"text": "1"}, not_before=NOW)
    with transaction(engine) as session:
        batches = outbox.due_batches(session, {"telegram"}, NOW, timedelta(seconds=30))
        assert {chat: [r.key for r in rows] for chat, rows in batches.items()} == {"telegram:B": ["b1"]}
    with transaction(engine) as session:  # leased rows are not handed out twice
        assert outbox.due_batches(session, {"telegram"}, NOW, timedelta(seconds=30)) == {}


@pytest.fixture
async def fake_and_bot():
    async with FakeTelegram() as tg:
        bot = Bot("123:TEST", base_url=f"{tg.root}/bot", request=HTTPXRequest(connection_pool_size=8))
        async with bot:
            yield tg, bot


def _queue(engine, *rows):
    with transaction(engine) as session:
        for key, chat, text in rows:
            outbox.enqueue(session, key, "telegram", chat, {"text": text, "buttons": []}, not_before=NOW)


def _rows(engine):
    with Session(engine) as session:
        return {r.key: r for r in session.exec(select(OutboxMessage))}


async def _pass_until(sender, predicate, engine, clock, limit=20):
    for _ in range(limit):
        await sender.deliver_due()
        if predicate(_rows(engine)):
            return
        clock[0] += timedelta(seconds=400)  # past any backoff
    raise AssertionError(_rows(engine))


async def test_429_is_retried_after_retry_after_and_order_is_kept(sqlite_url, fake_and_bot):
    from storage.db import make_engine, migrate

    engine = make_engine(sqlite_url)
    migrate(engine)
    tg, bot = fake_and_bot
    clock = [NOW]
    sender = OutboxSender(engine, {"telegram": transport(bot)}, lambda: clock[0])
    _queue(engine, ("m1", "42", "第一条"), ("m2", "42", "第二条"))
    tg.fail_next(42, 429, retry_after=5)
    await sender.deliver_due()
    first = _rows(engine)["m1"]
    assert first.state == OutboxState.PENDING and first.not_before == NOW + timedelta(seconds=5)
    assert tg.chat(42) == []  # the second waits behind the first
    await sender.deliver_due()
    assert tg.chat(42) == []  # not due yet
    clock[0] += timedelta(seconds=6)
    await _pass_until(sender, lambda rows: all(r.state == OutboxState.SENT for r in rows.values()), engine, clock)
    assert [m.text for m in tg.chat(42)] == ["第一条", "第二条"]


async def test_5xx_backs_off_and_403_is_given_up_with_its_reason(sqlite_url, fake_and_bot):
    from storage.db import make_engine, migrate

    engine = make_engine(sqlite_url)
    migrate(engine)
    tg, bot = fake_and_bot
    clock = [NOW]
    sender = OutboxSender(engine, {"telegram": transport(bot)}, lambda: clock[0])
    _queue(engine, ("flaky", "7", "服务器抽风"), ("blocked", "8", "被拉黑"), ("after", "8", "拉黑之后"))
    tg.fail_next(7, 502, count=2)
    tg.fail_next(8, 403, count=2)
    await _pass_until(
        sender, lambda rows: rows["flaky"].state == OutboxState.SENT and rows["after"].state != OutboxState.PENDING, engine, clock
    )
    rows = _rows(engine)
    assert rows["flaky"].attempts == 3 and [m.text for m in tg.chat(7)] == ["服务器抽风"]
    assert rows["blocked"].state == OutboxState.FAILED and "blocked" in rows["blocked"].error
    assert rows["after"].state == OutboxState.FAILED  # the user still blocks us: recorded, not retried forever


async def test_edit_of_a_sent_card_changes_it_in_place(sqlite_url, fake_and_bot):
    from storage.db import make_engine, migrate

    engine = make_engine(sqlite_url)
    migrate(engine)
    tg, bot = fake_and_bot
    sender = OutboxSender(engine, {"telegram": transport(bot)}, lambda: NOW)
    with transaction(engine) as session:
        outbox.enqueue(
            session, "card", "telegram", "-100", {"text": "待领单", "buttons": [[["领单", "o:claim:1"]]]}, not_before=NOW
        )
        outbox.enqueue(
            session,
            "card-edit",
            "telegram",
            "-100",
            {"text": "已领单", "buttons": []},
            not_before=NOW,
            kind="edit",
            edit_key="card",
        )
    while await sender.deliver_due():
        pass
    [card] = tg.chat(-100)
    assert (card.text, card.buttons, card.edited_times) == ("已领单", [], 1)
