"""What every consequence of an order move may read (`Scene`), and the one way its outbox keys are made."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from storage import order_cards
from storage.events import Event
from storage.models import Building, Grid, Order, OrderFollower
from storage.policy import Policy


@dataclass(frozen=True)
class Scene:
    """What every consequence may read: the transaction, the policy, the zone, and the order."""

    session: Session
    policy: Policy
    timezone: ZoneInfo
    order: Order

    def row(self, table, row_id: int | None):
        return self.session.get(table, row_id) if row_id is not None else None

    @property
    def grid(self) -> Grid | None:
        return self.row(Grid, self.order.grid_id)

    @property
    def building(self) -> Building | None:
        return self.row(Building, self.order.building_id)

    @property
    def marks(self) -> str:
        followers = self.session.exec(
            select(func.count()).select_from(OrderFollower).where(OrderFollower.order_id == self.order.id)
        ).one()
        return order_cards.marks(self.order, followers)


def key(name: str, event: Event) -> str:
    """The outbox key of one consequence of one event (a recipient's tag is added per chat)."""
    return f"{name}:{event.order_id}:v{event.version}"
