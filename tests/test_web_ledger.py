"""工单台账 through the running bot's HTTP server: filters, search, sort, pages, the xlsx export with the
same filters, and a grid leader kept to their grid (ledger, export, order page)."""

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from storage.db import make_engine, transaction
from tests.fake_telegram import FakeTelegram
from tests.running import bot_settings, running
from tests.web_client import LEADER_ID, STAFF_ID, browser, seed_order, served, session_cookie, shown_orders, web_db

__all__ = ["web_db"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _seed(url, now) -> dict[str, list[int]]:
    """120 orders over 120 hours: 40 waiting for triage, 40 in G01, 40 in G02; two to find by their words."""
    engine = make_engine(url)
    made: dict[str, list[int]] = {"triage": [], "G01": [], "G02": []}
    with transaction(engine) as session:
        for hour in range(120):
            at = now - timedelta(hours=120 - hour)
            where = ("triage", "G01", "G02")[hour % 3]
            text = {0: "楼道堆满杂物", 1: "路灯坏了，电话13812345678", 2: "下水道堵了"}[hour % 3]
            if hour in (10, 11):
                text = "电梯困人，按钮失灵"
            grid_id = {"triage": None, "G01": 1, "G02": 2}[where]
            category = "facility" if hour % 3 == 1 else "other"
            made[where].append(seed_order(session, text, at, category=category, grid_id=grid_id))
    engine.dispose()
    return made


async def test_the_ledger_filters_searches_sorts_pages_and_exports_what_it_shows(web_db, clock):
    made = _seed(web_db, clock())
    async with FakeTelegram() as tg, running(settings := bot_settings(tg.root, web_db), clock=clock):
        root = await served(f"http://127.0.0.1:{settings.http_port}")
        async with browser(root, session_cookie(web_db, STAFF_ID, clock())) as web:
            first = await web.get("/web/orders")
            assert first.status_code == 200 and "共 120 张" in first.text and "第 1 / 3 页" in first.text
            assert shown_orders(first.text) == list(range(120, 70, -1))  # newest first, 50 a page
            last = (await web.get("/web/orders", params={"page": 3})).text
            assert shown_orders(last) == list(range(20, 0, -1))
            assert "138****5678" in first.text and "13812345678" not in first.text  # words masked in the list

            g01 = (await web.get("/web/orders", params={"grid": "G01", "status": "dispatched", "sort": "oldest"})).text
            assert "共 40 张" in g01 and shown_orders(g01) == made["G01"]
            waiting = (await web.get("/web/orders", params={"status": "submitted"})).text
            assert set(shown_orders(waiting)) == set(made["triage"])
            found = (await web.get("/web/orders", params={"q": "电梯困人"})).text
            assert shown_orders(found) == [12, 11]
            assert shown_orders((await web.get("/web/orders", params={"q": "#7"})).text) == [7]
            day = (clock() - timedelta(hours=30)).astimezone(SHANGHAI).date()
            until = (clock() - timedelta(hours=10)).astimezone(SHANGHAI).date()
            recent = (await web.get("/web/orders", params={"since": str(day), "until": str(until), "category": "facility"})).text
            created = {n: clock() - timedelta(hours=121 - n) for n in made["G01"]}  # order n: hour n - 1
            expected = [n for n, at in created.items() if day <= at.astimezone(SHANGHAI).date() <= until]
            assert expected and shown_orders(recent) == sorted(expected, reverse=True)

            exported = await web.get("/web/orders.xlsx", params={"grid": "G02", "q": "下水道"})
            assert exported.status_code == 200 and "spreadsheetml" in exported.headers["content-type"]
            sheet = load_workbook(io.BytesIO(exported.content)).active
            rows = list(sheet.iter_rows(values_only=True))
            assert rows[0][:6] == ("工单号", "提交时间", "类别", "分级", "紧急", "状态")
            assert [row[0] for row in rows[1:]] == sorted(set(made["G02"]) - {12}, reverse=True)  # #12: 电梯困人
            assert {row[5] for row in rows[1:]} == {"待领单"} and {row[6] for row in rows[1:]} == {"二网格"}

        async with browser(root, session_cookie(web_db, LEADER_ID, clock())) as leader:
            mine = (await leader.get("/web/orders", params={"grid": "G02"})).text
            assert "共 0 张" in mine  # asking for another grid shows nothing of it
            everything = (await leader.get("/web/orders")).text
            assert "共 40 张" in everything and set(shown_orders(everything)) == set(made["G01"])
            book = load_workbook(io.BytesIO((await leader.get("/web/orders.xlsx")).content)).active
            assert sorted(row[0] for row in book.iter_rows(min_row=2, values_only=True)) == sorted(made["G01"])
            assert (await leader.get(f"/web/orders/{made['G02'][0]}")).status_code == 403
            assert (await leader.get(f"/web/orders/{made['triage'][0]}")).status_code == 403
            assert (await leader.get(f"/web/orders/{made['G01'][0]}")).status_code == 200

        assert (await browser(root, "not-a-session").get("/web/orders.xlsx")).status_code == 401
