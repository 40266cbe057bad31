"""`/stats` (统计): this month's figures so far, by the definitions of storage/figures.py — the
community for staff, their own grid for a grid leader."""

from handlers.context import STAFF_ROLES, Ctx, Refusal
from handlers.messages import Reply
from storage import figures, report
from storage.models import Grid, Role


def stats(ctx: Ctx, _args: list[str]) -> list[Reply]:
    """Answers the figures of the orders created this month until now."""
    member = ctx.require_member()
    month = report.Month.of(ctx.now, ctx.services.timezone)
    if member.role in STAFF_ROLES:
        scope, grid_id = ctx.policy.community_name, None
    elif member.role == Role.GRID_LEADER and member.grid_id is not None:
        grid = ctx.session.get(Grid, member.grid_id)
        scope, grid_id = grid.name, grid.id
    else:
        raise Refusal("统计只对社区工作人员和网格长开放。")
    rows = report.month_facts(ctx.session, ctx.policy, month.start, month.end, grid_id=grid_id)
    local = ctx.local(ctx.now)
    heading = f"📊 {scope} {month.title}（截至{local.day}日 {local:%H:%M}）"
    return [Reply("\n".join([heading, *figures.summary_lines(figures.figures_of(rows))]))]
