"""What every workbench page shares: the templates, the signed-in member, the CSRF check, refusals.

A page's work runs in a worker thread inside one transaction; a `Refused` raised there rolls it back,
so a refused change writes nothing. Every POST carries the session's CSRF token (a hidden field, or
the `X-CSRF-Token` header); a missing or wrong one is refused with 403 before the database is opened.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from handlers.context import Services
from storage import order_cards, web_auth
from storage.db import transaction
from storage.models import Member, Role

COOKIE = "gridbot_web"
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape())
# Nothing is loaded from elsewhere; no other site may frame the pages; links leave no Referer behind.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
STAFF_ROLES = (Role.STAFF, Role.ADMIN)


class Refused(Exception):
    """Shown to the person as it is: a short Chinese reason, with the page's HTTP status."""

    def __init__(self, text: str, status: int = 409, title: str = "未能完成"):
        super().__init__(text)
        self.text, self.status, self.title = text, status, title
        self.viewer: Viewer | None = None  # who was signed in when it was refused, for the page's header


def not_signed_in() -> Refused:
    return Refused("请在与机器人的私聊中发送 /web，打开收到的链接登录。", 401, "请先登录")


def stale_form() -> Refused:
    return Refused("页面已过期或来源不明，请刷新页面后重试。", 403)


def require_staff(member: Member) -> None:
    if member.role not in STAFF_ROLES:
        raise Refused("这个操作需要社区工作人员权限。", 403, "无权操作")


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, as the templates show them: a plain copy that outlives the transaction."""

    id: int
    name: str
    role: str
    grid_id: int | None

    @classmethod
    def of(cls, member: Member) -> "Viewer":
        return cls(member.id, member.name, member.role, member.grid_id)


@dataclass(frozen=True)
class Web:
    services: Services

    @property
    def secure(self) -> bool:
        return self.services.public_url.startswith("https://")

    def local(self, moment, pattern: str = "%m-%d %H:%M") -> str:
        return moment.astimezone(self.services.timezone).strftime(pattern) if moment else ""

    def page(self, request: Request, name: str, status: int = 200, **values) -> HTMLResponse:
        token = request.cookies.get(COOKIE)
        values.setdefault("member", None)
        values.setdefault("policy", self.services.policy)
        values.setdefault("status_name", order_cards.status_name)
        values.setdefault("status_names", order_cards.STATUS_NAMES)
        values.setdefault("summary", order_cards.summary)
        values.setdefault("local", self.local)
        values.setdefault("csrf", web_auth.csrf_token(token) if token else "")
        values.setdefault("path", request.url.path)
        return secured(HTMLResponse(TEMPLATES.get_template(name).render(**values), status_code=status))

    def refusal(self, request: Request, refused: Refused, member: Viewer | None = None) -> HTMLResponse:
        return self.page(request, "message.html", refused.status, title=refused.title, message=refused.text, member=member)

    def route(self, path: str, handler: Callable[[Request], Awaitable[Response]], methods=("GET",)) -> Route:
        """A page's route; a `Refused` its handler raises is shown as the refusal page."""

        async def shown(request: Request) -> Response:
            try:
                return await handler(request)
            except Refused as refused:
                return self.refusal(request, refused, refused.viewer)

        return Route(path, shown, methods=list(methods))

    async def read(self, request: Request, work: Callable[[Session, Member], Any]) -> tuple[Viewer, Any]:
        """`work(session, member)` for the signed-in member; raises `Refused` otherwise."""
        return await self._run(request, lambda session, member: work(session, member))

    async def change(self, request: Request, work: Callable[[Session, Member, dict], Any]) -> tuple[Viewer, Any]:
        """A POST: the CSRF token checked first, then `work(session, member, form)` in one transaction."""
        token = request.cookies.get(COOKIE)
        if not token:
            raise not_signed_in()
        form = await request.form()
        if not web_auth.csrf_ok(token, request.headers.get("x-csrf-token") or form.get("csrf")):
            raise stale_form()
        return await self._run(request, lambda session, member: work(session, member, form))

    async def _run(self, request: Request, work) -> tuple[Viewer, Any]:
        def in_transaction():
            viewer = None
            try:
                with transaction(self.services.engine) as session:
                    member = web_auth.member_of(session, request.cookies.get(COOKIE), self.services.clock())
                    if member is None:
                        raise not_signed_in()
                    viewer = Viewer.of(member)
                    return viewer, work(session, member)
            except Refused as refused:
                refused.viewer = viewer
                raise

        return await asyncio.to_thread(in_transaction)


def secured(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response
