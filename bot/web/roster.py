"""花名册 /web/roster (placeholder until its pages land)."""

from starlette.routing import Route

from bot.web.pages import Web


def roster_routes(web: Web) -> list[Route]:
    return []
