"""Emergencies, whatever the category: the policy's `[urgency]` patterns, and a model for the wordings
no pattern foresaw.

Patterns are sharp but only as wide as their author's imagination: on a set of fresh emergencies
they caught a third. The model (character n-grams, as for categories) learns from
`urgency_training.tsv` plus the category examples, and flags what the patterns miss.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from handlers.classifier.model import TRAINING, Model, shipped_examples

URGENCY_TRAINING = Path(__file__).with_name("urgency_training.tsv")
URGENT, UNSURE, ORDINARY = "1", "?", "0"  # as `gridbot classify` prints them
# A cue this close before a match, in the same clause, makes it hypothetical or past ("万一着火了…",
# "去年冬天隔壁楼煤气中毒…"), not an emergency happening now.
LOOKBEHIND = 12
CLAUSE_END = re.compile(r"[，,。！!？?；;\n]")
DEFAULT_MODEL_THRESHOLD = 0.5  # recall first: a false alarm costs staff a glance, a miss may cost a life


@dataclass(frozen=True)
class UrgencyRules:
    patterns: tuple[str, ...]  # every pattern: the kindless ones and each kind's
    hypothetical: tuple[str, ...]
    model_threshold: float | None  # None: patterns only
    ask_threshold: float | None = None  # the model at least this sure (below model_threshold): ask the resident
    kinds: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (kind code, its patterns), in priority order


def urgency_rules(raw_policy: dict) -> UrgencyRules:
    """The policy TOML's `[urgency]` table; `model_threshold = false` turns the model off."""
    table = raw_policy.get("urgency", {})
    threshold = table.get("model_threshold", DEFAULT_MODEL_THRESHOLD)
    ask = table.get("ask_threshold", False)
    kinds = tuple((code, tuple(spec.get("patterns", ()))) for code, spec in table.get("kinds", {}).items())
    return UrgencyRules(
        tuple(table.get("patterns", ())) + tuple(pattern for _, patterns in kinds for pattern in patterns),
        tuple(table.get("hypothetical", ())),
        None if threshold is False else float(threshold),
        None if ask is False or threshold is False else float(ask),
        kinds,
    )


def assess(text: str, rules: UrgencyRules) -> tuple[str, str | None]:
    """(URGENT, UNSURE or ORDINARY; the kind of emergency where a kind's pattern names it)."""
    for code, patterns in rules.kinds:
        if matches_a_pattern(text, patterns, rules.hypothetical):
            return URGENT, code
    if matches_a_pattern(text, rules.patterns, rules.hypothetical):
        return URGENT, None
    if rules.model_threshold is None:
        return ORDINARY, None
    probability = urgency_model(rules.patterns, rules.hypothetical).probabilities(text)[URGENT]
    if probability >= rules.model_threshold:
        return URGENT, None
    if rules.ask_threshold is not None and probability >= rules.ask_threshold:
        return UNSURE, None
    return ORDINARY, None


def is_urgent(text: str, rules: UrgencyRules) -> bool:
    """An emergency pattern that is not just a 'what if', or the model sure enough it is one."""
    return assess(text, rules)[0] == URGENT


def matches_a_pattern(text: str, patterns: tuple[str, ...], hypothetical: tuple[str, ...]) -> bool:
    cues = _compiled(hypothetical)
    for pattern in _compiled(patterns):
        for match in pattern.finditer(text):
            if not _hypothetical_or_past(text, match.start(), match.end(), cues):
                return True
    return False


@lru_cache(maxsize=4)
def urgency_model(patterns: tuple[str, ...], hypothetical: tuple[str, ...]) -> Model:
    """Trained once per process: the urgency examples, and the category examples labelled by the patterns."""
    examples = [(label, text) for label, text in shipped_examples(URGENCY_TRAINING)]
    examples += [
        (URGENT if matches_a_pattern(text, patterns, hypothetical) else ORDINARY, text) for _, text in shipped_examples(TRAINING)
    ]
    return Model(examples)


@lru_cache(maxsize=8)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(pattern) for pattern in patterns)


def _hypothetical_or_past(text: str, start: int, end: int, cues: tuple[re.Pattern, ...]) -> bool:
    """A cue earlier in the match's clause (at most LOOKBEHIND characters back), or 过 right after it."""
    before = CLAUSE_END.split(text[max(0, start - LOOKBEHIND) : start])[-1]
    after = text[end : end + 2]
    return any(cue.search(before) for cue in cues) or (after.startswith("过") and after not in ("过来", "过去"))
