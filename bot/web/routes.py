"""The workbench under /web/: sign-in by one-time link, sign-out, the board, and each page's routes
(bot/web/order.py, ledger.py, roster.py, figures.py); its static files (htmx, CSS) from /web/static/.

Every page checks the session and the role; a grid leader sees their grid only (403 otherwise).
The session cookie is HttpOnly, SameSite=Strict, Secure when the public URL is https; every POST
carries the session's CSRF token as well (bot/web/pages.py).
"""

import asyncio
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.web.figures import figures_routes
from bot.web.ledger import ledger_routes
from bot.web.order import PhotoFetcher, order_routes
from bot.web.pages import COOKIE, Web, secured
from bot.web.roster import roster_routes
from handlers.context import Services
from storage import web_auth, workbench
from storage.db import transaction


def web_routes(services: Services, photos: dict[str, PhotoFetcher] | None = None) -> list[BaseRoute]:
    web = Web(services)

    async def login(request: Request) -> Response:
        def redeem():
            with transaction(services.engine) as session:
                return web_auth.redeem_link(session, request.path_params["token"], services.clock())

        try:
            token = await asyncio.to_thread(redeem)
        except web_auth.LinkRefused as refused:
            return web.page(request, "message.html", 403, title="无法登录", message=str(refused))
        response = secured(RedirectResponse("/web/", status_code=303))
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(web_auth.SESSION_LIFETIME.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=web.secure,
        )
        return response

    async def logout(request: Request) -> Response:
        def end():
            with transaction(services.engine) as session:
                web_auth.end_session(session, request.cookies.get(COOKIE, ""), services.clock())

        await asyncio.to_thread(end)
        response = web.page(
            request, "message.html", title="已退出", message="您已退出网页工作台。需要时在聊天中发送 /web 重新登录。"
        )
        response.delete_cookie(COOKIE)
        return response

    async def board(request: Request) -> Response:
        member, shown = await web.read(
            request, lambda session, member: workbench.board(session, member, services.policy, services.clock())
        )
        return web.page(request, "board.html", member=member, board=shown)

    return [
        web.route("/web/login/{token}", login),
        web.route("/web/logout", logout, methods=["GET", "POST"]),
        web.route("/web/", board),
        *ledger_routes(web),
        *order_routes(web, photos or {}),
        *roster_routes(web),
        *figures_routes(web),
        Mount("/web/static", StaticFiles(directory=Path(__file__).with_name("static")), name="web-static"),
    ]
