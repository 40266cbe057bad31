"""Prometheus figures: orders by status and outbox backlog read at scrape time; send counters."""

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from storage import outbox
from storage.models import Order

REGISTRY = CollectorRegistry()
SENT = Counter("gridbot_sends_total", "Outbox messages delivered", ["platform"], registry=REGISTRY)
FAILED = Counter("gridbot_send_failures_total", "Outbox deliveries given up", ["platform"], registry=REGISTRY)
REPLIES_LOST = Counter(
    "gridbot_reply_failures_total",
    "Direct replies that could not be delivered after retries",
    ["platform", "reason"],
    registry=REGISTRY,
)
LEADS_SCHEDULER = Gauge("gridbot_scheduler_leader", "1 while this process runs the scheduler", registry=REGISTRY)


class StorageCollector:
    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self):
        orders = GaugeMetricFamily("gridbot_orders", "Orders by status", labels=["status"])
        backlog = GaugeMetricFamily("gridbot_outbox_backlog", "Outbox messages waiting")
        with Session(self.engine) as session:
            for status, count in session.exec(select(Order.status, func.count()).group_by(Order.status)):
                orders.add_metric([status], count)
            backlog.add_metric([], outbox.backlog(session))
        yield orders
        yield backlog


_current: list[StorageCollector] = []


def register_storage(engine: Engine) -> None:
    """Scrape this engine from now on (a test process may build several apps)."""
    while _current:
        REGISTRY.unregister(_current.pop())
    _current.append(StorageCollector(engine))
    REGISTRY.register(_current[0])


def render() -> bytes:
    return generate_latest(REGISTRY)
