"""Typed callback data: `o:claim:12`, `r:12:5`, `b:3` — packed and parsed in one place."""

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


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise BadCallback(data)
    return data


def unpack(data: str) -> OrderCb | RateCb | BuildingCb:
    parts = data.split(":")
    try:
        if parts[0] == "o" and len(parts) == 3:
            return OrderCb(parts[1], int(parts[2]))
        if parts[0] == "r" and len(parts) == 3 and 1 <= int(parts[2]) <= 5:
            return RateCb(int(parts[1]), int(parts[2]))
        if parts[0] == "b" and len(parts) == 2:
            return BuildingCb(int(parts[1]))
    except ValueError:
        pass
    raise BadCallback(data)
