"""The policy's `[urgency]` table, read once with the policy: every message is screened with it.

`handlers/classifier/urgency.py` says what the rules mean; this is only their shape.
"""

from dataclasses import dataclass

DEFAULT_MODEL_THRESHOLD = 0.5  # recall first: a false alarm costs staff a glance, a miss may cost a life


@dataclass(frozen=True)
class UrgencyRules:
    patterns: tuple[str, ...]  # every pattern: the kindless ones and each kind's
    hypothetical: tuple[str, ...]
    model_threshold: float | None  # None: patterns only
    ask_threshold: float | None = None  # the model at least this sure (below model_threshold): ask the resident
    kinds: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (kind code, its patterns), in priority order
    ask: tuple[str, ...] = ()  # patterns of "maybe": the resident is asked whether anyone is in danger
    # The whole message, whatever matched: it says the danger is happening now, or over, or asks about it.
    happening_now: tuple[str, ...] = ()
    over: tuple[str, ...] = ()
    asks_about: tuple[str, ...] = ()
    kindless: tuple[str, ...] = ()  # the patterns of no kind (once no kind's matched, only these are left to try)


def urgency_rules_of(raw_policy: dict) -> UrgencyRules:
    """The `[urgency]` table of a policy's TOML; `model_threshold = false` turns the model off."""
    table = raw_policy.get("urgency", {})
    threshold = table.get("model_threshold", DEFAULT_MODEL_THRESHOLD)
    ask_threshold = table.get("ask_threshold", False)
    kinds = tuple((code, tuple(spec.get("patterns", ()))) for code, spec in table.get("kinds", {}).items())
    kindless = tuple(table.get("patterns", ()))
    return UrgencyRules(
        kindless + tuple(pattern for _, patterns in kinds for pattern in patterns),
        tuple(table.get("hypothetical", ())),
        None if threshold is False else float(threshold),
        None if ask_threshold is False or threshold is False else float(ask_threshold),
        kinds,
        tuple(table.get("ask", ())),
        tuple(table.get("happening_now", ())),
        tuple(table.get("over", ())),
        tuple(table.get("asks_about", ())),
        kindless,
    )
