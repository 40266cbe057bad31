"""The community's figures, each defined once, computed from the orders' audit trail (OrderEvent).

An order belongs to the month it was created in (local time, GRIDBOT_TIMEZONE); its later moves
count as of when the figures are made, so last month's report made on the 1st sees what happened
to last month's orders until then. Small talk never makes an order, so it is never counted.

Terms, per order (`facts`):
- handed over: the first `dispatch` (to a grid). A department's `escalate` answered by `sign` (签收) is one
  more entry in RESPONSES, once an escalation to a free-text department (no 签收 possible) is told apart.
- responded: the first answer to the handover (`claim`).
- done: the order has a `finish` event; when it was done is its last `finish`.
- deadline: the first dispatch or escalation (else creation) + the category's `finish_within`; a granted 延期
  replaces it with the new deadline (`order.finish_by`).
- rating: the resident's last rating: the `rate` move's stars, or a 1–2 star rating, which is a
  `reopen` whose note is `orders.rating_note(stars)` (返工 instead of closing).
- reopened: at least one `reopen` event (没解决 / 又坏了 / a 1–2 star rating).

Figures over a set of orders (`figures_of`):

| figure     | part / whole                                                                      |
|------------|-----------------------------------------------------------------------------------|
| 受理量      | orders created                                                                    |
| 响应率      | responded within `claim_within` of the handover / handed over                      |
| 按时办结率  | done by the deadline / done                                                        |
| 解决率      | done and never reopened / accepted (dispatched or escalated at least once)         |
| 满意率      | rated 4–5 / rated                                                                  |
| 参评率      | rated / done                                                                       |
| 返工率      | reopened / done                                                                    |
| 领单用时    | median of (first response − first handover)                                        |
| 办结用时    | median of (last finish − creation)                                                 |

A figure with nothing to divide by is `—` (`Ratio.value` None), never 0% or 100%.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from storage import orders
from storage.models import Order, OrderEvent
from storage.policy import Limits

# What hands an order over → the moves that answer it (响应). Issue 13 adds "escalate": ("sign",).
RESPONSES: dict[str, tuple[str, ...]] = {"dispatch": ("claim",)}
ACCEPTING = ("dispatch", "escalate")
SATISFIED_FROM = 4
NONE = "—"


@dataclass(frozen=True)
class Ratio:
    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    def text(self) -> str:
        return NONE if self.value is None else f"{self.value:.1%}"


@dataclass(frozen=True)
class OrderFacts:
    """One order as the figures see it."""

    order_id: int
    created_at: datetime
    category: str
    tier: str
    grid_id: int | None
    status: str
    claimer_id: int | None
    accepted: bool
    handed_over_at: datetime | None
    responded_at: datetime | None
    claim_within: timedelta
    done_at: datetime | None
    deadline: datetime
    rating: int | None
    reopens: int


@dataclass(frozen=True)
class Figures:
    intake: int  # 受理量
    response: Ratio  # 响应率
    on_time: Ratio  # 按时办结率
    solved: Ratio  # 解决率
    satisfied: Ratio  # 满意率
    rated: Ratio  # 参评率
    reworked: Ratio  # 返工率
    to_claim: timedelta | None  # median
    to_finish: timedelta | None  # median


RATIOS = (
    ("响应率", "response"),
    ("按时办结率", "on_time"),
    ("解决率", "solved"),
    ("满意率", "satisfied"),
    ("参评率", "rated"),
    ("返工率", "reworked"),
)


def finish_deadline(handed_over_at: datetime | None, created_at: datetime, limits: Limits) -> datetime:
    return (handed_over_at or created_at) + limits.finish_within


def facts(order: Order, trail: Iterable[OrderEvent], limits: Limits) -> OrderFacts:
    """What the figures need of one order, from its audit trail (oldest first)."""
    trail = list(trail)
    first = {}
    for event in trail:
        first.setdefault(event.trigger, event.at)
    handovers = [(trigger, first[trigger]) for trigger in RESPONSES if trigger in first]
    trigger, handed_over_at = min(handovers, key=lambda pair: pair[1]) if handovers else (None, None)
    answers = [first[t] for t in RESPONSES.get(trigger, ()) if t in first]
    finishes = [event.at for event in trail if event.trigger == "finish"]
    return OrderFacts(
        order_id=order.id,
        created_at=order.created_at,
        category=order.category,
        tier=order.tier,
        grid_id=order.grid_id,
        status=order.status,
        claimer_id=order.claimer_id,
        accepted=any(t in first for t in ACCEPTING),
        handed_over_at=handed_over_at,
        responded_at=min(answers) if answers else None,
        claim_within=limits.claim_within,
        done_at=finishes[-1] if finishes else None,
        deadline=order.finish_by
        or finish_deadline(next((e.at for e in trail if e.trigger in ACCEPTING), None), order.created_at, limits),
        rating=_last_rating(order, trail),
        reopens=sum(1 for event in trail if event.trigger == "reopen"),
    )


def _last_rating(order: Order, trail: list[OrderEvent]) -> int | None:
    if order.rating is not None:
        return order.rating  # `rate` closes the order: nothing comes after it
    low = [orders.stars_of(event.note) for event in trail if event.trigger == "reopen"]
    return next((stars for stars in reversed(low) if stars is not None), None)


def figures_of(rows: Iterable[OrderFacts]) -> Figures:
    rows = list(rows)
    handed = [r for r in rows if r.handed_over_at is not None]
    done = [r for r in rows if r.done_at is not None]
    rated = [r for r in rows if r.rating is not None]
    claim_times = [r.responded_at - r.handed_over_at for r in handed if r.responded_at is not None]
    in_time = sum(1 for r in handed if r.responded_at is not None and r.responded_at - r.handed_over_at <= r.claim_within)
    return Figures(
        intake=len(rows),
        response=Ratio(in_time, len(handed)),
        on_time=Ratio(sum(1 for r in done if r.done_at <= r.deadline), len(done)),
        solved=Ratio(sum(1 for r in done if r.reopens == 0), sum(1 for r in rows if r.accepted)),
        satisfied=Ratio(sum(1 for r in rated if r.rating >= SATISFIED_FROM), len(rated)),
        rated=Ratio(len(rated), len(done)),
        reworked=Ratio(sum(1 for r in done if r.reopens > 0), len(done)),
        to_claim=_median(claim_times),
        to_finish=_median([r.done_at - r.created_at for r in done]),
    )


def _median(spans: list[timedelta]) -> timedelta | None:
    return timedelta(seconds=median(s.total_seconds() for s in spans)) if spans else None


def span_text(span: timedelta | None) -> str:
    """`1天3小时`, `2小时5分钟`, `12分钟`; `—` when there is none."""
    if span is None:
        return NONE
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    return f"{hours}小时{mins}分钟" if hours else f"{mins}分钟"


def span_hours(span: timedelta | None) -> float | None:
    return None if span is None else round(span.total_seconds() / 3600, 2)


def summary_lines(figures: Figures) -> list[str]:
    """The figures as chat lines: each rate with its part and whole, so a reader can check it."""
    lines = [f"受理 {figures.intake} 件"]
    for name, attribute in RATIOS:
        ratio: Ratio = getattr(figures, attribute)
        lines.append(f"{name} {ratio.text()}" + (f"（{ratio.part}/{ratio.whole}）" if ratio.whole else ""))
    lines.append(f"领单用时中位数 {span_text(figures.to_claim)} · 办结用时中位数 {span_text(figures.to_finish)}")
    return lines
