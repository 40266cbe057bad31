"""Emergencies that wait on someone: a danger question nobody answered (then it is urgent), and an
alert nobody acknowledged (then every admin is told, again each `ack_within` until `收到`).

Only moves are asked for here; storage/alerts.py (through consequences) decides who hears what.
"""

import logging

from sqlmodel import Session, col, select

from scheduler.timing import Due
from storage import orders
from storage.models import Order
from storage.policy import Policy

logger = logging.getLogger(__name__)


def emergency_tick(session: Session, due: Due, policy: Policy) -> int:
    rules = policy.emergencies
    for order in _open(session, col(Order.danger_asked_at).is_not(None)):
        if order.danger_asked_at + rules.answer_within <= due.now:
            _move(session, order, orders.mark_urgent, due, "居民未回答是否有危险：按紧急处理")
    for order in _open(session, col(Order.urgent).is_(True), col(Order.acked_at).is_(None), col(Order.alerted_at).is_not(None)):
        if order.alerted_at + rules.ack_within * (order.alert_rounds + 1) <= due.now:
            _move(session, order, _alert_admins, due, "无人点收到：告知管理员")
    return 0


def _alert_admins(session: Session, order: Order, actor: orders.Actor, now, note: str):
    return orders.apply(session, order, "alert_admins", actor, now, note=note, alert_rounds=order.alert_rounds + 1)


def _open(session: Session, *conditions) -> list[Order]:
    return list(session.exec(select(Order).where(col(Order.status).in_(orders.OPEN_STATUSES), *conditions).order_by(Order.id)))


def _move(session: Session, order: Order, move, due: Due, note: str) -> None:
    try:
        with session.begin_nested():
            move(session, order, orders.SYSTEM, due.now, note=note)
    except orders.IllegalTransition:
        logger.info("order %s moved meanwhile: no %s", order.id, move.__name__)
