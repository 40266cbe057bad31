"""An order's page through the running bot: reopen, escalate, mark urgent and close as the chat's use
cases do them (the card in the grid's fake group, the audit rows, the queued notices); a POST without
the session's CSRF token, or with another session's, is refused and writes nothing."""

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from storage import orders, people
from storage.db import make_engine, transaction
from storage.models import Order, OrderEvent, OutboxMessage
from tests.fake_telegram import FakeTelegram
from tests.running import bot_settings, running
from tests.web_client import ADMIN_ID, STAFF_ID, browser, csrf, seed_order, served, session_cookie, web_db

__all__ = ["web_db"]
G01, STAFF_GROUP = -1001, -2001
LIMING = orders.Actor("member", 1, "member", 1)


def _seed(url, now) -> tuple[int, int, int]:
    """#1 done by 李明 in 一网格, #2 and #3 waiting for triage."""
    engine = make_engine(url)
    with transaction(engine) as session:
        done = seed_order(session, "3号楼路灯不亮", now - timedelta(hours=5), grid_id=1)
        order = session.get(Order, done)
        orders.apply(session, order, "claim", LIMING, now - timedelta(hours=4), claimer_id=1, claimed_at=now)
        orders.apply(session, order, "finish", LIMING, now - timedelta(hours=3), done_at=now, finish_note="已换灯泡")
        waiting = seed_order(session, "小区门口占道经营，流动摊贩很多", now - timedelta(hours=2))
        third = seed_order(session, "楼道里有股煤气味", now - timedelta(hours=1))
        people.put_setting(session, "staff_chat:telegram", str(STAFF_GROUP))
    engine.dispose()
    return done, waiting, third


def _state(url, order_id):
    engine = make_engine(url)
    with Session(engine) as session:
        order = session.get(Order, order_id)
        moves = session.exec(select(OrderEvent.trigger, OrderEvent.actor, OrderEvent.note).where(OrderEvent.order_id == order_id))
        queued = session.exec(select(func.count()).select_from(OutboxMessage)).one()
        found = order, list(moves), queued
    engine.dispose()
    return found


async def test_staff_reopen_escalate_mark_urgent_and_close_from_the_order_page(web_db, clock):
    done, waiting, third = _seed(web_db, clock())
    async with FakeTelegram() as tg, running(settings := bot_settings(tg.root, web_db), clock=clock):
        root = await served(f"http://127.0.0.1:{settings.http_port}")
        async with browser(root, session_cookie(web_db, STAFF_ID, clock())) as web:
            token = await csrf(web)
            page = (await web.get(f"/web/orders/{done}")).text
            assert "李明" in page and "办结" in page and "已换灯泡" in page and "退回重办" in page

            reopened = await web.post(f"/web/orders/{done}/reopen", data={"note": "居民说还是不亮", "csrf": token})
            assert reopened.status_code == 303 and "返工" in (await web.get(reopened.headers["location"])).text
            order, moves, _ = _state(web_db, done)
            assert (order.status, order.claimer_id, order.reopens) == ("dispatched", None, 1)
            assert moves[-1] == ("reopen", f"member:{STAFF_ID}", "居民说还是不亮")
            await tg.wait_for(lambda: any("返工" in (m.text or "") and "领单" in str(m.buttons) for m in tg.chat(G01)))

            escalated = await web.post(f"/web/orders/{waiting}/escalate", data={"department": "城管执法中队", "csrf": token})
            assert escalated.status_code == 303
            order, moves, _ = _state(web_db, waiting)
            assert (order.status, order.department, order.tier) == ("escalated", "城管执法中队", "大事")
            assert moves[-1][:2] == ("escalate", f"member:{STAFF_ID}")

            assert (await web.post(f"/web/orders/{third}/urgent", data={"csrf": token})).status_code == 303
            order, moves, _ = _state(web_db, third)
            assert order.urgent and moves[-1][0] == "mark_urgent"
            await tg.wait_for(
                lambda: any(f"#{third}" in (m.text or "") and "收到" in str(m.buttons) for m in tg.chat(STAFF_GROUP))
            )
            assert (await web.post(f"/web/orders/{third}/urgent", data={"csrf": token})).status_code == 409  # once

            assert (await web.post(f"/web/orders/{third}/reopen", data={"csrf": token})).status_code == 409  # never sent out
            closed = await web.post(f"/web/orders/{third}/close", data={"note": "燃气公司已上门检查", "csrf": token})
            assert closed.status_code == 303 and _state(web_db, third)[0].status == "closed"
            page = (await web.get(f"/web/orders/{third}")).text
            assert "标为紧急" in page and "关闭" in page and "燃气公司已上门检查" in page and "刘洋" in page


async def test_a_post_without_the_sessions_csrf_token_is_refused_and_writes_nothing(web_db, clock):
    _, waiting, _ = _seed(web_db, clock())
    async with FakeTelegram() as tg, running(settings := bot_settings(tg.root, web_db), clock=clock):
        root = await served(f"http://127.0.0.1:{settings.http_port}")
        async with (
            browser(root, session_cookie(web_db, STAFF_ID, clock())) as web,
            browser(root, session_cookie(web_db, ADMIN_ID, clock())) as other,
        ):
            order, *before = _state(web_db, waiting)
            before.append((order.status, order.version))
            for form in ({"grid": "G01"}, {"grid": "G01", "csrf": "0" * 40}, {"grid": "G01", "csrf": await csrf(other)}):
                refused = await web.post(f"/web/orders/{waiting}/dispatch", data=form)
                assert refused.status_code == 403 and "刷新页面" in refused.text
            order, *after = _state(web_db, waiting)
            assert [*after, (order.status, order.version)] == before
            assert not [m for m in tg.chat(G01) if f"#{waiting}" in (m.text or "")]
            dispatched = await web.post(f"/web/orders/{waiting}/dispatch", data={"grid": "G01", "csrf": await csrf(web)})
            assert dispatched.status_code == 303 and _state(web_db, waiting)[0].status == "dispatched"


async def test_an_action_missing_its_field_says_what_to_fill_in_and_writes_nothing(web_db, clock):
    _, waiting, _ = _seed(web_db, clock())
    async with FakeTelegram() as tg, running(settings := bot_settings(tg.root, web_db), clock=clock):
        root = await served(f"http://127.0.0.1:{settings.http_port}")
        async with browser(root, session_cookie(web_db, STAFF_ID, clock())) as web:
            order, *before = _state(web_db, waiting)
            for action, field, reason in (
                ("dispatch", "grid", "请选择要派往的网格"),
                ("escalate", "department", "请选择或填写承办部门"),
                ("close", "note", "关闭工单请写一句说明"),
            ):
                refused = await web.post(f"/web/orders/{waiting}/{action}", data={field: "  ", "csrf": await csrf(web)})
                assert refused.status_code == 409 and reason in refused.text, (action, refused.status_code)
            order_after, *after = _state(web_db, waiting)
            assert after == before and (order_after.status, order_after.version) == (order.status, order.version)
