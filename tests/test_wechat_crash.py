"""WeChat: a push is answered only once its transaction has committed. A process killed while handling
one gives WeChat no answer, so WeChat pushes it again (to another process here): one order, one answer."""

import asyncio
import signal
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from bot.wechat.callback import ANSWER_WITHIN
from storage.db import make_engine, migrate, transaction
from storage.models import Building, Identity, Order, Resident
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER
from tests.fake_wechat import Account, FakeWeChat, message_xml, next_msg_id, text_fields, wechat_env, wechat_settings
from tests.running import free_port
from tests.workers import start_process, stop_workers, wait_healthy

RESIDENT = "o_resident"
REPORT = "楼道里堆满了垃圾好几天没人清理"  # filed straight to 一网格: its card is a notice
pytestmark = pytest.mark.timeout(120)


async def test_a_push_whose_process_dies_mid_handling_is_pushed_again_and_answered_once(postgres_url):
    _seed(postgres_url)
    async with FakeWeChat() as wx, httpx.AsyncClient() as client:
        ports = [free_port(), free_port()]
        workers = {port: start_process(postgres_url, port, **wechat_env(wx.root)) for port in ports}
        try:
            await wait_healthy(client, ports)
            account = Account(wechat_settings(wx.root, postgres_url), client)
            push = account.sealed(message_xml(RESIDENT, "text", text_fields(REPORT), msg_id=next_msg_id()), openid=RESIDENT)
            with _notices_held(postgres_url) as handler_waiting:  # the handler gets as far as its notices, and waits
                wechat = asyncio.create_task(_push_as_wechat(client, ports, *push))
                await wx.wait_for(handler_waiting, timeout=30)
                await asyncio.sleep(ANSWER_WITHIN + 0.5)  # past the 3 s guard: nothing may be answered yet
                workers[ports[0]].send_signal(signal.SIGKILL)
            answers = await wechat
            await asyncio.sleep(1)  # an answer sent as a message as well would have arrived by now
        finally:
            stop_workers(workers)
    engine = make_engine(postgres_url)
    with Session(engine) as session:
        orders = session.exec(select(Order)).all()
    engine.dispose()
    assert len(orders) == 1  # the killed process's transaction left nothing
    given = [account.reply_text(answer) for answer in answers] + wx.texts_to(RESIDENT)  # passive, or as a message
    accepted = [answer for answer in given if "已受理" in answer]
    assert len(accepted) == 1 and f"#{orders[0].id}" in accepted[0], given


async def _push_as_wechat(client: httpx.AsyncClient, ports: list[int], query: dict, body: bytes) -> list[httpx.Response]:
    """WeChat pushes, and pushes again (here to the other process) when no answer comes within 5 s."""
    for port in [ports[0], ports[1], ports[1], ports[1]]:
        try:
            answer = await client.post(f"http://127.0.0.1:{port}/wechat", params=query, content=body, timeout=5)
            if answer.status_code == 200:
                return [answer]
        except httpx.TransportError:
            pass
    return []


@contextmanager
def _notices_held(url: str):
    """The outbox locked against writes from outside; yields whether a handler is waiting for it."""
    engine = create_engine(url)
    with engine.connect() as holder, engine.connect() as looker:
        holder.execute(text("LOCK TABLE outboxmessage IN SHARE MODE"))

        def waiting() -> bool:
            count = looker.execute(
                text("SELECT count(*) FROM pg_locks WHERE relation = 'outboxmessage'::regclass AND NOT granted")
            ).scalar()
            looker.commit()
            return count > 0

        try:
            yield waiting
        finally:
            holder.rollback()
    engine.dispose()


def _seed(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        building = session.exec(select(Building).where(Building.name == "1号楼")).one()
        resident = Resident(name="张阿姨", building_id=building.id)
        session.add(resident)
        session.flush()
        session.add(Identity(platform="wechat", user_id=RESIDENT, chat_id=RESIDENT, resident_id=resident.id))
    engine.dispose()
