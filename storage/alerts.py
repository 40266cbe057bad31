"""An emergency's consequences: the alert that someone must acknowledge, and what follows from it.

Keys start with `urgent:` (storage/outbox.py sends those first, past every chat's queue): the alert
to the staff and the grid leader when an order is urgent (reported so, marked so by staff, or the
resident's danger question left unanswered), every admin privately each `ack_within` while nobody has
pressed `收到`, and the edits once someone has. Registered in storage/consequences.py's table.
"""

from sqlmodel import col, select

from storage import emergency_cards, events, recipients
from storage.models import Member, OrderEvent
from storage.outbox import URGENT_PREFIX
from storage.scene import Scene, key

ALERT = URGENT_PREFIX.rstrip(":")
ALERTING = ("mark_urgent", "alert_admins")  # moves that post an alert of their own (and the urgent submit)


def alert_chats(scene: Scene) -> list[recipients.Chat]:
    """The staff (group, else each) and the grid's leaders."""
    chats = recipients.staff(scene.session)
    if scene.order.grid_id is not None:
        chats += [chat for chat in recipients.leaders(scene.session, scene.order.grid_id) if chat not in chats]
    return chats


def urgent_alert(scene: Scene, event: events.OrderMoved) -> int:
    if not scene.order.urgent:
        return 0
    card = emergency_cards.alert_card(scene.order, scene.building, scene.grid, scene.policy)
    return recipients.queue(scene.session, key(ALERT, event), alert_chats(scene), card, event.at)


def resident_told_unanswered(scene: Scene, event: events.OrderMoved) -> int:
    """The system marked it urgent because the danger question went unanswered: the resident learns it."""
    if event.actor != "system":
        return 0
    body = emergency_cards.unanswered_notice(scene.order, scene.policy)
    return recipients.queue(
        scene.session,
        key("urgent-unanswered", event),
        recipients.resident(scene.session, scene.order.resident_id),
        body,
        event.at,
    )


def admins_alerted(scene: Scene, event: events.OrderMoved) -> int:
    """Nobody pressed `收到` in time: every admin, privately, with the button."""
    order = scene.order
    minutes = int((event.at - order.alerted_at).total_seconds() // 60) if order.alerted_at else 0
    note = emergency_cards.admins_note(order, minutes, order.alert_rounds)
    card = emergency_cards.alert_card(order, scene.building, scene.grid, scene.policy, note=note)
    return recipients.queue(scene.session, key(ALERT, event), recipients.admins(scene.session), card, event.at)


def alert_acknowledged(scene: Scene, event: events.OrderMoved) -> int:
    """`收到`: every alert of the order names who has it (its button gone), and the resident is told."""
    who = scene.row(Member, scene.order.acked_by)
    if who is None:
        return 0
    edited = emergency_cards.acked_card(scene.order, scene.policy, who)
    queued = 0
    for version, trigger in _alerts_posted(scene):
        chats = recipients.admins(scene.session) if trigger == "alert_admins" else alert_chats(scene)
        card_key = f"{ALERT}:{scene.order.id}:v{version}"
        queued += recipients.queue_edit(scene.session, f"{key(ALERT, event)}:v{version}", card_key, chats, edited, event.at)
    resident = recipients.resident(scene.session, scene.order.resident_id)
    notice = emergency_cards.acked_notice(scene.order, who)
    return queued + recipients.queue(scene.session, key("urgent-acked", event), resident, notice, event.at)


def _alerts_posted(scene: Scene) -> list[tuple[int, str]]:
    """(version, trigger) of each move that posted an alert: the urgent submit, or the marking, and each
    reminder to the admins."""
    rows = list(
        scene.session.exec(
            select(OrderEvent.version, OrderEvent.trigger)
            .where(OrderEvent.order_id == scene.order.id, col(OrderEvent.trigger).in_((*ALERTING, "submit")))
            .order_by(OrderEvent.id)
        )
    )
    marked = any(trigger == "mark_urgent" for _, trigger in rows)
    return [(version, trigger) for version, trigger in rows if trigger != "submit" or not marked]
