"""What 延期 causes: the request to the staff with `同意` / `不同意`; granted, the resident learns the new
date and the asker that it was granted; refused, the asker learns why. Registered in
storage/consequences.py's table; the deadline itself is `finish_by` (storage/deadlines.py)."""

from datetime import datetime

from sqlmodel import select

from storage import deadlines, department_cards, events, recipients
from storage.models import Member, OrderEvent
from storage.scene import Scene, key

ASK = "extension-ask"


def until(asked: dict) -> datetime:
    """The date a request asks for (stored as ISO text in the order's `extension`)."""
    return datetime.fromisoformat(asked["until"])


def _member_of(actor: str) -> int | None:
    kind, _, number = actor.partition(":")
    return int(number) if kind == "member" and number.isdigit() else None


def _asked(scene: Scene) -> OrderEvent | None:
    """The newest request: its actor asked, its note is the reason, its version keys the staff's card."""
    return scene.session.exec(
        select(OrderEvent)
        .where(OrderEvent.order_id == scene.order.id, OrderEvent.trigger == "ask_extension")
        .order_by(OrderEvent.id.desc())
    ).first()


def staff_asked(scene: Scene, event: events.OrderMoved) -> int:
    asked = scene.order.extension or {}
    asker = scene.row(Member, asked.get("by"))
    local = until(asked).astimezone(scene.timezone)
    body = department_cards.extension_request(scene.order, scene.policy, asker, asked.get("asked", ""), local, event.note or "")
    return recipients.queue(scene.session, key(ASK, event), recipients.staff(scene.session), body, event.at)


def _decided(scene: Scene, event: events.OrderMoved, outcome: str) -> int:
    """The staff's request card names who decided (edited where the platform can, else a new line)."""
    asked = _asked(scene)
    if asked is None:
        return 0
    staff = scene.row(Member, _member_of(event.actor))
    body = department_cards.extension_decided_card(scene.order, scene.policy, staff.name if staff else "工作人员", outcome)
    card_key = f"{ASK}:{scene.order.id}:v{asked.version}"
    chats = recipients.staff(scene.session)
    return recipients.queue_edit(scene.session, key(f"{ASK}-decided", event), card_key, chats, body, event.at)


def _asker(scene: Scene) -> list[recipients.Chat]:
    asked = _asked(scene)
    asker = _member_of(asked.actor) if asked else None
    return recipients.member(scene.session, asker) if asker else []


def granted(scene: Scene, event: events.OrderMoved) -> int:
    local = scene.order.finish_by.astimezone(scene.timezone)
    queued = _decided(scene, event, f"已同意，办结时限改到 {department_cards.day_and_time(local)}")
    body = department_cards.granted_notice(scene.order, local)
    return queued + recipients.queue(scene.session, key("extension-granted", event), _asker(scene), body, event.at)


def resident_told_new_date(scene: Scene, event: events.OrderMoved) -> int:
    asked = _asked(scene)
    local = scene.order.finish_by.astimezone(scene.timezone)
    body = department_cards.new_date_notice(scene.order, local, asked.note if asked and asked.note else "办理需要时间")
    chats = recipients.resident(scene.session, scene.order.resident_id) + recipients.followers(scene.session, scene.order.id)
    return recipients.queue(scene.session, key("new-date", event), chats, body, event.at)


def refused(scene: Scene, event: events.OrderMoved) -> int:
    queued = _decided(scene, event, f"不同意：{event.note or ''}")
    due = deadlines.finish_due(scene.order, scene.policy.limits_for(scene.order.category)).astimezone(scene.timezone)
    body = department_cards.refused_notice(scene.order, event.note or "", due)
    return queued + recipients.queue(scene.session, key("extension-refused", event), _asker(scene), body, event.at)
