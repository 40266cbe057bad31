"""The order (工单) lifecycle: the one place an order's status changes.

Every move is a compare-and-set UPDATE on the status and version as loaded, an audit row
(OrderEvent) and an event (storage/events.py) queued on the session. storage/consequences.py
turns the queued events into cards, notices and points in the same transaction; the caller
never builds those itself.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, func, select

from storage import events
from storage.db import insert_if_new
from storage.models import Order, OrderEvent, OrderUrge, Role
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
    ("reopen", S.DONE): S.DISPATCHED,  # 返工: not fixed after all — back to the grid, claimer cleared
    ("reopen", S.CLOSED): S.DISPATCHED,  # staff reopen a closed order (the web's 重新办理): the same 返工
    # 部门接单: the department's contact signs for it, finishes it, or returns it to staff triage with a reason.
    ("sign", S.ESCALATED): S.SIGNED,
    ("finish", S.SIGNED): S.DONE,
    ("return", S.ESCALATED): S.SUBMITTED,
    ("return", S.SIGNED): S.SUBMITTED,
    ("close", S.SIGNED): S.CLOSED,
    ("cancel", S.SIGNED): S.CANCELLED,
    # 延期: the claimer or the signer asks, staff grant (the deadline moves) or refuse. The status stays.
    **{
        (trigger, status): status
        for trigger in ("ask_extension", "extend", "refuse_extension")
        for status in (S.CLAIMED, S.SIGNED)
    },
    # Follow-ups on an open order: recorded and audited, the status stays.
    **{
        (trigger, status): status
        for trigger in ("chase", "amend", "follow")
        for status in (S.SUBMITTED, S.DISPATCHED, S.CLAIMED, S.ESCALATED, S.SIGNED)
    },
    # Emergencies on an open order: marked urgent (the resident said 有危险, nobody answered the
    # question in time, or staff decided), not urgent after all (没有), `收到` pressed, the admins
    # told that nobody has pressed it. The status stays.
    **{
        (trigger, status): status
        for trigger in ("mark_urgent", "not_urgent", "acknowledge", "alert_admins")
        for status in (S.SUBMITTED, S.DISPATCHED, S.CLAIMED, S.ESCALATED, S.SIGNED)
    },
}

OPEN_STATUSES = (S.SUBMITTED, S.DISPATCHED, S.CLAIMED, S.ESCALATED, S.SIGNED)


@dataclass(frozen=True)
class Actor:
    """Who asks for a move. `kind` is resident, member or system; `role` for members."""

    kind: str
    id: int | None = None
    role: str | None = None
    grid_id: int | None = None
    department_ids: tuple[int, ...] = ()  # the departments a member signs for (only where it matters)

    @property
    def label(self) -> str:
        return "system" if self.kind == "system" else f"{self.kind}:{self.id}"

    @property
    def is_staff(self) -> bool:
        return self.kind == "member" and self.role in (Role.STAFF, Role.ADMIN)


SYSTEM = Actor("system")
FOLLOWER = "follower"  # Actor.role of a resident who follows someone else's order
RESIDENT_TRIGGERS = ("rate", "cancel", "follow", "chase", "amend")
SYSTEM_TRIGGERS = ("alert_admins",)
DEPARTMENT_TRIGGERS = ("sign", "return")  # a contact of the order's department, whatever the role


RATING_NOTE = "评分 {stars}⭐"  # the note of a reopen caused by a 1–2 star rating (storage/figures.py reads it)


def rating_note(stars: int) -> str:
    return RATING_NOTE.format(stars=stars)


def stars_of(note: str | None) -> int | None:
    """The stars of a reopen caused by a rating; None for any other note."""
    for stars in range(1, 6):
        if note == rating_note(stars):
            return stars
    return None


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
    if trigger in SYSTEM_TRIGGERS:
        return False
    if trigger in RESIDENT_TRIGGERS and actor.kind != "resident":
        return False
    if actor.kind == "resident":
        mine = actor.id == order.resident_id
        if trigger == "follow":  # a neighbour with the same problem
            return not mine
        if trigger in ("rate", "reopen", "chase", "amend"):
            return mine or actor.role == FOLLOWER
        if trigger in ("mark_urgent", "not_urgent"):  # the answer to "现在有人受伤或有危险吗？"
            return mine and order.danger_asked_at is not None
        return trigger in ("cancel", "retag") and mine  # retag: the resident confirms or picks the category
    if actor.kind != "member":
        return False
    if trigger in DEPARTMENT_TRIGGERS:
        return order.department_id is not None and order.department_id in actor.department_ids
    if trigger == "ask_extension":
        return actor.id in (order.claimer_id, order.signer_id)
    if actor.is_staff:
        return True
    if trigger == "claim":
        return actor.role in (Role.MEMBER, Role.GRID_LEADER) and actor.grid_id == order.grid_id
    if trigger == "acknowledge":  # the grid leader gets the alert too
        return actor.role == Role.GRID_LEADER and actor.grid_id == order.grid_id
    if trigger == "finish" and order.status == S.SIGNED:
        return actor.id == order.signer_id
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
    via: str | None = None,
    **changes: Any,
) -> events.OrderMoved:
    """Move `order` along LIFECYCLE. Compare-and-set on status and version: a move decided on a
    stale read (a re-route racing a claim, a finish after give-back and re-claim) loses cleanly.
    `via` is the platform the move was asked on (a finish photo's file id belongs to it)."""
    source = S(order.status)
    target = LIFECYCLE.get((trigger, source))
    if not permitted(actor, trigger, order):
        raise NotPermitted(f"{actor.label} may not {trigger} order {order.id}")
    if target is None:
        raise IllegalTransition(f"{trigger!r} not allowed from {source}")
    was = events.Was(source, order.grid_id, order.claimer_id, order.dispatched_at is not None)
    version = order.version + 1
    result = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == source, Order.version == order.version)
        .values(status=target, version=version, **changes)
    )
    if result.rowcount != 1:
        raise IllegalTransition(f"order {order.id} left {source} (version {order.version}) meanwhile")
    _audit(session, order.id, actor, trigger, source, target, version, note, now)
    for name, value in {"status": target, "version": version, **changes}.items():
        set_committed_value(order, name, value)  # what the UPDATE wrote, without reading it back
    return events.record(session, events.of_trigger(trigger)(order.id, version, now, actor.label, was, note, via))


def submit(session: Session, order: Order, actor: Actor, now: datetime, via: str | None = None) -> Order:
    """Record a new order with its creation event."""
    order.status = S.SUBMITTED
    order.created_at = now
    order.version = 1
    session.add(order)
    session.flush()
    _audit(session, order.id, actor, "submit", "", S.SUBMITTED, 1, None, now)
    events.record(session, events.Submitted(order.id, 1, now, actor.label, events.Was(None, None, None, False), None, via))
    return order


# The audit row of a move: written at once with Core (nothing reads it back as an object in the
# transaction, and the ORM would build, validate and flush one for each move).
_AUDIT = insert(OrderEvent.__table__)


def _audit(
    session: Session, order_id: int, actor: Actor, trigger: str, source: str, target: str, version: int, note, now: datetime
) -> None:
    session.execute(
        _AUDIT,
        {
            "order_id": order_id,
            "actor": actor.label,
            "trigger": trigger,
            "from_status": source,
            "to_status": target,
            "version": version,
            "note": note,
            "at": now,
        },
    )


def mark_urgent(session: Session, order: Order, actor: Actor, now: datetime, note: str | None = None, via: str | None = None):
    """An emergency after all: the alert goes out now (storage/alerts.py) and `收到` is awaited from now."""
    return apply(session, order, "mark_urgent", actor, now, note=note, via=via, urgent=True, alerted_at=now, danger_asked_at=None)


def urge(
    session: Session, order: Order, stage: str, now: datetime, level: int = 1, due: datetime | None = None, episode: int = 0
):
    """督办: the order is late at `stage` (sign, claim, finish), told at `level`. No status change; each
    level once per deadline and `episode` (its OrderUrge row is the record): again after a 延期 moves
    the deadline or a give-back puts it up again, not after a 催办."""
    row = OrderUrge(order_id=order.id, stage=stage, level=level, due_at=due or now, episode=episode, at=now)
    if insert_if_new(session, row, "order_id", "stage", "level", "due_at", "episode") is None:
        return None
    return events.record(session, events.Urged(order.id, order.version, now, SYSTEM.label, stage, level, due or now))


def episodes(session: Session, order_ids: list[int]) -> dict[int, int]:
    """Per order, the version of its newest change of status (for `urge`)."""
    changed = (
        select(OrderEvent.order_id, func.max(OrderEvent.version))
        .where(col(OrderEvent.order_id).in_(order_ids), OrderEvent.from_status != OrderEvent.to_status)
        .group_by(OrderEvent.order_id)
    )
    return dict(session.exec(changed).all())


def get(session: Session, order_id: int) -> Order | None:
    return session.get(Order, order_id)


def history(session: Session, order_id: int) -> list[OrderEvent]:
    """The audit trail of one order, oldest first."""
    return list(session.exec(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)))
