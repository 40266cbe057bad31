"""The workbench's pages under /web/: sign-in by one-time link, the board, an order's page, its actions.

Every page checks the session and the role; a grid leader sees their grid only (403 otherwise).
Forms post back with the session cookie (HttpOnly, SameSite=Strict; Secure when the public URL is
https), so another site cannot make a signed-in browser act.
"""

import asyncio
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.web.actions import ActionRefused, act
from handlers.context import Services
from storage import order_cards, web_auth, workbench
from storage.db import transaction
from storage.models import Member, Order

COOKIE = "gridbot_web"
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape())


def web_routes(services: Services) -> list[Route]:
    secure = services.public_url.startswith("https://")

    def page(name: str, status: int = 200, **values) -> HTMLResponse:
        values.setdefault("policy", services.policy)
        values.setdefault("status_name", order_cards.status_name)
        values.setdefault("local", lambda moment: moment.astimezone(services.timezone).strftime("%m-%d %H:%M") if moment else "")
        return HTMLResponse(TEMPLATES.get_template(name).render(**values), status_code=status)

    def signed_in(request: Request, session) -> Member | None:
        return web_auth.member_of(session, request.cookies.get(COOKIE), services.clock())

    async def login(request: Request) -> Response:
        def redeem():
            with transaction(services.engine) as session:
                return web_auth.redeem_link(session, request.path_params["token"], services.clock())

        try:
            token = await asyncio.to_thread(redeem)
        except web_auth.LinkRefused as refused:
            return page("message.html", 403, title="无法登录", message=str(refused), member=None)
        response = RedirectResponse("/web/", status_code=303)
        response.set_cookie(
            COOKIE, token, max_age=int(web_auth.SESSION_LIFETIME.total_seconds()), httponly=True, samesite="strict", secure=secure
        )
        return response

    async def logout(request: Request) -> Response:
        def end():
            with transaction(services.engine) as session:
                web_auth.end_session(session, request.cookies.get(COOKIE, ""), services.clock())

        await asyncio.to_thread(end)
        response = page(
            "message.html", title="已退出", message="您已退出网页工作台。需要时在聊天中发送 /web 重新登录。", member=None
        )
        response.delete_cookie(COOKIE)
        return response

    async def board(request: Request) -> Response:
        def read():
            with transaction(services.engine) as session:
                member = signed_in(request, session)
                if member is None:
                    return None, None
                return member, workbench.board(session, member, services.policy, services.clock())

        member, shown = await asyncio.to_thread(read)
        if member is None:
            return _not_signed_in(page)
        return page("board.html", member=member, board=shown)

    async def order(request: Request) -> Response:
        def read():
            with transaction(services.engine) as session:
                member = signed_in(request, session)
                shown = workbench.order_page(session, request.path_params["order_id"]) if member else None
                return member, shown

        member, shown = await asyncio.to_thread(read)
        if member is None:
            return _not_signed_in(page)
        if shown is None:
            return page("message.html", 404, title="没有这张工单", message="没有找到这张工单。", member=member)
        if not workbench.may_see(member, shown.order):
            return page("message.html", 403, title="无权查看", message="这张工单不在您的网格。", member=member)
        return page("order.html", member=member, view=shown, told=request.query_params.get("told", ""))

    async def action(request: Request) -> Response:
        form = dict(await request.form())

        def run():
            with transaction(services.engine) as session:
                member = signed_in(request, session)
                if member is None:
                    return None, None
                target = session.get(Order, request.path_params["order_id"])
                if target is None or not workbench.may_see(member, target):
                    return member, ActionRefused("这张工单不在您的网格。")
                try:
                    return member, act(
                        session,
                        member,
                        target,
                        request.path_params["action"],
                        form,
                        services.policy,
                        services.timezone,
                        services.clock(),
                    )
                except ActionRefused as refused:
                    return member, refused

        member, told = await asyncio.to_thread(run)
        if member is None:
            return _not_signed_in(page)
        if isinstance(told, ActionRefused):
            return page(
                "message.html",
                403 if "网格" in str(told) or "权限" in str(told) else 409,
                title="未能完成",
                message=str(told),
                member=member,
            )
        return RedirectResponse(f"/web/orders/{request.path_params['order_id']}?{urlencode({'told': told})}", status_code=303)

    return [
        Route("/web/login/{token}", login),
        Route("/web/logout", logout, methods=["GET", "POST"]),
        Route("/web/", board),
        Route("/web/orders/{order_id:int}", order),
        Route("/web/orders/{order_id:int}/{action}", action, methods=["POST"]),
    ]


def _not_signed_in(page) -> Response:
    return page("message.html", 401, title="请先登录", message="请在与机器人的私聊中发送 /web，打开收到的链接登录。", member=None)
