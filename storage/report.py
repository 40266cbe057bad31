"""A month's report read from the database: the figures (storage/figures.py) overall, by grid and
by category, the members' month, and the ledger of the month's orders. Pure data; the workbook and
the chart are drawn from it in storage/report_workbook.py and storage/report_chart.py."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage import figures, order_cards
from storage.figures import Figures, OrderFacts
from storage.models import Grid, Member, Order, OrderEvent, PointsEntry
from storage.policy import Policy

UNASSIGNED = "未分派"
EVENT_CHUNK = 2000  # order ids per IN (…): well below every driver's parameter limit


@dataclass(frozen=True)
class Month:
    first: date  # the 1st of the month
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> "Month":
        """`2025-05` → that month; ValueError on anything else."""
        year, _, month = text.strip().partition("-")
        if not (year.isdigit() and month.isdigit() and len(year) == 4 and 1 <= int(month) <= 12):
            raise ValueError(f"月份应写成 YYYY-MM，例如 2025-05，收到：{text!r}")
        return cls(date(int(year), int(month), 1), tz)

    @classmethod
    def of(cls, moment: datetime, tz: ZoneInfo) -> "Month":
        local = moment.astimezone(tz)
        return cls(date(local.year, local.month, 1), tz)

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def title(self) -> str:
        return f"{self.first.year}年{self.first.month}月"

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, 1, tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        year, month = (self.first.year + 1, 1) if self.first.month == 12 else (self.first.year, self.first.month + 1)
        return datetime(year, month, 1, tzinfo=self.tz)

    @property
    def previous(self) -> "Month":
        year, month = (self.first.year - 1, 12) if self.first.month == 1 else (self.first.year, self.first.month - 1)
        return Month(date(year, month, 1), self.tz)


@dataclass(frozen=True)
class MemberLine:
    member_id: int
    name: str
    grid: str
    claimed: int  # 领单 moves in the month
    finished: int  # 办结 moves in the month
    points: int  # 先锋积分 earned in the month: what /points and /rank show


@dataclass(frozen=True)
class LedgerLine:
    facts: OrderFacts
    category: str
    grid: str
    status: str
    claimer: str


@dataclass(frozen=True)
class Report:
    community: str
    month: Month
    made_at: datetime
    overall: Figures
    by_grid: list[tuple[str, Figures]]
    by_category: list[tuple[str, Figures]]
    members: list[MemberLine]
    ledger: list[LedgerLine]


def month_facts(session: Session, policy: Policy, start: datetime, end: datetime, grid_id: int | None = None) -> list[OrderFacts]:
    """The facts of every order created in [start, end) (of one grid, when given)."""
    query = select(Order).where(Order.created_at >= start, Order.created_at < end).order_by(Order.id)
    if grid_id is not None:
        query = query.where(Order.grid_id == grid_id)
    month_orders = list(session.exec(query))
    trails: dict[int, list[OrderEvent]] = defaultdict(list)
    ids = [order.id for order in month_orders]
    for lo in range(0, len(ids), EVENT_CHUNK):
        chunk = ids[lo : lo + EVENT_CHUNK]
        for event in session.exec(select(OrderEvent).where(col(OrderEvent.order_id).in_(chunk)).order_by(OrderEvent.id)):
            trails[event.order_id].append(event)
    return [figures.facts(order, trails[order.id], policy.limits_for(order.category)) for order in month_orders]


def build(session: Session, policy: Policy, month: Month, now: datetime, grid_id: int | None = None) -> Report:
    """The month's report; of one grid (its orders and its members) when `grid_id` is given."""
    rows = month_facts(session, policy, month.start, month.end, grid_id=grid_id)
    grids = {grid.id: grid for grid in session.exec(select(Grid).order_by(Grid.code)) if grid_id in (None, grid.id)}
    members = {member.id: member for member in session.exec(select(Member)) if grid_id in (None, member.grid_id)}
    grid_name = lambda grid_id: grids[grid_id].name if grid_id in grids else UNASSIGNED
    by_grid: dict[str, list[OrderFacts]] = {grid.name: [] for grid in grids.values()}
    by_category: dict[str, list[OrderFacts]] = {category.name: [] for category in policy.categories.values()}
    for row in rows:
        by_grid.setdefault(grid_name(row.grid_id), []).append(row)
        by_category.setdefault(policy.category(row.category).name, []).append(row)
    ledger = [
        LedgerLine(
            row,
            policy.category(row.category).name,
            grid_name(row.grid_id),
            order_cards.STATUS_NAMES.get(row.status, row.status),
            members[row.claimer_id].name if row.claimer_id in members else "",
        )
        for row in rows
    ]
    return Report(
        community=policy.community_name + (f" {grids[grid_id].name}" if grid_id in grids else ""),
        month=month,
        made_at=now,
        overall=figures.figures_of(rows),
        by_grid=[(name, figures.figures_of(group)) for name, group in by_grid.items()],
        by_category=[(name, figures.figures_of(group)) for name, group in by_category.items()],
        members=member_lines(session, members, grids, month),
        ledger=ledger,
    )


def member_lines(session: Session, members: dict[int, Member], grids: dict[int, Grid], month: Month) -> list[MemberLine]:
    """Every member who claimed, finished or earned points in the month, most points first."""
    points = {
        member_id: int(score)
        for member_id, score in session.exec(
            select(PointsEntry.member_id, func.sum(PointsEntry.delta))
            .where(PointsEntry.at >= month.start, PointsEntry.at < month.end)
            .group_by(PointsEntry.member_id)
        )
    }
    moves = Counter(
        (actor, trigger)
        for actor, trigger in session.exec(
            select(OrderEvent.actor, OrderEvent.trigger).where(
                OrderEvent.at >= month.start, OrderEvent.at < month.end, col(OrderEvent.trigger).in_(("claim", "finish"))
            )
        )
    )
    active = set(points) | {int(actor.split(":")[1]) for actor, _ in moves if actor.startswith("member:")}
    lines = [
        MemberLine(
            member_id,
            members[member_id].name,
            grids[members[member_id].grid_id].name if members[member_id].grid_id in grids else "",
            moves[(f"member:{member_id}", "claim")],
            moves[(f"member:{member_id}", "finish")],
            points.get(member_id, 0),
        )
        for member_id in active
        if member_id in members
    ]
    return sorted(lines, key=lambda line: (-line.points, line.name))
