"""What each order move causes: the one table from an event to its consequences.

A handler or a scheduler tick asks storage/orders.py for a move and returns its replies; the move
queues an event (storage/events.py); `publish` runs here, in the same transaction, and turns each
event into outbox rows (group cards posted or edited, notices to the resident, the claimer, the
leaders, the staff), points and the resident's next question. Nothing is sent from here.

A new consequence is one function added to its event's row of CONSEQUENCES. Every outbox key is
`key(name, event)`: the consequence's name, the order and the version the move made.
"""

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from storage import alerts, conversation, events, extensions, order_cards, points, recipients, urging
from storage import department_consequences as department
from storage.models import Grid, Identity, Member, Order, OrderEvent, OrderFollower, Resident
from storage.models import OrderStatus as S
from storage.policy import Policy
from storage.scene import Scene, key

logger = logging.getLogger(__name__)

CARD_POSTING = ("dispatch", "reopen")  # moves that post a fresh group card


def publish(session: Session, policy: Policy, timezone: ZoneInfo) -> int:
    """Turn every event queued in this transaction into its consequences. Returns rows queued."""
    queued = 0
    while pending := events.take(session):  # a consequence may move the order again
        for event in pending:
            order = session.get(Order, event.order_id)
            scene = Scene(session, policy, timezone, order)
            for consequence in CONSEQUENCES.get(type(event), ()):
                queued += consequence(scene, event) or 0
    return queued


# ---- the group card ---------------------------------------------------------------------------


def _card_key(scene: Scene) -> str | None:
    """The key the order's current card was posted under: that of its newest dispatch."""
    version = scene.session.exec(
        select(OrderEvent.version)
        .where(
            OrderEvent.order_id == scene.order.id,
            col(OrderEvent.trigger).in_(CARD_POSTING),
        )
        .order_by(OrderEvent.id.desc())
    ).first()
    return f"card:{scene.order.id}:v{version}" if version is not None else None


def _edit_card(scene: Scene, event: events.OrderMoved, body: dict, grid: Grid | None = None) -> int:
    card_key = _card_key(scene)
    grid = grid or scene.grid
    if card_key is None or grid is None:
        return 0
    return recipients.queue_edit(
        scene.session, key("card-edit", event), card_key, recipients.grid(scene.session, grid), body, event.at
    )


def post_card(scene: Scene, event: events.OrderMoved) -> int:
    if scene.grid is None:
        return 0
    card = order_cards.group_card(scene.order, scene.building, scene.policy, note=scene.marks)
    return recipients.queue(scene.session, key("card", event), recipients.grid(scene.session, scene.grid), card, event.at)


def withdraw_card_from_earlier_grid(scene: Scene, event: events.OrderMoved) -> int:
    """A re-route: the earlier grid's card says where the order went."""
    earlier = scene.row(Grid, event.was.grid_id) if event.was.status == S.DISPATCHED else None
    if earlier is None or earlier.id == scene.order.grid_id:
        return 0
    body = order_cards.withdrawn_card(scene.order, scene.policy, f"已改派{scene.grid.name}")
    return recipients.queue_edit(
        scene.session,
        key("card-moved", event),
        _earlier_card_key(scene, event),
        recipients.grid(scene.session, earlier),
        body,
        event.at,
    )


def _earlier_card_key(scene: Scene, event: events.OrderMoved) -> str:
    """The card of the dispatch before this one (the newest is this move's own)."""
    versions = scene.session.exec(
        select(OrderEvent.version)
        .where(
            OrderEvent.order_id == scene.order.id,
            col(OrderEvent.trigger).in_(CARD_POSTING),
            OrderEvent.version < event.version,
        )
        .order_by(OrderEvent.id.desc())
    ).first()
    return f"card:{scene.order.id}:v{versions}"


def card_claimed(scene: Scene, event: events.OrderMoved) -> int:
    return _edit_card(scene, event, _card_now(scene, claimed_at=event))


def _card_now(scene: Scene, claimed_at: events.OrderMoved | None = None) -> dict:
    """The card as the order stands, with its marks (返工, 催办 ×n, how many reported it)."""
    order = scene.order
    if order.status == S.CLAIMED:
        claimer = scene.row(Member, order.claimer_id)
        at = (claimed_at.at if claimed_at else order.claimed_at or order.created_at).astimezone(scene.timezone)
        return order_cards.claimed_card(order, claimer, scene.policy, at, note=scene.marks)
    return order_cards.group_card(order, scene.building, scene.policy, note=scene.marks)


def card_marks_changed(scene: Scene, event: events.OrderMoved) -> int:
    """催办 counted, a neighbour joined, words added: the card shows it where it is still open."""
    if scene.order.status not in (S.DISPATCHED, S.CLAIMED):
        return 0
    return _edit_card(scene, event, _card_now(scene))


def card_given_back(scene: Scene, event: events.OrderMoved) -> int:
    giver = scene.row(Member, event.was.claimer_id)
    note = "\n".join(filter(None, [f"↩️ {giver.name if giver else '领单人'} 已退单，请其他党员领取", scene.marks]))
    return _edit_card(scene, event, order_cards.group_card(scene.order, scene.building, scene.policy, note=note))


def card_finished(scene: Scene, event: events.OrderMoved) -> int:
    if event.was.status != S.CLAIMED:  # a department's finish has no grid card to edit
        return 0
    claimer = scene.row(Member, scene.order.claimer_id)
    return _edit_card(scene, event, order_cards.finished_card(scene.order, claimer.name if claimer else "", scene.policy))


def card_withdrawn(why: str) -> Callable[[Scene, events.OrderMoved], int]:
    def withdraw(scene: Scene, event: events.OrderMoved) -> int:
        if not event.was.dispatched or event.was.status not in (S.DISPATCHED, S.CLAIMED):
            return 0
        return _edit_card(
            scene, event, order_cards.withdrawn_card(scene.order, scene.policy, why), grid=scene.row(Grid, event.was.grid_id)
        )

    return withdraw


# ---- the staff and the leaders ----------------------------------------------------------------


def triage_card(scene: Scene, event: events.OrderMoved) -> int:
    """Not sure where it goes (or 大事/私事): the staff triage it. An emergency has its own alert."""
    if scene.order.urgent or scene.order.status != S.SUBMITTED or scene.order.danger_asked_at is not None:
        return 0  # an emergency has its own alert; an unsure one waits for the resident's answer
    card = order_cards.staff_card(scene.order, scene.building, scene.grid, scene.policy)
    return recipients.queue(scene.session, key("triage", event), recipients.staff(scene.session), card, event.at)


def staff_told_resident_picked(scene: Scene, event: events.OrderMoved) -> int:
    """The resident chose the category with one tap: the staff see it (and whether it went to a grid)."""
    if not event.actor.startswith("resident:"):
        return 0
    name = scene.policy.category(scene.order.category).name
    if scene.order.status == S.DISPATCHED:
        body = recipients.payload(f"居民确认工单 #{scene.order.id} 为「{name}」，已自动派给{scene.grid.name}，无需再分派。")
    else:
        body = order_cards.staff_card(scene.order, scene.building, scene.grid, scene.policy, note=f"居民确认类别：{name}")
    return recipients.queue(scene.session, key("picked", event), recipients.staff(scene.session), body, event.at)


# ---- the claimer -------------------------------------------------------------------------------


def claimer_details(scene: Scene, event: events.OrderMoved) -> int:
    """The resident's contact goes to the claimer only, and only now."""
    resident = scene.row(Resident, scene.order.resident_id)
    body = order_cards.claimer_details(scene.order, resident, scene.building, scene.policy)
    return recipients.queue(
        scene.session, key("details", event), recipients.member(scene.session, scene.order.claimer_id), body, event.at
    )


def claimer_told_cancelled(scene: Scene, event: events.OrderMoved) -> int:
    if event.was.status != S.CLAIMED or event.was.claimer_id is None:
        return 0
    return recipients.queue(
        scene.session,
        key("cancelled", event),
        recipients.member(scene.session, event.was.claimer_id),
        order_cards.withdrawn_notice(scene.order),
        event.at,
    )


def closing_points(policy: Policy, order: Order) -> int:
    """What closing an order earns its claimer: the same rule whether rated or closed by the clock."""
    bonus = policy.points.get("five_star_bonus", 0) if order.rating == 5 else 0
    return policy.points.get("order_closed", 0) + bonus


def award_closing_points(scene: Scene, event: events.OrderMoved) -> int:
    order = scene.order
    if order.claimer_id is None:
        return 0
    earned = closing_points(scene.policy, order)
    points.award(scene.session, order.claimer_id, earned, "order", f"order:{order.id}", event.at)
    return recipients.queue(
        scene.session,
        key("points", event),
        recipients.member(scene.session, order.claimer_id),
        order_cards.closing_points_notice(order, earned),
        event.at,
    )


# ---- the resident ------------------------------------------------------------------------------


def _to_resident(
    name: str, body: Callable[[Scene, events.OrderMoved], dict | None], unless_system: bool = False
) -> Callable[[Scene, events.OrderMoved], int]:
    """A notice to the order's resident. `unless_system`: an automatic move is told in the reply."""

    def tell(scene: Scene, event: events.OrderMoved) -> int:
        if unless_system and event.actor == "system":
            return 0
        made = body(scene, event)
        if made is None:
            return 0
        return recipients.queue(scene.session, key(name, event), _residents(scene), made, event.at)

    return tell


def _residents(scene: Scene) -> list[recipients.Chat]:
    """The reporter and the neighbours who follow the order."""
    return recipients.resident(scene.session, scene.order.resident_id) + recipients.followers(scene.session, scene.order.id)


def rating_request(scene: Scene, event: events.OrderMoved) -> dict:
    """The finish photo goes along when it was taken on the resident's platform; a file id means
    nothing to another platform (it would be refused, and the rating request lost with it)."""
    photo = scene.order.finish_photo
    reach = _residents(scene)
    same_platform = bool(reach) and event.via == reach[0].platform
    return order_cards.rating_request(
        scene.order, scene.policy, photo=photo if same_platform else None, photo_left_out=bool(photo) and not same_platform
    )


def _resident_identities(scene: Scene) -> list[Identity]:
    followers = select(OrderFollower.resident_id).where(OrderFollower.order_id == scene.order.id)
    return list(
        scene.session.exec(
            select(Identity).where((Identity.resident_id == scene.order.resident_id) | col(Identity.resident_id).in_(followers))
        )
    )


def ask_resident_to_rate(scene: Scene, event: events.OrderMoved) -> int:
    """The resident's next 1–5 (typed, on WeChat) answers this order."""
    for identity in _resident_identities(scene):
        conversation.begin(identity, conversation.Waiting.RATING, event.at, order_id=scene.order.id)
        scene.session.add(identity)
    return 0


def stop_asking_to_rate(scene: Scene, event: events.OrderMoved) -> int:
    for identity in _resident_identities(scene):
        if conversation.is_waiting(identity, conversation.Waiting.RATING, event.at, order_id=scene.order.id):
            conversation.end(identity)
            scene.session.add(identity)
    return 0


def chase_told(scene: Scene, event: events.OrderMoved) -> int:
    """催办: the claimer; else the grid leaders (dispatched, nobody has it); else the staff."""
    order = scene.order
    if order.status == S.CLAIMED and order.claimer_id:
        chats = recipients.member(scene.session, order.claimer_id) + recipients.leaders(scene.session, order.grid_id)
    elif order.status == S.DISPATCHED:
        chats = recipients.leaders(scene.session, order.grid_id)
    else:
        chats = recipients.staff(scene.session)
    return recipients.queue(
        scene.session, key("chased", event), list(dict.fromkeys(chats)), order_cards.chased_notice(order), event.at
    )


def amendment_to_claimer(scene: Scene, event: events.OrderMoved) -> int:
    """补充: the claimer sees what the resident added (a photo only on its own platform)."""
    order = scene.order
    if order.status != S.CLAIMED or order.claimer_id is None:
        return 0
    chats = recipients.member(scene.session, order.claimer_id)
    photo = order.photos[-1] if order.photos and event.note is None else None
    same_platform = bool(chats) and chats[0].platform == event.via
    body = order_cards.amended_notice(order, event.note or "", photo if same_platform else None)
    return recipients.queue(scene.session, key("amended", event), chats, body, event.at)


def reopen_told(scene: Scene, event: events.OrderMoved) -> int:
    """返工: the grid leaders follow it up; the member who did it hears it was not enough."""
    body = order_cards.reopened_alert(scene.order, scene.policy, event.note or "没解决")
    chats = recipients.leaders(scene.session, scene.order.grid_id)
    if event.was.claimer_id:
        chats = [*recipients.member(scene.session, event.was.claimer_id), *chats]
    return recipients.queue(scene.session, key("reopened", event), list(dict.fromkeys(chats)), body, event.at)


CONSEQUENCES: dict[type, tuple[Callable, ...]] = {
    events.Submitted: (alerts.urgent_alert, triage_card),
    events.Retagged: (staff_told_resident_picked,),
    events.Dispatched: (
        post_card,
        withdraw_card_from_earlier_grid,
        _to_resident("dispatched", lambda s, e: order_cards.dispatched_notice(s.order, s.grid), unless_system=True),
    ),
    events.Escalated: (
        card_withdrawn("已转部门办理"),
        department.card_posted,
        _to_resident("escalated", lambda s, e: order_cards.escalated_notice(s.order)),
    ),
    events.Claimed: (
        card_claimed,
        claimer_details,
        _to_resident("claimed", lambda s, e: order_cards.claimed_notice(s.order, s.row(Member, s.order.claimer_id))),
    ),
    events.GivenBack: (card_given_back, _to_resident("given-back", lambda s, e: order_cards.given_back_notice(s.order))),
    events.Finished: (card_finished, department.card_finished, _to_resident("rate-ask", rating_request), ask_resident_to_rate),
    events.Rated: (award_closing_points, stop_asking_to_rate),
    events.AutoClosed: (
        award_closing_points,
        stop_asking_to_rate,
        _to_resident("auto-closed", lambda s, e: order_cards.auto_closed_notice(s.order)),
    ),
    events.Advised: (_to_resident("advised", lambda s, e: order_cards.advice_notice(s.order, e.note or "")),),
    events.Closed: (
        card_withdrawn("社区已办结"),
        department.card_withdrawn("社区已办结"),
        stop_asking_to_rate,
        _to_resident("closed", lambda s, e: order_cards.closed_notice(s.order, e.note or "")),
    ),
    events.Cancelled: (card_withdrawn("居民已撤销"), department.card_withdrawn("居民已撤销"), claimer_told_cancelled),
    events.Urged: (urging.overdue_alert,),
    events.Reopened: (post_card, reopen_told, stop_asking_to_rate),
    events.Chased: (card_marks_changed, chase_told),
    events.Amended: (card_marks_changed, amendment_to_claimer),
    events.Followed: (card_marks_changed,),
    events.MarkedUrgent: (alerts.urgent_alert, alerts.resident_told_unanswered),
    events.NotUrgent: (triage_card,),
    events.Acknowledged: (alerts.alert_acknowledged,),
    events.AdminsAlerted: (alerts.admins_alerted,),
    events.Signed: (department.card_signed, department.signer_details, department.resident_told_signed),
    events.Returned: (department.card_returned, department.staff_told_returned, department.resident_told_returned),
    events.ExtensionAsked: (extensions.staff_asked,),
    events.Extended: (extensions.granted, extensions.resident_told_new_date),
    events.ExtensionRefused: (extensions.refused,),
}
