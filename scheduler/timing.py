"""When things are due: the `[reminders]` settings and the grace-window rule, as pure functions."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.policy import Policy, parse_duration

SEND, SKIP = "send", "skip"
LOOKBACK = timedelta(days=2)  # how far back a tick looks for moments it may have slept through


@dataclass(frozen=True)
class Timing:
    shift_leads: tuple[timedelta, ...]
    session_leads: tuple[timedelta, ...]
    ack_after: timedelta
    digest_at: time
    grace: timedelta

    @classmethod
    def from_policy(cls, policy: Policy) -> "Timing":
        r = policy.reminders
        hour, minute = (int(part) for part in str(r.get("digest_time", "08:30")).split(":"))
        return cls(
            shift_leads=_leads(r.get("shift_leads", ["1d", "1h"])),
            session_leads=_leads(r.get("session_leads", ["1d", "1h"])),
            ack_after=parse_duration(r.get("ack_escalate_after", "30m")),
            digest_at=time(hour, minute),
            grace=parse_duration(r.get("grace", "30m")),
        )


def _leads(values) -> tuple[timedelta, ...]:
    return tuple(sorted((parse_duration(v) for v in values), reverse=True))


def lead_label(lead: timedelta) -> str:
    """The lead as it appears in idempotency keys: `t-60` (minutes), `t-5s` below a minute."""
    seconds = int(lead.total_seconds())
    return f"t-{seconds // 60}" if seconds % 60 == 0 else f"t-{seconds}s"


def verdict(due: datetime, now: datetime, grace: timedelta, last_tick: datetime | None) -> str | None:
    """SEND while `now` is within `grace` after `due`; SKIP once (the first tick after it) when later.

    None: not due yet, or already decided by an earlier tick.
    """
    if due > now:
        return None
    if now - due <= grace:
        return SEND
    if last_tick is None or due > last_tick:
        return SKIP
    return None


def window_start(now: datetime, grace: timedelta, last_tick: datetime | None) -> datetime:
    """The earliest due moment a tick must still look at."""
    earliest = now - grace if last_tick is None else min(last_tick, now - grace)
    return max(earliest, now - LOOKBACK)


def digest_moments(now: datetime, tz: ZoneInfo, at: time) -> list[datetime]:
    """Today's and yesterday's digest moment (aware UTC), so a tick just after midnight sees both."""
    today = now.astimezone(tz).date()
    return [datetime.combine(day, at, tzinfo=tz).astimezone(now.tzinfo) for day in (today - timedelta(days=1), today)]


def lead_moments(start: datetime, created: datetime | None, leads: tuple[timedelta, ...]) -> list[tuple[timedelta, datetime]]:
    """(lead, due) for each lead before `start`. Leads whose moment came before the event existed
    fold into one reminder at creation (the shortest of them), so a shift set up at short notice
    is still announced, once."""
    created = created or datetime.min.replace(tzinfo=start.tzinfo)
    moments, folded = [], None
    for lead in sorted(leads, reverse=True):
        due = start - lead
        if due >= created:
            moments.append((lead, due))
        elif created < start:
            folded = (lead, created)
    if folded is not None:
        moments.insert(0, folded)
    return moments


def remaining_text(delta: timedelta) -> str:
    """`1天` / `2小时` / `1小时30分钟` / `10分钟`: how long until something starts, for people."""
    minutes = max(int(delta.total_seconds() + 59) // 60, 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{mins}分钟" if mins and not days else ""]
    return "".join(parts) or "不到1分钟"


@dataclass(frozen=True)
class Due:
    """What one tick knows: now, when the previous tick ran, the settings. Pure helpers on top."""

    now: datetime
    last_tick: datetime | None
    timing: Timing
    tz: ZoneInfo

    def verdict(self, moment: datetime) -> str | None:
        return verdict(moment, self.now, self.timing.grace, self.last_tick)

    @property
    def window_start(self) -> datetime:
        return window_start(self.now, self.timing.grace, self.last_tick)
