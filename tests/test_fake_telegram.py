"""The fake Telegram server, driven by the real python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fake_telegram import FakeTelegram, SentMessage, User

ALICE = User(1001, "Alice", "alice")
BOB = User(1002, "Bob")
GROUP = -100500


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def app(tg: FakeTelegram):
    """A real PTB Application polling the fake, with echo/command/callback/photo handlers."""
    application = (
        Application.builder().token("123456:TEST").base_url(f"{tg.root}/bot").base_file_url(f"{tg.root}/file/bot").build()
    )
    seen_update_ids: list[int] = []
    application.bot_data["seen"] = seen_update_ids

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen_update_ids.append(update.update_id)

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"started in {update.effective_chat.type}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        file = await update.effective_message.photo[-1].get_file()
        content = bytes(await file.download_as_bytearray())
        await update.effective_message.reply_photo(content, caption=f"got {len(content)} bytes")

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer(f"ok {query.data}", show_alert=True)
        await query.edit_message_text(
            f"{query.message.text} -> {query.data}",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("undo", callback_data="undo")]]),
        )

    application.add_handler(MessageHandler(filters.ALL, record), group=-1)
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(MessageHandler(filters.PHOTO, photo))
    application.add_handler(CallbackQueryHandler(pressed))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(timeout=dtm.timedelta(seconds=1))
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def test_echo_reply_arrives(tg: FakeTelegram, app: Application) -> None:
    tg.push_text(ALICE, "hello")
    await tg.wait_for(lambda: tg.chat(ALICE.id)[-1].text == "echo: hello")
    [reply] = tg.chat(ALICE.id)
    assert reply.message_id == 2  # the user's message was #1 in this private chat
    sent = tg.calls_to("sendMessage")[-1]
    assert sent["chat_id"] == ALICE.id and sent["text"] == "echo: hello"
    assert tg.calls[0][0] == "getMe"


async def test_command_in_private_and_group(tg: FakeTelegram, app: Application) -> None:
    tg.push_text(ALICE, "/start")
    tg.push_text(BOB, "/start@gridbot_test", chat_id=GROUP)
    await tg.wait_for(lambda: tg.chat(ALICE.id) and tg.chat(GROUP))
    assert tg.chat(ALICE.id)[-1].text == "started in private"
    assert tg.chat(GROUP)[-1].text == "started in supergroup"


async def test_callback_edits_stored_message(tg: FakeTelegram, app: Application) -> None:
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Take", callback_data="take:7"), InlineKeyboardButton("Site", url="https://example.org")]]
    )
    sent = await app.bot.send_message(ALICE.id, "Order #7", reply_markup=keyboard)
    [stored] = tg.chat(ALICE.id)
    assert isinstance(stored, SentMessage) and stored.message_id == sent.message_id
    assert stored.buttons == [[("Take", "take:7"), ("Site", None)]]
    assert sent.reply_markup == keyboard  # PTB parsed the echoed Message back

    update = tg.push_callback(ALICE, stored, "take:7")
    assert update["callback_query"]["message"]["text"] == "Order #7"
    await tg.wait_for(lambda: stored.edited_times == 1)
    assert stored.text == "Order #7 -> take:7"
    assert stored.buttons == [[("undo", "undo")]]
    assert tg.callback_answers == [(update["callback_query"]["id"], "ok take:7", True)]

    # the callback carries the message as it is *now*; (chat_id, message_id) works too
    tg.push_callback(BOB, (ALICE.id, stored.message_id), "again")
    await tg.wait_for(lambda: stored.edited_times == 2)
    assert stored.text == "Order #7 -> take:7 -> again"
    assert len(tg.chat(ALICE.id)) == 1


async def test_edit_errors_like_telegram(tg: FakeTelegram, app: Application) -> None:
    msg = await app.bot.send_message(ALICE.id, "same")
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await app.bot.edit_message_text("x", chat_id=ALICE.id, message_id=msg.message_id + 5)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await app.bot.edit_message_text("same", chat_id=ALICE.id, message_id=msg.message_id)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    edited = await app.bot.edit_message_reply_markup(ALICE.id, msg.message_id, reply_markup=markup)
    assert edited.reply_markup == markup and tg.chat(ALICE.id)[0].buttons == [[("a", "a")]]
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await app.bot.edit_message_reply_markup(ALICE.id, msg.message_id, reply_markup=markup)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_raises_retry_after(tg: FakeTelegram, app: Application) -> None:
    tg.fail_next(ALICE.id, 429, retry_after=7)
    with pytest.raises(RetryAfter) as excinfo:
        await app.bot.send_message(ALICE.id, "flood")
    assert excinfo.value._retry_after == dtm.timedelta(seconds=7)
    assert tg.chat(ALICE.id) == []
    await app.bot.send_message(ALICE.id, "after the pause")  # only the next call failed
    assert [m.text for m in tg.chat(ALICE.id)] == ["after the pause"]
    assert len(tg.sent_at[ALICE.id]) == 1


async def test_403_and_5xx(tg: FakeTelegram, app: Application) -> None:
    tg.fail_next(BOB.id, 403)
    tg.fail_next(BOB.id, 502, count=2)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(BOB.id, "hi")
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await app.bot.send_message(BOB.id, "hi")
    await app.bot.send_message(BOB.id, "hi")
    await app.bot.send_message(ALICE.id, "unaffected")
    assert len(tg.chat(BOB.id)) == 1 and len(tg.chat(ALICE.id)) == 1


async def test_offset_confirms_updates(tg: FakeTelegram, app: Application) -> None:
    for i in range(3):
        tg.push_text(ALICE, f"m{i}")
    await tg.wait_for(lambda: len(tg.chat(ALICE.id)) == 3)
    await tg.wait_for(lambda: tg.pending_updates() == 0)
    tg.push_text(ALICE, "m3")  # the polls in between carried offsets: nothing came twice
    await tg.wait_for(lambda: len(tg.chat(ALICE.id)) == 4)
    assert [m.text for m in tg.chat(ALICE.id)] == [f"echo: m{i}" for i in range(4)]
    assert app.bot_data["seen"] == [1, 2, 3, 4]
    offsets = [p.get("offset", 0) for p in tg.calls_to("getUpdates")]
    assert offsets == sorted(offsets) and offsets[-1] >= 4


async def test_repeat_redelivers_same_update_id(tg: FakeTelegram, app: Application) -> None:
    update = tg.push_text(ALICE, "once")
    await tg.wait_for(lambda: len(tg.chat(ALICE.id)) == 1)
    await tg.wait_for(lambda: tg.pending_updates() == 0)  # confirmed by the next offset
    tg.repeat(update)
    await tg.wait_for(lambda: len(tg.chat(ALICE.id)) == 2)
    assert app.bot_data["seen"] == [update["update_id"]] * 2
    tg.push_text(ALICE, "next")
    await tg.wait_for(lambda: len(tg.chat(ALICE.id)) == 3)
    assert app.bot_data["seen"] == [1, 1, 2]


async def test_photo_download_and_upload(tg: FakeTelegram, app: Application) -> None:
    tg.files["photo-1"] = bytes(range(256)) * 4  # binary, incl. CR/LF, survives multipart
    tg.push_photo(ALICE, "photo-1", caption="look")
    [reply] = await tg.wait_for(lambda: tg.chat(ALICE.id))
    assert reply.text == "got 1024 bytes" and reply.photo.startswith("uploaded-")
    assert tg.files[reply.photo] == tg.files["photo-1"]


async def test_location_contact_raw_and_wait_for_dump(tg: FakeTelegram) -> None:
    loc = tg.push_location(ALICE, 31.2, 121.5)
    contact = tg.push_contact(ALICE, "+8613800000000", ALICE.id)
    raw = tg.push_raw({"message": {**contact["message"], "text": "raw"}})
    assert (loc["update_id"], contact["update_id"], raw["update_id"]) == (1, 2, 3)
    assert Update.de_json(loc, None).message.location.latitude == 31.2
    assert Update.de_json(contact, None).message.contact.user_id == ALICE.id
    assert tg.pending_updates() == 3
    with pytest.raises(AssertionError, match="IndexError(.|\n)*pending updates: 3"):
        await tg.wait_for(lambda: tg.chat(ALICE.id)[0], timeout=0.05)
    with pytest.raises(AssertionError, match="StopIteration"):
        await tg.wait_for(lambda: next(m for m in tg.chat(ALICE.id)), timeout=0.05)


async def test_http_surface(tg: FakeTelegram) -> None:
    async with httpx.AsyncClient(base_url=f"{tg.root}/botTOKEN") as client:
        r = await client.post("/noSuchMethod")
        assert r.status_code == 404
        assert r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        r = await client.get("/getMe")
        assert r.json()["result"]["username"] == "gridbot_test"
        # JSON bodies work too, with reply_markup either as object or as JSON string
        markup = {"inline_keyboard": [[{"text": "x", "callback_data": "1"}]]}
        r = await client.post("/sendMessage", json={"chat_id": GROUP, "text": "123", "reply_markup": markup})
        msg = r.json()["result"]
        assert msg["chat"]["type"] == "supergroup" and msg["text"] == "123"
        assert msg["reply_markup"] == markup and msg["from"]["id"] == 999
        r = await client.post(
            "/editMessageReplyMarkup", data={"chat_id": str(GROUP), "message_id": "1", "reply_markup": '{"inline_keyboard": []}'}
        )
        assert r.json()["ok"] and tg.chat(GROUP)[0].buttons == []

        # long polling: an empty poll waits `timeout`, a push wakes it immediately
        start = time.monotonic()
        r = await client.post("/getUpdates", data={"timeout": "0.2"})
        assert r.json()["result"] == [] and time.monotonic() - start >= 0.2
        poll = asyncio.create_task(client.post("/getUpdates", data={"timeout": "5"}))
        await asyncio.sleep(0.05)
        start = time.monotonic()
        tg.push_text(BOB, "wake up")
        updates = (await poll).json()["result"]
        assert time.monotonic() - start < 1
        assert [u["message"]["text"] for u in updates] == ["wake up"]
        r = await client.post("/getUpdates")  # not confirmed yet: delivered again
        assert r.json()["result"] == updates
        r = await client.post("/getUpdates", data={"offset": str(updates[-1]["update_id"] + 1)})
        assert r.json()["result"] == [] and tg.pending_updates() == 0


async def test_rate_meter(tg: FakeTelegram) -> None:
    async with httpx.AsyncClient(base_url=f"{tg.root}/botTOKEN") as client:
        for i in range(5):
            await client.post("/sendMessage", data={"chat_id": "7", "text": f"n{i}"})
    assert len(tg.sent_at[7]) == 5 and tg.max_rate(7, window=10) == 5
    assert [m.message_id for m in tg.chat(7)] == [1, 2, 3, 4, 5]
