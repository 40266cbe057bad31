"""Triage: what a resident's message is about. One function, used by the bot and `gridbot classify`."""

from dataclasses import dataclass

from storage.policy import Policy

URGENT_WORDS = ("救命", "困在", "卡住", "被困", "着火", "失火", "冒烟", "煤气味", "燃气味", "漏气",
                "摔倒", "晕倒", "昏迷", "不省人事", "流血", "快来人")


@dataclass(frozen=True)
class Classification:
    category: str
    tier: str
    confidence: float
    urgent: bool


def classify(text: str, policy: Policy) -> Classification:
    """Keyword vote over the policy's categories (issue 5 puts a trained model behind this)."""
    scores = {
        code: sum(text.count(word) for word in category.keywords)
        for code, category in policy.categories.items()
    }
    best = max(scores, key=lambda code: scores[code])
    total = sum(scores.values())
    if total == 0:
        best, confidence = "other", 0.0
    else:
        confidence = round(scores[best] / total, 2)
    urgent = any(word in text for word in URGENT_WORDS)
    return Classification(best, policy.category(best).tier, confidence, urgent)
