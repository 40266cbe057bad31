"""工单台账: every order, filtered, searched, sorted and paged, for the workbench's ledger and its export.

The filters come from a query string and are parsed here (pure); a value that makes no sense is
dropped, not refused. One query counts the matches, one reads the page: both on indexed columns
(status, grid, category, created_at, id), so 10,000 orders stay quick. A grid leader sees their grid only.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import Building, Grid, Member, Order, Role
from storage.models import OrderStatus as S

PAGE_ROWS = 50
SORTS = {"newest": "最新", "oldest": "最早", "status": "状态", "grid": "网格"}
SEARCH_CHARS = 50
NO_GRID = "-"  # the grid filter's value for orders not yet sent to a grid


@dataclass(frozen=True)
class Filters:
    status: str = ""
    category: str = ""
    grid: str = ""  # a grid's code, or NO_GRID
    since: date | None = None  # created on or after (local date)
    until: date | None = None  # created on or before (local date)
    q: str = ""
    sort: str = "newest"
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> "Filters":
        status = params.get("status", "")
        sort = params.get("sort", "newest")
        page = params.get("page", "1")
        return cls(
            status=status if status in set(S) else "",
            category=params.get("category", "").strip()[:40],
            grid=params.get("grid", "").strip().upper()[:20],
            since=_date(params.get("since", "")),
            until=_date(params.get("until", "")),
            q=" ".join(params.get("q", "").split())[:SEARCH_CHARS],
            sort=sort if sort in SORTS else "newest",
            page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
        )

    def query_string(self, **changes) -> str:
        """These filters (with `changes`) as a query string, empty values left out."""
        shown = replace(self, **changes)
        values = {
            "status": shown.status,
            "category": shown.category,
            "grid": shown.grid,
            "since": shown.since.isoformat() if shown.since else "",
            "until": shown.until.isoformat() if shown.until else "",
            "q": shown.q,
            "sort": "" if shown.sort == "newest" else shown.sort,
            "page": "" if shown.page == 1 else str(shown.page),
        }
        return urlencode({name: value for name, value in values.items() if value})


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class Row:
    id: int
    created_at: datetime
    category: str
    tier: str
    urgent: bool
    status: str
    grid: str
    building: str
    claimer: str
    text: str


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int


def _matching(member: Member, filters: Filters, tz: ZoneInfo) -> list:
    """The WHERE conditions of `filters` for `member` (a grid leader: their grid only)."""
    conditions = []
    if member.role == Role.GRID_LEADER:
        conditions.append(Order.grid_id == member.grid_id)
    if filters.status:
        conditions.append(Order.status == filters.status)
    if filters.category:
        conditions.append(Order.category == filters.category)
    if filters.grid == NO_GRID:
        conditions.append(col(Order.grid_id).is_(None))
    elif filters.grid:
        conditions.append(Order.grid_id == select(Grid.id).where(Grid.code == filters.grid).scalar_subquery())
    if filters.since:
        conditions.append(Order.created_at >= datetime.combine(filters.since, time(), tz))
    if filters.until:
        conditions.append(Order.created_at < datetime.combine(filters.until + timedelta(days=1), time(), tz))
    if filters.q:
        number = filters.q.lstrip("#＃")
        text_matches = col(Order.text).contains(filters.q, autoescape=True)
        conditions.append(text_matches | (Order.id == int(number)) if number.isdigit() and len(number) < 10 else text_matches)
    return conditions


def _ordering(sort: str) -> list:
    newest = col(Order.id).desc()
    return {
        "oldest": [col(Order.id).asc()],
        "status": [col(Order.status).asc(), newest],
        "grid": [col(Grid.code).asc(), newest],
    }.get(sort, [newest])


def _rows(session: Session, conditions: list, sort: str, limit: int | None, offset: int = 0) -> list[Row]:
    claimer = aliased(Member)
    query = (
        select(
            Order.id,
            Order.created_at,
            Order.category,
            Order.tier,
            Order.urgent,
            Order.status,
            Grid.name,
            Building.name,
            claimer.name,
            Order.text,
        )
        .outerjoin(Grid, Grid.id == Order.grid_id)
        .outerjoin(Building, Building.id == Order.building_id)
        .outerjoin(claimer, claimer.id == Order.claimer_id)
        .where(*conditions)
        .order_by(*_ordering(sort))
        .offset(offset)
        .limit(limit)
    )
    return [
        Row(id, created, category, tier, bool(urgent), status, grid or "", building or "", who or "", text)
        for id, created, category, tier, urgent, status, grid, building, who, text in session.exec(query)
    ]


def page(session: Session, member: Member, filters: Filters, tz: ZoneInfo) -> Page:
    """One page of the ledger and how many orders match in all."""
    conditions = _matching(member, filters, tz)
    total = session.exec(select(func.count()).select_from(Order).where(*conditions)).one()
    pages = max(1, -(-total // PAGE_ROWS))
    shown = min(filters.page, pages)
    return Page(_rows(session, conditions, filters.sort, PAGE_ROWS, (shown - 1) * PAGE_ROWS), total, shown, pages)


def every_row(session: Session, member: Member, filters: Filters, tz: ZoneInfo) -> list[Row]:
    """Every matching order, in the chosen order (the export)."""
    return _rows(session, _matching(member, filters, tz), filters.sort, None)
