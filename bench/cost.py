"""What one resident's report costs in the handler path: SQL statements and CPU per report.

Drives handlers.router.handle directly (no transport, one thread) on a fresh SQLite file, for the
two paths a report takes:

- new reports: each resident alone in a building, so every report is filed (dispatched to the grid
  or carded to the staff);
- same thing offered: every resident in one building, so after the first six reports every report is
  answered "是不是和 #n 同一件事？".

bench/intake.py prints these beside its rates; `counting()` also tallies a whole run.

    .venv/bin/python bench/cost.py [REPORTS] [--profile]
"""

import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, event
from sqlmodel import select

from handlers.context import Services
from handlers.messages import Inbound
from handlers.router import handle
from storage.db import make_engine, migrate, transaction
from storage.models import Building, Grid, Identity, Resident
from storage.policy import load_policy
from storage.roster import apply_roster, read_roster
from tests.conftest import ROSTER, Clock

TEXTS = [
    "楼道里堆满了垃圾好几天没人清理",
    "小区门口路灯坏了",
    "楼上装修太吵了",
    "电动车在楼道里充电很危险",
    "想问一下医保怎么报销",
    "独居老人需要帮忙买菜",
]
WARM_UP = 20  # reports before counting: compiled statements cached, the models trained


@dataclass
class Tally:
    """SQL statements on every engine of this process, and the process's CPU time, since `counting()` began."""

    statements: int = 0
    cpu: float = field(default_factory=time.process_time)

    def per(self, reports: int, child: tuple[int, float] = (0, 0.0)) -> tuple[float, float]:
        """(statements, CPU ms) per report; `child`: what a handler process spent meanwhile (`children`)."""
        cpu = time.process_time() - self.cpu + child[1]
        return (self.statements + child[0]) / reports, cpu * 1000 / reports

    def line(self, reports: int, what: str = "whole process", child: tuple[int, float] = (0, 0.0)) -> str:
        statements, cpu = self.per(reports, child)
        apart = f" (the handler process: {child[1] * 1000 / reports:.2f} ms of it)" if child[1] else ""
        return f"  {what}: {statements:.1f} statements/report, {cpu:.2f} ms CPU/report{apart}"


def statements_so_far(_services) -> int:
    """Run in a handler process: the statements its engines have sent since it was first asked."""
    global _child_statements
    if _child_statements is None:
        _child_statements = 0

        def count(*_args) -> None:
            global _child_statements
            _child_statements += 1

        event.listen(Engine, "before_cursor_execute", count)
    return _child_statements


_child_statements: int | None = None


async def children() -> tuple[int, float]:
    """(statements, CPU seconds) of the running handler processes (bot/handler_process.py) so far."""
    from bot.handler_process import live

    statements, cpu = 0, 0.0
    for child in list(live):
        statements += await child.run(statements_so_far)
        fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return statements, cpu


def spent(before: tuple[int, float], after: tuple[int, float]) -> tuple[int, float]:
    return after[0] - before[0], after[1] - before[1]


@contextmanager
def counting() -> Iterator[Tally]:
    """Count every SQL statement sent on any engine (the sender's too) and the CPU spent meanwhile."""
    tally = Tally()

    def count(*_args) -> None:
        tally.statements += 1

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield tally
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def prepare(url: str, residents: int, one_building: bool) -> Engine:
    """The test roster; `residents` residents on Telegram, all in 1号楼 or each in a building of their own."""
    engine = make_engine(url)
    migrate(engine)
    with transaction(engine) as session:
        apply_roster(session, read_roster(ROSTER))
        first = session.exec(select(Building)).first()
        grids = list(session.exec(select(Grid).order_by(Grid.id)))
        for n in range(residents):
            building = first
            if not one_building:
                building = Building(name=f"{100 + n}号楼", grid_id=grids[n % len(grids)].id)
                session.add(building)
                session.flush()
            resident = Resident(name=f"居民{n}", building_id=building.id)
            session.add(resident)
            session.flush()
            user = str(10_000 + n)
            session.add(Identity(platform="telegram", user_id=user, chat_id=user, resident_id=resident.id))
    return engine


def report_cost(reports: int = 400, one_building: bool = False, profile: bool = False) -> tuple[float, float, dict[str, int]]:
    """(statements, CPU ms) per report through handle(), and the first words of the replies by count."""
    with tempfile.TemporaryDirectory() as folder:
        residents = reports + WARM_UP
        engine = prepare(f"sqlite:///{Path(folder) / 'cost.db'}", residents, one_building)
        services = Services(engine, load_policy(None), ZoneInfo("Asia/Shanghai"), Clock())

        def one(i: int):
            user = str(10_000 + i % residents)
            text = TEXTS[i % len(TEXTS)]
            inbound = Inbound("telegram", f"m{i}", user, user, False, "居民", text=text)
            return handle(services, inbound)

        for i in range(WARM_UP):
            one(i)
        replies: dict[str, int] = {}
        profiler = cProfile.Profile() if profile else None
        with counting() as tally:
            if profiler:
                profiler.enable()
            for i in range(WARM_UP, WARM_UP + reports):
                first = one(i)[0].text.split("\n")[0][:8]
                replies[first] = replies.get(first, 0) + 1
            if profiler:
                profiler.disable()
            statements, cpu = tally.per(reports)
        engine.dispose()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    return statements, cpu, replies


def handler_lines(reports: int = 400) -> list[str]:
    """One line per path: what a report costs in handle() alone (one thread, SQLite)."""
    lines = []
    for label, one_building in (("new reports", False), ("same thing offered", True)):
        statements, cpu, _ = report_cost(reports, one_building)
        lines.append(f"  handler, {label}: {statements:.1f} statements/report, {cpu:.2f} ms CPU/report")
    return lines


def main() -> None:
    reports = next((int(arg) for arg in sys.argv[1:] if arg.isdigit()), 400)
    profile = "--profile" in sys.argv
    for label, one_building in (("new reports", False), ("same thing offered", True)):
        statements, cpu, replies = report_cost(reports, one_building, profile)
        print(f"{label:<20} {statements:5.1f} statements/report  {cpu:6.2f} ms CPU/report   replies: {replies}")


if __name__ == "__main__":
    main()
