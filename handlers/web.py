"""`/web`: a one-time link to the workbench in the browser, for staff, admins and grid leaders."""

from handlers.context import Ctx, Refusal
from handlers.messages import Reply
from storage import web_auth


def web_link(ctx: Ctx, _args: list[str]) -> list[Reply]:
    member = ctx.member
    if member is None or member.role not in web_auth.WEB_ROLES:
        raise Refusal("网页工作台只对社区工作人员、管理员和网格长开放。")
    try:
        token = web_auth.issue_link(ctx.session, member, ctx.now)
    except web_auth.LinkRefused as refused:
        raise Refusal(str(refused)) from None
    return [
        Reply(
            f"网页工作台登录链接（10 分钟内有效，只能用一次，请勿转发）：\n{ctx.services.public_url}/web/login/{token}",
            private=True,
        )
    ]
