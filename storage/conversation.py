"""What the bot is waiting for from a person: one named state, its typed data, an expiry.

Kept on the person's Identity row so that a restart or another worker process continues the
conversation. `/cancel` or 「取消」 always ends it (handlers/router.py); a refusal while answering
it ends it too, so nobody is left stuck in a question they can no longer answer.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from storage.models import Identity


class Waiting(StrEnum):
    """Named for what the bot awaits. Stored by value: renaming a member needs a migration."""

    BUILDING = "building"  # a resident's building (button or typed)
    FINISH_PROOF = "finish_proof"  # a photo or a note that the job is done; data: order_id
    RATING = "rating"  # 1–5 stars for a finished order; data: order_id
    LEAVE_REASON = "leave_reason"  # why a member cannot attend a session; data: session_id
    SAME_THING = "same_thing"  # "是不是和 #n 同一件事？"; data: order_id (the report waits in the draft)
    DANGER = "danger"  # "现在有人受伤或有危险吗？"; data: order_id
    PROBLEM = "problem"  # "请说说是什么问题" after a bare opener or unclear words (held in the draft)
    NEW_SHIFT_WHEN = "new_shift_when"  # /newshift questions, answers so far in data
    NEW_SHIFT_PLACE = "new_shift_place"
    NEW_SHIFT_MEMBERS = "new_shift_members"
    NEW_SESSION_KIND = "new_session_kind"  # /newsession questions
    NEW_SESSION_BRANCH = "new_session_branch"
    NEW_SESSION_TITLE = "new_session_title"
    NEW_SESSION_WHEN = "new_session_when"
    NEW_SESSION_PLACE = "new_session_place"
    DEPT_FINISH = "dept_finish"  # a department's note or photo that it is done; data: order_id
    RETURN_REASON = "return_reason"  # why a department returns an order (退单); data: order_id
    REFUSE_REASON = "refuse_reason"  # why staff refuse a 延期; data: order_id


# How long a question stays open. A rating waits as long as the order may stay unrated.
LIFETIME: dict[Waiting, timedelta] = {Waiting.RATING: timedelta(days=7), Waiting.BUILDING: timedelta(days=7)}
DEFAULT_LIFETIME = timedelta(hours=2)


@dataclass(frozen=True)
class State:
    name: Waiting
    data: dict = field(default_factory=dict)

    def number(self, key: str) -> int:
        return int(self.data[key])


def current(identity: Identity, now: datetime) -> State | None:
    """The open question, or None (none asked, expired, or a name this version does not know)."""
    if not identity.awaiting or (identity.awaiting_until is not None and identity.awaiting_until <= now):
        return None
    try:
        return State(Waiting(identity.awaiting), dict(identity.awaiting_data or {}))
    except ValueError:
        return None


def begin(identity: Identity, name: Waiting, now: datetime, **data) -> None:
    """Ask: the person's next message answers `name` (until it lapses)."""
    identity.awaiting = name.value
    identity.awaiting_data = dict(data)  # a new dict, so the JSON column sees the change
    identity.awaiting_until = now + LIFETIME.get(name, DEFAULT_LIFETIME)


def end(identity: Identity) -> None:
    identity.awaiting = None
    identity.awaiting_data = None
    identity.awaiting_until = None


def is_waiting(identity: Identity, name: Waiting, now: datetime, **data) -> bool:
    """True when the person's open question is `name` (and its data includes `data`)."""
    state = current(identity, now)
    return state is not None and state.name == name and all(state.data.get(k) == v for k, v in data.items())
