"""Typed callback data of order buttons: `o:claim:12`, `r:12:5`, `b:3`, `t:cat:12:noise` — packed and parsed in one place.

In storage/ beside calendar_buttons.py: the cards that carry these buttons are built by
storage/consequences.py, which handlers and scheduler ticks share."""

from dataclasses import dataclass

MAX_BYTES = 64  # Telegram's limit on callback_data


class BadCallback(ValueError):
    pass


@dataclass(frozen=True)
class OrderCb:
    """A button about an order: claim, finish, give_back, skip (finish without photo)."""

    action: str
    order_id: int
    prefix = "o"

    def pack(self) -> str:
        return _checked(f"o:{self.action}:{self.order_id}")


@dataclass(frozen=True)
class RateCb:
    order_id: int
    stars: int

    def pack(self) -> str:
        return _checked(f"r:{self.order_id}:{self.stars}")


@dataclass(frozen=True)
class BuildingCb:
    building_id: int

    def pack(self) -> str:
        return _checked(f"b:{self.building_id}")


@dataclass(frozen=True)
class TriageCb:
    """A triage button: the resident picks a category (`pick`); staff accept (`ok`), list categories
    (`cats`), set one (`cat`), list tiers (`tiers`), set one (`tier`), or choose a department (`dep`)."""

    action: str
    order_id: int
    value: str = ""

    def pack(self) -> str:
        return _checked(f"t:{self.action}:{self.order_id}:{self.value}")


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise BadCallback(data)
    return data


def unpack(data: str) -> OrderCb | RateCb | BuildingCb | TriageCb:
    parts = data.split(":")
    try:
        if parts[0] == "o" and len(parts) == 3:
            return OrderCb(parts[1], int(parts[2]))
        if parts[0] == "r" and len(parts) == 3 and 1 <= int(parts[2]) <= 5:
            return RateCb(int(parts[1]), int(parts[2]))
        if parts[0] == "b" and len(parts) == 2:
            return BuildingCb(int(parts[1]))
        if parts[0] == "t" and len(parts) == 4:
            return TriageCb(parts[1], int(parts[2]), parts[3])
    except ValueError:
        pass
    raise BadCallback(data)
