"""The web workbench in headless Chromium, as staff and a grid leader would use it: the login link comes
from the bot over the fake Bot API, each page is clicked through and photographed at 1366×768 and
390×844 (tests/artifacts/screens/), and what the pages do arrives in the fake chats and the database."""

import re
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlmodel import Session, select

from storage.db import make_engine
from storage.models import Grid, Member, Order
from tests.browser import chromium, shoot
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram, User
from tests.running import bot_settings, running
from tests.test_e2e_telegram import G01, RESIDENT, STAFF, bind_members, db_url, last_text, register_resident

__all__ = ["db_url"]
LEADER, ADMIN = User(513, "王芳"), User(541, "周敏")
LINK = re.compile(r"http://\S+/web/login/\S+")
WAYBILL = "SF1234567890123456789012345678"


async def link_for(tg: FakeTelegram, user: User) -> str:
    """The one-time link the bot sends `user` for `/web` in the private chat."""
    seen = len(tg.chat(user.id))
    tg.push_text(user, "/web")
    return await tg.wait_for(
        lambda: len(tg.chat(user.id)) > seen and (found := LINK.search(last_text(tg, user.id))) and found.group(0)
    )


async def report(tg: FakeTelegram, text: str, number: int) -> None:
    tg.push_text(RESIDENT, text)
    await tg.wait_for(lambda: f"工单 #{number}" in last_text(tg, RESIDENT.id))


async def told(page) -> str:
    """What the page says an action did: htmx swaps it in without a new address."""
    await page.locator(".told").wait_for()
    return await page.inner_text(".told")


def card_in(tg: FakeTelegram, chat: int, number: int):
    return next((m for m in tg.chat(chat) if f"工单 #{number}" in (m.text or "") and "领单" in str(m.buttons)), None)


async def test_staff_in_the_browser_sign_in_dispatch_and_close(db_url, tmp_path):
    clock = Clock(datetime.now(UTC))
    async with (
        FakeTelegram() as tg,
        running(bot_settings(tg.root, db_url), clock=clock),
        chromium(tmp_path / "staff-profile") as browser,
    ):
        await bind_members(tg, (STAFF, "13800000031"))
        await register_resident(tg)
        await report(tg, "整栋楼停电了，一直没来电", 1)  # 大事: waits for staff triage
        await report(tg, "楼下的路灯不亮了，晚上黑漆漆的", 2)
        await report(tg, f"快递单号{WAYBILL}的包裹放错楼了，麻烦问一下", 3)  # one long unbroken run
        page = await browser.new_page()

        link = await link_for(tg, STAFF)
        opened = await page.goto(link)
        assert opened.ok and page.url.endswith("/web/")
        board = page.locator("section", has_text="待分派")
        assert "整栋楼停电了" in await board.inner_text() and "路灯不亮了" in await board.inner_text()
        assert WAYBILL[:20] in await page.inner_text("main")
        await shoot(page, "board")  # the waybill number does not push the page wider than a phone

        await board.get_by_role("link", name="#1", exact=True).click()
        await page.wait_for_url("**/web/orders/1")
        assert "13800000001" in await page.inner_text("main")  # staff see the resident's phone
        await shoot(page, "order")
        assert card_in(tg, G01, 1) is None
        await page.get_by_label("派往网格").select_option("G01")
        await page.get_by_role("button", name="派单").click()
        assert "已派给一网格" in await told(page)
        await shoot(page, "order-dispatched")
        card = await tg.wait_for(lambda: card_in(tg, G01, 1))
        assert "停电" in card.text and "13800000001" not in card.text  # the group card keeps the phone private

        await page.get_by_role("link", name="工作台").click()
        await board.get_by_role("link", name="#2", exact=True).click()
        await page.get_by_label("关闭说明").fill("已联系路灯所维修，今晚修好")
        await page.get_by_role("button", name="关闭工单").click()
        assert "工单 #2 已关闭" in await told(page)
        assert "已联系路灯所维修" in await page.inner_text("main")  # the timeline shows the note
        await tg.wait_for(lambda: "已联系路灯所维修" in last_text(tg, RESIDENT.id))
        await page.get_by_role("link", name="工作台").click()
        assert await board.get_by_role("link", name="#1", exact=True).count() == 0  # dispatched: waits for a claim now
        assert await page.get_by_role("link", name="#2", exact=True).count() == 0  # closed: off the board
        await page.get_by_role("link", name="#3", exact=True).first.click()
        await page.wait_for_url("**/web/orders/3")
        await shoot(page, "order-long-text")

        second = await browser.new_page()  # the same link again, in a tab that is not signed in
        await browser.clear_cookies()
        refused = await second.goto(link)
        assert refused.status == 403 and "已经用过了" in await second.inner_text("main")
        await shoot(second, "login-link-used")
        assert (await second.goto(link.split("/web/")[0] + "/web/")).status == 401
        await shoot(second, "not-signed-in")

        stale = await link_for(tg, STAFF)
        clock.advance(minutes=10, seconds=1)
        expired = await second.goto(stale)
        assert expired.status == 403 and "已过期" in await second.inner_text("main")
        assert (await second.goto(link.split("/web/")[0] + "/web/")).status == 401  # no session came of it
    with Session(make_engine(db_url)) as session:
        assert session.get(Order, 1).status == "dispatched" and session.get(Order, 1).grid_id is not None
        assert session.get(Order, 2).status == "closed"


async def test_a_grid_leader_sees_their_grid_only(db_url, tmp_path):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)), chromium(tmp_path / "leader-profile") as browser:
        await bind_members(tg, (STAFF, "13800000031"), (LEADER, "13800000013"))
        await register_resident(tg)
        await report(tg, "楼上装修太吵了，电钻从早响到晚", 1)
        tg.push_text(STAFF, "/dispatch 1 G02")
        await tg.wait_for(lambda: "已派给二网格" in last_text(tg, STAFF.id))
        await report(tg, "2单元楼道里堆满了垃圾，好几天没人清理了", 2)  # 1号楼 is 一网格's: dispatched there
        await tg.wait_for(lambda: card_in(tg, G01, 2))
        page = await browser.new_page()

        await page.goto(await link_for(tg, LEADER))
        main = await page.inner_text("main")
        assert "#2" in main and "#1" not in main  # the board holds 一网格's orders only
        await shoot(page, "board-grid-leader")
        other = await page.goto(page.url.split("/web/")[0] + "/web/orders/1")
        assert other.status == 403 and "不在您的网格" in await page.inner_text("main")
        await shoot(page, "order-other-grid")
        own = await page.goto(page.url.split("/web/")[0] + "/web/orders/2")
        assert own.ok and "楼道里堆满了垃圾" in await page.inner_text("main")
        assert "13800000001" not in await page.inner_text("main")  # the resident's contact only to staff
        assert await page.get_by_role("button", name="关闭工单").count() == 0  # no actions for a leader
        await shoot(page, "order-grid-leader")

        await page.get_by_role("link", name="退出").click()
        assert "已退出" in await page.inner_text("main")
        await shoot(page, "signed-out")
        assert (await page.goto(page.url.split("/web/")[0] + "/web/")).status == 401


async def test_an_admin_exports_the_ledger_edits_the_roster_and_reads_the_figures(db_url, tmp_path):
    async with FakeTelegram() as tg, running(bot_settings(tg.root, db_url)), chromium(tmp_path / "admin-profile") as browser:
        await bind_members(tg, (ADMIN, "13800000041"))
        await register_resident(tg)
        await report(tg, "整栋楼停电了，一直没来电", 1)  # waits for triage
        await report(tg, "楼下的路灯不亮了，晚上黑漆漆的", 2)  # waits for triage
        await report(tg, "2单元楼道里堆满了垃圾，好几天没人清理了", 3)  # dispatched to 一网格
        await tg.wait_for(lambda: card_in(tg, G01, 3))
        page = await browser.new_page()
        await page.goto(await link_for(tg, ADMIN))

        await page.get_by_role("link", name="工单台账").click()
        await page.wait_for_url("**/web/orders")
        assert "共 3 张" in await page.inner_text("main")
        await shoot(page, "ledger")
        await page.locator("select[name=status]").select_option(label="待分派")
        await page.get_by_role("button", name="筛选").click()
        await page.wait_for_url("**/web/orders?*status=submitted*")
        assert "共 2 张" in await page.inner_text("main")
        await shoot(page, "ledger-filtered")
        async with page.expect_download() as downloading:
            await page.get_by_role("link", name="导出 Excel").click()
        download = await downloading.value
        assert download.suggested_filename.endswith(".xlsx")
        await download.save_as(tmp_path / download.suggested_filename)
        sheet = load_workbook(tmp_path / download.suggested_filename).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:6] == ("工单号", "提交时间", "类别", "分级", "紧急", "状态")
        assert sorted((row[0], row[5]) for row in rows[1:]) == [(1, "待分派"), (2, "待分派")]  # the filter holds
        assert any("停电" in row[9] for row in rows[1:])

        await page.get_by_role("link", name="花名册").click()
        members = page.locator("tr", has_text="13800000012")  # 赵强, 一网格
        await shoot(page, "roster")
        await members.get_by_role("link", name="编辑").click()
        await page.get_by_label("网格编号").fill("G02")
        await page.get_by_label("支部").fill("第二支部")
        await shoot(page, "roster-edit")
        await page.get_by_role("button", name="保存").click()
        assert "已修改" in await told(page)
        assert "第二支部" in await page.locator("tr", has_text="13800000012").inner_text()
        await page.locator("tr", has_text="13800000011").get_by_role("button", name="停用").click()  # 李明
        assert "已停用" in await told(page)
        await shoot(page, "roster-saved")

        await page.get_by_role("link", name="统计").click()
        assert "受理量" in await page.inner_text("main")
        chart = page.get_by_role("img")
        await chart.scroll_into_view_if_needed()
        assert await chart.evaluate("image => image.decode().then(() => image.naturalWidth)") > 0  # the chart is drawn
        await shoot(page, "figures")
    with Session(make_engine(db_url)) as session:
        zhao = session.exec(select(Member).where(Member.phone == "13800000012")).one()
        assert (zhao.branch, session.get(Grid, zhao.grid_id).code) == ("第二支部", "G02")
        assert session.exec(select(Member).where(Member.phone == "13800000011")).one().active is False
