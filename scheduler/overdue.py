"""督办 from `[limits]`: unclaimed → grid leader; unfinished → staff and the claimer; unrated → auto-close.

The tick only asks: `orders.urge` (once per order version and stage: storage/consequences.py keys
the alerts by it, so a second tick says nothing new and a give-back starts the clock afresh) and
the `auto_close` move. What each causes is storage/consequences.py's business.
"""

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from scheduler.timing import Due
from storage import orders
from storage.models import Order
from storage.models import OrderStatus as S
from storage.policy import Policy

logger = logging.getLogger(__name__)


def overdue_tick(session: Session, due: Due, policy: Policy) -> int:
    """Queues 督办 and auto-close moves as events; ticks.run_job counts the rows they cause."""
    rows = list(
        session.exec(
            select(Order).where(col(Order.status).in_((S.DISPATCHED, S.CLAIMED, S.ESCALATED, S.DONE))).order_by(Order.id)
        )
    )
    for order in rows:
        limits = policy.limits_for(order.category)
        start = order.dispatched_at or order.created_at
        if order.status == S.DISPATCHED and start + limits.claim_within <= due.now:
            orders.urge(session, order, "claim", due.now)
        if order.status in (S.DISPATCHED, S.CLAIMED, S.ESCALATED) and start + limits.finish_within <= due.now:
            orders.urge(session, order, "finish", due.now)
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
