"""Callback data of the calendar's buttons: `s:ack:7`, `c:checkin:3`, `w:5`, `k:2`.

Kept here, beside the tables, because both the scheduler (which puts the buttons on reminders)
and handlers/ (which answers them) need the one format; storage.order_buttons re-exports them.
"""

from dataclasses import dataclass

MAX_BYTES = 64
SHIFT_ACTIONS = ("ack", "swap")
SESSION_ACTIONS = ("leave", "checkin")


class BadCalendarCallback(ValueError):
    pass


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise BadCalendarCallback(data)
    return data


@dataclass(frozen=True)
class ShiftCb:
    """A button on a duty reminder: 收到 (ack) or 申请换班 (swap)."""

    action: str
    shift_id: int

    def pack(self) -> str:
        return _checked(f"s:{self.action}:{self.shift_id}")


@dataclass(frozen=True)
class SessionCb:
    """A button on a study-session reminder: 请假 (leave) or 签到 (checkin)."""

    action: str
    session_id: int

    def pack(self) -> str:
        return _checked(f"c:{self.action}:{self.session_id}")


@dataclass(frozen=True)
class SwapCb:
    """我来替班: take the place offered by swap request `swap_id`."""

    swap_id: int

    def pack(self) -> str:
        return _checked(f"w:{self.swap_id}")


@dataclass(frozen=True)
class KindCb:
    """A session kind chosen in the /newsession dialogue (index into SESSION_KINDS)."""

    index: int

    def pack(self) -> str:
        return _checked(f"k:{self.index}")


CalendarCb = ShiftCb | SessionCb | SwapCb | KindCb


def parse(data: str) -> CalendarCb | None:
    """The calendar button behind `data`, or None when it is not one of ours."""
    parts = data.split(":")
    try:
        if parts[0] == "s" and len(parts) == 3 and parts[1] in SHIFT_ACTIONS:
            return ShiftCb(parts[1], int(parts[2]))
        if parts[0] == "c" and len(parts) == 3 and parts[1] in SESSION_ACTIONS:
            return SessionCb(parts[1], int(parts[2]))
        if parts[0] == "w" and len(parts) == 2:
            return SwapCb(int(parts[1]))
        if parts[0] == "k" and len(parts) == 2:
            return KindCb(int(parts[1]))
    except ValueError:
        return None
    return None
