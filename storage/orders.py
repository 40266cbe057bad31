"""The order (工单) lifecycle: the one place an order's status changes.

Every move is a compare-and-set UPDATE on the status as loaded plus an audit event, in the
caller's transaction. The caller adds the outbox rows the move causes in that same transaction.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from storage.models import Order, OrderEvent, Role
from storage.models import OrderStatus as S

# (trigger, source) → target. The whole lifecycle of DESIGN.md on one screen.
LIFECYCLE: dict[tuple[str, S], S] = {
    ("retag", S.SUBMITTED): S.SUBMITTED,  # triage: category or tier corrected before dispatch
    ("dispatch", S.SUBMITTED): S.DISPATCHED,
    ("dispatch", S.DISPATCHED): S.DISPATCHED,  # re-route to another grid
    ("escalate", S.SUBMITTED): S.ESCALATED,
    ("escalate", S.DISPATCHED): S.ESCALATED,
    ("claim", S.DISPATCHED): S.CLAIMED,
    ("give_back", S.CLAIMED): S.DISPATCHED,
    ("finish", S.CLAIMED): S.DONE,
    ("finish", S.ESCALATED): S.DONE,  # the department reports it done
    ("rate", S.DONE): S.CLOSED,
    ("auto_close", S.DONE): S.CLOSED,
    ("advise", S.SUBMITTED): S.CLOSED,  # 私事: advice sent, nothing to dispatch
    ("close", S.SUBMITTED): S.CLOSED,
    ("close", S.DISPATCHED): S.CLOSED,
    ("close", S.CLAIMED): S.CLOSED,
    ("close", S.ESCALATED): S.CLOSED,
    ("close", S.DONE): S.CLOSED,
    ("cancel", S.SUBMITTED): S.CANCELLED,
    ("cancel", S.DISPATCHED): S.CANCELLED,
    ("cancel", S.CLAIMED): S.CANCELLED,
    ("cancel", S.ESCALATED): S.CANCELLED,
}

OPEN_STATUSES = (S.SUBMITTED, S.DISPATCHED, S.CLAIMED, S.ESCALATED)


@dataclass(frozen=True)
class Actor:
    """Who asks for a move. `kind` is resident, member or system; `role` for members."""

    kind: str
    id: int | None = None
    role: str | None = None
    grid_id: int | None = None

    @property
    def label(self) -> str:
        return "system" if self.kind == "system" else f"{self.kind}:{self.id}"

    @property
    def is_staff(self) -> bool:
        return self.kind == "member" and self.role in (Role.STAFF, Role.ADMIN)


SYSTEM = Actor("system")


class IllegalTransition(Exception):
    """The order is not in a state that allows this move (or another writer got there first)."""


class NotPermitted(Exception):
    """The actor's role does not allow this move on this order."""


def may(trigger: str, status: str) -> bool:
    return (trigger, S(status)) in LIFECYCLE


def permitted(actor: Actor, trigger: str, order: Order) -> bool:
    """Pure guard: may this actor pull this trigger on this order (state aside)?"""
    if actor.kind == "system":
        return True
    if trigger in ("cancel", "rate"):
        return actor.kind == "resident" and actor.id == order.resident_id
    if trigger == "retag" and actor.kind == "resident":  # the resident confirms or picks the category
        return actor.id == order.resident_id
    if actor.kind != "member":
        return False
    if actor.is_staff:
        return True
    if trigger == "claim":
        return actor.role in (Role.MEMBER, Role.GRID_LEADER) and actor.grid_id == order.grid_id
    if trigger in ("finish", "give_back"):
        return actor.id == order.claimer_id
    return False


def apply(
    session: Session,
    order: Order,
    trigger: str,
    actor: Actor,
    now: datetime,
    note: str | None = None,
    **changes: Any,
) -> S:
    """Move `order` along LIFECYCLE. Compare-and-set: a racing writer loses cleanly."""
    source = S(order.status)
    target = LIFECYCLE.get((trigger, source))
    if not permitted(actor, trigger, order):
        raise NotPermitted(f"{actor.label} may not {trigger} order {order.id}")
    if target is None:
        raise IllegalTransition(f"{trigger!r} not allowed from {source}")
    result = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == source)
        .values(status=target, **changes)
    )
    if result.rowcount != 1:
        raise IllegalTransition(f"order {order.id} left {source} meanwhile")
    session.add(
        OrderEvent(
            order_id=order.id, actor=actor.label, trigger=trigger,
            from_status=source, to_status=target, note=note, at=now,
        )
    )
    for name, value in {"status": target, **changes}.items():
        set_committed_value(order, name, value)  # what the UPDATE wrote, without reading it back
    return target


def submit(session: Session, order: Order, actor: Actor, now: datetime) -> Order:
    """Record a new order with its creation event."""
    order.status = S.SUBMITTED
    order.created_at = now
    session.add(order)
    session.flush()
    session.add(
        OrderEvent(order_id=order.id, actor=actor.label, trigger="submit",
                   from_status="", to_status=S.SUBMITTED, at=now)
    )
    return order


def get(session: Session, order_id: int) -> Order | None:
    return session.get(Order, order_id)


def events(session: Session, order_id: int) -> list[OrderEvent]:
    return list(session.exec(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)))
