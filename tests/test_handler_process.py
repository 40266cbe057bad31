"""The handlers in a process of their own (GRIDBOT_HANDLER_PROCESS, SQLite): through the real
Application and the real WeChat callback, a child killed under way, the setting where it does not apply."""

import os
import signal

import httpx
import pytest
from sqlmodel import Session, col, func, select

from bot.handler_process import live
from storage.models import InboxEntry, Order
from tests.fake_telegram import FakeTelegram
from tests.fake_wechat import Account, wechat_settings
from tests.running import bot_settings, running
from tests.test_e2e_telegram import RESIDENT, button, db_url, last_text  # noqa: F401 (db_url: a fixture)
from tests.test_wechat import (  # noqa: F401 (engine_wx, wx: fixtures)
    LIMING,
    card_with_liming_bound,
    engine_wx,
    wx,
)
from tests.test_wechat import RESIDENT as WX_RESIDENT

REPORT = "2单元楼道里堆满了垃圾，好几天没人清理了"
G01 = -1001


@pytest.fixture
def database_url(sqlite_url):  # engine_wx's: the handler process is SQLite's
    return sqlite_url


def the_handler_process():
    (child,) = list(live)
    assert child.pid not in (None, os.getpid())
    return child


def engine_of(url):
    from storage.db import make_engine

    return make_engine(url)


async def register(tg):
    tg.push_text(RESIDENT, "/start")
    ask = await tg.wait_for(lambda: next(m for m in tg.chat(RESIDENT.id) if "哪栋楼" in m.text), timeout=30)
    tg.push_callback(RESIDENT, ask, button(ask, "1号楼"))
    await tg.wait_for(lambda: "上门前会先联系您" in last_text(tg, RESIDENT.id))


async def test_a_report_is_answered_carded_and_marked_from_the_handler_process(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url, handler_process=True)):
        await register(tg)
        the_handler_process()
        tg.push_text(RESIDENT, REPORT)
        await tg.wait_for(lambda: "已受理" in last_text(tg, RESIDENT.id))
        await tg.wait_for(lambda: next(m for m in tg.chat(G01) if "领单" in str(m.buttons)))
        engine = engine_of(db_url)
        with Session(engine) as session:  # every reply the platform took is marked (bot/marks.py)
            unmarked = select(func.count()).where(col(InboxEntry.replied_at).is_(None))
            await tg.wait_for(lambda: session.exec(unmarked).one() == 0)
        engine.dispose()
    assert not live  # stopped with the bot


async def test_a_killed_handler_process_is_replaced_and_the_report_filed_and_answered_once(db_url):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url, handler_process=True)):
        await register(tg)
        first = the_handler_process()
        killed = first.pid
        tg.push_text(RESIDENT, REPORT)
        os.kill(killed, signal.SIGKILL)  # before, during or after the report's transaction
        await tg.wait_for(lambda: "已受理" in last_text(tg, RESIDENT.id), timeout=30)
        assert the_handler_process().pid != killed and first.restarts == 1
        tg.push_text(RESIDENT, "你好")  # the new process answers what follows
        await tg.wait_for(lambda: "服务助手" in last_text(tg, RESIDENT.id), timeout=30)
        accepted = [m for m in tg.chat(RESIDENT.id) if "已受理" in (m.text or "")]
        engine = engine_of(db_url)
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(Order)).one() == 1
        engine.dispose()
        assert len(accepted) == 1


async def test_wechat_pushes_are_answered_from_the_handler_process(engine_wx, wx, database_url):  # noqa: F811
    settings = wechat_settings(wx.root, database_url, handler_process=True)
    async with running(settings), httpx.AsyncClient() as client:
        account = await Account(settings, client).ready()
        the_handler_process()
        card = await card_with_liming_bound(account, wx, engine_wx)
        assert "领单 1" in card
        assert "工单 #1 已由您领取" in await account.text(LIMING, "领单 1")
        await wx.wait_for(lambda: any("李明 领取" in t for t in wx.texts_to(WX_RESIDENT)))


async def test_with_a_hand_moved_clock_the_handlers_stay_in_threads(db_url, clock):  # noqa: F811
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url, handler_process=True), clock=clock):
        await register(tg)
        assert not live


# ---- a child dying under a call, driven directly -------------------------------------------------


def handle_then_die_once(services, inbound, flag: str):
    """The update's transaction commits; the first time, the process dies before it can answer."""
    from bot.telegram.app import handle_update

    replies, _queued = handle_update(services, inbound)
    if not os.path.exists(flag):
        open(flag, "w").close()
        os._exit(9)
    return replies


def always_die(_services):
    os._exit(9)


async def test_an_update_committed_by_a_child_that_died_is_answered_by_the_next(db_url, tmp_path):  # noqa: F811
    from bot.handler_process import HandlerProcess
    from handlers.messages import Inbound

    child = HandlerProcess(bot_settings("http://127.0.0.1:9", db_url))
    await child.start()
    try:
        hello = Inbound("telegram", "u1", "777", "777", display_name="王阿姨", text="你好")
        replies = await child.run(handle_then_die_once, hello, str(tmp_path / "died"))
        assert child.restarts == 1
        assert replies and "您好" in replies[0].text  # the dead child's recorded answer, taken over
        assert await child.run(handle_then_die_once, hello, str(tmp_path / "died")) == []  # now it is being sent
    finally:
        await child.close()


async def test_a_call_whose_child_dies_twice_fails_and_the_next_call_is_served(db_url):  # noqa: F811
    from bot.handler_process import ChildDied, HandlerProcess

    child = HandlerProcess(bot_settings("http://127.0.0.1:9", db_url))
    await child.start()
    try:
        with pytest.raises(ChildDied):
            await child.run(always_die)
        assert child.restarts == 2
        assert await child.run(_pid_of) not in (None, os.getpid())
    finally:
        await child.close()


def _pid_of(_services) -> int:
    return os.getpid()
