"""An order's deadlines: when it is late to sign, to claim or to finish, and when each 督办 level is due.

Pure functions of the order and its limits. A granted 延期 sets `finish_by`, which replaces the
finish deadline; 督办 then counts from it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import Order
from storage.models import OrderStatus as S
from storage.policy import Limits

LEVELS = (1, 2, 3)  # the grid leader or the department contact, then the staff, then every admin


@dataclass(frozen=True)
class Deadline:
    stage: str  # sign | claim | finish
    due: datetime
    limit: timedelta  # each further 督办 level comes one limit later


def finish_due(order: Order, limits: Limits) -> datetime:
    """A granted 延期's date, else the finish limit from when the department or the grid got it."""
    if order.finish_by is not None:
        return order.finish_by
    with_department = order.status in (S.ESCALATED, S.SIGNED) and order.escalated_at is not None
    start = order.escalated_at if with_department else (order.dispatched_at or order.created_at)
    return start + limits.finish_within


def deadlines(order: Order, limits: Limits) -> list[Deadline]:
    """What the order is waiting for now, each with its deadline."""
    finish = Deadline("finish", finish_due(order, limits), limits.finish_within)
    if order.status == S.DISPATCHED:
        return [Deadline("claim", (order.dispatched_at or order.created_at) + limits.claim_within, limits.claim_within), finish]
    if order.status == S.ESCALATED and order.department_id is not None and order.escalated_at is not None:
        return [Deadline("sign", order.escalated_at + limits.sign_within, limits.sign_within)]
    if order.status in (S.CLAIMED, S.SIGNED, S.ESCALATED):
        return [finish]
    return []


def levels_due(deadline: Deadline, now: datetime) -> list[int]:
    """The 督办 levels whose moment has come: level n at the deadline plus n-1 limits."""
    return [level for level in LEVELS if deadline.due + deadline.limit * (level - 1) <= now]
