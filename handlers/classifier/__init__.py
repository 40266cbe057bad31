"""Triage: what a resident's message is about. One function, used by the bot and `gridbot classify`.

A trained model (model.py) proposes a category; the policy's keywords and rules sharpen it:
tier from the category's default unless a `[[tier_rules]]` entry matches, urgency from the
`[urgency]` patterns and the urgency model (urgency.py) whatever the category.
"""

from dataclasses import dataclass

from handlers.classifier.model import Model, model_for
from handlers.classifier.urgency import ORDINARY, UNSURE, URGENT, assess, matches_a_pattern
from handlers.letters import without_slang

__all__ = ["ORDINARY", "UNSURE", "URGENT", "Verdict", "classify"]
from storage.policy import Policy

KEYWORD_WEIGHT = 0.25  # share of the verdict given to config keyword hits, when there are any


@dataclass(frozen=True)
class Verdict:
    category: str
    tier: str
    confidence: float
    urgency: str  # URGENT "1", UNSURE "?" (ask the resident), ORDINARY "0"
    emergency: str | None = None  # the kind of emergency ([urgency.kinds] code), when a kind's pattern named it

    @property
    def urgent(self) -> bool:
        return self.urgency == URGENT


def classify(text: str, policy: Policy, model: Model | None = None) -> Verdict:
    """Category code, tier (大事/小事/私事), confidence 0–1, urgency and its kind — for one message.

    `model` is for evaluation (a model trained on part of the data); the bot leaves it out.
    """
    text = without_slang(text)  # "蚌埠住了" is neither a place nor a danger
    scores = blended_scores(text, policy, model or model_for(category_keywords(policy)))
    category = max(scores, key=lambda code: scores[code])
    confidence = round(float(scores[category]), 2)
    urgency, emergency = assess(text, policy.urgency)
    return Verdict(category, tier_for(text, category, policy), confidence, urgency, emergency)


def urgent_by_pattern(text: str, policy: Policy) -> bool:
    """An emergency pattern of the policy names it, not in a hypothetical or past clause. The model aside:
    on a few words it still guesses (taught urgency_training_4.tsv, it calls 25 of the 991 small-talk and
    follow-up lines of the seen conversation sets urgent), and words about an order already filed (a 补充,
    a 催办) describe that order ("再补一句 老人腿脚不方便": a detail, not an alarm)."""
    rules = policy.urgency
    return matches_a_pattern(text, rules.patterns, rules.hypothetical)


def blended_scores(text: str, policy: Policy, model: Model) -> dict[str, float]:
    """Model probabilities, nudged towards categories whose config keywords occur in the text."""
    scores = model.probabilities(text)
    hits = keyword_hits(text, policy)
    total = sum(hits.values())
    if total:
        scores = {code: (1 - KEYWORD_WEIGHT) * p + KEYWORD_WEIGHT * hits.get(code, 0) / total for code, p in scores.items()}
    return scores


def category_keywords(policy: Policy) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((code, category.keywords) for code, category in sorted(policy.categories.items()))


def keyword_hits(text: str, policy: Policy) -> dict[str, int]:
    return {
        code: hits
        for code, category in policy.categories.items()
        if (hits := sum(1 for word in category.keywords if word in text))
    }


def tier_for(text: str, category: str, policy: Policy) -> str:
    """The category's default tier, unless a tier rule for it (or for any category) matches."""
    for rule in policy.raw.get("tier_rules", ()):
        applies = not rule.get("categories") or category in rule["categories"]
        if applies and any(word in text for word in rule.get("words", ())):
            return rule["tier"]
    return policy.category(category).tier
