"""The outbox keys of the members' calendar: one reminder per member, lead and shift or session.

Order moves key their notices in storage/consequences.py (`key(name, event)`); the calendar's are
here, so that no tick or handler spells a key. A key for many members is a function of the member.
"""

from collections.abc import Callable
from datetime import date

PerMember = Callable[[int], str]


def shift_reminder(shift_id: int, lead: str) -> PerMember:
    return lambda member_id: f"shift:{shift_id}:m{member_id}:{lead}"


def shift_unacked(shift_id: int, member_ids: list[int]) -> str:
    """The leader's alert about these members' missing 收到 (queued once per set of names)."""
    return f"shift:{shift_id}:unacked:{'-'.join(str(m) for m in member_ids)}"


def session_reminder(session_id: int, lead: str) -> PerMember:
    return lambda member_id: f"session:{session_id}:m{member_id}:{lead}"


def session_open(session_id: int) -> PerMember:
    return lambda member_id: f"session:{session_id}:m{member_id}:open"


def session_report(session_id: int) -> str:
    return f"session:{session_id}:report"


def session_report_to(session_id: int) -> PerMember:
    return lambda member_id: f"{session_report(session_id)}:m{member_id}"


def digest(day: date) -> PerMember:
    return lambda member_id: f"digest:{day}:m{member_id}"


def swap(swap_id: int, what: str) -> str:
    """换班: `post` (the group's offer), `asked`, `taken`, `taken:asker`, `post-taken`; `m{id}` each mate."""
    return f"swap:{swap_id}:{what}"
