"""工单台账 /web/orders: the filtered, sorted, paged list of orders, and its export as .xlsx."""

import asyncio

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web.pages import Web, secured
from storage import ledger, ledger_export
from storage.models import Grid, Role
from storage.models import OrderStatus as S

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ledger_routes(web: Web) -> list[Route]:
    tz = web.services.timezone

    async def listing(request: Request) -> Response:
        filters = ledger.Filters.parse(request.query_params)

        def read(session, member):
            grids = [] if member.role == Role.GRID_LEADER else list(session.exec(select(Grid).order_by(Grid.code)))
            return ledger.page(session, member, filters, tz), grids

        member, (shown, grids) = await web.read(request, read)
        return web.page(
            request,
            "ledger.html",
            member=member,
            filters=filters,
            shown=shown,
            grids=grids,
            statuses=list(S),
            sorts=ledger.SORTS,
            no_grid=ledger.NO_GRID,
        )

    async def export(request: Request) -> Response:
        filters = ledger.Filters.parse(request.query_params)
        _member, rows = await web.read(request, lambda session, member: ledger.every_row(session, member, filters, tz))
        stamp = web.local(web.services.clock(), "%Y%m%d-%H%M")
        title = f"{web.services.policy.community_name} 工单台账"
        body = await asyncio.to_thread(ledger_export.workbook_bytes, rows, web.services.policy, tz, title)
        filename = f"ledger-{stamp}.xlsx"  # ASCII: no resident data, no encoding trouble in old browsers
        return secured(Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'}))

    return [web.route("/web/orders", listing), web.route("/web/orders.xlsx", export)]
