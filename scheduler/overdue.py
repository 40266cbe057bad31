"""督办 from `[limits]` in levels (storage/deadlines.py): unsigned, unclaimed or unfinished → first the
department contact or the grid leader, then the staff, then every admin, each one limit later;
unrated → auto-close.

The tick only asks: `orders.urge` (each level once per deadline: a second tick says nothing new, a
延期 or a new dispatch starts afresh) and the `auto_close` move. What each causes is
storage/urging.py's business, through storage/consequences.py.
"""

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from scheduler.timing import Due
from storage import deadlines, orders
from storage.models import Order
from storage.models import OrderStatus as S
from storage.policy import Policy

logger = logging.getLogger(__name__)

WATCHED = (S.DISPATCHED, S.CLAIMED, S.ESCALATED, S.SIGNED, S.DONE)


def overdue_tick(session: Session, due: Due, policy: Policy) -> int:
    """Queues 督办 (each level whose moment has come) and auto-close moves as events; ticks.run_job
    counts the rows they cause."""
    rows = list(session.exec(select(Order).where(col(Order.status).in_(WATCHED)).order_by(Order.id)))
    episodes = orders.episodes(session, [order.id for order in rows if order.status != S.DONE])
    for order in rows:
        limits = policy.limits_for(order.category)
        for deadline in deadlines.deadlines(order, limits):
            for level in deadlines.levels_due(deadline, due.now):
                orders.urge(session, order, deadline.stage, due.now, level, deadline.due, episodes.get(order.id, 0))
        if order.status == S.DONE and order.done_at and order.done_at + limits.rate_within <= due.now:
            auto_close(session, order, due.now)
    return 0


def auto_close(session: Session, order: Order, now: datetime) -> None:
    """Done but not rated within `rate_within`: closed by the system (points follow from the move)."""
    try:
        with session.begin_nested():
            orders.apply(session, order, "auto_close", orders.SYSTEM, now, note="超时未评价，自动结单", closed_at=now)
    except orders.IllegalTransition:
        pass  # rated (or closed) meanwhile
