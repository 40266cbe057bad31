"""SQLModel tables. Status of an order is assigned only in storage/orders.py."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _at(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Role(StrEnum):
    MEMBER = "member"
    GRID_LEADER = "grid_leader"
    STAFF = "staff"
    ADMIN = "admin"


class OrderStatus(StrEnum):
    SUBMITTED = "submitted"
    DISPATCHED = "dispatched"
    CLAIMED = "claimed"
    ESCALATED = "escalated"
    SIGNED = "signed"  # a department's contact pressed 签收: the department is doing it
    DONE = "done"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Department(SQLModel, table=True):
    """部门接单: a department (城管执法中队…) with its group (Telegram chat or WeCom robot)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    name: str
    telegram_chat_id: str | None = Field(default=None, index=True)
    wecom_webhook: str | None = None
    active: bool = True  # deactivated on the web (花名册) instead of deleted: its history stays


class DepartmentContact(SQLModel, table=True):
    """A roster member who signs for the department's orders."""

    __table_args__ = (UniqueConstraint("department_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)


class Grid(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    name: str
    leader_phone: str | None = None
    telegram_chat_id: str | None = Field(default=None, index=True)
    wecom_webhook: str | None = None
    active: bool = True  # deactivated on the web (花名册) instead of deleted: its history stays


class Building(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    grid_id: int = Field(foreign_key="grid.id", index=True)
    active: bool = True  # deactivated on the web (花名册) instead of deleted: its history stays


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    phone: str = Field(unique=True, index=True)
    role: str = Field(default=Role.MEMBER)
    grid_id: int | None = Field(default=None, foreign_key="grid.id", index=True)
    branch: str | None = None
    active: bool = True  # deactivated on the web (花名册) instead of deleted: its history stays


class Resident(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    phone: str | None = None
    building_id: int | None = Field(default=None, foreign_key="building.id")
    room: str | None = None
    created_at: datetime = _created()


class Identity(SQLModel, table=True):
    """A platform account (Telegram user, WeChat openid…) → the resident or member behind it."""

    __table_args__ = (UniqueConstraint("platform", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str
    user_id: str
    chat_id: str
    display_name: str = ""
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    # What the bot asked this person and waits for: a storage.conversation.Waiting name, its typed
    # data and when it lapses. In the database so that a restart or another worker continues it.
    awaiting: str | None = None
    awaiting_data: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    awaiting_until: datetime | None = _at()
    draft: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # photo/location before the words
    last_seen_at: datetime | None = _at()


class Invite(SQLModel, table=True):
    code: str = Field(primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    expires_at: datetime = _created()
    used_at: datetime | None = _at()


class Setting(SQLModel, table=True):
    """Bindings made in chat, e.g. `staff_chat:telegram` → chat id."""

    key: str = Field(primary_key=True)
    value: str


class Order(SQLModel, table=True):
    __tablename__ = "work_order"
    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    building_id: int | None = Field(default=None, foreign_key="building.id")
    grid_id: int | None = Field(default=None, foreign_key="grid.id", index=True)
    category: str = Field(default="other", index=True)
    tier: str = "小事"
    confidence: float = 0.0
    urgent: bool = False
    status: str = Field(default=OrderStatus.SUBMITTED, index=True)
    text: str = ""
    photos: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    latitude: float | None = None
    longitude: float | None = None
    claimer_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    department: str | None = None
    origin_platform: str = ""
    finish_note: str | None = None
    finish_photo: str | None = None
    rating: int | None = None
    version: int = 0  # +1 on every move; each compare-and-set checks it (storage/orders.py)
    chases: int = 0  # 催办 by residents
    reopens: int = 0  # 返工: done, then reported not fixed
    voice: str | None = None  # a voice message's platform file id, for staff to listen to
    emergency: str | None = None  # the kind of emergency ([urgency.kinds] code), when urgent
    danger_asked_at: datetime | None = _at()  # "现在有人受伤或有危险吗？" asked, not yet answered
    alerted_at: datetime | None = _at()  # the urgent alert went out; `收到` is awaited from then
    acked_by: int | None = Field(default=None, foreign_key="member.id")  # who pressed `收到`
    acked_at: datetime | None = _at()
    alert_rounds: int = 0  # times every admin was told nobody had pressed `收到`
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    dispatched_at: datetime | None = _at()
    claimed_at: datetime | None = _at()
    done_at: datetime | None = _at()
    closed_at: datetime | None = _at()
    # 部门接单: the department it was handed to, who signed for it; 延期: the deadline moved, a request waiting
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    escalated_at: datetime | None = _at()
    signer_id: int | None = Field(default=None, foreign_key="member.id")
    signed_at: datetime | None = _at()
    finish_by: datetime | None = _at()  # set by a granted 延期; else the deadline is the limit's
    extension: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # asked: by, until, reason


class OrderEvent(SQLModel, table=True):
    """Audit trail: one row per transition."""

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    actor: str
    trigger: str
    from_status: str
    to_status: str
    version: int = 0  # the order's version after this move
    note: str | None = None
    at: datetime = _created()


class OrderFollower(SQLModel, table=True):
    """A neighbour who reported the same thing: told at every step of the order, as its reporter is."""

    __table_args__ = (UniqueConstraint("order_id", "resident_id"),)
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    at: datetime = _created()


class OrderUrge(SQLModel, table=True):
    """督办 sent: one row per order, stage, level, deadline and episode (the version of the order's newest
    change of status: a give-back makes it late afresh, a 催办 does not), so each level fires once."""

    __table_args__ = (UniqueConstraint("order_id", "stage", "level", "due_at", "episode"),)
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    stage: str  # sign | claim | finish
    level: int  # 1 grid leader / department contact, 2 staff, 3 every admin
    due_at: datetime = _at(nullable=False)
    episode: int = 0
    at: datetime = _created()


class PointsEntry(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("member_id", "reason", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    delta: int
    reason: str
    ref: str  # what earned it, e.g. "order:12" — with reason, unique: no double points
    at: datetime = _created()


class InboxEntry(SQLModel, table=True):
    """A platform update already processed; a retry of it is dropped (or answered the same)."""

    __table_args__ = (UniqueConstraint("platform", "message_key"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str
    message_key: str
    replies: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    received_at: datetime = _created()
    replied_at: datetime | None = _at()  # the replies reached the person: a retry sends them no second time
    replying_by: int | None = None  # the process sending the replies after commit (storage/presence.py's token)


class Arrival(SQLModel, table=True):
    """An update that has reached a process and is not handled yet (storage/arrivals.py): a later
    update of the same person waits for it."""

    __table_args__ = (UniqueConstraint("platform", "seq"), Index("ix_arrival_person", "platform", "user_id", "seq"))
    id: int | None = Field(default=None, primary_key=True)
    platform: str
    user_id: str
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))  # the platform's number (Telegram's update_id)
    arrived_at: datetime = _created()


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"  # WeChat refused it (out of the 48 h window): delivered with the person's next reply


class OutboxMessage(SQLModel, table=True):
    """A notification to deliver, written in the transaction of the change that caused it."""

    __table_args__ = (
        Index("ix_outbox_state_id", "state", "id"),
        Index("ix_outbox_chat_state_id", "platform", "chat_id", "state", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    platform: str
    chat_id: str
    kind: str = "send"  # send | edit
    edit_key: str | None = None  # for kind=edit: the key of the message to edit
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=OutboxState.PENDING)
    not_before: datetime = _created()
    attempts: int = 0
    lease_until: datetime | None = _at()
    leased_by: int | None = None  # the token of the process that leased it (storage/presence.py)
    sent_at: datetime | None = _at()
    sent_message_id: str | None = None
    error: str | None = None
    created_at: datetime = _created()


# ---- the members' calendar (值班, 三会一课/主题党日) ------------------------------------------


class Shift(SQLModel, table=True):
    """A duty shift (值班); one per (start, place): a re-import updates it in place."""

    __table_args__ = (UniqueConstraint("start_at", "place"),)
    id: int | None = Field(default=None, primary_key=True)
    start_at: datetime = _at(nullable=False, index=True)
    end_at: datetime = _at(nullable=False)
    place: str
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _created()  # a reminder whose moment came before this is folded into one
    active: bool = True  # deactivated on the web (花名册) instead of deleted: its history stays


class ShiftMember(SQLModel, table=True):
    """Who is on a shift; `reminded_at` = first reminder due, `acked_at` = 收到 pressed."""

    __table_args__ = (UniqueConstraint("shift_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    reminded_at: datetime | None = _at()
    acked_at: datetime | None = _at()
    escalated_at: datetime | None = _at()


class ShiftSwap(SQLModel, table=True):
    """换班: a member asks, another member of the grid takes the place."""

    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id", index=True)
    from_member_id: int = Field(foreign_key="member.id")
    to_member_id: int | None = Field(default=None, foreign_key="member.id")
    state: str = "open"  # open | taken
    requested_at: datetime = _created()
    taken_at: datetime | None = _at()


class StudySession(SQLModel, table=True):
    """三会一课 or 主题党日 of a branch; one per (title, start)."""

    __table_args__ = (UniqueConstraint("title", "start_at"),)
    id: int | None = Field(default=None, primary_key=True)
    title: str
    kind: str
    branch: str = Field(index=True)
    start_at: datetime = _at(nullable=False, index=True)
    end_at: datetime = _at(nullable=False, index=True)
    place: str = ""
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _created()
    reported_at: datetime | None = _at()
    active: bool = True  # deactivated on the web (花名册) instead of deleted: its history stays


class Attendance(SQLModel, table=True):
    """One row per member and session: present, leave (with reason) or absent (written at the end)."""

    __table_args__ = (UniqueConstraint("session_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="studysession.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    status: str  # present | leave | absent
    reason: str | None = None
    at: datetime = _created()


class AuditEvent(SQLModel, table=True):
    """Audit trail of who-is-who changes: chat identities bound, residents registered, groups bound,
    invites made, rosters imported. Orders have OrderEvent, the calendar CalendarEvent."""

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(index=True)  # identity | resident | grid | setting | invite | roster
    ref: str  # the subject's id (or setting key, roster file)
    actor: str  # member:3, resident:5, guest, cli
    action: str
    note: str | None = None
    at: datetime = _created()


class CalendarEvent(SQLModel, table=True):
    """Audit trail of the calendar: ack, leave, check-in, swap, absent, created."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # shift | session
    ref_id: int = Field(index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    action: str
    note: str | None = None
    at: datetime = _created()


class WebLink(SQLModel, table=True):
    """A one-time login link for the web workbench (`/web` in a private chat): only its hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    expires_at: datetime = _at(nullable=False)
    used_at: datetime | None = _at()


class WebSession(SQLModel, table=True):
    """A browser signed in to the workbench: the cookie holds the token, the table its hash."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    expires_at: datetime = _at(nullable=False)
    ended_at: datetime | None = _at()


class ApiKey(SQLModel, table=True):
    """An Open311 client (`gridbot apikey NAME`). Only the key's SHA-256 is kept; its requests are
    filed as the resident `resident_id`, who has no chat and no phone."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    key_hash: str = Field(unique=True)
    resident_id: int = Field(foreign_key="resident.id")
    created_at: datetime = _created()
