"""督办 in levels: what an Urged event causes. Level 1 goes to whoever should act — the grid leaders
(unclaimed, unfinished: and a nudge to the claimer), the department's contacts (unsigned), the signer
(unfinished at the department); level 2 to the staff; level 3 to every admin. scheduler/overdue.py
asks for each level once per deadline (storage/orders.urge); registered in storage/consequences.py."""

from storage import department_cards, departments, events, order_cards, recipients
from storage.models import Department, Member
from storage.models import OrderStatus as S
from storage.scene import Scene, key


def _place(scene: Scene) -> str:
    grid, building = scene.grid, scene.building
    place = " / ".join(filter(None, [grid.name if grid else "", building.name if building else ""]))
    return f"（{place}）" if place else ""


def _hours(delta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{int(hours)}小时" if hours >= 1 else f"{max(int(delta.total_seconds() // 60), 1)}分钟"


def _who(scene: Scene) -> str:
    order = scene.order
    if order.status == S.CLAIMED:
        claimer = scene.row(Member, order.claimer_id)
        return f"，领单人 {claimer.name}" if claimer else ""
    department = scene.row(Department, order.department_id)
    if order.status in (S.ESCALATED, S.SIGNED) and (department or order.department):
        signer = scene.row(Member, order.signer_id) if order.status == S.SIGNED else None
        name = department.name if department else order.department
        return f"，{name}{' ' + signer.name if signer else ''}办理中"
    return "，尚无人领单"


def overdue_alert(scene: Scene, event: events.Urged) -> int:
    if event.level == 1:
        return _first_level(scene, event)
    chats = recipients.staff(scene.session) if event.level == 2 else recipients.admins(scene.session)
    due = (event.due or event.at).astimezone(scene.timezone)
    body = department_cards.urge_alert(scene.order, scene.policy, _place(scene), event.stage, event.level, due, _who(scene))
    return recipients.queue(scene.session, key(f"overdue-{event.stage}-{event.level}", event), chats, body, event.at)


def _first_level(scene: Scene, event: events.Urged) -> int:
    order, limits = scene.order, scene.policy.limits_for(scene.order.category)
    if event.stage == "sign":
        department = scene.row(Department, order.department_id)
        body = department_cards.unsigned_alert(order, scene.policy, department, _hours(limits.sign_within))
        chats = departments.contact_chats(scene.session, department.id)
        return recipients.queue(scene.session, key("overdue-sign", event), chats, body, event.at)
    if event.stage == "claim":
        body = order_cards.unclaimed_alert(order, _place(scene), scene.policy, _hours(limits.claim_within))
        chats = recipients.leaders(scene.session, order.grid_id)
        return recipients.queue(scene.session, key("overdue-claim", event), chats, body, event.at)
    if order.status == S.SIGNED:
        due = (event.due or event.at).astimezone(scene.timezone)
        chats = recipients.member(scene.session, order.signer_id)
        body = department_cards.signer_nudge(order, due)
        return recipients.queue(scene.session, key("overdue-nudge", event), chats, body, event.at)
    return _unfinished_at_grid(scene, event)


def _unfinished_at_grid(scene: Scene, event: events.Urged) -> int:
    """Unfinished: the grid leaders (the staff for a department named in words only), and a nudge to the claimer."""
    order = scene.order
    hours = _hours(scene.policy.limits_for(order.category).finish_within)
    claimer = scene.row(Member, order.claimer_id) if order.status == S.CLAIMED else None
    chats = recipients.leaders(scene.session, order.grid_id) if order.status != S.ESCALATED else recipients.staff(scene.session)
    body = order_cards.unfinished_alert(order, _place(scene), scene.policy, hours, claimer)
    queued = recipients.queue(scene.session, key("overdue-finish", event), chats, body, event.at)
    if claimer is not None:
        nudge = order_cards.unfinished_nudge(order, hours)
        to_claimer = recipients.member(scene.session, claimer.id)
        queued += recipients.queue(scene.session, key("overdue-nudge", event), to_claimer, nudge, event.at)
    return queued
