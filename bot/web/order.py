"""An order's page /web/orders/{id}: what was reported, the timeline, photos, the place, and the staff's
actions (dispatch, escalate, close, reopen, mark urgent) through the chat's use cases (bot/web/actions.py).

A grid leader opens their grid's orders only (403), and never sees the resident's contact.
"""

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.actions import act
from bot.web.pages import Refused, Web, secured
from storage import workbench
from storage.models import Member, Order

PhotoFetcher = Callable[[str], Awaitable[bytes | None]]


def _visible(session, member: Member, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise Refused("没有找到这张工单。", 404, "没有这张工单")
    if not workbench.may_see(member, order):
        raise Refused("这张工单不在您的网格。", 403, "无权查看")
    return order


def order_routes(web: Web, photos: dict[str, PhotoFetcher]) -> list[Route]:
    async def page(request: Request) -> Response:
        order_id = request.path_params["order_id"]

        def read(session, member):
            _visible(session, member, order_id)
            return workbench.order_page(session, order_id)

        member, view = await web.read(request, read)
        return web.page(
            request,
            "order.html",
            member=member,
            view=view,
            told=request.query_params.get("told", "")[:200],
            photos_shown=view.order.origin_platform in photos,
        )

    async def action(request: Request) -> Response:
        order_id = request.path_params["order_id"]

        def run(session, member, form):
            order = _visible(session, member, order_id)
            return act(session, web.services, member, order, request.path_params["action"], form)

        _member, told = await web.change(request, run)
        return RedirectResponse(f"/web/orders/{order_id}?{urlencode({'told': told})}", status_code=303)

    async def photo(request: Request) -> Response:
        order_id, number = request.path_params["order_id"], request.path_params["number"]
        _member, order = await web.read(request, lambda session, member: _visible(session, member, order_id))
        fetch = photos.get(order.origin_platform)
        found = await fetch(order.photos[number]) if fetch and number < len(order.photos) else None
        if found is None:
            raise Refused("照片已无法取回。", 404, "没有这张照片")
        response = secured(Response(found, media_type="image/jpeg"))
        response.headers["Cache-Control"] = "private, max-age=3600"
        return response

    return [
        web.route("/web/orders/{order_id:int}", page),
        web.route("/web/orders/{order_id:int}/photos/{number:int}", photo),
        web.route("/web/orders/{order_id:int}/{action}", action, methods=["POST"]),
    ]
