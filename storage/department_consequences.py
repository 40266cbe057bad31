"""What a department's moves cause (部门接单): the card in the department's group with `签收`, its
edits (签收, 退单, 办结, withdrawn), the signer's private details, the resident's and the staff's notices.

Registered in storage/consequences.py's table; keys are `key(name, event)` as everywhere.
"""

from collections.abc import Callable

from sqlmodel import select

from storage import department_cards, departments, events, order_cards, recipients
from storage.models import Department, Member, OrderEvent, Resident
from storage.models import OrderStatus as S
from storage.scene import Scene, key

CARD = "dept-card"


def _department(scene: Scene) -> Department | None:
    return scene.row(Department, scene.order.department_id)


def _card_key(scene: Scene) -> str | None:
    """The department card of the newest escalation."""
    version = scene.session.exec(
        select(OrderEvent.version)
        .where(OrderEvent.order_id == scene.order.id, OrderEvent.trigger == "escalate")
        .order_by(OrderEvent.id.desc())
    ).first()
    return f"{CARD}:{scene.order.id}:v{version}" if version is not None else None


def _edit_card(scene: Scene, event: events.OrderMoved, body: dict) -> int:
    department, card_key = _department(scene), _card_key(scene)
    if department is None or card_key is None:
        return 0
    chats = departments.group_chats(scene.session, department)
    return recipients.queue_edit(scene.session, key(f"{CARD}-edit", event), card_key, chats, body, event.at)


def card_posted(scene: Scene, event: events.OrderMoved) -> int:
    """Escalated to a department of the roster: its group gets the card with `签收`."""
    department = _department(scene)
    if department is None:
        return 0  # a department named in words only (CONTRACT's older form): staff finish it themselves
    card = department_cards.department_card(scene.order, scene.building, scene.grid, department, scene.policy)
    return recipients.queue(scene.session, key(CARD, event), departments.group_chats(scene.session, department), card, event.at)


def card_signed(scene: Scene, event: events.OrderMoved) -> int:
    signer = scene.row(Member, scene.order.signer_id)
    at = event.at.astimezone(scene.timezone)
    return _edit_card(scene, event, department_cards.signed_card(scene.order, _department(scene), signer, scene.policy, at))


def signer_details(scene: Scene, event: events.OrderMoved) -> int:
    """The resident's contact goes to the signer only, and only now."""
    resident = scene.row(Resident, scene.order.resident_id)
    body = department_cards.signer_details(scene.order, resident, scene.building, _department(scene), scene.policy)
    chats = recipients.member(scene.session, scene.order.signer_id)
    return recipients.queue(scene.session, key("signer-details", event), chats, body, event.at)


def resident_told_signed(scene: Scene, event: events.OrderMoved) -> int:
    signer = scene.row(Member, scene.order.signer_id)
    body = department_cards.signed_notice(scene.order, _department(scene), signer)
    return recipients.queue(scene.session, key("signed", event), _residents(scene), body, event.at)


def card_returned(scene: Scene, event: events.OrderMoved) -> int:
    body = department_cards.returned_card(scene.order, _department(scene), scene.policy, event.note or "")
    return _edit_card(scene, event, body)


def staff_told_returned(scene: Scene, event: events.OrderMoved) -> int:
    """Back to triage: the staff get the triage card again, with the department's reason on top."""
    note = department_cards.returned_note(_department(scene), event.note or "")
    card = order_cards.staff_card(scene.order, scene.building, scene.grid, scene.policy, note=note)
    return recipients.queue(scene.session, key("returned", event), recipients.staff(scene.session), card, event.at)


def resident_told_returned(scene: Scene, event: events.OrderMoved) -> int:
    body = department_cards.returned_notice(scene.order)
    return recipients.queue(scene.session, key("returned-resident", event), _residents(scene), body, event.at)


def card_finished(scene: Scene, event: events.OrderMoved) -> int:
    if event.was.status != S.SIGNED:
        return 0
    return _edit_card(scene, event, department_cards.finished_card(scene.order, _department(scene), scene.policy))


def card_withdrawn(why: str) -> Callable[[Scene, events.OrderMoved], int]:
    """Closed or cancelled while with the department: its card says so, and the signer is told."""

    def withdraw(scene: Scene, event: events.OrderMoved) -> int:
        if event.was.status not in (S.ESCALATED, S.SIGNED) or _department(scene) is None:
            return 0
        queued = _edit_card(scene, event, order_cards.withdrawn_card(scene.order, scene.policy, why))
        if scene.order.signer_id is not None and event.was.status == S.SIGNED:
            chats = recipients.member(scene.session, scene.order.signer_id)
            body = department_cards.withdrawn_notice(scene.order, why)
            queued += recipients.queue(scene.session, key("signer-withdrawn", event), chats, body, event.at)
        return queued

    return withdraw


def _residents(scene: Scene) -> list[recipients.Chat]:
    """The reporter and the neighbours who follow the order."""
    return recipients.resident(scene.session, scene.order.resident_id) + recipients.followers(scene.session, scene.order.id)
