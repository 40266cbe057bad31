"""What happened to an order: small frozen events, one per move (and 督办, which moves nothing).

storage/orders.py makes them and queues them on the session; storage/consequences.py takes them
off and turns each into its cards, notices and points. `version` is the order's version after
the move: with the event's name it makes every outbox key, so a repeat of the same move (a
second dispatch, a claim after a give-back) gets new keys and a retry of the same update does not.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage.models import OrderStatus

QUEUE = "order_events"  # Session.info key: events of this transaction not yet turned into consequences


@dataclass(frozen=True)
class Was:
    """The order as the move found it: what a consequence may need once it has changed."""

    status: OrderStatus | None
    grid_id: int | None
    claimer_id: int | None
    dispatched: bool


@dataclass(frozen=True)
class OrderMoved:
    order_id: int
    version: int
    at: datetime
    actor: str  # storage.orders.Actor.label: resident:5, member:3, system
    was: Was
    note: str | None = None
    via: str | None = None  # the platform the move was asked on


class Submitted(OrderMoved): ...


class Retagged(OrderMoved): ...


class Dispatched(OrderMoved): ...


class Escalated(OrderMoved): ...


class Claimed(OrderMoved): ...


class GivenBack(OrderMoved): ...


class Finished(OrderMoved): ...


class Rated(OrderMoved): ...


class AutoClosed(OrderMoved): ...


class Advised(OrderMoved): ...


class Closed(OrderMoved): ...


class Cancelled(OrderMoved): ...


class Reopened(OrderMoved): ...


class Chased(OrderMoved): ...


class Amended(OrderMoved): ...


class Followed(OrderMoved): ...


class MarkedUrgent(OrderMoved): ...


class NotUrgent(OrderMoved): ...


class Acknowledged(OrderMoved): ...


class AdminsAlerted(OrderMoved): ...


class Signed(OrderMoved): ...  # 签收: a department's contact has it


class Returned(OrderMoved): ...  # 退单 by the department: back to staff triage, the reason in `note`


class ExtensionAsked(OrderMoved): ...  # 延期 asked by the claimer or the signer


class Extended(OrderMoved): ...  # 延期 granted: the deadline moved


class ExtensionRefused(OrderMoved): ...  # 延期 refused, the reason in `note`


@dataclass(frozen=True)
class Urged:
    """督办: late at `stage` (sign, claim, finish). Keyed by the order's version: after a give-back and a
    new dispatch the order is late afresh."""

    order_id: int
    version: int
    at: datetime
    actor: str
    stage: str
    level: int = 1  # 1 the grid leader or the department contact, 2 the staff, 3 every admin
    due: datetime | None = None  # the deadline that passed


Event = OrderMoved | Urged

_BY_TRIGGER: dict[str, type[OrderMoved]] = {
    "retag": Retagged,
    "dispatch": Dispatched,
    "escalate": Escalated,
    "claim": Claimed,
    "give_back": GivenBack,
    "finish": Finished,
    "rate": Rated,
    "auto_close": AutoClosed,
    "advise": Advised,
    "close": Closed,
    "cancel": Cancelled,
    "reopen": Reopened,
    "chase": Chased,
    "amend": Amended,
    "follow": Followed,
    "mark_urgent": MarkedUrgent,
    "not_urgent": NotUrgent,
    "acknowledge": Acknowledged,
    "alert_admins": AdminsAlerted,
    "sign": Signed,
    "return": Returned,
    "ask_extension": ExtensionAsked,
    "extend": Extended,
    "refuse_extension": ExtensionRefused,
}


def of_trigger(trigger: str) -> type[OrderMoved]:
    return _BY_TRIGGER[trigger]


def record(session: Session, event: Event):
    """Queue `event` in this transaction for storage/consequences.py; returns it."""
    session.info.setdefault(QUEUE, []).append(event)
    return event


def take(session: Session) -> list[Event]:
    """The events queued so far, removed from the queue."""
    return session.info.pop(QUEUE, [])


def mark(session: Session) -> int:
    return len(session.info.get(QUEUE, []))


def forget_since(session: Session, mark_: int) -> None:
    """A savepoint rolled back: its moves never happened, nor will their consequences."""
    queued = session.info.get(QUEUE, [])
    del queued[mark_:]
