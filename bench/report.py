"""Report time for a month of N orders (default 10,000): reading the figures, the workbook, the chart.

The month is written straight into SQLite (orders with their audit trail: dispatched, claimed,
finished, rated, some reopened or cancelled), then `gridbot report`'s steps are timed one by one.

    .venv/bin/python bench/report.py [N] [DATABASE_URL]
"""

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from storage.db import make_engine, migrate, transaction
from storage.models import Building, Member, Order, OrderEvent, PointsEntry, Resident
from storage.policy import load_policy
from storage.report import Month, build
from storage.report_chart import chart_png
from storage.report_workbook import workbook_bytes
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER

TZ = ZoneInfo("Asia/Shanghai")
MONTH = Month.parse("2026-11", TZ)
CATEGORIES = ["sanitation", "property", "noise", "dispute", "care", "facilities"]


def seed(url: str, n: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    rng = random.Random(14)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        buildings = list(session.exec(select(Building)).scalars())
        members = [m for m in session.exec(select(Member)).scalars() if m.grid_id]
        resident = Resident(name="居民")
        session.add(resident)
        session.flush()
        orders, trail, points = [], [], []
        for number in range(1, n + 1):
            created = MONTH.start.astimezone(UTC) + timedelta(minutes=rng.randrange(0, 29 * 24 * 60))
            building = rng.choice(buildings)
            member = rng.choice([m for m in members if m.grid_id == building.grid_id] or members)
            fate = rng.random()
            events = [("submit", created), ("dispatch", created)]
            status, rating, reopens = "dispatched", None, 0
            if fate < 0.05:
                events.append(("cancel", created + timedelta(hours=1)))
                status = "cancelled"
            elif fate > 0.1:
                claimed = created + timedelta(minutes=rng.randrange(5, 300))
                done = claimed + timedelta(hours=rng.randrange(1, 60))
                events += [("claim", claimed), ("finish", done)]
                status = "done"
                if fate > 0.9:
                    events.append(("reopen", done + timedelta(hours=2)))
                    status, reopens = "dispatched", 1
                elif fate > 0.3:
                    rating = rng.choice([3, 4, 5, 5, 5])
                    events.append(("rate", done + timedelta(hours=5)))
                    status = "closed"
                    points.append(
                        {"member_id": member.id, "delta": 5, "reason": "order_closed", "ref": f"order:{number}", "at": done}
                    )
            orders.append(
                {
                    "id": number,
                    "resident_id": resident.id,
                    "building_id": building.id,
                    "grid_id": building.grid_id,
                    "category": rng.choice(CATEGORIES),
                    "tier": "小事",
                    "status": status,
                    "text": "楼道里堆满了垃圾",
                    "photos": [],
                    "claimer_id": member.id if status in ("done", "closed") else None,
                    "rating": rating,
                    "reopens": reopens,
                    "version": len(events),
                    "created_at": created,
                    "origin_platform": "telegram",
                }
            )
            trail += [
                {
                    "order_id": number,
                    "actor": f"member:{member.id}",
                    "trigger": trigger,
                    "from_status": "",
                    "to_status": "",
                    "at": at,
                }
                for trigger, at in events
            ]
        session.execute(insert(Order), orders)
        session.execute(insert(OrderEvent), trail)
        session.execute(insert(PointsEntry), points)
    engine.dispose()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/report.db"
    started = time.perf_counter()
    seed(url, n)
    print(f"seeded {n} orders in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
    engine, policy = make_engine(url), load_policy(None)
    timings = {}
    started = time.perf_counter()
    with transaction(engine) as session:
        made = build(session, policy, MONTH, datetime.now(UTC))
    timings["figures (read + compute)"] = time.perf_counter() - started
    started = time.perf_counter()
    book = workbook_bytes(made)
    timings["workbook"] = time.perf_counter() - started
    started = time.perf_counter()
    chart = chart_png(made)
    timings["chart"] = time.perf_counter() - started
    for step, seconds in timings.items():
        print(f"{step:<26} {seconds:6.2f} s")
    print(f"{'total':<26} {sum(timings.values()):6.2f} s   workbook {len(book) // 1024} KiB, chart {len(chart) // 1024} KiB")
    print(f"受理量 {made.overall.intake} · 响应率 {made.overall.response.text()} · 满意率 {made.overall.satisfied.text()}")


if __name__ == "__main__":
    main()
