"""Community policy from TOML: categories, time limits, points, reminder leads.

The built-in file is read first; `GRIDBOT_CONFIG` (passed in as a path) overrides or adds keys,
so a community can add or rename a category without a code change.
"""

import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from storage.urgency_rules import UrgencyRules, urgency_rules_of

DEFAULT_POLICY = Path(__file__).with_name("default_policy.toml")
LIMIT_DEFAULTS = (("claim_within", "2h"), ("finish_within", "48h"), ("rate_within", "3d"), ("sign_within", "2h"))
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def parse_duration(text: str) -> timedelta:
    """`30m`, `2h`, `3d` (and `45s`, for tests and drills) → timedelta. ValueError on anything else."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"时长格式应为 <数字>m / h / d，收到：{text!r}")
    amount, unit = int(match[1]), match[2]
    if unit == "s":
        return timedelta(seconds=amount)
    return timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount) if unit == "h" else timedelta(days=amount)


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    tier: str
    keywords: tuple[str, ...] = ()
    advice: str | None = None


@dataclass(frozen=True)
class Limits:
    claim_within: timedelta
    finish_within: timedelta
    rate_within: timedelta
    sign_within: timedelta = timedelta(hours=2)  # 部门接单: a department signs for an order within this


@dataclass(frozen=True)
class EmergencyKind:
    """One kind of emergency (`[urgency.kinds.<code>]`): its name, the service to call first (110, 119,
    120 or gas), and the patterns that recognise it."""

    code: str
    name: str
    service: str
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Emergencies:
    kinds: dict[str, EmergencyKind]
    ack_within: timedelta  # nobody pressed `收到` this long after the alert: every admin is told, and again
    answer_within: timedelta  # "现在有人受伤或有危险吗？" unanswered this long: treated as urgent
    gas_line: str  # the gas company's repair line, for a leak without fire


def emergencies_of(raw: dict) -> Emergencies:
    table = raw.get("urgency", {})
    kinds = {
        code: EmergencyKind(code, spec.get("name", code), str(spec.get("service", "120")), tuple(spec.get("patterns", ())))
        for code, spec in table.get("kinds", {}).items()
    }
    return Emergencies(
        kinds,
        parse_duration(table.get("ack_within", "5m")),
        parse_duration(table.get("answer_within", "1m")),
        table.get("gas_line", "燃气抢修 96777"),
    )


@dataclass(frozen=True)
class Policy:
    community_name: str
    categories: dict[str, Category]
    limits: dict[str, Limits]
    points: dict[str, int]
    reminders: dict[str, Any]
    departments: tuple[str, ...]
    confidence_threshold: float
    raw: dict = field(repr=False, default_factory=dict)
    emergencies: Emergencies = field(default_factory=lambda: emergencies_of({}))
    urgency: UrgencyRules = field(default_factory=lambda: urgency_rules_of({}))

    def category(self, code: str) -> Category:
        return self.categories.get(code) or self.categories["other"]

    def limits_for(self, code: str) -> Limits:
        return self.limits.get(code) or self.limits["default"]


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def load_policy(path: str | Path | None = None) -> Policy:
    raw = tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
    if path:
        raw = _merge(raw, tomllib.loads(Path(path).read_text(encoding="utf-8")))
    categories = {
        code: Category(
            code=code,
            name=spec.get("name", code),
            tier=spec.get("tier", "小事"),
            keywords=tuple(spec.get("keywords", ())),
            advice=spec.get("advice"),
        )
        for code, spec in raw.get("categories", {}).items()
    }
    categories.setdefault("other", Category("other", "其他", "小事"))
    default_limits = raw.get("limits", {}).get("default", {})
    limits = {
        code: Limits(
            **{key: parse_duration(spec.get(key, default_limits.get(key, fallback))) for key, fallback in LIMIT_DEFAULTS}
        )
        for code, spec in {"default": default_limits, **raw.get("limits", {})}.items()
    }
    return Policy(
        community_name=raw.get("community_name", "社区"),
        categories=categories,
        limits=limits,
        points={key: int(value) for key, value in raw.get("points", {}).items()},
        reminders=dict(raw.get("reminders", {})),
        departments=tuple(raw.get("departments", ())),
        confidence_threshold=float(raw.get("confidence_threshold", 0.5)),
        raw=raw,
        emergencies=emergencies_of(raw),
        urgency=urgency_rules_of(raw),
    )
