"""统计 /web/figures?month=YYYY-MM: the month's figures as `gridbot report` makes them (storage/report.py),
with its chart (storage/report_chart.py, CJK font) served as a PNG. Staff and admins see the community,
a grid leader their grid.

A month of 10,000 orders takes seconds to add up, so the report is kept per (month, grid) until an
order moves or points are earned: every such change writes an audit row with a newer id, and two
indexed MAX() reads tell whether the kept one still holds.
"""

import asyncio
from collections import OrderedDict
from threading import Lock

from sqlalchemy import func
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web.pages import Refused, Web, secured
from storage import figures, report, report_chart
from storage.models import Member, OrderEvent, PointsEntry, Role

KEPT = 12  # reports kept (months × grids); each is a few MB at most


class Kept:
    """The newest reports, by (month, grid, newest order event, newest points entry)."""

    def __init__(self):
        self.reports: OrderedDict[tuple, tuple[report.Report, list]] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple, make) -> tuple[report.Report, list]:
        with self.lock:
            if key in self.reports:
                self.reports.move_to_end(key)
                return self.reports[key]
        made = make(), []  # the list holds the chart once drawn
        with self.lock:
            self.reports[key] = made
            while len(self.reports) > KEPT:
                self.reports.popitem(last=False)
        return made


def _scope(member: Member) -> int | None:
    """None: the community (staff, admins); a grid leader: their grid."""
    if member.role == Role.GRID_LEADER and member.grid_id is not None:
        return member.grid_id
    if member.role in (Role.STAFF, Role.ADMIN):
        return None
    raise Refused("统计只对社区工作人员和网格长开放。", 403, "无权查看")


def figures_routes(web: Web) -> list[Route]:
    kept = Kept()
    services = web.services

    def month_of(request: Request) -> report.Month:
        asked = request.query_params.get("month", "")
        try:
            return report.Month.parse(asked, services.timezone)
        except ValueError:
            if asked:
                raise Refused("月份应写成 YYYY-MM，例如 2025-05。", 400, "月份有误") from None
            return report.Month.of(services.clock(), services.timezone)

    def read(request: Request):
        def work(session, member):
            month, grid_id = month_of(request), _scope(member)
            newest = (
                session.exec(select(func.max(OrderEvent.id))).one(),
                session.exec(select(func.max(PointsEntry.id))).one(),
            )
            key = (month.label, grid_id, *newest)
            return kept.get(key, lambda: report.build(session, services.policy, month, services.clock(), grid_id))

        return work

    async def page(request: Request) -> Response:
        member, (shown, _chart) = await web.read(request, read(request))
        return web.page(
            request,
            "figures.html",
            member=member,
            report=shown,
            ratios=figures.RATIOS,
            span_text=figures.span_text,
            previous=shown.month.previous.label,
            following=report.Month.of(shown.month.end, services.timezone).label,
        )

    async def chart(request: Request) -> Response:
        _member, (shown, drawn) = await web.read(request, read(request))
        if not drawn:
            drawn.append(await asyncio.to_thread(report_chart.chart_png, shown))
        response = secured(Response(drawn[0], media_type="image/png"))
        response.headers["Cache-Control"] = "private, max-age=60"
        return response

    return [web.route("/web/figures", page), web.route("/web/figures/chart.png", chart)]
