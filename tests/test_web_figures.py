"""统计 through the running bot: the month's figures as `gridbot report` computes them, its chart as a
PNG, a grid leader's own grid only, a new order counted at once (the kept report is not stale)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage import orders, report
from storage.db import make_engine, transaction
from storage.models import Order
from storage.policy import load_policy
from tests.fake_telegram import FakeTelegram
from tests.running import bot_settings, running
from tests.web_client import LEADER_ID, STAFF_ID, browser, seed_order, served, session_cookie, web_db

__all__ = ["web_db"]
SHANGHAI = ZoneInfo("Asia/Shanghai")
LIMING = orders.Actor("member", 1, "member", 1)


def _seed(url, now) -> None:
    """Six orders this month (three in 一网格, two claimed), two in 二网格, one waiting; one last month."""
    engine = make_engine(url)
    with transaction(engine) as session:
        for hours in (30, 20, 10):
            order_id = seed_order(session, "楼道灯坏了", now - timedelta(hours=hours), category="facility", grid_id=1)
            if hours != 10:
                order = session.get(Order, order_id)
                orders.apply(session, order, "claim", LIMING, now - timedelta(hours=hours - 1), claimer_id=1, claimed_at=now)
        for hours in (25, 15):
            seed_order(session, "垃圾没人清", now - timedelta(hours=hours), grid_id=2)
        seed_order(session, "噪音扰民", now - timedelta(hours=5))
        seed_order(session, "上个月的事", now - timedelta(days=40), grid_id=1)
    engine.dispose()


def _figures(url, now, grid_id=None) -> report.Report:
    engine = make_engine(url)
    with Session(engine) as session:
        made = report.build(session, load_policy(None), report.Month.of(now, SHANGHAI), now, grid_id)
    engine.dispose()
    return made


async def test_the_months_figures_and_chart_for_staff_and_a_grid_leader(web_db, clock):
    _seed(web_db, clock())
    month = report.Month.of(clock(), SHANGHAI).label
    async with FakeTelegram() as tg, running(settings := bot_settings(tg.root, web_db), clock=clock):
        root = await served(f"http://127.0.0.1:{settings.http_port}")
        async with browser(root, session_cookie(web_db, STAFF_ID, clock())) as web:
            page = await web.get("/web/figures", params={"month": month})
            expected = _figures(web_db, clock())
            assert page.status_code == 200 and expected.overall.intake == 6
            assert "受理量<b>6</b>" in page.text
            response = expected.overall.response
            assert response.whole == 5 and f"响应率<b>{response.text()}</b>{response.part} / {response.whole}" in page.text
            assert "一网格" in page.text and "二网格" in page.text and "李明" in page.text
            assert "受理量<b>6</b>" in (await web.get("/web/figures")).text  # this month when none is named

            chart = await web.get("/web/figures/chart.png", params={"month": month})
            assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
            assert chart.content.startswith(b"\x89PNG") and len(chart.content) > 10_000

            engine = make_engine(web_db)
            with transaction(engine) as session:
                seed_order(session, "又一件事", clock() - timedelta(hours=1))
            engine.dispose()
            assert "受理量<b>7</b>" in (await web.get("/web/figures", params={"month": month})).text

            assert (await web.get("/web/figures", params={"month": "2026-13"})).status_code == 400
            earlier = (await web.get("/web/figures", params={"month": report.Month.of(clock(), SHANGHAI).previous.label})).text
            assert "受理量<b>1</b>" in earlier

        async with browser(root, session_cookie(web_db, LEADER_ID, clock())) as leader:
            mine = (await leader.get("/web/figures", params={"month": month})).text
            assert "受理量<b>3</b>" in mine and "一网格" in mine and "二网格" not in mine
            assert _figures(web_db, clock(), grid_id=1).overall.intake == 3
            assert (await leader.get("/web/figures/chart.png", params={"month": month})).content.startswith(b"\x89PNG")
