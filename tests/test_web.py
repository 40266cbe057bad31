"""The web workbench end to end: a link sent over the fake Bot API, the board, an order's page and its
actions through the same lifecycle as the chat (the card arrives in the grid's fake group)."""

import re
from datetime import timedelta

import httpx
from sqlmodel import Session

from storage import web_auth
from storage.db import make_engine, transaction
from storage.models import Member, Order
from tests.fake_telegram import FakeTelegram, User
from tests.running import bot_settings, free_port, running
from tests.test_e2e_telegram import G01, RESIDENT, STAFF, bind_members, db_url, last_text, register_resident

__all__ = ["db_url"]
LEADER = User(513, "王芳")
LINK = re.compile(r"http://\S+/web/login/\S+")


async def _link(tg: FakeTelegram, user: User) -> str:
    tg.push_text(user, "/web")
    return await tg.wait_for(lambda: (found := LINK.search(last_text(tg, user.id))) and found.group(0))


async def _next_link(tg: FakeTelegram, user: User) -> str:
    """Send /web and wait for the answer to this one (not an earlier link)."""
    answered = len(tg.chat(user.id))
    tg.push_text(user, "/web")
    await tg.wait_for(lambda: len(tg.chat(user.id)) > answered)
    return LINK.search(last_text(tg, user.id)).group(0)


async def _signed_in(link: str) -> httpx.AsyncClient:
    opened = await httpx.AsyncClient().get(link)
    assert opened.status_code == 303 and opened.headers["location"] == "/web/"
    cookie = opened.cookies.get("gridbot_web")
    assert (
        cookie
        and "httponly" in opened.headers["set-cookie"].lower()
        and "samesite=strict" in opened.headers["set-cookie"].lower()
    )
    return httpx.AsyncClient(base_url=link.split("/web/")[0], cookies={"gridbot_web": cookie})


CSRF = re.compile(r'name="csrf-token" content="([0-9a-f]+)"')


async def _csrf(web: httpx.AsyncClient, page: str = "/web/orders/1") -> str:
    """The session's CSRF token, as a form on `page` carries it."""
    return CSRF.search((await web.get(page)).text).group(1)


async def test_staff_sign_in_by_link_see_the_report_dispatch_and_close_it(db_url):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url, http_port=free_port())):
        await bind_members(tg, (STAFF, "13800000031"), (LEADER, "13800000013"))
        await register_resident(tg)
        tg.push_text(RESIDENT, "整栋楼停电了，一直没来电")  # 大事: both wait for staff triage
        await tg.wait_for(lambda: "工单 #1" in last_text(tg, RESIDENT.id))
        tg.push_text(RESIDENT, "楼下的路灯不亮了，晚上黑漆漆的")
        await tg.wait_for(lambda: "工单 #2" in last_text(tg, RESIDENT.id))

        link = await _link(tg, STAFF)
        async with await _signed_in(link) as web:
            board = (await web.get("/web/")).text
            assert "待分派（2）" in board and 'href="/web/orders/1"' in board and 'href="/web/orders/2"' in board
            page = (await web.get("/web/orders/1")).text
            assert "整栋楼停电了" in page and "13800000001" in page  # staff see the resident's phone
            csrf = await _csrf(web)
            done = await web.post("/web/orders/1/dispatch", data={"grid": "G01", "csrf": csrf})
            assert done.status_code == 303 and "已派给一网格" in (await web.get(done.headers["location"])).text
            await tg.wait_for(lambda: any("工单 #1" in (m.text or "") and "领单" in str(m.buttons) for m in tg.chat(G01)))
            assert (
                await web.post("/web/orders/2/close", data={"note": "", "csrf": csrf})
            ).status_code == 409  # a note is required
            closed = await web.post("/web/orders/2/close", data={"note": "已联系路灯所维修", "csrf": csrf})
            assert closed.status_code == 303
            await tg.wait_for(lambda: "已联系路灯所维修" in last_text(tg, RESIDENT.id))
            timeline = (await web.get("/web/orders/2")).text
            assert "关闭" in timeline and "已联系路灯所维修" in timeline
        assert (await httpx.AsyncClient().get(link)).status_code == 403  # a link opens once

        tg.push_text(RESIDENT, "楼上装修太吵了，电钻从早响到晚")
        await tg.wait_for(lambda: "工单 #3" in last_text(tg, RESIDENT.id))
        tg.push_text(STAFF, "/dispatch 3 G02")
        await tg.wait_for(lambda: "已派给二网格" in last_text(tg, STAFF.id))
        async with await _signed_in(await _link(tg, LEADER)) as leader:
            assert (await leader.get("/web/orders/3")).status_code == 403  # another grid's order
            assert (await leader.get("/web/orders/1")).status_code == 200
            assert "13800000001" not in (await leader.get("/web/orders/1")).text  # the contact only to staff
            leader_csrf = await _csrf(leader, "/web/")
            assert (await leader.post("/web/orders/1/close", data={"note": "x", "csrf": leader_csrf})).status_code == 403
            assert (await leader.get("/web/logout")).status_code == 200
            assert (await leader.get("/web/")).status_code == 401  # the session is over
    engine = make_engine(db_url)
    with Session(engine) as session:
        assert session.get(Order, 1).status == "dispatched" and session.get(Order, 2).status == "closed"


def test_a_link_expires_after_ten_minutes_and_a_member_cannot_have_one(db_url, clock):
    engine = make_engine(db_url)
    now = clock()
    with transaction(engine) as session:
        staff = session.get(Member, 5)
        token = web_auth.issue_link(session, staff, now)
    with transaction(engine) as session:
        try:
            web_auth.redeem_link(session, token, now + timedelta(minutes=10, seconds=1))
        except web_auth.LinkRefused as refused:
            assert "过期" in str(refused)
        else:
            raise AssertionError("an expired link opened")
    with transaction(engine) as session:
        session_token = web_auth.redeem_link(session, web_auth.issue_link(session, staff, now), now + timedelta(minutes=9))
        assert web_auth.member_of(session, session_token, now + timedelta(hours=1)).id == staff.id
        assert web_auth.member_of(session, session_token, now + timedelta(hours=13)) is None  # sessions expire


async def test_login_links_are_rate_limited_per_person(db_url, clock):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url), clock=clock):
        await bind_members(tg, (STAFF, "13800000031"), (LEADER, "13800000013"))
        links = [await _next_link(tg, STAFF) for _ in range(5)]
        assert len(set(links)) == 5
        tg.push_text(STAFF, "/web")
        await tg.wait_for(lambda: "太频繁" in last_text(tg, STAFF.id))
        assert "10 分钟后再试" in last_text(tg, STAFF.id) and not LINK.search(last_text(tg, STAFF.id))
        assert await _next_link(tg, LEADER)  # another person is not held back
        clock.advance(minutes=10, seconds=1)
        fresh = await _next_link(tg, STAFF)
        assert fresh not in links
        async with await _signed_in(fresh) as web:
            assert (await web.get("/web/")).status_code == 200
