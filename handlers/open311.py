"""Open311 GeoReport v2: other civic apps read and file requests (the HTTP edge is bot/open311.py).

A filed request becomes an order as a chat report does: the classifier (tier, urgency), the grid
of the building named in the address, the card in the grid's group or the staff's triage card. A
read shows no resident's name or phone: the description is masked as on the group card.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from handlers.classifier import classify
from handlers.context import Services
from storage import api_keys, consequences, order_cards, orders, people
from storage.db import transaction
from storage.models import Building, Order
from storage.models import OrderStatus as S
from storage.orders import SYSTEM, Actor

OPEN = (S.SUBMITTED, S.DISPATCHED, S.CLAIMED, S.ESCALATED)
CLOSED = (S.DONE, S.CLOSED, S.CANCELLED)
DEFAULT_SPAN = timedelta(days=90)  # the spec's default window for a list without dates
MAX_LIST = 1000
MAX_DESCRIPTION = 500
MEDIA_LINE = "图片："
_MEDIA = re.compile(rf"^{MEDIA_LINE}(https?://\S+)$", re.MULTILINE)


class Open311Error(Exception):
    """Answered as GeoReport's error list: [{"code": status, "description": …}]; nothing written."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


@dataclass(frozen=True)
class NewRequest:
    api_key: str | None
    service_code: str
    description: str
    lat: float | None = None
    long: float | None = None
    address_string: str | None = None
    media_url: str | None = None


def service_list(services: Services) -> list[dict]:
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": f"{category.name}（{category.tier}）",
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(category.keywords),
            "group": category.tier,
        }
        for category in services.policy.categories.values()
    ]


def file_request(services: Services, request: NewRequest) -> dict:
    """POST requests.json: one order, as a chat report makes it. Returns the GeoReport answer."""
    policy, now = services.policy, services.clock()
    with transaction(services.engine) as session:  # a refusal raised in here rolls back: nothing written
        client = api_keys.find(session, request.api_key)
        if client is None:
            raise Open311Error(403, "api_key is missing or not valid")
        if request.service_code not in policy.categories:
            raise Open311Error(400, f"unknown service_code {request.service_code!r}: see services.json")
        building = _building_named(session, request.address_string)
        grid = people.grid_of_building(session, building)
        verdict = classify(request.description, policy)
        chosen = policy.category(request.service_code)
        text = request.description + (f"\n{MEDIA_LINE}{request.media_url}" if request.media_url else "")
        order = orders.submit(
            session,
            Order(
                resident_id=client.resident_id,
                building_id=building.id if building else None,
                grid_id=grid.id if grid else None,
                category=chosen.code,  # the client chose it, as a resident's tap does
                tier=verdict.tier if verdict.category == chosen.code else chosen.tier,
                confidence=1.0,
                urgent=verdict.urgent,
                text=text,
                latitude=request.lat,
                longitude=request.long,
                origin_platform="open311",
            ),
            Actor("resident", client.resident_id),
            now,
            via="open311",
        )
        dispatch = not verdict.urgent and order.tier == "小事" and chosen.code != "other"
        if dispatch and grid is not None and people.grid_has_group(session, grid):
            orders.apply(session, order, "dispatch", SYSTEM, now, dispatched_at=now, grid_id=grid.id)
            notice = f"已受理，已派给{grid.name}"
        else:
            notice = "已受理，社区工作人员会尽快分派处理"
        consequences.publish(session, policy, services.timezone)
        return {"service_request_id": str(order.id), "service_notice": notice, "account_id": None}


def request_list(
    services: Services,
    status: str | None = None,
    service_codes: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict]:
    """GET requests.json: newest first; without dates the last 90 days (as the spec says)."""
    if status not in (None, "open", "closed"):
        raise Open311Error(400, "status must be open or closed")
    unknown = [code for code in service_codes or () if code not in services.policy.categories]
    if unknown:
        raise Open311Error(400, f"unknown service_code {unknown[0]!r}: see services.json")
    if start and end and start > end:
        raise Open311Error(400, "start_date is after end_date")
    if start is None and end is None:
        start = services.clock() - DEFAULT_SPAN
    query = select(Order).order_by(col(Order.id).desc()).limit(MAX_LIST)
    if status:
        query = query.where(col(Order.status).in_(OPEN if status == "open" else CLOSED))
    if service_codes:
        query = query.where(col(Order.category).in_(service_codes))
    if start:
        query = query.where(Order.created_at >= start)
    if end:
        query = query.where(Order.created_at <= end)
    with transaction(services.engine) as session:
        return [_shown(session, services, order) for order in session.exec(query)]


def one_request(services: Services, order_id: int) -> list[dict]:
    """GET requests/{id}.json: a list of one, as the spec has it."""
    with transaction(services.engine) as session:
        order = session.get(Order, order_id)
        if order is None:
            raise Open311Error(404, f"no service request {order_id}")
        return [_shown(session, services, order)]


def _shown(session: Session, services: Services, order: Order) -> dict:
    """An order as GeoReport shows it: the masked description, no name, no phone, no room."""
    building = session.get(Building, order.building_id) if order.building_id else None
    media = _MEDIA.search(order.text)
    words = _MEDIA.sub("", order.text).strip()
    updated = max(filter(None, (order.created_at, order.dispatched_at, order.claimed_at, order.done_at, order.closed_at)))
    return {
        "service_request_id": str(order.id),
        "status": "open" if order.status in OPEN else "closed",
        "status_notes": order_cards.status_name(order),
        "service_name": services.policy.category(order.category).name,
        "service_code": order.category,
        "description": order_cards.summary(words),
        "agency_responsible": order.department or services.policy.community_name,
        "service_notice": None,
        "requested_datetime": _iso(order.created_at, services),
        "updated_datetime": _iso(updated, services),
        "expected_datetime": None,
        "address": building.name if building else None,
        "address_id": None,
        "zipcode": None,
        "lat": order.latitude,
        "long": order.longitude,
        "media_url": media.group(1) if media else None,
    }


def _iso(moment: datetime, services: Services) -> str:
    return moment.astimezone(services.timezone).isoformat(timespec="seconds")


def _building_named(session: Session, address: str | None) -> Building | None:
    """The building whose name the address contains (the longest, so 11号楼 is not 1号楼)."""
    if not address:
        return None
    named = [b for b in session.exec(select(Building)) if b.name in address]
    return max(named, key=lambda b: len(b.name)) if named else None
