"""Helpers for the workbench's tests: a database with the fixture roster, orders seeded through the
lifecycle, a browser session (the same one-time link a chat /web gives), and the CSRF token."""

import re
from datetime import datetime, timedelta

import httpx
import pytest

from storage import orders, web_auth
from storage.db import make_engine, migrate, transaction
from storage.models import Member, Order, Resident
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER

CSRF = re.compile(r'name="csrf-token" content="([0-9a-f]+)"')
ORDER_LINK = re.compile(r'href="/web/orders/(\d+)"')
STAFF_ID, LEADER_ID, ADMIN_ID = 5, 3, 6  # 刘洋 staff, 王芳 grid leader of G01, 周敏 admin (tests/fixtures/roster)


@pytest.fixture
def web_db(database_url):
    """SQLite and PostgreSQL: migrated, the fixture roster imported."""
    engine = make_engine(database_url)
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
    engine.dispose()
    return database_url


def seed_order(session, text: str, at: datetime, category: str = "other", grid_id: int | None = None, phone="13800000001"):
    """A resident's order submitted at `at`; dispatched to `grid_id` by staff when given."""
    resident = Resident(name="张阿姨", phone=phone, building_id=1)
    session.add(resident)
    session.flush()
    order = orders.submit(session, Order(resident_id=resident.id, building_id=1, category=category, text=text), orders.SYSTEM, at)
    if grid_id is not None:
        staff = orders.Actor("member", STAFF_ID, "staff")
        orders.apply(session, order, "dispatch", staff, at + timedelta(minutes=5), grid_id=grid_id, dispatched_at=at)
    return order.id


def session_cookie(url: str, member_id: int, now: datetime) -> str:
    """A signed-in browser's cookie for `member_id`, by the one-time link a chat /web sends."""
    engine = make_engine(url)
    with transaction(engine) as session:
        member = session.get(Member, member_id)
        token = web_auth.redeem_link(session, web_auth.issue_link(session, member, now), now)
    engine.dispose()
    return token


def browser(root: str, cookie: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=root, cookies={"gridbot_web": cookie})


async def csrf(web: httpx.AsyncClient) -> str:
    return CSRF.search((await web.get("/web/")).text).group(1)


def shown_orders(html: str) -> list[int]:
    return [int(number) for number in ORDER_LINK.findall(html)]


async def served(root: str) -> str:
    """`root`, once the bot's HTTP server answers."""
    import asyncio

    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{root}/healthz")).status_code == 200:
                    return root
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"{root} never answered")
