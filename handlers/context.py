"""What every use case gets: the open transaction, the policy, the clock and who is asking."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from handlers.acts import ActModels
from handlers.classifier import ORDINARY, Verdict, classify, urgent_by_pattern
from handlers.intent import FEW_WORDS, Kind, kind_of
from handlers.letters import letters_and_digits
from handlers.messages import Inbound
from storage import orders
from storage.conversation import State
from storage.events import OrderMoved
from storage.models import Identity, Member, Order, OrderFollower, Resident, Role
from storage.orders import Actor
from storage.policy import Policy

STAFF_ROLES = (Role.STAFF, Role.ADMIN)
MEMBER_ROLES = (Role.MEMBER, Role.GRID_LEADER, Role.STAFF, Role.ADMIN)


@dataclass(frozen=True)
class Services:
    """The composition root's gifts to handlers: built once in bot/, shared by every update."""

    engine: Engine
    policy: Policy
    timezone: ZoneInfo
    clock: Callable[[], datetime]
    public_url: str = "http://127.0.0.1:8080"  # where people reach the HTTP server (the workbench's links)
    acts: ActModels | None = None  # the act models (handlers/acts.py); None: the shipped ones


class Refusal(Exception):
    """A request we answer with a short reason and no change (what the handler wrote is rolled back).

    Refused while answering a question, the question is over (nobody is stuck in it), unless
    `ask_again`: the same question stands, the reason says what a good answer looks like."""

    def __init__(self, text: str, alert: bool = False, ask_again: bool = False):
        super().__init__(text)
        self.text = text
        self.alert = alert
        self.ask_again = ask_again


@dataclass
class Ctx:
    session: Session
    services: Services
    inbound: Inbound
    identity: Identity
    now: datetime
    member: Member | None = None
    resident: Resident | None = None
    answering: State | None = None  # the question this message answers, if any
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # the category model's, by text: once per message
    kinds: dict[tuple[str, bool], Kind] = field(default_factory=dict)  # handlers.intent's, by text: once per message
    dangers: dict[str, bool] = field(default_factory=dict)  # urgent_by_pattern's, by text: once per message
    around: tuple | None = None  # handlers.followup's read of the open orders near the resident, until a move

    def classify(self, text: str) -> Verdict:
        """The category model's verdict on `text`, worked out once per message (for the words of a
        report, before the transaction began: see handlers.router.read_ahead)."""
        verdict = self.verdicts.get(text)
        if verdict is None:
            verdict = self.verdicts[text] = classify(text, self.policy)
        return verdict

    def kind_of(self, text: str, follow_ups: bool = True) -> Kind:
        """What `text` is (small talk, a follow-up, a report: handlers.intent), worked out once per message.
        `follow_ups=False`: read as from someone with no order to follow."""
        kind = self.kinds.get((text, follow_ups))
        if kind is None:
            kind = self.kinds[(text, follow_ups)] = kind_of(text, self.services.acts, follow_ups)
        return kind

    def urgent_by_pattern(self, text: str) -> bool:
        """An emergency pattern of the policy names `text` (handlers.classifier.urgent_by_pattern), worked out
        once per message: the report path asks it at every step."""
        danger = self.dangers.get(text)
        if danger is None:
            danger = self.dangers[text] = urgent_by_pattern(text, self.policy)
        return danger

    def may_be_danger(self, text: str) -> bool:
        """An emergency pattern, or the urgency model alarmed or in doubt: such words are never chat, however
        sure the chat model is of them (it hears "老伴说胸口像压了块石头 疼到左胳膊" as news of one's family)."""
        if self.urgent_by_pattern(text):
            return True
        return len(letters_and_digits(text)) > FEW_WORDS and self.classify(text).urgency != ORDINARY

    @property
    def policy(self) -> Policy:
        return self.services.policy

    @property
    def actor(self) -> Actor:
        if self.member is not None:
            return Actor("member", self.member.id, self.member.role, self.member.grid_id)
        if self.resident is not None:
            return Actor("resident", self.resident.id)
        return Actor("guest")

    @property
    def resident_actor(self) -> Actor:
        """The same person acting as a resident: a Party member may also report and rate."""
        return Actor("resident", self.resident.id) if self.resident is not None else Actor("guest")

    def follows(self, order: Order) -> bool:
        """The resident follows a neighbour's order (reported the same thing)."""
        return (
            self.resident is not None
            and self.session.exec(
                select(OrderFollower.id).where(OrderFollower.order_id == order.id, OrderFollower.resident_id == self.resident.id)
            ).first()
            is not None
        )

    def move(self, order: Order, trigger: str, note: str | None = None, as_resident: bool = False, **changes) -> OrderMoved:
        """Ask storage/orders.py for a move; its consequences follow from the event it queues."""
        actor = self.resident_actor if as_resident else self.actor
        self.around = None  # what the resident's orders were is read afresh after a move
        if as_resident and order.resident_id != actor.id and trigger != "follow" and self.follows(order):
            actor = Actor("resident", actor.id, orders.FOLLOWER)
        return orders.apply(self.session, order, trigger, actor, self.now, note=note, via=self.inbound.platform, **changes)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.services.timezone)

    def require_member(self) -> Member:
        if self.member is None:
            raise Refusal("这个操作需要党员身份。请先私聊我，点「📱 分享手机号」或发送 /bind 邀请码 完成绑定。", alert=True)
        return self.member

    def require_staff(self) -> Member:
        if self.member is None or self.member.role not in STAFF_ROLES:
            raise Refusal("这个操作需要社区工作人员权限。", alert=True)
        return self.member

    def require_admin(self) -> Member:
        if self.member is None or self.member.role != Role.ADMIN:
            raise Refusal("这个操作需要管理员权限。", alert=True)
        return self.member

    def group_to_bind(self, args: list[str], group: str, usage: str) -> str:
        """The code an admin's `/bind…` names, sent in the group to bind (`group`: 网格群, 部门群)."""
        self.require_admin()
        if not self.inbound.is_group:
            raise Refusal(f"请在{group}里发送这条命令。")
        if not args:
            raise Refusal(usage)
        return args[0]


def parse_order_number(text: str) -> int:
    """`128`, `#128`, `＃128` → 128; anything else is a Refusal."""
    cleaned = text.strip().lstrip("#＃")
    if not cleaned.isdigit() or len(cleaned) > 9:
        raise Refusal(f"工单号应是数字，比如 128。您发的是：{text[:20]}")
    return int(cleaned)
